"""The bar chart of the test metric per dataset and model."""
from __future__ import annotations

import math
from pathlib import Path

from plstm_graph.models.task import higher_is_better

from .marks import marks_in


def plot(rows: list[dict], path: Path) -> None:
    """Bars of the test metric per dataset and model (mean ± std) of today's configurations
    (the rows without marks: the older defaults' rows are in the tables only), one panel for
    the metrics where higher is better and one for RMSE."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    rows = [r for r in rows if not marks_in(r["model"])]
    models = sorted({r["model"] for r in rows})
    colours = dict(zip(models, plt.get_cmap("tab10").colors))
    panels = [(title, [r for r in rows if higher_is_better(r["metric"]) == higher])
              for title, higher in (("ROC-AUC / AP / accuracy (higher is better)", True),
                                    ("RMSE (lower is better)", False))]
    panels = [(title, group) for title, group in panels if group]
    # a panel of one dataset is as wide as two, so that its title fits
    sizes = [max(2, len({r["dataset"] for r in group})) for _, group in panels]
    fig, axes = plt.subplots(1, len(panels), figsize=(max(6, 1.1 * sum(sizes) + 2), 4),
                             width_ratios=sizes, squeeze=False)
    for ax, (title, group) in zip(axes[0], panels):
        datasets = sorted({r["dataset"] for r in group})
        by_dataset = {d: [r for m in models for r in group if r["dataset"] == d
                          and r["model"] == m] for d in datasets}
        width = 0.8 / max(map(len, by_dataset.values()))
        for j, dataset in enumerate(datasets):  # the bars of a dataset centred on its tick
            present = by_dataset[dataset]
            for i, row in enumerate(present):
                ax.bar(j + (i - (len(present) - 1) / 2) * width, row["test_mean"], width,
                       yerr=row["test_std"], capsize=3, color=colours[row["model"]])
        ax.set_xticks(range(len(datasets)), datasets, rotation=30, ha="right")
        if higher_is_better(group[0]["metric"]):  # from just below the lowest bar, not from 0
            low = min(r["test_mean"] - r["test_std"] for r in group)
            ax.set_ylim(bottom=max(0.0, math.floor(10 * low - 0.5) / 10))
        ax.set_title(title)
        ax.set_ylabel("test metric")
    # one legend for both panels: a panel lacks the models with no runs on its datasets
    fig.legend(handles=[Patch(color=colours[m], label=m) for m in models], loc="upper center",
               ncol=len(models), frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    fig.savefig(path, dpi=120)
