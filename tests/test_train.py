"""End-to-end training through the CLI: learning, outputs, multi-seed summary, resume, DDP."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import plstm_graph
from plstm_graph.cli.results import RESULT_KEYS, summarize
from plstm_graph.cli.train import main, parse_seeds
from plstm_graph.models import PropertyDataModule

REPO = Path(__file__).resolve().parents[1]
QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]
TINY = ["--plstm.hidden_channels", "32", "--gine.hidden_channels", "32", "--gine.num_layers", "2"]


def train_args(shared_data, data_cache, out: Path, *extra: str) -> list[str]:
    return ["--data.data_dir", str(shared_data), "--data.cache_dir", str(data_cache),
            "--output_dir", str(out / "results"), "--log_dir", str(out / "runs"),
            *QUIET, *TINY, *extra]


def constant_rmse(shared_data, data_cache) -> float:
    """Test RMSE of the best constant predictor fitted on the training split."""
    dm = PropertyDataModule("ogbg-molfreesolv", data_dir=str(shared_data),
                            cache_dir=str(data_cache))
    dm.setup()
    y = dm.dataset.y.view(-1)
    mean = y[dm.splits["train"].indices].mean()
    return float(((y[dm.splits["test"].indices] - mean) ** 2).mean().sqrt())


def test_training_beats_constant_predictor(shared_data, data_cache, tmp_path, capsys):
    args = train_args(shared_data, data_cache, tmp_path, "--trainer.max_epochs", "8",
                      "--optim.warmup_epochs", "1", "--optim.lr", "0.003")
    assert main(args) == 0
    record = json.loads((tmp_path / "results/ogbg-molfreesolv/plstm/seed0.json").read_text())
    assert set(RESULT_KEYS) <= set(record)
    assert record["metric"] == "rmse" and record["epochs"] == 8
    assert record["test_metric"] < 0.9 * constant_rmse(shared_data, data_cache)
    printed = capsys.readouterr().out
    assert "Test rmse at the best validation epoch" in printed and record["model_file"] in printed
    assert Path(record["curves"]).stat().st_size > 0
    compact = torch.load(record["model_file"], weights_only=True)
    assert compact["hparams"]["model"] == "plstm"


def test_multi_seed_summary_and_resume(shared_data, data_cache, tmp_path):
    args = train_args(shared_data, data_cache, tmp_path, "--model", "gine",
                      "--trainer.max_epochs", "1", "--seeds", "0-1")
    assert main(args) == 0
    run_dir = tmp_path / "results/ogbg-molfreesolv/gine"
    records = [json.loads((run_dir / f"seed{k}.json").read_text()) for k in (0, 1)]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["seeds"] == [0, 1]
    test = [r["test_metric"] for r in records]
    assert summary["test_std"] == pytest.approx(np.std(test, ddof=1))
    assert summary == summarize(records)

    # Lightning checkpoints also load for prediction
    last = Path(records[0]["log_dir"]) / "checkpoints" / "last.ckpt"
    assert plstm_graph.load_model(last).predict(["CCO", "c1ccccc1"]).shape == (2, 1)

    # resume seed 0 from its last checkpoint for one more epoch
    args = train_args(shared_data, data_cache, tmp_path / "resumed", "--model", "gine",
                      "--trainer.max_epochs", "2", "--resume", str(last))
    assert main(args) == 0
    resumed = json.loads((tmp_path / "resumed/results/ogbg-molfreesolv/gine/seed0.json")
                         .read_text())
    assert resumed["epochs"] == 2
    history = (Path(resumed["log_dir"]) / "metrics.csv").read_text()
    assert "train_loss" in history


def test_parse_seeds():
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("0,3, 7") == [0, 3, 7]
    with pytest.raises(ValueError, match="--seeds"):
        parse_seeds("a-b")


def run_cli(args: list[str], cwd: Path) -> dict:
    proc = subprocess.run([sys.executable, str(REPO / "train.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((cwd / "results/runs/ogbg-molfreesolv/plstm/seed0.json").read_text())


@pytest.mark.slow
def test_ddp_two_processes_matches_one(shared_data, data_cache, tmp_path):
    """DDP on CPU (gloo, 2 processes, half the per-process batch) against one process."""
    common = ["--data.data_dir", str(shared_data), "--data.cache_dir", str(data_cache),
              *QUIET, *TINY, "--trainer.max_epochs", "6", "--trainer.accelerator", "cpu",
              "--optim.warmup_epochs", "1", "--optim.lr", "0.003", "--num_threads", "1"]
    (tmp_path / "one").mkdir()
    (tmp_path / "ddp").mkdir()
    one = run_cli([*common, "--data.batch_size", "32"], tmp_path / "one")
    ddp = run_cli([*common, "--data.batch_size", "16", "--trainer.devices", "2",
                   "--trainer.strategy", "ddp"], tmp_path / "ddp")
    assert str(ddp["config"]["trainer"]["devices"]) == "2"
    assert ddp["test_metric"] == pytest.approx(one["test_metric"], rel=0.15)
    assert ddp["val_metric"] == pytest.approx(one["val_metric"], rel=0.15)
