"""An ``InMemoryDataset`` of featurised molecules with OGB's dataset interface.

One class serves OGB-layout folders, the embedded FreeSolv copy, LRGB Peptides-func and user CSVs:
the caller hands over a *reader* (returns SMILES and a float label matrix, NaN = missing) and a
split specification; the class featurises (optionally in worker processes), applies the
pre-transform once and caches the result under a folder keyed by the featurisation version, the
pre-transform and the source data.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import multiprocessing as mp
import os
import os.path as osp
import sys
import warnings
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from filelock import FileLock
from torch_geometric.data import Data, InMemoryDataset
from torch_geometric.io import fs

from ..files import atomic_write
from . import featurize as _featurize_module
from .featurize import FEATURIZATION_VERSION, InvalidSmilesError, smiles_to_data

__all__ = ["MoleculeDataset", "cache_key", "data_classes", "transform_fingerprint"]

ON_INVALID = ("raise", "skip")
#: Below this many molecules featurisation runs in-process (worker start-up costs ~2 s).
_PARALLEL_MIN = 4000


def _file_digest(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _source_file_digest(obj) -> str:
    try:
        return _file_digest(inspect.getfile(obj))
    except (TypeError, OSError):
        return ""


def _implementation_digest(cls: type) -> str:
    """Digest of the module defining ``cls`` and of the modules of its own package that this module
    imports names from (e.g. ``plstm_graph.transforms`` -> ``plstm_graph.dag``)."""
    module = sys.modules.get(cls.__module__)
    if module is None:
        return _source_file_digest(cls)
    top = cls.__module__.split(".")[0]
    names = {cls.__module__}
    for value in vars(module).values():
        name = value.__name__ if inspect.ismodule(value) else getattr(value, "__module__", None)
        if isinstance(name, str) and name.split(".")[0] == top:
            names.add(name)
    digests = [
        f"{n}:{_source_file_digest(sys.modules[n])}" for n in sorted(names) if n in sys.modules
    ]
    return hashlib.sha256("|".join(digests).encode()).hexdigest()


def transform_fingerprint(transform) -> str:
    """Identity of a pre-transform for the cache key: class, ``repr`` (constructor arguments), an
    optional ``version`` / ``cache_version`` attribute and a digest of the transform's source (its
    module and the same-package modules it imports from), so an edited implementation
    invalidates old caches even when its ``repr`` stays the same."""
    if transform is None:
        return "None"
    cls = type(transform)
    parts = [
        f"{cls.__module__}.{cls.__qualname__}",
        repr(transform),
        str(getattr(transform, "cache_version", getattr(transform, "version", ""))),
        _implementation_digest(cls),
    ]
    # Compose-like transforms: include their members' source too.
    for t in getattr(transform, "transforms", []) or []:
        parts.append(transform_fingerprint(t))
    return "|".join(parts)


def cache_key(pre_transform, source_digest: str, extra: str = "") -> str:
    """Hex key of (featurisation version + featurize.py source, pre-transform, source data)."""
    payload = json.dumps(
        [
            FEATURIZATION_VERSION,
            _source_file_digest(_featurize_module),
            transform_fingerprint(pre_transform),
            source_digest,
            extra,
        ]
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def cache_lock(processed_dir: str | os.PathLike) -> AbstractContextManager:
    """The lock held while a processed cache is looked for, built and read. Trainings started
    side by side on one cache folder (seeds run in parallel) then build it once: the others wait
    and load the finished files instead of reading them half-written. A cache folder this
    process cannot write to is only read, so there is nothing to wait for."""
    folder = Path(processed_dir).parent
    folder.mkdir(parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK):
        return nullcontext()
    return FileLock(f"{processed_dir}.lock")


# ------------------------------------------------------------------------------------ workers
_WORKER_PRE_TRANSFORM = None


def _init_worker(pre_transform) -> None:
    global _WORKER_PRE_TRANSFORM
    torch.set_num_threads(1)
    _WORKER_PRE_TRANSFORM = pre_transform


def _featurize_chunk(rows, smiles, labels, pre_transform):
    """Featurise rows; failures are returned (row, smiles, reason), never raised across
    processes."""
    out: list[Data] = []
    failed: list[tuple[int, str, str]] = []
    for r, s, y in zip(rows, smiles, labels):
        try:
            d = smiles_to_data(s, y)
        except InvalidSmilesError as exc:
            failed.append((int(r), str(s), exc.reason))
            continue
        d.row = torch.tensor([int(r)], dtype=torch.long)
        out.append(d)
    return apply_pre_transform(out, pre_transform), failed


def apply_pre_transform(data_list: list[Data], pre_transform) -> list[Data]:
    """Apply ``pre_transform`` to every graph; uses its vectorised ``transform_many`` when it has
    one (as :class:`plstm_graph.transforms.LineDAG` does)."""
    if pre_transform is None or not data_list:
        return data_list
    many = getattr(pre_transform, "transform_many", None)
    if callable(many):
        try:
            takes_chunk = "chunk_size" in inspect.signature(many).parameters
        except (TypeError, ValueError):
            takes_chunk = False
        # ~1000 graphs per vectorised call was fastest for LineDAG on molhiv (single thread)
        return list(many(data_list, chunk_size=1024) if takes_chunk else many(data_list))
    return [pre_transform(d) for d in data_list]


class Collated(NamedTuple):
    """A collated graph list in PyG's ``InMemoryDataset`` storage format."""

    data: dict  # Data.to_dict() of the collated graphs
    slices: dict  # key -> long tensor of boundaries
    data_cls: type


