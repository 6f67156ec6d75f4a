"""A user's CSV (a SMILES column plus numeric target columns) as a dataset with a scaffold or random
split."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from .molecule_dataset import MoleculeDataset, _file_digest
from .splits import random_split, scaffold_split
from .tables import read_molecule_table

__all__ = ["SPLITS", "infer_task_type", "load_csv_dataset"]

SPLITS = ("scaffold", "random")
_METRIC = {"binary classification": "rocauc", "regression": "rmse"}


def infer_task_type(labels: np.ndarray) -> str:
    """``"binary classification"`` when every present label is 0 or 1, else ``"regression"``."""
    present = labels[~np.isnan(labels)]
    if present.size and np.isin(present, (0.0, 1.0)).all():
        return "binary classification"
    return "regression"


def load_csv_dataset(
    path: str | Path,
    cache_root: Path,
    *,
    split: str = "scaffold",
    seed: int = 0,
    frac_train: float = 0.8,
    frac_valid: float = 0.1,
    smiles_column: str = "smiles",
    target_columns=None,
    task_type: str | None = None,
    eval_metric: str | None = None,
    name: str | None = None,
    **dataset_kwargs,
) -> MoleculeDataset:
    """Load ``path`` (``.csv`` or ``.csv.gz``): SMILES in ``smiles_column``; targets are
    ``target_columns`` or every other column except ``mol_id``. Empty cells are missing labels
    (NaN).

    ``split="scaffold"`` uses OGB's deterministic scaffold split
    (:func:`~plstm_graph.data.splits.scaffold_split`), ``split="random"`` a permutation seeded by
    ``seed``; both 80/10/10 by default. The task type is inferred (all labels 0/1 -> binary
    classification, metric ROC-AUC; else regression, RMSE) unless given.
    """
    path = Path(path)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    smiles, labels, tasks = read_molecule_table(path, smiles_column, target_columns)
    task_type = task_type or infer_task_type(labels)
    if eval_metric is None:
        if task_type not in _METRIC:
            raise ValueError(f"give eval_metric= for task_type {task_type!r}")
        eval_metric = _METRIC[task_type]
    params = {"smiles_column": smiles_column, "tasks": tasks}
    digest = _file_digest(path) + hashlib.sha256(json.dumps(params).encode()).hexdigest()

    if split == "scaffold":
        split_id = f"scaffold_{frac_train}_{frac_valid}"

        def split_fn(rows, smi):
            return scaffold_split(smi, frac_train, frac_valid, indices=rows)
    else:
        split_id = f"random_{seed}_{frac_train}_{frac_valid}"

        def split_fn(rows, smi):
            return random_split(len(rows), seed, frac_train, frac_valid, indices=rows)

    stem = path.name.split(".")[0] or "csv"
    return MoleculeDataset(
        name or stem,
        lambda: (smiles, labels),
        num_tasks=len(tasks),
        task_type=task_type,
        eval_metric=eval_metric,
        task_names=tasks,
        cache_dir=cache_root / "csv" / f"{stem}_{digest[:12]}",
        source_digest=digest,
        split=split_fn,
        split_id=split_id,
        **dataset_kwargs,
    )
