"""Run records: the results JSON of one run, the multi-seed summary and learning-curve plots."""
from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from plstm_graph.files import atomic_write

#: Keys every results JSON carries (consumed by the results table).
RESULT_KEYS = ("dataset", "model", "seed", "metric", "val_metric", "test_metric", "params",
               "featurizer", "config", "commit", "epochs", "wall_time_s", "hardware")


def git_commit() -> str:
    """The checkout's ``git rev-parse HEAD`` (``"unknown"`` outside a git checkout)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parent, timeout=10, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def hardware(accelerator: str, devices, num_nodes: int) -> str:
    """A one-line description of where a run ran."""
    parts = [f"{platform.machine()}", f"{os.cpu_count()} CPU cores"]
    if torch.cuda.is_available() and accelerator in ("gpu", "cuda", "auto"):
        parts.append(f"GPU {torch.cuda.get_device_name(0)}")
    parts.append(f"accelerator={accelerator} devices={devices} num_nodes={num_nodes}")
    parts.append(f"torch {torch.__version__}")
    return ", ".join(parts)


def write_json(path: str | os.PathLike, record: dict) -> Path:
    """Writes ``record`` as indented JSON, atomically."""
    text = json.dumps(record, indent=2, default=str) + "\n"
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def mean_std(values) -> tuple[float, float]:
    """Mean and unbiased standard deviation (``ddof=1``; 0 for a single value) of ``values``."""
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1 if values.size > 1 else 0))


def summarize(records: list[dict]) -> dict:
    """OGB-style summary over seeds: :func:`mean_std` of val and test."""
    val_mean, val_std = mean_std([r["val_metric"] for r in records])
    test_mean, test_std = mean_std([r["test_metric"] for r in records])
    first = records[0]
    return {
        "dataset": first["dataset"], "model": first["model"], "metric": first["metric"],
        "seeds": [r["seed"] for r in records], "params": first["params"],
        "val_mean": val_mean, "val_std": val_std, "test_mean": test_mean, "test_std": test_std,
        "commit": first["commit"],
    }


def format_mean_std(mean: float, std: float, runs: int) -> str:
    """``mean ± std`` to four decimals (the mean alone for one run)."""
    return f"{mean:.4f}" if runs == 1 else f"{mean:.4f} ± {std:.4f}"


def format_summary(summary: dict) -> str:
    n = len(summary["seeds"])
    return (f"{summary['dataset']} {summary['model']} ({n} seeds): "
            f"test {summary['metric']} "
            f"{format_mean_std(summary['test_mean'], summary['test_std'], n)}, "
            f"val {format_mean_std(summary['val_mean'], summary['val_std'], n)}")


def epoch_history(metrics_csv: str | os.PathLike) -> pd.DataFrame:
    """Per-epoch rows (``epoch`` index) of a Lightning ``CSVLogger`` ``metrics.csv``."""
    frame = pd.read_csv(metrics_csv)
    frame = frame[frame["epoch"].notna()]
    return frame.groupby("epoch").first()


def plot_curves(history: pd.DataFrame, metric: str, path: str | os.PathLike,
                title: str = "") -> Path:
    """Saves a PNG with the training/validation losses and the validation metric per epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_metric) = plt.subplots(1, 2, figsize=(10, 4))
    for column in ("train_loss", "val_loss"):
        if column in history:
            series = history[column].dropna()
            ax_loss.plot(series.index, series.values, label=column)
    ax_loss.set(xlabel="epoch", ylabel="loss", yscale="log")
    ax_loss.legend()
    column = f"val_{metric}"
    if column in history:
        series = history[column].dropna()
        ax_metric.plot(series.index, series.values, label=column, color="C2")
        ax_metric.legend()
    ax_metric.set(xlabel="epoch", ylabel=metric)
    fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png"))
    plt.close(fig)
    return path