def collate(data_list: list[Data]) -> Collated | None:
    if not data_list:
        return None
    data, slices = InMemoryDataset.collate(data_list)
    return Collated(data.to_dict(), slices, type(data_list[0]))


def _cat_dims(sample: Data) -> dict[str, int]:
    return {k: sample.__cat_dim__(k, v) for k, v in sample.to_dict().items() if torch.is_tensor(v)}


def merge_collated(parts: list[Collated], cat_dims: dict[str, int]) -> Collated:
    """Concatenate collated chunks (InMemoryDataset stores graphs without increments, so
    merging is concatenation of the values and shifting of the slice boundaries)."""
    parts = [p for p in parts if p is not None]
    first = parts[0]
    data: dict = {}
    slices: dict = {}
    for key, value in first.data.items():
        values = [p.data[key] for p in parts]
        if key == "num_nodes":
            data[key] = sum(values)
        elif torch.is_tensor(value):
            dim = cat_dims[key]
            data[key] = torch.cat(values, dim=dim if dim is not None else 0)
        elif isinstance(value, list):
            data[key] = [v for vs in values for v in vs]
        else:
            data[key] = values[0]
    for key in first.slices:
        out = [first.slices[key]]
        offset = first.slices[key][-1]
        for p in parts[1:]:
            out.append(p.slices[key][1:] + offset)
            offset = offset + p.slices[key][-1]
        slices[key] = torch.cat(out)
    return Collated(data, slices, first.data_cls)


def _to_numpy(obj):
    """Tensors -> numpy for the trip back from a worker (pickled inline, unlike tensors, which
    travel through shared-memory file descriptors and exhaust the descriptor limit)."""
    if torch.is_tensor(obj):
        return ("__tensor__", obj.numpy())
    if isinstance(obj, dict):
        return {k: _to_numpy(v) for k, v in obj.items()}
    return obj


def _from_numpy(obj):
    if isinstance(obj, tuple) and len(obj) == 2 and obj[0] == "__tensor__":
        return torch.from_numpy(obj[1])
    if isinstance(obj, dict):
        return {k: _from_numpy(v) for k, v in obj.items()}
    return obj


def _worker_chunk(args):
    rows, smiles, labels = args
    out, failed = _featurize_chunk(rows, smiles, labels, _WORKER_PRE_TRANSFORM)
    if not out:
        return None, {}, failed
    c = collate(out)
    payload = (_to_numpy(c.data), _to_numpy(c.slices), c.data_cls)
    return payload, _cat_dims(out[0]), failed


def featurize_many(
    smiles: Sequence[str],
    labels: np.ndarray,
    pre_transform=None,
    num_workers: int | None = None,
    rows: Sequence[int] | None = None,
) -> tuple[Collated | None, list[tuple[int, str, str]]]:
    """Featurise (and pre-transform) many SMILES.

    Returns the collated graphs in row order (``None`` if none could be featurised) and the
    failures ``(row, smiles, reason)``. With ``num_workers >= 2`` chunks are processed in a
    process pool and collated in the workers.
    """
    n = len(smiles)
    rows = np.arange(n) if rows is None else np.asarray(rows)
    labels = np.asarray(labels, dtype=np.float32).reshape(n, -1)
    if num_workers is None:
        num_workers = min(2, os.cpu_count() or 1) if n >= _PARALLEL_MIN else 0
    if num_workers <= 1:
        out, failed = _featurize_chunk(rows, smiles, labels, pre_transform)
        return collate(out), failed
    n_chunks = num_workers * 8
    bounds = np.linspace(0, n, n_chunks + 1).astype(int)
    chunks = [
        (rows[a:b].tolist(), list(smiles[a:b]), labels[a:b])
        for a, b in zip(bounds[:-1], bounds[1:])
        if b > a
    ]
    # fork where available: no re-import of torch/RDKit in each worker and no need for an
    # ``if __name__ == "__main__"`` guard in user scripts. Workers run single-threaded
    # (torch.set_num_threads(1)), as PyTorch's own DataLoader workers do, which avoids the
    # OpenMP-after-fork problem. Elsewhere (macOS, Windows) spawn is used.
    methods = mp.get_all_start_methods()
    ctx = mp.get_context("fork" if "fork" in methods else "spawn")
    parts: list[Collated] = []
    cat_dims: dict[str, int] = {}
    failed: list[tuple[int, str, str]] = []
    with ctx.Pool(num_workers, initializer=_init_worker, initargs=(pre_transform,)) as pool:
        for payload, dims, bad in pool.imap(_worker_chunk, chunks):
            failed.extend(bad)
            if payload is not None:
                data, slices, cls = payload
                parts.append(Collated(_from_numpy(data), _from_numpy(slices), cls))
                cat_dims.update(dims)
    if not parts:
        return None, failed
    return merge_collated(parts, cat_dims), failed


