"""End-to-end training through the CLI: learning, outputs, multi-seed summary, resume, DDP."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from lightning.pytorch import Callback, Trainer

import plstm_graph
from plstm_graph.cli import evaluate
from plstm_graph.cli.results import RESULT_KEYS, summarize
from plstm_graph.cli.train import main, parse_seeds
from plstm_graph.data import FEATURIZATION_VERSION
from plstm_graph.models import OptimConfig, PropertyDataModule, PropertyPredictor

REPO = Path(__file__).resolve().parents[1]
QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]
TINY = ["--plstm.hidden_channels", "32", "--gine.hidden_channels", "32", "--gine.num_layers", "2"]


def train_args(shared_data, data_cache, out: Path, *extra: str) -> list[str]:
    return ["--data.data_dir", str(shared_data), "--data.cache_dir", str(data_cache),
            "--output_dir", str(out / "results"), "--log_dir", str(out / "runs"),
            *QUIET, *TINY, *extra]


def run_train_script(args: list[str], cwd: Path) -> str:
    """Runs ``train.py`` in a process of its own, as a user does; returns its stderr."""
    proc = subprocess.run([sys.executable, str(REPO / "train.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stderr


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
    assert record["featurizer"] == FEATURIZATION_VERSION
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


def test_last_checkpoint_is_the_last_epoch(shared_data, data_cache, tmp_path):
    """last.ckpt follows every epoch, also after the best one (with a learning rate of 0 the
    validation metric never improves on epoch 0). Run as a user runs it, the warnings Lightning
    gives that do not apply here are not shown: the test runs on the best checkpoint, named, not
    on the first of the two checkpoint callbacks, and an epoch of 2 batches loses no log lines
    (the module logs epoch means)."""
    args = train_args(shared_data, data_cache, tmp_path, "--data.dataset", "MUTAG",
                      "--model", "gine", "--trainer.max_epochs", "3", "--optim.lr", "0")
    stderr = run_train_script(args, tmp_path)
    record = json.loads((tmp_path / "results/MUTAG/gine/fold0-seed0.json").read_text())
    last = torch.load(Path(record["checkpoint"]).parent / "last.ckpt", map_location="cpu",
                      weights_only=True)
    assert record["best_epoch"] == 0 and last["epoch"] == 2
    for warning in ("multiple `ModelCheckpoint`", "smaller than the logging interval"):
        assert warning not in stderr


def evaluate_json(model: str, out: Path, *extra: str) -> dict:
    assert evaluate.main([model, "--out", str(out), *extra]) == 0
    return json.loads(out.read_text())


def test_evaluate_reuses_training_fold(shared_data, data_cache, tmp_path):
    """A model trained on TU fold 3 is evaluated on fold 3's test split, not fold 0's."""
    args = train_args(shared_data, data_cache, tmp_path, "--data.dataset", "MUTAG",
                      "--data.fold", "3", "--model", "gine", "--trainer.max_epochs", "2")
    assert main(args) == 0
    record = json.loads((tmp_path / "results/MUTAG/gine/fold3-seed0.json").read_text())
    data = ["--data_dir", str(shared_data), "--cache_dir", str(data_cache)]
    fold3 = PropertyDataModule("MUTAG", data_dir=str(shared_data), cache_dir=str(data_cache),
                               fold=3)
    fold3.setup()
    for model in (record["model_file"], record["checkpoint"]):  # best.pt and Lightning .ckpt
        result = evaluate_json(model, tmp_path / "metric.json", *data)
        assert (result["dataset"], result["fold"], result["split"]) == ("MUTAG", 3, "test")
        assert result["num_graphs"] == len(fold3.splits["test"])
        assert result["value"] == pytest.approx(record["test_metric"], abs=1e-6)
    # a fold given on the command line is the user's choice
    assert evaluate_json(record["model_file"], tmp_path / "fold0.json", *data,
                         "--fold", "0")["fold"] == 0


def test_evaluate_reuses_training_csv_options(shared_data, data_cache, tmp_path):
    """A CSV model (random split, one of two numeric columns as target, an unparsable row
    skipped) is evaluated on its own test split without any data option."""
    table = pd.read_csv(shared_data / "ogbg_molfreesolv/mapping/mol.csv.gz", nrows=80)
    table = table.rename(columns={"expt": "y"})[["smiles", "y"]]
    table["other"] = np.arange(len(table), dtype=float)
    table.loc[5, "smiles"] = "C1CC"
    path = tmp_path / "mols.csv"
    table.to_csv(path, index=False)
    args = train_args(shared_data, data_cache, tmp_path, "--data.dataset", str(path),
                      "--data.split", "random", "--data.target_columns", "[y]",
                      "--data.on_invalid", "skip", "--model", "gine",
                      "--trainer.max_epochs", "2")
    with pytest.warns(UserWarning, match=r"skipped 1 row\(s\).*rows 5"):
        assert main(args) == 0
    record = json.loads((tmp_path / "results/mols/gine/seed0.json").read_text())
    with pytest.warns(UserWarning, match="skipped 1 row"):
        result = evaluate_json(record["model_file"], tmp_path / "metric.json",
                               "--cache_dir", str(data_cache))
    assert (result["dataset"], result["metric"], result["fold"]) == ("mols", "rmse", None)
    assert result["value"] == pytest.approx(record["test_metric"], rel=1e-5)


@pytest.fixture(scope="module")
def tiny_regression(tmp_path_factory) -> PropertyDataModule:
    """40 small molecules, random split: 32 training graphs, i.e. 8 batches of 4 per epoch."""
    folder = tmp_path_factory.mktemp("tiny")
    smiles = ["C" * n + end for n in range(1, 9) for end in ("O", "N", "Cl", "F", "")]
    pd.DataFrame({"smiles": smiles, "y": np.arange(len(smiles), dtype=float)}).to_csv(
        folder / "tiny.csv", index=False)
    dm = PropertyDataModule(str(folder / "tiny.csv"), cache_dir=str(folder / "cache"),
                            split="random", batch_size=4)
    dm.setup()
    assert len(dm.splits["train"]) == 32
    return dm


class LearningRates(Callback):
    """The learning rate of every optimiser step."""

    def __init__(self) -> None:
        self.lrs: list[float] = []

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        self.lrs.append(optimizer.param_groups[0]["lr"])


def scheduled_lrs(dm: PropertyDataModule, warmup_epochs: float, **limits) -> list[float]:
    task = dm.task_info()
    args = {"hidden_channels": 8, "num_layers": 2, **dm.input_channels(),
            "out_channels": task.out_channels}
    optim = OptimConfig(lr=0.01, warmup_epochs=warmup_epochs, min_lr_ratio=0.1)
    module = PropertyPredictor.from_parts("gine", args, task, dm.featurization(), optim)
    recorder = LearningRates()
    Trainer(accelerator="cpu", devices=1, accumulate_grad_batches=3, limit_val_batches=0,
            num_sanity_val_steps=0, logger=False, enable_checkpointing=False,
            enable_progress_bar=False, enable_model_summary=False, callbacks=[recorder],
            **limits).fit(module, datamodule=dm)
    return recorder.lrs


# 8 batches per epoch, 3 accumulated per optimiser step: 3 steps per epoch (the last of 2)
@pytest.mark.parametrize("limits, warmup_epochs, warmup, total", [
    ({"max_epochs": None, "max_steps": 10}, 1.0, 3, 10),
    ({"max_epochs": 4, "max_steps": 7}, 1.0, 3, 7),
    ({"max_epochs": 4}, 1.5, 4, 12),  # 4.5 steps, truncated
    ({"max_epochs": None, "max_steps": 5}, 2.0, 5, 5),  # warm-up longer than the run
])
def test_warmup_lasts_warmup_epochs_of_optimizer_steps(tiny_regression, limits, warmup_epochs,
                                                        warmup, total):
    def expected(step: int) -> float:
        if step < warmup:
            return 0.01 * (step + 1) / warmup
        cosine = (1 + math.cos(math.pi * (step - warmup) / (total - warmup))) / 2
        return 0.01 * (0.1 + 0.9 * cosine)

    lrs = scheduled_lrs(tiny_regression, warmup_epochs, **limits)
    assert lrs == pytest.approx([expected(step) for step in range(total)])


def test_parse_seeds():
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("0,3, 7") == [0, 3, 7]
    with pytest.raises(ValueError, match="--seeds"):
        parse_seeds("a-b")


def run_cli(args: list[str], cwd: Path) -> dict:
    run_train_script(args, cwd)
    return json.loads((cwd / "results/runs/ogbg-molfreesolv/plstm/seed0.json").read_text())


@pytest.mark.slow
def test_ddp_two_processes_matches_one(shared_data, data_cache, tmp_path):
    """DDP on CPU (gloo, 2 processes, half the per-process batch) against one process. Without
    readout batch norm: its statistics are per process (``sync_batchnorm`` needs GPUs)."""
    common = ["--data.data_dir", str(shared_data), "--data.cache_dir", str(data_cache),
              *QUIET, *TINY, "--plstm.readout_norm", "false",
              "--trainer.max_epochs", "6", "--trainer.accelerator", "cpu",
              "--optim.warmup_epochs", "1", "--optim.lr", "0.003", "--num_threads", "1"]
    (tmp_path / "one").mkdir()
    (tmp_path / "ddp").mkdir()
    one = run_cli([*common, "--data.batch_size", "32"], tmp_path / "one")
    ddp = run_cli([*common, "--data.batch_size", "16", "--trainer.devices", "2",
                   "--trainer.strategy", "ddp"], tmp_path / "ddp")
    assert str(ddp["config"]["trainer"]["devices"]) == "2"
    assert ddp["test_metric"] == pytest.approx(one["test_metric"], rel=0.15)
    assert ddp["val_metric"] == pytest.approx(one["val_metric"], rel=0.15)
