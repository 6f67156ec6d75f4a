"""LRGB Peptides-func: 15,535 peptides (SMILES), 10 binary labels, official stratified split, metric
AP.

Layout (the official LRGB/GraphGPS loader's): ``<root>/LRGB/peptides-functional/`` (or
``<root>/peptides-functional/``) holding ``raw/peptide_multi_class_dataset.csv.gz`` and
``splits_random_stratified_peptide.pickle``. Featurised like every other molecule (OGB features).
"""

from __future__ import annotations

import ast
import hashlib
import io
import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .molecule_dataset import MoleculeDataset, _file_digest

__all__ = [
    "PEPTIDES_FUNC",
    "find_peptides_func",
    "load_peptides_func",
    "read_peptides_func",
    "read_peptides_split",
]

PEPTIDES_FUNC = {
    "name": "peptides-func",
    "folder": "peptides-functional",
    "csv": "peptide_multi_class_dataset.csv.gz",
    "split": "splits_random_stratified_peptide.pickle",
    "url": "https://www.dropbox.com/s/ol2v01usvaxbsr8/peptide_multi_class_dataset.csv.gz?dl=1",
    "split_url": "https://www.dropbox.com/s/j4zcnx2eipuo0xz/splits_random_stratified_peptide.pickle?dl=1",
    "csv_md5": "701eb743e899f4d793f0e13c8fa5a1b4",
    "split_md5": "5a0114bdadc80b94fc7ae974f13ef061",
    "num_tasks": 10,
    "task_type": "binary classification",  # multi-label: 10 binary tasks
    "eval_metric": "ap",
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles only numpy arrays / dtypes and builtin containers (the split file holds nothing
    else)."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("builtins", "slice"),
    }

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name} from the split file")


def read_peptides_split(folder: Path) -> dict[str, torch.Tensor]:
    """The official split (keys train/valid/test) of a folder, read with
    :class:`_NumpyOnlyUnpickler`."""
    with open(folder / PEPTIDES_FUNC["split"], "rb") as f:
        obj = _NumpyOnlyUnpickler(io.BytesIO(f.read())).load()
    keys = {"train": "train", "valid": "val", "test": "test"}
    return {k: torch.as_tensor(np.asarray(obj[v], dtype=np.int64)) for k, v in keys.items()}


def find_peptides_func(root: Path) -> Path | None:
    for cand in (root / "LRGB" / PEPTIDES_FUNC["folder"], root / PEPTIDES_FUNC["folder"]):
        if (cand / "raw" / PEPTIDES_FUNC["csv"]).is_file() and (
            cand / PEPTIDES_FUNC["split"]
        ).is_file():
            return cand
    return None


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def download_peptides_func(root: Path) -> Path:
    """The official LRGB download (the URLs and MD5s of the LRGB loader) into
    ``<root>/LRGB/...``."""
    from torch_geometric.data import download_url

    folder = root / "LRGB" / PEPTIDES_FUNC["folder"]
    try:
        csv = Path(download_url(PEPTIDES_FUNC["url"], str(folder / "raw"), log=True))
        split = Path(download_url(PEPTIDES_FUNC["split_url"], str(folder), log=True))
    except Exception as exc:  # noqa: BLE001
        raise ConnectionError(
            f"peptides-func is not under {str(root)!r} and downloading it failed "
            f"({type(exc).__name__}: {exc}). Offline? Put LRGB's peptides-functional/ folder at "
            f"{str(folder)!r}."
        ) from exc
    # download_url names files after the URL (with '?dl=1'); give them the loader's names.
    for got, want, md5 in (
        (csv, folder / "raw" / PEPTIDES_FUNC["csv"], PEPTIDES_FUNC["csv_md5"]),
        (split, folder / PEPTIDES_FUNC["split"], PEPTIDES_FUNC["split_md5"]),
    ):
        if got != want:
            shutil.move(str(got), str(want))
        if _md5(want) != md5:
            raise RuntimeError(f"{str(want)!r} has MD5 {_md5(want)}, expected {md5}")
    (folder / PEPTIDES_FUNC["csv_md5"]).touch()
    return folder


def read_peptides_func(folder: Path) -> tuple[list[str], np.ndarray]:
    """SMILES and labels float [15535, 10] of a folder."""
    df = pd.read_csv(folder / "raw" / PEPTIDES_FUNC["csv"])
    labels = np.asarray([ast.literal_eval(s) for s in df["labels"]], dtype=np.float32)
    return df["smiles"].tolist(), labels


def load_peptides_func(
    root: Path, cache_root: Path, *, download: bool = True, **dataset_kwargs
) -> MoleculeDataset:
    folder = find_peptides_func(root)
    if folder is None:
        if not download:
            raise FileNotFoundError(f"peptides-func not found under {str(root)!r} (download=False)")
        folder = download_peptides_func(root)
    csv = folder / "raw" / PEPTIDES_FUNC["csv"]
    return MoleculeDataset(
        PEPTIDES_FUNC["name"],
        lambda: read_peptides_func(folder),
        num_tasks=PEPTIDES_FUNC["num_tasks"],
        task_type=PEPTIDES_FUNC["task_type"],
        eval_metric=PEPTIDES_FUNC["eval_metric"],
        cache_dir=cache_root / "LRGB" / PEPTIDES_FUNC["folder"],
        source_digest=_file_digest(csv) + _file_digest(folder / PEPTIDES_FUNC["split"]),
        split=read_peptides_split(folder),
        **dataset_kwargs,
    )
