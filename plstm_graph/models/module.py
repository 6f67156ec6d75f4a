"""The ``LightningModule``: masked losses, OGB-Evaluator metrics, AdamW with warm-up + cosine."""
from __future__ import annotations

import inspect
import math
import warnings
from dataclasses import asdict

import torch
import torch.nn.functional as F
from lightning.pytorch import LightningModule
from torch import Tensor

from plstm_graph.data import evaluator_for
from plstm_graph.models.task import Featurization, OptimConfig, TaskInfo
from plstm_graph.nn.models import MODELS, num_parameters


def model_arguments(name: str, init_args: dict) -> dict:
    """Every constructor argument of model ``name`` (:data:`plstm_graph.nn.models.MODELS`):
    ``init_args`` over the defaults, so a saved model records the values it was built with even
    where a default changes later."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    defaults = {p.name: p.default for p in inspect.signature(MODELS[name]).parameters.values()
                if p.default is not inspect.Parameter.empty}
    return {**defaults, **init_args}


class PropertyPredictor(LightningModule):
    """Trains and evaluates a graph-property network on one task.

    Losses ignore missing (NaN) labels: BCE-with-logits for binary tasks, MSE on standardised
    targets for regression, cross-entropy for multi-class tasks. Validation and test metrics are
    OGB's ``Evaluator`` on the predictions of the whole split (gathered over processes), logged as
    ``val_<metric>`` / ``test_<metric>``. All constructor arguments are plain data, so the module
    can be rebuilt from its hyper-parameters alone.

    Args:
        model: short model name (``"plstm"``, ``"gine"``).
        model_args: keyword arguments of the model class, including the input/output widths.
        task: :class:`~plstm_graph.models.task.TaskInfo` fields.
        featurization: :class:`~plstm_graph.models.task.Featurization` fields.
        optim: :class:`~plstm_graph.models.task.OptimConfig` fields.
    """

    def __init__(self, model: str, model_args: dict, task: dict, featurization: dict,
                 optim: dict | None = None) -> None:
        super().__init__()
        model_args = model_arguments(model, model_args)
        self.save_hyperparameters()
        self.task = TaskInfo(**task)
        self.featurization = Featurization(**featurization)
        self.optim = OptimConfig(**(optim or {}))
        self.net = MODELS[model](**model_args)
        if self.task.is_regression:
            mean, std = self.task.target_mean, self.task.target_std
        else:
            mean, std = [0.0] * self.task.num_tasks, [1.0] * self.task.num_tasks
        self.register_buffer("target_mean", torch.tensor(mean), persistent=False)
        self.register_buffer("target_std", torch.tensor(std), persistent=False)
        self.evaluator = evaluator_for(self.task)
        self._outputs: list[tuple[Tensor, Tensor, Tensor]] = []

    @classmethod
    def from_parts(cls, model: str, model_args: dict, task: TaskInfo,
                   featurization: Featurization, optim: OptimConfig) -> PropertyPredictor:
        return cls(model, model_args, asdict(task), asdict(featurization), asdict(optim))

    @property
    def num_parameters(self) -> int:
        return num_parameters(self.net)

    def forward(self, batch) -> Tensor:
        """Raw network outputs (logits, or standardised values for regression)."""
        return self.net(batch)

    def scores(self, out: Tensor) -> Tensor:
        """Network outputs in the units the evaluator takes: de-standardised values for
        regression, logits for classification (rank metrics need no sigmoid, which would tie
        saturated scores)."""
        if self.task.is_regression:
            return out * self.target_std + self.target_mean
        return out

    def predict_batch(self, batch) -> Tensor:
        """Predictions in the task's units: probabilities for classification (per task, or per
        class for multi-class tasks), de-standardised values for regression."""
        out = self.scores(self(batch))
        if self.task.is_multiclass:
            return out.softmax(-1)
        return out if self.task.is_regression else out.sigmoid()

    # ------------------------------------------------------------------------------ loss
    def _targets(self, batch) -> Tensor:
        if self.task.is_multiclass:
            return batch.y.view(-1).long()
        return batch.y.view(-1, self.task.num_tasks).float()

    def loss(self, out: Tensor, y: Tensor) -> Tensor:
        """Loss over the labelled entries only."""
        if self.task.is_multiclass:
            return F.cross_entropy(out, y)
        labelled = ~torch.isnan(y)
        if not labelled.any():  # a batch without labels contributes nothing (not NaN)
            return out.sum() * 0.0
        if self.task.is_regression:
            target = (y - self.target_mean) / self.target_std
            return F.mse_loss(out[labelled], target[labelled])
        return F.binary_cross_entropy_with_logits(out[labelled], y[labelled])

    def training_step(self, batch, batch_idx: int) -> Tensor:
        loss = self.loss(self(batch), self._targets(batch))
        self.log("train_loss", loss, batch_size=batch.num_graphs, on_step=False, on_epoch=True,
                 prog_bar=True, sync_dist=True)
        return loss

    # ------------------------------------------------------------------------------ evaluation
    def _eval_step(self, batch, stage: str) -> None:
        out = self(batch)
        y = self._targets(batch)
        self.log(f"{stage}_loss", self.loss(out, y), batch_size=batch.num_graphs,
                 on_step=False, on_epoch=True, sync_dist=True)
        self._outputs.append((batch.sample_id.view(-1), self.scores(out).detach(), y.detach()))

    def validation_step(self, batch, batch_idx: int) -> None:
        self._eval_step(batch, "val")

    def test_step(self, batch, batch_idx: int) -> None:
        self._eval_step(batch, "test")

    def _gathered_outputs(self) -> tuple[Tensor, Tensor]:
        ids, pred, y = (torch.cat(t) for t in zip(*self._outputs))
        self._outputs.clear()
        if self.trainer.world_size > 1:
            ids, pred, y = (self.all_gather(t).flatten(0, 1) for t in (ids, pred, y))
        # distributed samplers pad splits with repeats: keep one row per sample
        ids, inverse = torch.unique(ids, return_inverse=True)
        first = torch.full_like(ids, inverse.numel()).scatter_reduce(
            0, inverse, torch.arange(inverse.numel(), device=ids.device), "amin")
        return pred[first], y[first]

    def evaluate(self, pred: Tensor, y: Tensor) -> float:
        """OGB ``Evaluator`` score of :meth:`scores` ``pred`` against targets ``y``.

        As in OGB, ROC-AUC / AP skip tasks without both classes among the labelled entries.
        When every task is skipped (or no entry is labelled) the score is undefined: this
        returns NaN with a warning instead of raising (a validation metric of NaN never counts
        as the best checkpoint)."""
        if self.task.is_multiclass:
            pred, y = pred.argmax(-1, keepdim=True), y.view(-1, 1)
        try:
            result = self.evaluator.eval({"y_true": y.float().cpu().numpy(),
                                          "y_pred": pred.float().cpu().numpy()})
        except RuntimeError as exc:  # OGB: "No positively labeled data available. ..."
            if "labeled data" not in str(exc):
                raise
            warnings.warn(f"{self.task.eval_metric} is undefined on these {len(y)} graphs "
                          f"({exc}); it is reported as NaN", stacklevel=2)
            return float("nan")
        return float(result[self.task.eval_metric])

    def _log_metric(self, stage: str) -> None:
        if not self._outputs or self.trainer.sanity_checking:
            self._outputs.clear()
            return
        score = self.evaluate(*self._gathered_outputs())
        self.log(f"{stage}_{self.task.eval_metric}", score, prog_bar=True, sync_dist=True)

    def on_validation_epoch_end(self) -> None:
        self._log_metric("val")

    def on_test_epoch_end(self) -> None:
        self._log_metric("test")

    def predict_step(self, batch, batch_idx: int) -> Tensor:
        return self.predict_batch(batch)

    # ------------------------------------------------------------------------------ optimiser
    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.optim.lr,
                                weight_decay=self.optim.weight_decay)
        total = self.trainer.estimated_stepping_batches
        warmup = min(int(self.optim.warmup_epochs * optimizer_steps_per_epoch(self.trainer)),
                     total)
        schedule = warmup_cosine(warmup, total, self.optim.min_lr_ratio)
        scheduler = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def optimizer_steps_per_epoch(trainer) -> int:
    """Optimiser steps in one epoch of ``trainer``'s training data (per process): its batches
    over ``accumulate_grad_batches``, rounded up as Lightning steps on an epoch's last batch."""
    if trainer.train_dataloader is None:  # as Trainer.estimated_stepping_batches loads it
        trainer.fit_loop.setup_data()
    batches = trainer.num_training_batches
    if not math.isfinite(batches):
        raise ValueError("warm-up is given in epochs, which needs a training dataloader with a "
                         "length")
    return math.ceil(batches / trainer.accumulate_grad_batches)


def warmup_cosine(warmup_steps: int, total_steps: float, min_ratio: float = 0.0):
    """Learning-rate factor: linear warm-up over ``warmup_steps``, then cosine decay to
    ``min_ratio`` at ``total_steps`` (constant after warm-up when ``total_steps`` is infinite)."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        if not math.isfinite(total_steps):
            return 1.0
        progress = min((step - warmup_steps) / max(total_steps - warmup_steps, 1), 1.0)
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return factor
