"""What a trained model predicts, and the optimiser settings: plain records that travel in
checkpoints (only built-in types, so checkpoints load with ``torch.load(weights_only=True)``)."""
from __future__ import annotations

from dataclasses import dataclass


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of the OGB metric ``metric`` is better (all but RMSE)."""
    return metric != "rmse"


@dataclass
class TaskInfo:
    """The prediction task of a dataset (OGB's metadata plus target scaling).

    Args:
        name: dataset name (OGB name where there is one).
        task_type: ``"binary classification"``, ``"regression"`` or
            ``"multiclass classification"``.
        eval_metric: ``"rocauc"``, ``"ap"``, ``"rmse"`` or ``"acc"``.
        num_tasks: number of label columns.
        num_classes: classes of a multi-class task (else ``None``).
        task_names: label column names, if known.
        target_mean, target_std: per-task standardisation of regression targets (training split).
        data_options: the :class:`~plstm_graph.models.PropertyDataModule` options that define
            the training data and its split (dataset name or CSV path, TU fold, CSV split and
            columns, ``on_invalid``); ``None`` in models saved before they were recorded.
    """

    name: str
    task_type: str
    eval_metric: str
    num_tasks: int
    num_classes: int | None = None
    task_names: list[str] | None = None
    target_mean: list[float] | None = None
    target_std: list[float] | None = None
    data_options: dict | None = None

    @property
    def is_regression(self) -> bool:
        return self.task_type == "regression"

    @property
    def is_multiclass(self) -> bool:
        return self.task_type == "multiclass classification"

    @property
    def out_channels(self) -> int:
        """Width of the network output: classes for multi-class tasks, else tasks."""
        return int(self.num_classes) if self.is_multiclass else self.num_tasks

    @property
    def higher_is_better(self) -> bool:
        return higher_is_better(self.eval_metric)


@dataclass
class OptimConfig:
    """AdamW with a linear warm-up and a cosine decay, stepped every optimiser step.

    Args:
        lr: peak learning rate.
        weight_decay: AdamW weight decay.
        warmup_epochs: epochs of linear warm-up from 0 to ``lr``.
        min_lr_ratio: final learning rate as a fraction of ``lr``.
    """

    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_epochs: float = 5.0
    min_lr_ratio: float = 0.0


@dataclass
class Featurization:
    """How inputs become graphs, so that a checkpoint can featurise new molecules the same way.

    Args:
        featurizer: :data:`plstm_graph.data.FEATURIZATION_VERSION` at training time.
        dag_order: node order of :class:`plstm_graph.transforms.LineDAG`.
    """

    featurizer: str
    dag_order: str = "canonical"
