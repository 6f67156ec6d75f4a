"""Command-line behaviour: every config parses; bad input gives a clear error and exit 2."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from plstm_graph.cli import evaluate, train

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))


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
    with pytest.raises(SystemExit) as exc:
        train.main(["--config", str(bad)])
    assert exc.value.code == 2
    assert "hiden_channels" in capsys.readouterr().err


def test_unknown_dataset(capsys):
    with pytest.raises(SystemExit) as exc:
        train.main(["--data.dataset", "ogbg-molnothing"])
    assert exc.value.code == 2
    assert "unknown dataset 'ogbg-molnothing'" in capsys.readouterr().err


def test_missing_resume_checkpoint(capsys):
    with pytest.raises(SystemExit) as exc:
        train.main(["--resume", "no/such.ckpt"])
    assert exc.value.code == 2
    assert "no/such.ckpt" in capsys.readouterr().err


def test_evaluate_missing_checkpoint(capsys):
    with pytest.raises(SystemExit) as exc:
        evaluate.main(["missing.pt"])
    assert exc.value.code == 2
    assert "checkpoint file 'missing.pt' does not exist" in capsys.readouterr().err


def test_evaluate_incompatible_version(tmp_path, capsys):
    path = tmp_path / "future.pt"
    torch.save({"format": "plstm-graph-model", "version": 99, "hparams": {}, "state_dict": {}},
               path)
    with pytest.raises(SystemExit) as exc:
        evaluate.main([str(path)])
    assert exc.value.code == 2
    assert "version 99" in capsys.readouterr().err


def test_evaluate_not_a_model_file(tmp_path, capsys):
    path = tmp_path / "junk.pt"
    path.write_text("not a model")
    with pytest.raises(SystemExit) as exc:
        evaluate.main([str(path)])
    assert exc.value.code == 2
    assert "not a plstm-graph model file" in capsys.readouterr().err


@pytest.mark.parametrize("content, message", [
    ("smiles,y\nCCO,1.0\nC1CC,2.0\nCCN,3\n", "row 1: cannot parse SMILES 'C1CC'"),
    ("smiles,y\n", "has a header but no rows"),
    ("smi,y\nCCO,1\n", "has no 'smiles' column"),
    ("smiles,y\nCCO,1\nCCN,abc\n", "non-numeric label 'abc' in column 'y', row 1"),
], ids=["bad-smiles", "empty", "no-smiles-column", "non-numeric-label"])
def test_train_bad_csv(tmp_path, capsys, content, message):
    path = tmp_path / "data.csv"
    path.write_text(content)
    with pytest.raises(SystemExit) as exc:
        train.main(["--data.dataset", str(path), "--data.cache_dir", str(tmp_path / "cache")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_train_missing_data_dir(tmp_path, capsys):
    missing = tmp_path / "does" / "not" / "exist"
    with pytest.raises(SystemExit) as exc:
        train.main(["--data.data_dir", str(missing)])
    assert exc.value.code == 2
    assert f"data directory '{missing}'" in capsys.readouterr().err


def test_train_unknown_dataset_lists_known_names(capsys):
    with pytest.raises(SystemExit) as exc:
        train.main(["--data.dataset", "ogbg-molnothing"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "ogbg-molhiv" in err and "ogbg-molfreesolv" in err
