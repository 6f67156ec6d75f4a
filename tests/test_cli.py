"""Command-line behaviour: every config parses; bad input gives a clear error and exit 2."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from plstm_graph.cli import evaluate, train

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))


def usage_error(capsys, main, argv: list[str]) -> str:
    """Runs a command-line ``main`` that must stop with exit status 2; returns its stderr."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


def test_there_is_a_config_per_benchmark():
    names = {p.stem for p in CONFIGS}
    assert {"ogbg-molhiv", "ogbg-molpcba", "ogbg-molfreesolv", "ogbg-moltox21", "MUTAG", "NCI1",
            "PROTEINS", "PTC_FM"} <= names


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
@pytest.mark.parametrize("model", ["plstm", "gine"])
def test_config_parses(config, model):
    cfg = train.build_parser().parse_args(["--config", str(config), "--model", model])
    assert cfg.data.dataset == config.stem
    assert cfg[model].hidden_channels > 0 and cfg.trainer.max_epochs > 0


def test_unknown_config_key(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("plstm:\n  hiden_channels: 64\n")
    err = usage_error(capsys, train.main, ["--config", str(bad)])
    assert "hiden_channels" in err


def test_unknown_dataset(capsys):
    err = usage_error(capsys, train.main, ["--data.dataset", "ogbg-molnothing"])
    assert "unknown dataset 'ogbg-molnothing'" in err
    assert "ogbg-molhiv" in err and "ogbg-molfreesolv" in err  # the known names are listed


def test_missing_resume_checkpoint(capsys):
    err = usage_error(capsys, train.main, ["--resume", "no/such.ckpt"])
    assert "no/such.ckpt" in err


def test_evaluate_missing_checkpoint(capsys):
    err = usage_error(capsys, evaluate.main, ["missing.pt"])
    assert "checkpoint file 'missing.pt' does not exist" in err


def test_evaluate_incompatible_version(tmp_path, capsys):
    path = tmp_path / "future.pt"
    torch.save({"format": "plstm-graph-model", "version": 99, "hparams": {}, "state_dict": {}},
               path)
    err = usage_error(capsys, evaluate.main, [str(path)])
    assert "version 99" in err


def test_evaluate_not_a_model_file(tmp_path, capsys):
    path = tmp_path / "junk.pt"
    path.write_text("not a model")
    err = usage_error(capsys, evaluate.main, [str(path)])
    assert "not a plstm-graph model file" in err


@pytest.mark.parametrize("content, message", [
    ("smiles,y\nCCO,1.0\nC1CC,2.0\nCCN,3\n", "row 1: cannot parse SMILES 'C1CC'"),
    ("smiles,y\nCCO,1.0\nC1CC,2.0\nCCN,3\n", "to skip such rows: on_invalid='skip', or "
                                              "train.py --data.on_invalid skip"),
    ("smiles,y\n", "has a header but no rows"),
    ("smi,y\nCCO,1\n", "has no 'smiles' column"),
    ("smiles,y\nCCO,1\nCCN,abc\n", "non-numeric label 'abc' in column 'y', row 1"),
], ids=["bad-smiles", "bad-smiles-hint", "empty", "no-smiles-column", "non-numeric-label"])
def test_train_bad_csv(tmp_path, capsys, content, message):
    path = tmp_path / "data.csv"
    path.write_text(content)
    err = usage_error(capsys, train.main,
                      ["--data.dataset", str(path), "--data.cache_dir", str(tmp_path / "cache")])
    assert message in err and "Traceback" not in err


def test_train_missing_data_dir(tmp_path, capsys):
    missing = tmp_path / "does" / "not" / "exist"
    err = usage_error(capsys, train.main, ["--data.data_dir", str(missing)])
    assert f"data directory '{missing}'" in err


def test_train_unknown_on_invalid(capsys):
    err = usage_error(capsys, train.main, ["--data.on_invalid", "ignore"])
    assert "on_invalid" in err and "ignore" in err
