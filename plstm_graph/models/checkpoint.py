"""Compact model files (``.pt``): hyper-parameters + weights, loadable with
``torch.load(weights_only=True)``; and loading of both those and Lightning ``.ckpt`` files."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch

from plstm_graph.data import FEATURIZATION_VERSION
from plstm_graph.files import atomic_write
from plstm_graph.models.module import PropertyPredictor

FORMAT = "plstm-graph-model"
FORMAT_VERSION = 1


def _plain(value):
    """Hyper-parameters as built-in containers (Lightning's ``AttributeDict`` is a subclass)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def save_compact(module: PropertyPredictor, path: str | os.PathLike) -> Path:
    """Writes the compact model file: format tag and version, the module's hyper-parameters
    (model name and arguments, task, featurisation, optimiser) and the network weights."""
    payload = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "hparams": _plain(dict(module.hparams)),
        "state_dict": {k: v.detach().cpu() for k, v in module.state_dict().items()},
    }
    return atomic_write(path, lambda tmp: torch.save(payload, tmp))


#: model arguments whose default has changed, with the value that model files which do not
#: record them (saved before the argument existed) were built with
FORMER_DEFAULTS = {"plstm": {"readout_norm": False}}


def _read(path: Path, map_location) -> tuple[dict, dict]:
    """The hyper-parameters and weights of a compact model file or a Lightning checkpoint."""
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # pickle / zip errors: not a model file
        raise ValueError(f"{str(path)!r} is not a plstm-graph model file ({exc})") from exc
    if not isinstance(payload, dict):
        raise ValueError(f"{str(path)!r} is not a plstm-graph model file")
    if path.suffix == ".ckpt":
        hparams = payload.get("hyper_parameters")
        if not isinstance(hparams, dict) or "model_args" not in hparams or \
                "state_dict" not in payload:
            raise ValueError(f"{str(path)!r} is not a Lightning checkpoint of plstm-graph")
        return hparams, payload["state_dict"]
    if payload.get("format") != FORMAT:
        raise ValueError(f"{str(path)!r} is not a plstm-graph model file")
    if payload.get("version") != FORMAT_VERSION:
        raise ValueError(f"{str(path)!r} has model-file version {payload.get('version')!r}; "
                         f"this plstm-graph reads version {FORMAT_VERSION}")
    return payload["hparams"], payload["state_dict"]


def load_module(path: str | os.PathLike, map_location: str | torch.device = "cpu"
                ) -> PropertyPredictor:
    """Loads a compact ``.pt`` model file or a Lightning ``.ckpt`` checkpoint (in eval mode).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is not a plstm-graph model or has an incompatible version.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file {str(path)!r} does not exist")
    hparams, state_dict = _read(path, map_location)
    former = FORMER_DEFAULTS.get(hparams["model"], {})
    module = PropertyPredictor(**{**hparams, "model_args": {**former, **hparams["model_args"]}})
    try:
        module.load_state_dict(state_dict)
    except RuntimeError as exc:
        raise ValueError(f"{str(path)!r}: weights do not match the stored model "
                         f"configuration ({exc})") from exc
    if module.featurization.featurizer != FEATURIZATION_VERSION:
        warnings.warn(f"{str(path)!r} was trained with featuriser "
                      f"{module.featurization.featurizer!r}, this installation has "
                      f"{FEATURIZATION_VERSION!r}; predictions may be off", stacklevel=2)
    return module.eval()
