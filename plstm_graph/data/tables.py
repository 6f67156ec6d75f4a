"""Reading label tables (OGB ``mapping/mol.csv.gz``, user CSVs) with errors that name the
file/column/row."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["read_molecule_table"]

#: Columns that are never targets by default (OGB's mapping files carry ``mol_id``).
NON_TARGET_COLUMNS = ("mol_id",)
#: Cells of a label column that mean "missing label".
MISSING_LABELS = ["", "nan", "NaN", "NA", "N/A", "null"]


def default_target_columns(columns, smiles_column: str = "smiles") -> list[str]:
    """The label columns of a molecule table: all but the SMILES and the identifier columns."""
    return [c for c in columns if c != smiles_column and c not in NON_TARGET_COLUMNS]


def read_molecule_table(
    path: str | os.PathLike,
    smiles_column: str = "smiles",
    target_columns: Sequence[str] | None = None,
) -> tuple[list[str], np.ndarray, list[str]]:
    """Read a CSV (optionally ``.gz``) of SMILES + numeric target columns.

    Returns ``(smiles, labels float32 [N, T] with NaN for empty cells, target column names)``. By
    default every column except the SMILES column and ``mol_id`` is a target. Raises
    ``FileNotFoundError`` for a missing file and ``ValueError`` naming the file for an empty table,
    a missing SMILES column, no target columns, or a non-numeric label (with its column and row).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"CSV file {str(path)!r} does not exist")
    try:
        columns = list(pd.read_csv(path, nrows=0).columns)
    except pd.errors.EmptyDataError as exc:
        raise ValueError(f"CSV file {str(path)!r} is empty") from exc
    if smiles_column not in columns:
        raise ValueError(
            f"CSV file {str(path)!r} has no {smiles_column!r} column (columns: {columns}); "
            "pass smiles_column= to name it"
        )
    if target_columns is None:
        target_columns = default_target_columns(columns, smiles_column)
    else:
        target_columns = list(target_columns)
        missing = [c for c in target_columns if c not in columns]
        if missing:
            raise ValueError(f"CSV file {str(path)!r} has no target column(s) {missing}")
    if not target_columns:
        raise ValueError(f"CSV file {str(path)!r} has no target columns besides {smiles_column!r}")
    # SMILES are read verbatim; in label columns an empty cell (or NA / nan) is a missing label.
    df = pd.read_csv(
        path,
        usecols=[smiles_column, *target_columns],
        dtype={smiles_column: str},
        keep_default_na=False,
        na_values={c: MISSING_LABELS for c in target_columns},
    )
    if len(df) == 0:
        raise ValueError(f"CSV file {str(path)!r} has a header but no rows")
    for col in target_columns:
        if not pd.api.types.is_numeric_dtype(df[col]):
            num = pd.to_numeric(df[col], errors="coerce")
            i = int(np.flatnonzero((num.isna() & df[col].notna()).to_numpy())[0])
            raise ValueError(
                f"CSV file {str(path)!r}: non-numeric label {df[col].iloc[i]!r} in column {col!r}, "
                f"row {i} (0-based data row; line {i + 2} of the file). Pass target_columns= to "
                "choose the label columns"
            )
    labels = df[target_columns].to_numpy(dtype=np.float32)
    smiles = df[smiles_column].tolist()
    return smiles, labels, target_columns
