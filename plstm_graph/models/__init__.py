"""Training and inference on Lightning: module, data module, checkpoints, prediction API."""
from plstm_graph.models.checkpoint import load_module, save_compact
from plstm_graph.models.datamodule import PropertyDataModule
from plstm_graph.models.module import PropertyPredictor
from plstm_graph.models.predictor import MoleculePredictor, load_model
from plstm_graph.models.task import Featurization, OptimConfig, TaskInfo

__all__ = [
    "Featurization",
    "MoleculePredictor",
    "OptimConfig",
    "PropertyDataModule",
    "PropertyPredictor",
    "TaskInfo",
    "load_model",
    "load_module",
    "save_compact",
]
