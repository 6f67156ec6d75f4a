"""Dataset splits: OGB's deterministic scaffold split, a seeded random split and the TU 10-fold
protocol.

All functions return ``{"train", "valid", "test"}`` -> ascending ``torch.long`` tensors (OGB's key
names).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import torch
from rdkit import Chem
from rdkit.Chem.Scaffolds import MurckoScaffold

from .featurize import mol_from_smiles

__all__ = ["murcko_scaffold", "random_split", "scaffold_split", "tu_fold_split"]


def _as_split(train, valid, test) -> dict[str, torch.Tensor]:
    return {
        k: torch.as_tensor(np.sort(np.asarray(v, dtype=np.int64)), dtype=torch.long)
        for k, v in (("train", train), ("valid", valid), ("test", test))
    }


def murcko_scaffold(smiles: str) -> str:
    """Bemis-Murcko scaffold of ``smiles`` as written (not canonicalised), chirality included.

    Hypervalent SMILES that current RDKit rejects are parsed with the partial-sanitisation fallback
    of :func:`plstm_graph.data.featurize.mol_from_smiles`.
    """
    try:
        return MurckoScaffold.MurckoScaffoldSmiles(smiles=smiles, includeChirality=True)
    except Exception:  # noqa: BLE001 - RDKit raises ValueError / ArgumentError / RuntimeError
        # RDKit's GetScaffoldForMol, with the valence check relaxed as in mol_from_smiles
        scaffold = Chem.MurckoDecompose(mol_from_smiles(smiles))
        scaffold.ClearComputedProps()
        scaffold.UpdatePropertyCache(strict=False)
        Chem.GetSymmSSSR(scaffold)
        return Chem.MolToSmiles(scaffold, isomericSmiles=True)


def scaffold_split(
    smiles: Sequence[str],
    frac_train: float = 0.8,
    frac_valid: float = 0.1,
    indices: Sequence[int] | None = None,
) -> dict[str, torch.Tensor]:
    """OGB's deterministic scaffold split (reproduces the official ogbg-mol* splits).

    Rows are grouped by Murcko scaffold; groups are sorted by ``(size, first index)`` descending and
    assigned greedily: train while it fits under ``frac_train * N``, then valid while train + valid
    fits under ``(frac_train + frac_valid) * N``, else test.

    ``indices`` (optional) are the row numbers of ``smiles`` (e.g. when some rows were skipped); the
    returned split holds those row numbers.
    """
    n = len(smiles)
    idx = np.arange(n) if indices is None else np.asarray(indices, dtype=np.int64)
    if len(idx) != n:
        raise ValueError(f"indices has {len(idx)} entries but smiles has {n}")
    groups: dict[str, list[int]] = defaultdict(list)
    for i, s in zip(idx.tolist(), smiles):
        groups[murcko_scaffold(s)].append(i)
    sets = sorted((sorted(g) for g in groups.values()), key=lambda g: (len(g), g[0]), reverse=True)
    train_cutoff = frac_train * n
    valid_cutoff = (frac_train + frac_valid) * n
    train: list[int] = []
    valid: list[int] = []
    test: list[int] = []
    for g in sets:
        if len(train) + len(g) > train_cutoff:
            if len(train) + len(valid) + len(g) > valid_cutoff:
                test.extend(g)
            else:
                valid.extend(g)
        else:
            train.extend(g)
    return _as_split(train, valid, test)


def random_split(
    n: int,
    seed: int = 0,
    frac_train: float = 0.8,
    frac_valid: float = 0.1,
    indices: Sequence[int] | None = None,
) -> dict[str, torch.Tensor]:
    """Seeded random split of ``n`` items (or of ``indices``): ``int(frac*n)`` train and valid, rest
    test."""
    idx = np.arange(n) if indices is None else np.asarray(indices, dtype=np.int64)
    perm = idx[np.random.default_rng(seed).permutation(len(idx))]
    n_train = int(frac_train * len(idx))
    n_valid = int(frac_valid * len(idx))
    return _as_split(perm[:n_train], perm[n_train : n_train + n_valid], perm[n_train + n_valid :])


def tu_fold_split(
    labels: Sequence[int] | np.ndarray | torch.Tensor,
    fold: int,
    n_folds: int = 10,
    seed: int = 42,
    train_size: float = 0.888889,
) -> dict[str, torch.Tensor]:
    """The pLSTM paper's TU protocol (spec section 3.1).

    ``StratifiedKFold(n_folds, shuffle=True, random_state=seed)`` gives fold ``fold`` as the test
    set; the rest is split by ``train_test_split(rest, train_size=0.888889, stratify=labels[rest],
    random_state=seed)`` into train / valid (8/1/1 overall).
    """
    from sklearn.model_selection import StratifiedKFold, train_test_split

    y = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels).reshape(-1)
    if not 0 <= int(fold) < n_folds:
        raise ValueError(f"fold must be in 0..{n_folds - 1}, got {fold}")
    skf = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    rest, test = list(skf.split(np.zeros(len(y)), y))[int(fold)]
    train, valid = train_test_split(
        rest, train_size=train_size, stratify=y[rest], random_state=seed
    )
    return _as_split(train, valid, test)
