"""Sparse labels (issue #7, item 2): tasks without labels in a split, batches without labels and
single-class tasks train and evaluate without NaN losses or crashes, with OGB Evaluator
semantics (ROC-AUC skips tasks without both classes; when all are skipped the metric is NaN
with a warning)."""
from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from plstm_graph.cli.train import main
from plstm_graph.models import OptimConfig, PropertyDataModule, PropertyPredictor

QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
         "--trainer.num_sanity_val_steps", "0"]
TINY = ["--model", "gine", "--gine.hidden_channels", "16", "--gine.num_layers", "2"]


def _smiles() -> list[str]:
    out = []
    for n in range(1, 9):
        chain = "C" * n
        out += [chain + "O", chain + "N", chain + "Cl", "c1ccccc1" + chain, "C1CC1" + chain]
    return out


def sparse_csv(path: Path, single_class_only: bool = False) -> Path:
    """40 molecules, three binary tasks: ``mixed`` (both classes, some missing), ``empty`` (no
    label anywhere, so none in any split) and ``single`` (only 1s); rows 5, 6 and 12 have no
    label at all. With ``single_class_only`` every task is single-class or empty."""
    smiles = _smiles()
    n = len(smiles)
    mixed = [float(i % 2) if i % 7 else np.nan for i in range(n)]
    if single_class_only:
        mixed = [0.0 if i % 7 else np.nan for i in range(n)]
    table = pd.DataFrame({"smiles": smiles, "mixed": mixed, "empty": np.nan,
                          "single": [1.0 if i % 3 else np.nan for i in range(n)]})
    table.loc[[5, 6, 12], ["mixed", "single"]] = np.nan
    table.to_csv(path, index=False)
    return path


@pytest.fixture
def sparse_module(tmp_path):
    dm = PropertyDataModule(str(sparse_csv(tmp_path / "sparse.csv")),
                            cache_dir=str(tmp_path / "cache"), split="random", batch_size=4)
    dm.setup()
    task = dm.task_info()
    assert task.task_type == "binary classification" and task.num_tasks == 3
    args = {"hidden_channels": 16, "num_layers": 2, **dm.input_channels(),
            "out_channels": task.out_channels}
    module = PropertyPredictor.from_parts("gine", args, task, dm.featurization(),
                                          OptimConfig())
    return dm, module


def test_batch_without_labels_has_zero_loss_and_finite_gradients(sparse_module):
    dm, module = sparse_module
    batch = next(iter(dm.split_dataloader("train")))
    out = module(batch)
    loss = module.loss(out, torch.full_like(module._targets(batch), float("nan")))
    assert loss.item() == 0.0
    loss.backward()
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    # partly labelled: the loss ignores the missing entries
    loss = module.loss(module(batch), module._targets(batch))
    assert torch.isfinite(loss)


def test_evaluator_skips_tasks_without_both_classes(sparse_module):
    _, module = sparse_module
    y = torch.tensor([[0.0, float("nan"), 1.0], [1.0, float("nan"), 1.0],
                      [0.0, float("nan"), float("nan")], [1.0, float("nan"), 1.0]])
    pred = torch.tensor([[0.1, 0.0, 0.3], [0.9, 0.0, 0.2], [0.2, 0.0, 0.1], [0.8, 0.0, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert module.evaluate(pred, y) == 1.0  # only the 'mixed' task counts
    single = y.clone()
    single[:, 0] = 1.0  # now no task has both classes
    with pytest.warns(UserWarning, match="rocauc is undefined"):
        assert math.isnan(module.evaluate(pred, single))


def _train(tmp_path: Path, csv: Path) -> dict:
    args = ["--data.dataset", str(csv), "--data.cache_dir", str(tmp_path / "cache"),
            "--data.split", "random", "--data.batch_size", "4",
            "--output_dir", str(tmp_path / "results"), "--log_dir", str(tmp_path / "runs"),
            *QUIET, *TINY, "--trainer.max_epochs", "2", "--optim.warmup_epochs", "0"]
    assert main(args) == 0
    [path] = (tmp_path / "results").glob("*/gine/seed0.json")
    record = json.loads(path.read_text())
    history = pd.read_csv(Path(record["log_dir"]) / "metrics.csv")
    for column in ("train_loss", "val_loss"):
        values = history[column].dropna()
        assert len(values) and np.isfinite(values).all(), column
    return record


def test_sparse_multitask_classification_trains_and_evaluates(tmp_path):
    record = _train(tmp_path, sparse_csv(tmp_path / "sparse.csv"))
    assert record["metric"] == "rocauc"
    for key in ("val_metric", "test_metric"):
        assert math.isnan(record[key]) or 0.0 <= record[key] <= 1.0


def test_all_tasks_single_class_reports_nan_metric(tmp_path):
    csv = sparse_csv(tmp_path / "single.csv", single_class_only=True)
    with pytest.warns(UserWarning, match="rocauc is undefined"):
        record = _train(tmp_path, csv)
    assert math.isnan(record["val_metric"]) and math.isnan(record["test_metric"])
