"""Molecular data for plstm-graph: featurisation, benchmark datasets (offline and online), splits.

Public API:

* :func:`load_dataset` -- OGB / MoleculeNet names, ``peptides-func``, TU sets (MUTAG, NCI1,
PROTEINS,
  PTC_FM) and CSV files, all with OGB's interface (``get_idx_split()``, ``num_tasks``,
  ``task_type``, ``eval_metric``, ``name``).
* :func:`smiles_to_data` -- one SMILES -> PyG ``Data`` with OGB's 9 atom / 3 bond features and
  ``canonical_rank``.
* :func:`evaluator_for` -- OGB's ``Evaluator`` for any loaded dataset.
* :func:`scaffold_split`, :func:`random_split`, :func:`tu_fold_split` -- the split algorithms.
* :func:`resolve_data_root` -- explicit dir > ``$PLSTM_DATA_DIR`` > ``<repo>/datasets``.
"""

from .api import known_dataset_names, load_dataset
from .evaluation import DatasetEvaluator, evaluator_for
from .featurize import FEATURIZATION_VERSION, InvalidSmilesError, mol_from_smiles, smiles_to_data
from .molecule_dataset import MoleculeDataset
from .paths import DATA_DIR_ENV, default_data_root, find_shared_data, resolve_data_root
from .splits import random_split, scaffold_split, tu_fold_split
from .tu import TUBenchmark

__all__ = [
    "DATA_DIR_ENV",
    "FEATURIZATION_VERSION",
    "DatasetEvaluator",
    "InvalidSmilesError",
    "MoleculeDataset",
    "TUBenchmark",
    "default_data_root",
    "evaluator_for",
    "find_shared_data",
    "known_dataset_names",
    "load_dataset",
    "mol_from_smiles",
    "random_split",
    "resolve_data_root",
    "scaffold_split",
    "smiles_to_data",
    "tu_fold_split",
]
