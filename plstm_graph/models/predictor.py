"""The Python prediction API: ``load_model(path).predict(list_of_smiles)``."""
from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

import numpy as np
import torch
from torch_geometric.loader import DataLoader

from plstm_graph.data import smiles_to_data
from plstm_graph.models.checkpoint import load_module
from plstm_graph.models.module import PropertyPredictor
from plstm_graph.nn.models.base import OGB_ATOM
from plstm_graph.transforms import LineDAG


class MoleculePredictor:
    """A trained model that featurises SMILES exactly as at training time and predicts.

    Args:
        module: the trained :class:`~plstm_graph.models.PropertyPredictor`.
        device: where to run the model. (default: ``"cpu"``)
    """

    def __init__(self, module: PropertyPredictor, device: str | torch.device = "cpu") -> None:
        if module.hparams.model_args.get("in_channels") != OGB_ATOM:
            raise ValueError(f"this model was trained on {module.task.name!r}, whose graphs are "
                             "not SMILES-featurised molecules; it cannot predict from SMILES")
        self.module = module.to(device).eval()
        self.device = torch.device(device)
        self.transform = LineDAG(module.featurization.dag_order)

    @property
    def task(self):
        """The :class:`~plstm_graph.models.task.TaskInfo` (names, type, metric)."""
        return self.module.task

    @property
    def output_names(self) -> list[str]:
        """One name per output column."""
        task = self.task
        if task.is_multiclass:
            return [f"class_{c}" for c in range(task.out_channels)]
        return task.task_names or [f"task_{t}" for t in range(task.num_tasks)]

    def featurize(self, smiles: Sequence[str]) -> tuple[list, dict[int, str]]:
        """Graphs of the parsable SMILES and ``{position: reason}`` for the others."""
        graphs, failed = [], {}
        for i, s in enumerate(smiles):
            try:
                data = smiles_to_data(str(s))
            except ValueError as exc:
                failed[i] = str(exc)
                continue
            data.position = torch.tensor([i])
            graphs.append(data)
        return self.transform.transform_many(graphs) if graphs else [], failed

    @torch.no_grad()
    def predict(self, smiles: Sequence[str], batch_size: int = 256,
                return_failures: bool = False):
        """Predicts ``[len(smiles), outputs]`` (probabilities for classification, values in the
        training units for regression). Rows of SMILES that cannot be parsed are NaN, with a
        warning naming them (and ``{row: reason}`` returned too if ``return_failures``)."""
        if isinstance(smiles, str):
            raise TypeError("predict() takes a list of SMILES, not one string")
        graphs, failed = self.featurize(smiles)
        out = np.full((len(smiles), len(self.output_names)), np.nan, dtype=np.float32)
        for batch in DataLoader(graphs, batch_size=batch_size):
            pred = self.module.predict_batch(batch.to(self.device))
            out[batch.position.cpu().numpy()] = pred.float().cpu().numpy()
        if failed:
            rows = ", ".join(f"{i} ({smiles[i]!r})" for i in list(failed)[:10])
            more = ", ..." if len(failed) > 10 else ""
            warnings.warn(f"{len(failed)} SMILES could not be parsed; their rows are NaN: "
                          f"{rows}{more}", stacklevel=2)
        return (out, failed) if return_failures else out


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> MoleculePredictor:
    """Loads a trained model (compact ``.pt`` or Lightning ``.ckpt``) for prediction.

    Example:
        >>> model = plstm_graph.load_model("runs/.../best.pt")
        >>> model.predict(["CCO", "c1ccccc1"])  # numpy array [2, num_tasks]
    """
    return MoleculePredictor(load_module(path, map_location=device), device=device)