def data_classes() -> list[type]:
    """``Data`` and every subclass imported so far (to allow-list for
    ``torch.load(weights_only=True)``)."""
    out, todo = [], [Data]
    while todo:
        cls = todo.pop()
        out.append(cls)
        todo.extend(cls.__subclasses__())
    return out


def _import_data_cls(spec: str) -> type:
    if not spec:
        return Data
    module, _, qualname = spec.partition(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not (isinstance(obj, type) and issubclass(obj, Data)):
        raise TypeError(f"{spec} is not a torch_geometric Data class")
    return obj


# ------------------------------------------------------------------------------------ dataset
def _invalid_smiles_error(row: int, smiles: str, reason: str, count: int) -> InvalidSmilesError:
    """The error for ``count`` unparsable rows (the first: ``row``), saying how to skip them."""
    more = f"{count} rows in all; " if count > 1 else ""
    hint = f"{more}to skip such rows: on_invalid='skip', or train.py --data.on_invalid skip"
    return InvalidSmilesError(smiles, f"{reason}; {hint}" if reason else hint, row=row)


class MoleculeDataset(InMemoryDataset):
    """Featurised molecules with OGB's interface: ``get_idx_split()``, ``num_tasks``, ``task_type``,
    ``eval_metric``, ``name`` (plus ``task_names``, ``skipped_rows``, ``num_rows``).

    Every graph carries ``row`` (long [1]), its row number in the source table. With
    ``on_invalid="skip"`` rows whose SMILES cannot be parsed are left out (a warning and ``skipped``
    / ``skipped_rows`` report them) and :meth:`get_idx_split` maps row indices to dataset positions,
    dropping the skipped rows. With ``on_invalid="raise"`` (default) the first such row raises a
    ``ValueError`` naming the row and the SMILES.

    Args:
        name: dataset name (e.g. ``"ogbg-molhiv"``).
        reader: ``() -> (smiles: list[str], labels: float array [N, num_tasks])``; only called when
            the processed cache has to be (re)built.
        num_tasks, task_type, eval_metric, task_names: OGB metadata.
        cache_dir: folder for the processed cache; the files go to
            ``<cache_dir>/processed/plstm_<key>/`` where the key hashes the featurisation version,
            the pre-transform and ``source_digest``.
        source_digest: identity of the source data (e.g. sha256 of the CSV).
        split: ``{"train","valid","test"} -> row indices`` or a callable ``(rows, smiles) -> that
            dict`` (computed once and cached) or ``None``.
    """

    def __init__(
        self,
        name: str,
        reader: Callable[[], tuple[Sequence[str], np.ndarray]],
        *,
        num_tasks: int,
        task_type: str,
        eval_metric: str,
        cache_dir: str | os.PathLike,
        source_digest: str,
        split=None,
        split_id: str = "",
        task_names: Sequence[str] | None = None,
        num_classes: int | None = None,
        pre_transform=None,
        transform=None,
        on_invalid: str = "raise",
        num_workers: int | None = None,
        log: bool = True,
    ):
        if on_invalid not in ON_INVALID:
            raise ValueError(f"on_invalid must be one of {ON_INVALID}, got {on_invalid!r}")
        self.name = name
        self.num_tasks = int(num_tasks)
        self.task_type = task_type
        self.eval_metric = eval_metric
        self.task_names = list(task_names) if task_names is not None else None
        self._num_classes = num_classes
        self.on_invalid = on_invalid
        self.num_workers = num_workers
        self._reader = reader
        self._split = split
        self._split_id = split_id
        self.key = cache_key(pre_transform, source_digest)
        self._processed_dir = osp.join(str(cache_dir), "processed", f"plstm_{self.key}")
        with cache_lock(self._processed_dir):
            super().__init__(str(cache_dir), transform, pre_transform, log=log,
                             force_reload=False)
            with open(self.processed_paths[1]) as f:
                meta = json.load(f)
            data_cls = _import_data_cls(meta.get("data_cls", ""))
            # torch.load(weights_only=True) only accepts allow-listed classes: allow this Data
            # subclass.
            with torch.serialization.safe_globals([data_cls, *data_classes()]):
                self.load(self.processed_paths[0], data_cls=data_cls)
        self.num_rows: int = meta["num_rows"]
        self.skipped: list[dict] = meta["skipped"]
        self.skipped_rows: list[int] = [s["row"] for s in self.skipped]
        if self.skipped:
            if on_invalid == "raise":
                s = self.skipped[0]
                raise _invalid_smiles_error(s["row"], s["smiles"], s["reason"],
                                            count=len(self.skipped))
            warnings.warn(self._skip_message(), stacklevel=2)
        rows = self._data.row if "row" in self._data else torch.arange(len(self))
        self.rows = rows.view(-1)
        self._row_to_pos = torch.full((self.num_rows,), -1, dtype=torch.long)
        self._row_to_pos[self.rows] = torch.arange(self.rows.numel())

    # -- InMemoryDataset plumbing
    @property
    def raw_file_names(self) -> list[str]:
        return []

    @property
    def processed_dir(self) -> str:
        return self._processed_dir

    @property
    def processed_file_names(self) -> list[str]:
        return ["data.pt", "meta.json"]

    def download(self) -> None:  # sources are resolved by the loaders before construction
        pass

    def _download(self) -> None:  # no raw files of its own: do not create an empty raw/ folder
        pass

    def process(self) -> None:
        smiles, labels = self._reader()
        smiles = list(smiles)
        labels = np.asarray(labels, dtype=np.float32).reshape(len(smiles), -1)
        collated, failed = featurize_many(
            smiles, labels, self.pre_transform, num_workers=self.num_workers
        )
        if failed and self.on_invalid == "raise":
            r, s, reason = failed[0]
            raise _invalid_smiles_error(r, s, reason, count=len(failed))
        if collated is None:
            raise ValueError(f"{self.name}: no molecule could be featurised")
        meta = {
            "name": self.name,
            "num_rows": len(smiles),
            "skipped": [{"row": r, "smiles": s, "reason": why} for r, s, why in failed],
            "featurization_version": FEATURIZATION_VERSION,
            "pre_transform": repr(self.pre_transform),
            "data_cls": f"{collated.data_cls.__module__}:{collated.data_cls.__qualname__}",
        }
        # the format of InMemoryDataset.save: (data dict, slices, data class); the metadata last,
        # each file whole or not at all, so a build cut short is redone rather than read
        atomic_write(self.processed_paths[0], lambda tmp: fs.torch_save(tuple(collated), tmp))
        atomic_write(self.processed_paths[1],
                     lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=1)))

    # -- OGB interface
    @property
    def num_classes(self) -> int:  # OGB: 2 for binary classification, -1 for regression
        if self._num_classes is not None:
            return self._num_classes
        return 2 if "classification" in self.task_type else -1

    def _skip_message(self) -> str:
        rows = ", ".join(str(r) for r in self.skipped_rows[:20])
        if len(self.skipped_rows) > 20:
            rows += ", ..."
        return (
            f"{self.name}: skipped {len(self.skipped_rows)} row(s) whose SMILES could not be "
            f"parsed (rows {rows}); get_idx_split() leaves them out"
        )

    def split_rows(self) -> dict[str, torch.Tensor]:
        """The split in source row numbers (before dropping skipped rows)."""
        if self._split is None:
            raise ValueError(f"{self.name} has no split")
        if not callable(self._split):
            return {
                k: torch.as_tensor(np.asarray(v), dtype=torch.long) for k, v in self._split.items()
            }
        path = Path(self.processed_dir) / f"split_{self._split_id or 'computed'}.pt"
        if path.is_file():
            return torch.load(path, weights_only=True)
        rows = self.rows.tolist()
        smiles = [self._smiles_at(i) for i in range(len(self))]
        split = {
            k: torch.as_tensor(v, dtype=torch.long) for k, v in self._split(rows, smiles).items()
        }
        atomic_write(path, lambda tmp: torch.save(split, tmp))
        return split

    def _smiles_at(self, i: int) -> str:
        s = self._data.smiles
        return s[i] if isinstance(s, (list, tuple)) else self.get(i).smiles

    def get_idx_split(self) -> dict[str, torch.Tensor]:
        """``{"train","valid","test"}`` -> dataset positions (long tensors; skipped rows
        dropped)."""
        out = {}
        for k, rows in self.split_rows().items():
            rows = rows.long()
            if rows.numel() and (rows.min() < 0 or rows.max() >= self.num_rows):
                raise ValueError(
                    f"{self.name}: split '{k}' has row indices outside 0..{self.num_rows - 1}"
                )
            pos = self._row_to_pos[rows]
            out[k] = pos[pos >= 0]
        return out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.name}, {len(self)})"
