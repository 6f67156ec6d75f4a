"""SMILES -> PyG ``Data`` with OGB's 9 atom and 3 bond features (``ogb.utils.smiles2graph``
semantics).

Extra attributes beyond OGB: ``canonical_rank`` (``Chem.CanonicalRankAtoms(mol, breakTies=True)``,
used by the DAG transform for a numbering-independent orientation) and ``smiles``.

One deliberate difference: RDKit's (and so OGB's) chiral tag says clockwise or anticlockwise
relative to the order in which the atom's bonds happen to be listed, which follows the SMILES
spelling; the same stereocentre written from another end can get the opposite tag. Here the
tag is given relative to the neighbours' canonical ranks instead, or, at a centre two of whose
neighbours are constitutionally equivalent (ring cis/trans pairs), by its CIP label
(:func:`_chiral_tags`), so the features do not depend on how a molecule is written. Where the
listed order already follows the ranks, the tag of a centre read in that order is OGB's.

The feature values are computed with lookup tables built from
``ogb.utils.features.allowable_features``; that tag apart, they are identical to
``ogb.utils.features.atom_to_feature_vector`` / ``bond_to_feature_vector`` (tested against OGB's
functions and OGB's raw graph files) but avoid ``list.index`` on every atom.

SMILES that current RDKit rejects but older releases (the 2019 one OGB used) accepted -- hypervalent
Al, B and Ge complexes in ogbg-molhiv and ogbg-moltox21 -- are recovered by parsing without
sanitisation and running every sanitisation step except the valence check (:func:`mol_from_smiles`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from ogb.utils.features import allowable_features
from rdkit import Chem, RDLogger
from rdkit.Chem import rdCIPLabeler
from torch_geometric.data import Data

__all__ = [
    "FEATURIZATION_VERSION",
    "NUM_ATOM_FEATURES",
    "NUM_BOND_FEATURES",
    "InvalidSmilesError",
    "featurize_mol",
    "mol_from_smiles",
    "smiles_to_data",
]

#: Bump when anything in this module changes the produced ``Data`` (it keys the processed-dataset
#: cache).
FEATURIZATION_VERSION = "ogb9x3-rank-v3"
NUM_ATOM_FEATURES = 9
NUM_BOND_FEATURES = 3

RDLogger.DisableLog("rdApp.*")


class InvalidSmilesError(ValueError):
    """A SMILES string that RDKit cannot turn into a molecule, even with partial sanitisation."""

    def __init__(self, smiles: str, reason: str = "", row: int | None = None):
        self.smiles = smiles
        self.row = row
        self.reason = reason
        where = f"row {row}: " if row is not None else ""
        msg = f"{where}cannot parse SMILES {smiles!r}"
        if reason:
            msg += f" ({reason})"
        super().__init__(msg)


def _table(values: Sequence) -> dict:
    """value -> index, with OGB's ``safe_index`` fallback (last index, 'misc') handled by the
    caller."""
    return {v: i for i, v in enumerate(values)}


_AF = allowable_features
_ATOMIC = _table(_AF["possible_atomic_num_list"])
_CHIRAL = _table(_AF["possible_chirality_list"])
_DEGREE = _table(_AF["possible_degree_list"])
_CHARGE = _table(_AF["possible_formal_charge_list"])
_NUMH = _table(_AF["possible_numH_list"])
_RADICAL = _table(_AF["possible_number_radical_e_list"])
_HYBRID = _table(_AF["possible_hybridization_list"])
_BTYPE = _table(_AF["possible_bond_type_list"])
_BSTEREO = _table(_AF["possible_bond_stereo_list"])

# Pre-resolve RDKit enum -> OGB index, so the hot loop does one dict lookup per feature.
_CHIRAL_ENUM = {
    v: _CHIRAL.get(str(v), len(_CHIRAL) - 1) for v in Chem.rdchem.ChiralType.values.values()
}
_HYBRID_ENUM = {
    v: _HYBRID.get(str(v), len(_HYBRID) - 1) for v in Chem.rdchem.HybridizationType.values.values()
}
_BTYPE_ENUM = {v: _BTYPE.get(str(v), len(_BTYPE) - 1) for v in Chem.rdchem.BondType.values.values()}
# OGB uses list.index (no 'misc') for stereo: an unknown value raises there; here too (KeyError).
_BSTEREO_ENUM = {
    v: _BSTEREO[str(v)] for v in Chem.rdchem.BondStereo.values.values() if str(v) in _BSTEREO
}
_MISC_ATOMIC = len(_ATOMIC) - 1
_MISC_DEGREE = len(_DEGREE) - 1
_MISC_CHARGE = len(_CHARGE) - 1
_MISC_NUMH = len(_NUMH) - 1
_MISC_RADICAL = len(_RADICAL) - 1

_PARTIAL_SANITIZE_OPS = Chem.SanitizeFlags.SANITIZE_ALL ^ Chem.SanitizeFlags.SANITIZE_PROPERTIES


def mol_from_smiles(smiles: str) -> Chem.Mol:
    """Parse ``smiles`` with RDKit; fall back to partial sanitisation for hypervalent complexes.

    The fallback parses with ``sanitize=False``, computes implicit valences without the strict check
    (``UpdatePropertyCache(strict=False)``) and then runs every other sanitisation step (ring
    finding, Kekulisation, aromaticity, conjugation, hybridisation). Raises
    :class:`InvalidSmilesError` (a ``ValueError``) naming the SMILES when even that fails.
    """
    if not isinstance(smiles, str) or not smiles.strip():
        raise InvalidSmilesError(str(smiles), "empty or not a string")
    mol = Chem.MolFromSmiles(smiles)
    if mol is not None:
        return mol
    mol = Chem.MolFromSmiles(smiles, sanitize=False)
    if mol is None:
        raise InvalidSmilesError(smiles, "RDKit cannot parse it, even without sanitisation")
    try:
        mol.UpdatePropertyCache(strict=False)
        Chem.SanitizeMol(mol, sanitizeOps=_PARTIAL_SANITIZE_OPS)
    except Exception as exc:  # noqa: BLE001 - RDKit raises several exception types
        raise InvalidSmilesError(smiles, f"partial sanitisation failed: {exc}") from exc
    return mol


_FLIPPED = {Chem.ChiralType.CHI_TETRAHEDRAL_CW: Chem.ChiralType.CHI_TETRAHEDRAL_CCW,
            Chem.ChiralType.CHI_TETRAHEDRAL_CCW: Chem.ChiralType.CHI_TETRAHEDRAL_CW}
_CIP_TAGS = {"R": Chem.ChiralType.CHI_TETRAHEDRAL_CW, "r": Chem.ChiralType.CHI_TETRAHEDRAL_CW,
             "S": Chem.ChiralType.CHI_TETRAHEDRAL_CCW, "s": Chem.ChiralType.CHI_TETRAHEDRAL_CCW}


def _ranked_chirality(atom: Chem.Atom, rank: Sequence[int]) -> Chem.ChiralType:
    """The atom's tetrahedral tag as if its bonds were listed by ascending canonical rank of the
    neighbour: an odd permutation between the listed and the ranked order mirrors the tag."""
    tag = atom.GetChiralTag()
    index = atom.GetIdx()
    ranks = [rank[bond.GetOtherAtomIdx(index)] for bond in atom.GetBonds()]
    inversions = sum(a > b for i, a in enumerate(ranks) for b in ranks[i + 1:])
    return _FLIPPED[tag] if inversions % 2 else tag


def _chiral_tags(mol: Chem.Mol, rank: Sequence[int]) -> list[Chem.ChiralType]:
    """Every atom's chiral tag, the same however the molecule is written.

    Where a centre's neighbours differ in constitution, the tag is read in their canonical-rank
    order (:func:`_ranked_chirality`). Where two of them do not -- a ring cis/trans pair as in
    1,4-disubstituted cyclohexanes, a pseudo-asymmetric centre as in tropanes or meso sugar
    alcohols -- only other stereocentres tell them apart, RDKit breaks that tie by the input
    order, and the ranked order can turn over with the spelling. Such a centre takes its CIP
    label instead (RDKit's new labeller, which gives these their r/s): R or r clockwise, S or s
    anticlockwise, unspecified where it has none (then it is no stereocentre)."""
    tags = [atom.GetChiralTag() for atom in mol.GetAtoms()]
    centres = [atom for atom in mol.GetAtoms() if atom.GetChiralTag() in _FLIPPED]
    if not centres:
        return tags
    constitution = Chem.CanonicalRankAtoms(mol, breakTies=False, includeChirality=False)
    labelled = None
    for atom in centres:
        classes = [constitution[neighbour.GetIdx()] for neighbour in atom.GetNeighbors()]
        if len(set(classes)) == len(classes):
            tags[atom.GetIdx()] = _ranked_chirality(atom, rank)
            continue
        if labelled is None:
            labelled = Chem.Mol(mol)
            rdCIPLabeler.AssignCIPLabels(labelled)
        code = labelled.GetAtomWithIdx(atom.GetIdx()).GetPropsAsDict().get("_CIPCode", "")
        tags[atom.GetIdx()] = _CIP_TAGS.get(code, Chem.ChiralType.CHI_UNSPECIFIED)
    return tags


def _atom_features(mol: Chem.Mol, rank: Sequence[int]) -> list[list[int]]:
    feats = []
    chiral_tags = _chiral_tags(mol, rank)
    get = mol.GetAtomWithIdx  # faster than iterating mol.GetAtoms()
    for i in range(mol.GetNumAtoms()):
        atom = get(i)
        feats.append(
            [
                _ATOMIC.get(atom.GetAtomicNum(), _MISC_ATOMIC),
                _CHIRAL_ENUM[chiral_tags[i]],
                _DEGREE.get(atom.GetTotalDegree(), _MISC_DEGREE),
                _CHARGE.get(atom.GetFormalCharge(), _MISC_CHARGE),
                _NUMH.get(atom.GetTotalNumHs(), _MISC_NUMH),
                _RADICAL.get(atom.GetNumRadicalElectrons(), _MISC_RADICAL),
                _HYBRID_ENUM[atom.GetHybridization()],
                int(atom.GetIsAromatic()),
                int(atom.IsInRing()),
            ]
        )
    return feats


def featurize_mol(mol: Chem.Mol) -> dict[str, np.ndarray]:
    """OGB graph dict (numpy int64): ``node_feat`` [N, 9], ``edge_index`` [2, 2B], ``edge_feat``
    [2B, 3], plus ``canonical_rank`` [N]. Edge order is OGB's: bond i gives columns 2i (u->v) and
    2i+1
    (v->u)."""
    rank = list(Chem.CanonicalRankAtoms(mol, breakTies=True))
    x = np.asarray(_atom_features(mol, rank), dtype=np.int64).reshape(-1, NUM_ATOM_FEATURES)
    nb = mol.GetNumBonds()
    pairs: list[tuple[int, int]] = []
    bfeats: list[tuple[int, int, int]] = []
    get = mol.GetBondWithIdx
    for k in range(nb):
        bond = get(k)
        u, v = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        f = (
            _BTYPE_ENUM[bond.GetBondType()],
            _BSTEREO_ENUM[bond.GetStereo()],
            int(bond.GetIsConjugated()),
        )
        pairs.append((u, v))
        pairs.append((v, u))
        bfeats.append(f)
        bfeats.append(f)
    ei = np.asarray(pairs, dtype=np.int64).reshape(-1, 2).T.copy()
    ea = np.asarray(bfeats, dtype=np.int64).reshape(-1, NUM_BOND_FEATURES)
    return {"node_feat": x, "edge_index": ei, "edge_feat": ea,
            "canonical_rank": np.asarray(rank, dtype=np.int64)}


def _labels_to_tensor(y) -> torch.Tensor:
    t = torch.tensor(np.asarray(y, dtype=np.float32))
    return t.reshape(1, -1)


def smiles_to_data(smiles: str, y=None) -> Data:
    """Featurise one SMILES into a PyG ``Data``.

    Attributes: ``x`` long [N, 9], ``edge_index`` long [2, 2B], ``edge_attr`` long [2B, 3],
    ``canonical_rank`` long [N], ``smiles`` (str) and, when ``y`` is given, ``y`` float [1,
    num_tasks] (NaN marks a missing label). Raises ``ValueError`` (:class:`InvalidSmilesError`)
    naming the SMILES if it cannot be parsed even after the partial-sanitisation fallback.
    """
    mol = mol_from_smiles(smiles)
    g = featurize_mol(mol)
    data = Data(
        x=torch.from_numpy(g["node_feat"]),
        edge_index=torch.from_numpy(g["edge_index"]),
        edge_attr=torch.from_numpy(g["edge_feat"]),
        canonical_rank=torch.from_numpy(g["canonical_rank"]),
        smiles=smiles,
        num_nodes=g["node_feat"].shape[0],
    )
    if y is not None:
        data.y = _labels_to_tensor(y)
    return data
