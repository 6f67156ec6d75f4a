"""Run files to table rows (mean ± std per dataset and label), and how two rows compare
on validation: overall against the spread, and seed by seed."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from plstm_graph.cli.results import format_mean_std, mean_std
from plstm_graph.models.task import higher_is_better

from .marks import run_label

#: the run files of a model folder (not its per-model summary.json)
RUN_FILES = "*seed*.json"


def load_runs(folder: Path) -> dict[tuple[str, str], list[dict]]:
    runs = defaultdict(list)
    for path in sorted(folder.rglob(RUN_FILES)):
        run = json.loads(path.read_text())
        runs[run["dataset"], run_label(run)].append(run)
    return runs


def run_id(run: dict) -> int:
    """The run's seed, or its fold for a TU run (one seed over ten folds)."""
    return run["seed"] if run.get("fold") is None else run["fold"]


def direction(metric: str) -> int:
    """1 where a higher ``metric`` is better, -1 where a lower one is."""
    return 1 if higher_is_better(metric) else -1


def paired(row: dict, reference: dict, split: str = "val") -> dict[str, list[int]]:
    """Seeds (or folds) that both rows ran, split into those where ``row`` scores better than
    ``reference`` on ``split`` ("val" or "test"), worse, or the same to four decimals."""
    mine, theirs = row[f"{split}_by_run"], reference[f"{split}_by_run"]
    sign = direction(row["metric"])
    outcome = {"better": [], "worse": [], "tied": []}
    for run in sorted(set(mine) & set(theirs)):
        gap = sign * (round(mine[run], 4) - round(theirs[run], 4))
        outcome["better" if gap > 0 else "worse" if gap < 0 else "tied"].append(run)
    return outcome


def format_paired(outcome: dict[str, list[int]]) -> str:
    """``better on 0, 2; worse on 1`` (the parts with seeds only)."""
    return "; ".join(f"{word} on {', '.join(map(str, runs))}"
                     for word, runs in outcome.items() if runs)


MORE, WITHIN, BELOW = "more than the spread", "within the spread", "below by more than the spread"
ONE_RUN_EACH = "one run each, no spread to judge it by"


def comparison(row: dict, reference: dict) -> tuple[float, float | None, str]:
    """How far ``row``'s validation mean is above ``reference``'s in the metric's better
    direction, the seed-to-seed spread (the larger of the two validation stds) and the verdict:
    :data:`MORE`, :data:`WITHIN` or :data:`BELOW`; with one run in each row there is no spread
    (None) and the verdict is :data:`ONE_RUN_EACH`."""
    change = direction(row["metric"]) * (row["val_mean"] - reference["val_mean"])
    if row["runs"] < 2 and reference["runs"] < 2:
        return change, None, ONE_RUN_EACH
    spread = max(row["val_std"], reference["val_std"])
    verdict = MORE if change > spread else WITHIN if change > -spread else BELOW
    return change, spread, verdict


def gain(row: dict, reference: dict) -> str:
    """:func:`comparison` as the ablation table's cell."""
    change, spread, verdict = comparison(row, reference)
    return f"{change:+.4f}, {verdict}" + (f" ({spread:.4f})" if spread is not None else "")


def metric_fields(val_by_run: dict[int, float], test_by_run: dict[int, float]) -> dict:
    """A row's runs, seeds and metrics, from its validation and test metric per seed (or fold)."""
    test_mean, test_std = mean_std(list(test_by_run.values()))
    val_mean, val_std = mean_std(list(val_by_run.values()))
    return {"runs": len(val_by_run), "seeds": sorted(val_by_run),
            "val_by_run": val_by_run, "test_by_run": test_by_run,
            "test": format_mean_std(test_mean, test_std, len(test_by_run)),
            "val": format_mean_std(val_mean, val_std, len(val_by_run)),
            "test_mean": test_mean, "val_mean": val_mean, "test_std": test_std,
            "val_std": val_std}


def on_runs(row: dict, ids) -> dict:
    """``row`` with its runs restricted to the seeds (or folds) ``ids``."""
    return {**row, **metric_fields({i: row["val_by_run"][i] for i in ids},
                                   {i: row["test_by_run"][i] for i in ids})}


def summary_rows(runs) -> list[dict]:
    rows = []
    for (dataset, model), items in sorted(runs.items()):
        rows.append({
            "dataset": dataset, "model": model,
            **metric_fields({run_id(r): r["val_metric"] for r in items},
                            {run_id(r): r["test_metric"] for r in items}),
            "metric": items[0]["metric"],
            "params": items[0]["params"],
            "epochs": max(r["epochs"] for r in items),
            "hours": sum(r["wall_time_s"] for r in items) / 3600,
            "hardware": items[0]["hardware"],
        })
    return rows


def budget(row: dict) -> tuple[str, int]:
    """The dataset and number of epochs of a row: a variant compares only with a default of
    the same budget."""
    return row["dataset"], row["epochs"]
