"""The project README's headline table, the per-group tables of every row, and the
tables pairing the runs of today's featurisation with those of the one it replaced."""
from __future__ import annotations

from collections import defaultdict

from .datasets import ANCHORS, GROUPS, NOT_RUN_REASONS
from .featurization import FEATURIZATION_CHANGES
from .marks import marks_in
from .rows import direction, format_paired, gain, on_runs, paired


def published(mean: float, std: float | None) -> str:
    return f"{mean:.4f}" + (f" ± {std:.4f}" if std is not None else "")


#: the baseline each dataset's pLSTM row is set beside in the headline table (else ``gine``)
HEADLINE_BASELINES = {"ogbg-molhiv": "gine-vn"}
HEADLINE_INTRO = (
    "Test metric at the best validation epoch, mean ± std over the seeds (TU: folds) of "
    "today's configs, pLSTM beside the GINE baseline run by the same code at the same budget "
    "(the better mean in bold, also where the gap is within the std). The budgets (epochs "
    "column) are a 2-core CPU's, far below those of the published rows, which are there for "
    "context. "
    "`results/README.md` has everything behind this table: how each row was run, older "
    "defaults and featurisations, the ablations that chose the defaults on validation, and "
    "how far validation predicts test.")


def headline_table(rows: list[dict]) -> str:
    """The project README's table: per dataset, the unmarked ``plstm`` row beside its baseline
    (:data:`HEADLINE_BASELINES`) and the published anchors."""
    found = {(r["dataset"], r["model"]): r for r in rows}
    lines = [HEADLINE_INTRO, "", "![test metric per dataset](results/summary.png)", "",
             "| dataset | metric | pLSTM | GINE baseline | runs | epochs | published |",
             "|---|---|---|---|---|---:|---|"]
    for _, datasets in GROUPS:
        for dataset in datasets:
            plstm = found.get((dataset, "plstm"))
            if plstm is None:
                continue
            baseline = found.get((dataset, HEADLINE_BASELINES.get(dataset, "gine")))
            if baseline is None:
                cells, runs = [plstm["test"], "not run"], str(plstm["runs"])
            else:
                pair = (plstm, baseline)
                better = max(pair, key=lambda r: direction(r["metric"]) * r["test_mean"])
                cells = [f"**{r['test']}**" if r is better else r["test"] for r in pair]
                runs = f"{plstm['runs']} / {baseline['runs']}"
            anchors = "; ".join(f"{name} {published(mean, std)}"
                                for name, mean, std in ANCHORS.get(dataset, []))
            arrow = "↑" if direction(plstm["metric"]) > 0 else "↓"
            lines.append(f"| {dataset} | {plstm['metric']} {arrow} | {cells[0]} | {cells[1]} | "
                         f"{runs} | {plstm['epochs']} | {anchors} |")
    return "\n".join(lines) + "\n"


def tables(rows: list[dict]) -> str:
    lines = []
    by_dataset = defaultdict(list)
    for row in rows:
        by_dataset[row["dataset"]].append(row)
    for title, datasets in GROUPS:
        present = [d for d in datasets if d in by_dataset]
        if not present:
            continue
        lines += [f"## {title}", "",
                  "| dataset | model | metric | test | valid | runs (seeds/folds) | params | "
                  "epochs | wall hours | hardware |",
                  "|---|---|---|---|---|---|---:|---:|---:|---|"]
        for dataset in present:
            for r in by_dataset[dataset]:
                lines.append(
                    f"| {dataset} | {r['model']} | {r['metric']} | {r['test']} | {r['val']} | "
                    f"{r['runs']} ({', '.join(map(str, r['seeds']))}) | {r['params']:,} | "
                    f"{r['epochs']} | {r['hours']:.2f} | {r['hardware']} |")
            for name, mean, std in ANCHORS.get(dataset, []):
                lines.append(f"| {dataset} | *{name}* | | *{published(mean, std)}* | | "
                             "published | | | | |")
        lines.append("")
    missing = [d for _, ds in GROUPS for d in ds if d not in by_dataset]
    if missing:
        lines += ["## Not run yet", ""]
        lines += [f"- {d}: {NOT_RUN_REASONS.get(d, 'left for a later session.')}"
                  for d in missing] + [""]
    return "\n".join(lines)


FEATURIZATION_INTRO = ("Each row compares a dataset's main runs made again with today's "
                       "featurisation with the same model's runs made with the featurisation it "
                       "replaced (the row with its mark above: same config, seeds and epochs, "
                       "older code): the change of the validation mean in the metric's better "
                       "direction against the seed-to-seed spread, the seeds on which the new "
                       "runs score higher on validation, and the same two for test.")


def featurization_table(rows: list[dict]) -> str:
    """For every main row that has a row of the same model and adoption marks with one
    :data:`FEATURIZATION_CHANGES` mark, what the change did on the seeds both ran: validation
    and test, mean and seed by seed."""
    found = {(r["dataset"], r["model"]): r for r in rows}
    blocks = []
    for change in FEATURIZATION_CHANGES:
        lines = []
        for (dataset, label), old in sorted(found.items()):
            new = found.get((dataset, label.removesuffix(change.mark)))
            if marks_in(label, FEATURIZATION_CHANGES) != {change.mark} or new is None:
                continue
            shared = sorted(set(new["val_by_run"]) & set(old["val_by_run"]))
            new, old = on_runs(new, shared), on_runs(old, shared)
            val, test = paired(new, old, "val"), paired(new, old, "test")
            test_change = direction(new["metric"]) * (new["test_mean"] - old["test_mean"])
            lines.append(f"| {dataset} | {new['model']} | {new['metric']} | {gain(new, old)} | "
                         f"{format_paired(val)} | {test_change:+.4f} | {format_paired(test)} |")
        if lines:
            blocks += ["", f"## Today's featurisation against `{change.replaced}`", "",
                       f"{FEATURIZATION_INTRO} {change.note}", "",
                       "| dataset | model | metric | valid gain | valid, seed by seed | "
                       "test gain | test, seed by seed |", "|---|---|---|---|---|---|---|",
                       *lines, ""]
    return "\n".join(blocks)
