"""TU graph-classification datasets (MUTAG, NCI1, PROTEINS, PTC_FM) with the pLSTM paper's protocol.

``torch_geometric.datasets.TUDataset(use_node_attr=True)``; graphs without ``x`` get all-ones
features;
split: fold ``fold`` of ``StratifiedKFold(10, shuffle=True, random_state=42)`` is the test set, the
rest is split 8:1 into train/valid, stratified, seed 42
(:func:`plstm_graph.data.splits.tu_fold_split`).

Raw files are read from ``<root>/TUDataset/<NAME>/raw`` (or ``<root>/<NAME>/raw``) *in place*; the
processed cache goes to ``<cache_root>/TUDataset/<NAME>/processed_plstm_<key>/``, so a read-only or
shared raw folder is never written to. Without raw files, PyG downloads them into
``<cache_root>/TUDataset/<NAME>/raw``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from torch_geometric.data import Data
from torch_geometric.datasets import TUDataset
from torch_geometric.transforms import BaseTransform

from .molecule_dataset import cache_key, cache_lock, data_classes
from .splits import tu_fold_split

__all__ = ["TU_NAMES", "OnesIfNoX", "TUBenchmark", "find_tu_raw"]

TU_NAMES = ("MUTAG", "NCI1", "PROTEINS", "PTC_FM")


class OnesIfNoX(BaseTransform):
    """Give graphs without node features an all-ones ``x`` of shape [N, 1]."""

    def forward(self, data: Data) -> Data:
        if getattr(data, "x", None) is None:
            data.x = torch.ones((data.num_nodes, 1), dtype=torch.float)
        return data


class _Chain(BaseTransform):
    def __init__(self, *transforms):
        self.transforms = [t for t in transforms if t is not None]

    def forward(self, data: Data) -> Data:
        for t in self.transforms:
            data = t(data)
        return data

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({', '.join(repr(t) for t in self.transforms)})"


def _raw_digest(raw_dir) -> str:
    """Digest of the raw files (so changed raw data rebuilds the cache); '' if none yet."""
    if raw_dir is None or not Path(raw_dir).is_dir():
        return ""
    h = hashlib.sha256()
    for f in sorted(Path(raw_dir).iterdir()):
        if f.is_file():
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def find_tu_raw(root: Path, name: str) -> Path | None:
    for cand in (root / "TUDataset" / name / "raw", root / name / "raw"):
        if (cand / f"{name}_A.txt").is_file():
            return cand
    return None


class TUBenchmark(TUDataset):
    """A :class:`~torch_geometric.datasets.TUDataset` with OGB's interface for the TU protocol.

    ``get_idx_split()`` returns fold ``fold`` (0..9); ``num_tasks`` = 1, ``task_type`` =
    ``"multiclass classification"``, ``eval_metric`` = ``"acc"`` (OGB's accuracy: ``y_true`` and
    ``y_pred`` are class indices of shape [n, 1]).
    """

    task_type = "multiclass classification"
    eval_metric = "acc"
    num_tasks = 1

    def __init__(
        self,
        cache_root: str | Path,
        name: str,
        *,
        fold: int = 0,
        raw_dir: str | Path | None = None,
        pre_transform=None,
        transform=None,
    ):
        if not 0 <= int(fold) < 10:
            raise ValueError(f"fold must be in 0..9, got {fold}")
        self.fold = int(fold)
        self._raw_source = str(raw_dir) if raw_dir is not None else None
        full = _Chain(OnesIfNoX(), pre_transform)
        key = cache_key(full, f"TU:{name}:{_raw_digest(raw_dir)}")
        root = Path(cache_root).expanduser() / "TUDataset"
        self._processed_dir = str(root / name / f"processed_plstm_{key}")
        # The cache may hold a Data subclass made by the pre-transform (e.g. DAGData): allow-list
        # the Data classes for torch.load(weights_only=True). The first build processes, then loads.
        with cache_lock(self._processed_dir), torch.serialization.safe_globals(data_classes()):
            super().__init__(
                str(root),
                name,
                transform=transform,
                pre_transform=full,
                use_node_attr=True,
            )
        self._split_cache: dict[str, torch.Tensor] | None = None

    @property
    def raw_dir(self) -> str:
        if self._raw_source is not None:
            return self._raw_source
        return super().raw_dir

    @property
    def processed_dir(self) -> str:
        return self._processed_dir

    @property
    def labels(self) -> torch.Tensor:
        return self._data.y.view(-1)

    def get_idx_split(self) -> dict[str, torch.Tensor]:
        if self._split_cache is None:
            self._split_cache = tu_fold_split(self.labels, self.fold)
        return dict(self._split_cache)
