"""How far the validation metric ranks a dataset's pLSTM trainings as the test metric
does."""
from __future__ import annotations

from collections import defaultdict

from .decisions import MIN_RUNS
from .rows import run_id

#: fewest pLSTM runs of a dataset, and configurations with :data:`MIN_RUNS` runs, that
#: :func:`validation_agreement` correlates
MIN_AGREEMENT_RUNS, MIN_CONFIGURATIONS = 10, 5


def validation_agreement(*groups: dict[tuple[str, str], list[dict]]) -> list[dict]:
    """Per dataset, how well the validation metric ranks the pLSTM runs of ``groups`` (each as
    :func:`report.rows.load_runs` gives it: the main runs, the ablations) by their test metric:
    Spearman's rank correlation (and its p-value) over the runs, each training counted once, and
    over the means of the configurations with at least :data:`MIN_RUNS` runs. A copied run
    (``copied_from``) repeats the training it was copied from (same dataset, seed, metrics and
    wall time) and counts in the configuration it was copied to.
    """
    from scipy.stats import spearmanr

    trainings = {}
    labelled = ((index, label, run) for index, group in enumerate(groups)
                for (_, label), runs in group.items() for run in runs)
    for index, label, run in labelled:
        if run["config"]["model"] != "plstm":
            continue
        identity = (run["dataset"], run_id(run), run["val_metric"], run["test_metric"],
                    run["wall_time_s"])
        if "copied_from" in run or identity not in trainings:
            trainings[identity] = ((index, label), run)
    by_dataset = defaultdict(lambda: defaultdict(list))
    for configuration, run in trainings.values():
        by_dataset[run["dataset"]][configuration].append((run["val_metric"], run["test_metric"]))
    rows = []
    for dataset, configurations in sorted(by_dataset.items()):
        pairs = [pair for runs in configurations.values() for pair in runs]
        if len(pairs) < MIN_AGREEMENT_RUNS:
            continue
        means = [tuple(sum(values) / len(runs) for values in zip(*runs))
                 for runs in configurations.values() if len(runs) >= MIN_RUNS]
        over_means = spearmanr(*zip(*means)) if len(means) >= MIN_CONFIGURATIONS else None
        rows.append({"dataset": dataset, "runs": len(pairs), "over_runs": spearmanr(*zip(*pairs)),
                     "configurations": len(means), "over_means": over_means})
    return rows


AGREEMENT_INTRO = ("Whether a higher validation metric goes with a higher test metric, over every "
                   "pLSTM training of a dataset (main runs and ablations, each training once, "
                   "copies in the configuration they were copied to): Spearman's rank "
                   "correlation ρ of the two and its p-value, over the runs and over the means "
                   f"of the configurations with at least {MIN_RUNS} runs (shown where there are "
                   f"{MIN_CONFIGURATIONS} or more). Where ρ is near zero, a configuration chosen "
                   "on validation, as the ablations choose, is not expected to score higher on "
                   "test (on the OGB datasets the scaffold split gives validation and test "
                   "molecules of other scaffolds than training and than each other; ogb#235). "
                   "On the TU datasets each run is a fold with its own validation and test "
                   "graphs, about a tenth of the dataset each.")


def agreement_table(rows: list[dict]) -> str:
    if not rows:
        return ""

    def rho(result) -> str:
        if result is None:
            return ""
        p = "p < 0.001" if result.pvalue < 0.001 else f"p = {result.pvalue:.3f}"
        return f"{result.statistic:+.2f} ({p})"

    lines = ["## How far validation predicts test", "", AGREEMENT_INTRO, "",
             "| dataset | pLSTM runs | ρ over runs | configurations | ρ over their means |",
             "|---|---:|---|---:|---|"]
    lines += [f"| {r['dataset']} | {r['runs']} | {rho(r['over_runs'])} | {r['configurations']} "
              f"| {rho(r['over_means'])} |" for r in rows]
    return "\n".join(lines + [""])
