"""OGB ``Evaluator`` for every dataset: the real one for OGB names, OGB's metric code for the
rest."""

from __future__ import annotations

from ogb.graphproppred import Evaluator

__all__ = ["DatasetEvaluator", "evaluator_for"]


class DatasetEvaluator(Evaluator):
    """OGB's graph-property ``Evaluator`` (``.eval({"y_true", "y_pred"})``,
    ``expected_input_format``) for a dataset OGB's ``master.csv`` does not list: only the name
    lookup is replaced, the metric code
    (rocauc / ap / rmse / acc) is OGB's."""

    def __init__(self, name: str, num_tasks: int, eval_metric: str):  # noqa: D107 - no super().__init__
        if eval_metric not in ("rocauc", "ap", "rmse", "acc"):
            raise ValueError(f"unsupported eval_metric {eval_metric!r}")
        self.name = name
        self.num_tasks = int(num_tasks)
        self.eval_metric = eval_metric


def evaluator_for(dataset) -> Evaluator:
    """An evaluator for a dataset returned by :func:`plstm_graph.data.load_dataset` (or any object
    with ``name``, ``num_tasks`` and ``eval_metric``). For OGB names this is
    ``ogb.graphproppred.Evaluator(name)``."""
    from .ogb_datasets import _master

    name = getattr(dataset, "name", "")
    if name in _master().columns:
        ev = Evaluator(name)
        if ev.eval_metric != dataset.eval_metric or ev.num_tasks != dataset.num_tasks:
            raise ValueError(f"{name}: dataset metadata disagrees with OGB's Evaluator")
        return ev
    return DatasetEvaluator(name, dataset.num_tasks, dataset.eval_metric)
