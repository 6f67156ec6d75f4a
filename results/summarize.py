"""Regenerates ``results/README.md`` and ``results/summary.png`` from the run JSON files.

    python results/summarize.py [--runs results/runs] [--out results]

Each run file (written by ``train.py``) holds one seed (or one TU fold) of one model on one dataset:
``dataset``, ``model``, ``seed``, ``metric``, ``val_metric``, ``test_metric`` (at the best
validation epoch), ``params``, ``epochs``, ``wall_time_s``, ``hardware``, ``commit``, ``config``.
Tables give the OGB-style mean ± unbiased standard deviation over runs, beside published anchors
(``shared/docs/ANCHORS.md``, ``PLSTM_SPEC.md`` §3) that were obtained with other budgets.
"""
from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from plstm_graph.cli.results import format_mean_std, mean_std
from plstm_graph.models.task import higher_is_better
from plstm_graph.nn.models import MODELS as MODEL_SECTIONS

HERE = Path(__file__).resolve().parent

# Published test numbers (mean, std) for context, in the metric OGB scores the dataset by; None
# where no std is published. ogbg-molmuv has none: OGB scores it by AP, and the published GIN
# rows (TorchDrug, Hu et al. 2020) give ROC-AUC.
ANCHORS = {
    "ogbg-molhiv": [("GIN + virtual node (OGB)", 0.7707, 0.0149),
                    ("GatedGCN+ (Luo et al. 2025)", 0.8040, 0.0164)],
    "ogbg-molpcba": [("GIN + virtual node (OGB)", 0.2703, 0.0023)],
    "ogbg-molbbbp": [("GIN, no pretrain (TorchDrug)", 0.671, 0.029)],
    "ogbg-molbace": [("GIN, no pretrain (TorchDrug)", 0.665, 0.090)],
    "ogbg-molclintox": [("GIN, no pretrain (TorchDrug)", 0.608, 0.039)],
    "ogbg-molsider": [("GIN, no pretrain (TorchDrug)", 0.589, 0.008)],
    "ogbg-moltox21": [("GIN, no pretrain (TorchDrug)", 0.750, 0.002)],
    "ogbg-moltoxcast": [("GIN, no pretrain (TorchDrug)", 0.606, 0.007)],
    "MUTAG": [("pLSTM (paper)", 0.8512, 0.06), ("GIN (paper)", 0.8251, 0.10)],
    "NCI1": [("pLSTM (paper)", 0.7324, 0.03), ("GIN (paper)", 0.8175, 0.02)],
    "PROTEINS": [("pLSTM (paper)", 0.7502, 0.05), ("GIN (paper)", 0.7350, 0.04)],
    "PTC_FM": [("pLSTM (paper)", 0.6133, 0.08), ("GIN (paper)", 0.6097, 0.10)],
    "peptides-func": [("pLSTM (paper)", 0.536, None), ("GIN (paper)", 0.593, None)],
}
GROUPS = [
    ("OGB", ["ogbg-molhiv", "ogbg-molpcba"]),
    ("MoleculeNet (OGB scaffold splits)",
     ["ogbg-molbbbp", "ogbg-molbace", "ogbg-molclintox", "ogbg-molsider", "ogbg-moltox21",
      "ogbg-moltoxcast", "ogbg-molmuv", "ogbg-molesol", "ogbg-molfreesolv", "ogbg-mollipo"]),
    ("TU (pLSTM paper protocol: 10-fold, 8/1/1, seed 42)", ["MUTAG", "NCI1", "PROTEINS", "PTC_FM"]),
    ("Long range (LRGB)", ["peptides-func"]),
]


ADOPTED = " (now the default)"
#: the datasets whose configs chose sum pooling on validation (the `pool-sum` decision)
SUM_POOLED = ("ogbg-molbbbp", "ogbg-molbace", "ogbg-molesol", "ogbg-mollipo", "NCI1",
              "PROTEINS")
SUM_POOLED_NAMES = f"{', '.join(SUM_POOLED[:-1])} and {SUM_POOLED[-1]}"


def run_label(run: dict) -> str:
    """The run's model (or ablation variant) name, with the mark of every adopted option
    (:data:`ADOPTIONS`) whose replaced value the run's config still has on its dataset, and of
    every featurisation change (:data:`FEATURIZATION_CHANGES`) the run predates:
    ``plstm (no readout BN)``, ``default (mean pooling)``, ``gine (lr 1e-3) (v1 chiral tags)``."""
    return run["model"] + "".join(m.mark for m in MARKS if m.replaced_in(run))


def marks_in(label: str, among: tuple | None = None) -> frozenset[str]:
    """The marks of ``among`` (all :data:`MARKS` where None) that a row's label carries."""
    return frozenset(m.mark for m in (MARKS if among is None else among) if m.mark in label)


def unmarked(label: str) -> str:
    """The label without its marks and without :data:`ADOPTED`: the model or variant name."""
    for mark in (*marks_in(label), ADOPTED):
        label = label.replace(mark, "")
    return label


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


#: the datasets whose graphs ``ogb9x3-rank-v3`` changed, with the number of molecules: those with
#: a stereocentre two of whose neighbours are constitutionally equivalent, whose tag, now its CIP
#: label, differs from the one read in canonical-rank order (the test checks this on the data)
CIS_TRANS_CHANGED = {"ogbg-molclintox": 4, "ogbg-mollipo": 45, "ogbg-moltox21": 17,
                     "ogbg-moltoxcast": 22}
CIS_TRANS_DATASETS = tuple(CIS_TRANS_CHANGED)

#: the paragraphs above the tables; the one on the :data:`LONGER_BUDGET` dataset ends with
#: :func:`longer_budget_note`
INTRO = (
    "Generated by `python results/summarize.py` from the run files in `results/runs/` (one "
    "JSON per seed or fold). Test metric at the best validation epoch; mean ± unbiased std "
    "over the runs listed. Published anchors were trained with other budgets and are given "
    "for context only. The MoleculeNet runs come from `bash results/run_moleculenet.sh` "
    "(the same budget for both models on a dataset: the epochs column, seeds 0-2, one CPU "
    "thread, the configs in `configs/`; sider also seeds 3-9 of both models, pLSTM's run to "
    "settle its learning-rate ablation and GINE's to match them); nothing was tuned on test. "
    "On sider over the ten seeds pLSTM leads on validation (within the spread) and trails "
    "GINE on test by more than the spread: its validation does not carry over there (last "
    "section). ogbg-molmuv runs at 10 "
    "epochs (a GINE epoch takes about 10 min on one thread). Where a dataset has one model "
    "only, or fewer runs of one model than of the other (runs column), the rest is still "
    "running or was cut short by the session's time.",
    "**Defaults chosen by the ablations.** `plstm` rows use batch norm on the graph "
    "embeddings, the default since the ablations below chose it on validation; `plstm (no "
    "readout BN)` rows are runs without it: the earlier main runs and, from fold 3 on, "
    "PROTEINS folds run later with `--plstm.readout_norm false` to compare the two on "
    "validation. The `plstm` seeds 0-2 of ogbg-molhiv are those ablations' `readout-bn` runs "
    "(the same config, seeds and epochs), copied with a `copied_from` key. On "
    f"{SUM_POOLED_NAMES} the `plstm` rows use sum pooling, chosen there on validation by the "
    "ablations below; their runs are those ablations' `pool-sum` runs, copied the same way "
    "(on bbbp and bace until the reruns with today's featurisation below), and the `(mean "
    "pooling)` rows are the main runs made before. ogbg-molbbbp's learning rate became 3e-4 "
    "the same way, for both models (a config's learning rate is that of both): its `plstm` "
    "runs were the `lr-3e-4` ablation runs until those reruns, and its `(lr 1e-3)` rows are "
    "the runs of both models made before, but for `gine (lr 1e-3)`: GINE at 1e-3 made again "
    "with today's featurisation, to check the choice for the baseline (it scores below 3e-4 "
    "on validation as before).",
    "**Baselines.** The GINE baselines keep their configs' pooling: OGB's mean on the OGB "
    "datasets, the paper baselines' sum on the TU datasets; `gine-pool-sum` is GINE with sum "
    "pooling on bbbp, bace, ESOL and lipo, run to give the baseline the same choice (same "
    "epochs and seeds; on bbbp, bace and lipo made again with today's featurisation, at "
    "bbbp's learning rate 3e-4 there): on validation it scores below "
    "mean-pooled GINE of the same featurisation by more than the spread on all four (valid "
    "column), so the `gine` rows stay the baseline.",
    "**ogbg-molhiv** follows the OGB protocol with 10 seeds (0-9) at a CPU budget of 15 "
    "epochs per seed on one thread (the wall hours column sums the seeds), run one seed at a "
    "time: the table counts the seeds finished so far. Its baseline is GINE + virtual node "
    "(`gine-vn`, OGB's leaderboard model); the one `gine` run (no virtual node) predates that "
    "config.",
    "**peptides-func** (LRGB) runs at a CPU budget of 3 epochs of LRGB's 200 "
    "(`--trainer.max_epochs 3 --optim.warmup_epochs 1`, the config otherwise; two or three "
    "trainings sharing the two cores): a first reading, far from the published rows' budgets. "
    "Its `plstm` runs use the `dfs` order, which its `order-dfs` ablation below (the same "
    "budget) chose on validation: the orientation that reaches furthest (one layer joins 46 % "
    "of a peptide's atom pairs under `dfs`, 3 % under `canonical`: `python -m "
    "benchmarks.dag_reach`); its rows marked `(canonical order)` hold the runs made before "
    "with the library's default order. LRGB's protocol, 200 epochs and three seeds of both "
    "models, needs about 90 min of an H200 with the `canonical` order (an epoch's training "
    "steps took 5.7 s for pLSTM and 3.1 s for GINE there, `benchmarks/README.md`; `dfs` makes "
    "the line DAG 14 times as deep, and the scan engine walks it level by level: not yet "
    "timed on a GPU): `bash results/run_moleculenet.sh peptides-func` where a GPU is held "
    "that long.",
    "**Chiral tags.** Runs marked `(v1 chiral tags)` were featurised with `ogb9x3-rank-v1`, "
    "whose chiral tags are OGB's and depend on how a SMILES lists a stereocentre's neighbours; "
    "`ogb9x3-rank-v2` read them in canonical-rank order (README, Data). "
    "That changed the graphs of the datasets whose SMILES have chiral tags, all here but "
    "ogbg-molhiv, ESOL and ogbg-molmuv (TU graphs are not SMILES), so only their older runs "
    "carry the mark, ablations included: they are history, like the rows of a replaced default. "
    "The unmarked rows of those datasets are the main runs made again with the new "
    "featurisation, configs, seeds and epochs (`EPOCHS=30 bash results/run_moleculenet.sh NAME`, "
    "FreeSolv at 100, peptides-func at the 3 epochs above; each run file records its "
    "`featurizer`), trained from the configs rather than copied from ablations; "
    "where a dataset has marked rows only, its runs have not been made "
    "again yet. The choices ablations made there with the old tags (sum pooling on bbbp and "
    "bace, bbbp's learning rate, peptides-func's `dfs` order) stay in the configs. All three "
    "were checked again with `ogb9x3-rank-v2`, and so were bbbp's other ablations, readout "
    "batch norm included (the ablations section below). Runs marked `(v2 chiral tags)` were "
    "featurised with `ogb9x3-rank-v2`: at a stereocentre two of whose neighbours are "
    "constitutionally equivalent (a ring cis/trans pair as in 1,4-disubstituted cyclohexanes, a "
    "pseudo-asymmetric centre as in tropanes) only other stereocentres tell those neighbours "
    "apart, RDKit ranks them by the input order, and the tags of a ring pair could turn over "
    "together with the spelling. Today's featurisation, `ogb9x3-rank-v3`, gives such a centre "
    "its CIP label (r or s) instead. That changed "
    + ", ".join(f"{n} molecules of {d}" for d, n in CIS_TRANS_CHANGED.items())
    + " (in every split), so on these datasets the `ogb9x3-rank-v2` runs carry the mark, "
    "ablations included (the ones that bear on their configs, sum pooling and the learning "
    "rate, were made again with today's, and so were all of tox21's, at 30 epochs, the main "
    "runs' budget, most of which had run at 10); on the others it left every graph as it was, "
    "so their `ogb9x3-rank-v2` runs are runs of today's featurisation. The sections after the "
    "tables pair each rerun row with its marked row.",
)


def intro(rows: list[dict]) -> str:
    """:data:`INTRO`, the paragraph on the :data:`LONGER_BUDGET` dataset with its note."""
    heading = f"**{LONGER_BUDGET[0]}**"
    return "\n\n".join(p + longer_budget_note(rows) if p.startswith(heading) else p
                       for p in INTRO)


LONGER_BUDGET = ("ogbg-molhiv", "plstm-30-epochs", "plstm")
#: the baseline at the longer and at the main budget of :data:`LONGER_BUDGET`
LONGER_BUDGET_BASELINE = ("gine-vn-30-epochs", "gine-vn")


def longer_budget_note(rows: list[dict]) -> str:
    """What the :data:`LONGER_BUDGET` row (the main pLSTM config at twice the epochs) shows
    against the main row, seed by seed, and against the OGB bar; empty without both rows."""
    dataset, longer, main = LONGER_BUDGET
    found = {r["model"]: r for r in rows if r["dataset"] == dataset}
    if longer not in found or main not in found:
        return ""
    new, old = found[longer], found[main]
    bar_name, bar, _ = ANCHORS[dataset][0]
    val, test = paired(new, old, "val"), paired(new, old, "test")
    shared = sum(map(len, val.values()))
    reaches = "reaches" if new["test_mean"] >= bar else "stays below"
    return (f" `{longer}` is the `{main}` config at {new['epochs']} epochs per seed instead of "
            f"{old['epochs']} (about {60 * new['hours'] / new['runs']:.0f} min a seed, two "
            "trainings sharing the two cores), run to see whether the shorter budget holds "
            "pLSTM back. Over its "
            f"{new['runs']} seeds its validation mean differs from the `{main}` row's by "
            f"{new['val_mean'] - old['val_mean']:+.4f} (stds {new['val_std']:.4f} and "
            f"{old['val_std']:.4f}; better on {len(val['better'])} of {shared} paired seeds) and "
            f"its test mean by {new['test_mean'] - old['test_mean']:+.4f} (better on "
            f"{len(test['better'])} of {shared}); its test mean {reaches} the bar, "
            f"{bar_name} at {bar:.4f}." + baseline_at_both_budgets(found, new, old))


def baseline_at_both_budgets(found: dict[str, dict], longer: dict, main: dict) -> str:
    """pLSTM's test mean against the baseline's at both budgets
    (:data:`LONGER_BUDGET_BASELINE`), on the seeds the baseline has run at the longer one."""
    name_longer, name_main = LONGER_BUDGET_BASELINE
    if name_longer not in found or name_main not in found:
        return (f" The GINE baselines have no runs at {longer['epochs']} epochs, so the models "
                f"are compared at {main['epochs']}.")
    pairs = [(main, found[name_main]), (longer, found[name_longer])]
    seeds = sorted(set.intersection(*(set(r["seeds"]) for pair in pairs for r in pair)))
    parts = []
    for plstm, gine in pairs:
        plstm, gine = on_runs(plstm, seeds), on_runs(gine, seeds)
        wins = len(paired(plstm, gine, "test")["better"])
        parts.append(f"at {plstm['epochs']} epochs {plstm['test_mean']:.4f} against "
                     f"{gine['test_mean']:.4f} (better on {wins} of {len(seeds)})")
    baseline = found[name_longer]
    return (f" `{name_longer}` is the `{name_main}` baseline at {longer['epochs']} epochs (about "
            f"{baseline['hours'] / baseline['runs']:.1f} h a seed, two trainings sharing the two "
            f"cores); on the seeds it has run so far ({', '.join(map(str, seeds))}), pLSTM's "
            "test mean against the baseline's is " + "; ".join(parts) + ".")


#: why a dataset has no runs yet (costs measured on this 2-core CPU, one thread per training)
NOT_RUN_REASONS = {
    "ogbg-molpcba": "its molecules are not in the offline data (`../shared/data` holds the split "
                    "only) and nothing can be downloaded here.",
}
README_MARKERS = ("<!-- RESULTS -->", "<!-- /RESULTS -->")


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


ABLATION_INTRO = ("From `bash results/run_ablations.sh`: one option of the dataset's config "
                  "changed at a time (`default` is the config as it is; without such runs the main "
                  "pLSTM runs, same config and epochs, stand in; a variant marked `(now the "
                  "default)` was adopted, so its runs are runs of the current default), the epochs "
                  "column, one CPU thread. Sorted by the validation metric, which is what a "
                  "default is chosen on; the test column is shown for completeness, never for "
                  "choosing. The `index` DAG order never becomes the default whatever its score: "
                  "it makes a prediction depend on atom numbering and SMILES spelling. The "
                  "defaults (`canonical` order (`dfs` on peptides-func), P+D blocks, `fanout`, "
                  "two blocks, the orientation "
                  "alternating from block to block, learning rate 1e-3 (3e-4 on ogbg-molbbbp), "
                  "the reference's random transition init, the degree encoding, batch norm on the "
                  f"graph embeddings, mean pooling (sum on {SUM_POOLED_NAMES}), no virtual node, "
                  "no dropout) change only when a "
                  "variant (for the order: `bfs` or `dfs`, both independent of numbering) beats "
                  "them on validation by more than the seed-to-seed spread (the larger of the two "
                  "rows' standard deviations), over at least three seeds; a choice made with a "
                  "featurisation since replaced stays unless the value it replaced beats it by "
                  "more than the spread with today's. Runs marked `(no readout "
                  "BN)` were made before batch norm on the graph embeddings became the default, "
                  "runs marked `(mean pooling)` before sum pooling became that of their "
                  "dataset, runs marked `(lr 1e-3)` before bbbp's learning rate became 3e-4, "
                  "runs marked `(canonical order)` before peptides-func's order became "
                  "`dfs`, and runs marked `(v1 chiral tags)` or `(v2 chiral tags)` before the "
                  "chiral-tag fixes (see the "
                  "intro above), so they compare with the older default of the same marks and "
                  "are history: the decisions are checked on the unmarked rows. The last two "
                  "columns "
                  "compare a variant with that default (for an adopted variant, the default it "
                  "replaced): the gain of its validation mean (negative where it is worse) against "
                  "that spread, and, pairing its seeds with the same seeds of the default, where "
                  "its validation metric is better, worse or the same to four decimals. How "
                  "far a choice made on validation carries over to test differs by dataset: "
                  "see the last section.")


@dataclass(frozen=True)
class Adoption:
    """How an adopted variant changed the default: the config option it sets (``section.key``:
    ``plstm.pooling``, or ``optim.lr``, which every model's runs share), the value it replaced,
    the mark carried by the runs that still have that value (they compare with the older
    default of the same mark), the datasets whose configs adopted it (none named: every
    dataset, as ``PLSTMNet``'s own default) and the models whose runs it changes (none named:
    those that read its section; ``data.dag_order`` is in the shared section, but only pLSTM
    orients its graphs)."""
    option: str
    replaced: object
    mark: str
    datasets: tuple[str, ...] = ()
    models: tuple[str, ...] = ()

    def holds_on(self, dataset: str) -> bool:
        return not self.datasets or dataset in self.datasets

    def replaced_in(self, run: dict) -> bool:
        """Whether ``run`` has the replaced value of an option that applies to it: one of its
        own model's section or of a section all models share (not another model's), or one
        that names its model."""
        section, key = self.option.split(".")
        config = run["config"]
        applies = (config["model"] in self.models if self.models
                   else section == config["model"] or section not in MODEL_SECTIONS)
        return (applies and self.holds_on(run["dataset"])
                and config[section].get(key, self.replaced) == self.replaced)


@dataclass(frozen=True)
class Decision:
    """One ablation decision: the variants it rests on, how one of them was adopted as the
    default (None where the default stays), and why. The reason points at the table's columns
    instead of restating their figures, which change with every seed; :func:`stale_decisions`
    checks the decision itself against the rows."""
    variants: tuple[str, ...]
    text: str
    adopted: Adoption | None = None


#: the rule of :data:`ABLATION_INTRO`: a default changes only on a lead over this many runs
MIN_RUNS = 3
#: variants the rule never adopts, whatever their score (see :data:`ABLATION_INTRO`)
NEVER_ADOPTED = ("order-index",)
ABLATION_DECISIONS = [
    Decision(("order-dfs",),
             "DAG order `dfs`: the peptides-func config takes it; `canonical` stays the order of "
             "the others and the library's default. On peptides-func (3 epochs, the CPU budget) "
             "`dfs` beats `canonical` by more than the spread, on every paired seed: there it "
             "is the order that reaches furthest (see the intro above). On the molecule datasets "
             "it beats the default by more than the spread on none, and where it leads it is "
             "worse on some paired seeds (gain and last columns). The main pLSTM runs on "
             "peptides-func were the `order-dfs` runs, copied with a `copied_from` key, until "
             "the reruns with today's featurisation (intro above); the "
             "`canonical` runs made before are kept, marked `(canonical order)`. Checked again "
             "with today's featurisation (`order-dfs`: the main runs, the config as it is, "
             "copied back with a `copied_from` key, against `default (canonical order)` made "
             "anew), `dfs` still leads, by just less than the spread, better on two of three "
             "paired seeds: these runs alone would not have adopted it, but `canonical` does not "
             "beat it either, so by the rule it stays. Whether `dfs` keeps its lead at LRGB's "
             "200 epochs is for a GPU run to show.",
             adopted=Adoption("data.dag_order", "canonical", " (canonical order)",
                              ("peptides-func",), models=("plstm",))),
    Decision(("order-bfs",),
             "DAG order `bfs`: `canonical` stays. `index` is excluded whatever it scores "
             "(above); over the three or more seeds the rule asks for, `bfs` beats the default "
             "by more than the spread on no dataset (gain column), and where it leads it, it is "
             "worse on some paired seeds (last column)."),
    Decision(("blocks-P", "blocks-D", "blocks-1", "blocks-3"),
             "P only, D only, one or three blocks: P+D with two blocks stays. No variant beats "
             "it by more than the spread (gain column); each one above it is worse than it on "
             "some paired seeds (last column). On ogbg-molhiv the default's seed 0 is its "
             "lowest, so a variant's seed-0 run is read against all the default's seeds."),
    Decision(("width-32", "width-48", "width-192"),
             "Hidden width (ogbg-molhiv only): 96 channels stay; 32 and 48 (a small fraction of "
             "the parameters, params column) are within the spread of the default. They were "
             "run because a small model is what the leaderboard's CPU entry uses (GINE with "
             "33,217 parameters); like the other variants they are judged on validation only. "
             "192 channels (params column; about 65 min a seed) was run to see whether width "
             "holds pLSTM below the bar: over the three seeds the rule asks for it is within the "
             "spread too (gain column) and better than the default on one paired seed only "
             "(last column), so four times the parameters buy nothing on validation at this "
             "budget."),
    Decision(("norm-fanin",),
             "P-mode normalisation group: `fanout` (the paper's Eq. 9) stays; `fanin` is within "
             "the spread of it."),
    Decision(("lr-3e-4",),
             "Learning rate: 3e-4 is the ogbg-molbbbp config's, 1e-3 stays that of the others. On "
             "bbbp with the v1 chiral tags, against the default with sum pooling, 3e-4 beat 1e-3 "
             "by more than the spread, on every paired seed (with mean pooling it was within the "
             "spread). Made again with today's featurisation (`lr-3e-4`, the config as it is, "
             "against `default (lr 1e-3)`), it leads within the spread and is not better on every "
             "paired seed (gain and last columns): these runs alone would not have adopted it, but "
             "1e-3 does not beat it either, so by the rule it stays. On every other dataset it ran "
             "on, it is within the spread of 1e-3 (ogbg-molhiv, bace, sider, tox21, muv (at its 10 "
             "epochs), ESOL, FreeSolv, lipo, MUTAG, PTC_FM, PROTEINS, NCI1; toxcast with "
             "`ogb9x3-rank-v2`) or scores below it by more than the spread (clintox; toxcast with "
             "today's featurisation and the v1 chiral tags) (gain column). On sider, where over "
             "seeds 0-2 it led 1e-3 by just the spread, both rows were given seeds 3-9: over ten "
             "it trails 1e-3, within the spread and worse on six seeds. On PROTEINS, one of the "
             "two slowest TU sets (20-30 min a fold at 100 epochs), it ran on the first three "
             "folds. On NCI1, the other, its first three folds led the default's ten by more than "
             "the spread, which adopted 3e-4 for a while; but the default's first three folds are "
             "easier than its ten (as on PROTEINS), and over all ten folds it is within the "
             "spread, so NCI1 keeps 1e-3. The main pLSTM runs on bbbp were the `lr-3e-4` runs, "
             "copied with a `copied_from` key, until the reruns with today's featurisation (intro "
             "above); the runs made at 1e-3 before (main runs and ablations) are kept, marked `(lr "
             "1e-3)`. A config's learning rate is that of both models, so bbbp's GINE runs at 1e-3 "
             "carry the mark too; the `gine` row is GINE rerun at 3e-4 (same seeds and epochs), "
             "which raises its validation mean as well, with both featurisations (the `gine (lr "
             "1e-3)` rows).",
             adopted=Adoption("optim.lr", 1e-3, " (lr 1e-3)", ("ogbg-molbbbp",))),
    Decision(("transition-spread",),
             "Transition init: the reference's random init stays and `spread` stays an option. "
             "On ogbg-molhiv the mean of its first two seeds led the default by more than the "
             "spread, but its later seeds trailed the default's, and over all its seeds it is "
             "within the spread. It is within the spread on bbbp and tox21 too (there at 30 "
             "epochs, the main runs' budget; in the 10-epoch runs with both older "
             "featurisations, against the default with readout batch norm, it scored below the "
             "default) (gain column)."),
    Decision(("degree-off",),
             "Degree encoding: it stays on. Switched off, it beat the default on tox21 by more "
             "than the spread without readout batch norm (OGB's atom features already hold the "
             "degree), but against today's default, which has it, it is within the spread on "
             "ogbg-molhiv, bbbp (below it there with the v1 chiral tags) and tox21 (at 30 "
             "epochs, the main runs' budget; at 10 epochs it was below it with "
             "`ogb9x3-rank-v2` and within the spread with the v1 tags)."),
    Decision(("dropout-0.2", "virtual-node"),
             "Virtual node and dropout, the regularisers GINE + virtual node has and the pLSTM "
             "default lacks (ogbg-molhiv only): neither is added. Dropout 0.2 on both residual "
             "branches of every sub-block scores below the default. A virtual node (OGB's, "
             "updated between the blocks) leads the default on most paired seeds (last column), "
             "but by less than the spread, which does not meet the rule."),
    Decision(("bidirectional",),
             "Both orientations in every layer (`bidirectional`, spec A4; the same parameters, "
             "about 1.6 times the training step): the orientation alternating from block to "
             "block stays. It is within the spread of the default on bbbp, ogbg-molhiv and "
             "tox21 (at 30 epochs, the main runs' budget; in the 10-epoch runs with both older "
             "featurisations it was below it) (gain column), and where it leads it is worse on "
             "some paired seeds (last column), so it does not earn its cost; it stays an "
             "option."),
    Decision(("pool-sum",),
             f"Graph pooling (spec A15): sum pooling is the default of the {SUM_POOLED_NAMES} "
             "configs, mean pooling stays that of the others. Sum beats mean by more than the "
             "spread, on every paired seed or fold, on those datasets; elsewhere it leads within "
             "the spread (ogbg-molhiv, clintox, tox21, toxcast, FreeSolv, MUTAG), trails within "
             "it (PTC_FM) or scores below the default by more than the spread (sider, with both "
             "featurisations) (gain and last columns). "
             "So no one pooling serves every dataset and the choice is made per config, on "
             "validation. On those datasets the main pLSTM runs are the `pool-sum` runs (the "
             "same config, seeds or folds and epochs), copied with a `copied_from` key (on "
             "bbbp and bace until the reruns with today's featurisation, intro above); the "
             "mean-pooling runs made before are kept, marked `(mean pooling)`, and so are the "
             "ablations run on them. On bbbp, bace and lipo the choice was checked again with "
             "today's featurisation (`pool-sum`, the config as it is, against `default (mean "
             "pooling)`): sum still beats mean by more than the spread on every paired seed. "
             "lipo adopted it with `ogb9x3-rank-v2`, where with the v1 chiral tags it had led "
             "within the spread; its `pool-sum` runs with today's featurisation give its main "
             "runs again to the last digit (another commit, the same seeds).",
             adopted=Adoption("plstm.pooling", "mean", " (mean pooling)", SUM_POOLED)),
    Decision(("pool-attention",),
             "Attention pooling (a learned gate over the atoms) becomes no default: it scores "
             "below the default by more than the spread on bbbp (sum pooling there) and tox21 "
             "(at 30 epochs, the main runs' budget, worse on every paired seed; so it did in "
             "the 10-epoch runs with both older featurisations) (gain and last columns)."),
    Decision(("readout-bn",),
             "Batch norm on the pooled graph embeddings (`readout-bn`, `--plstm.readout_norm "
             "true`) is chosen: it beats the default it replaced by more than the spread on "
             "ogbg-molhiv and tox21: there in its 10-epoch runs with both older featurisations "
             "and with today's at 30 epochs (`readout-bn`: the main runs, copied with a "
             "`copied_from` key, against `default (no readout BN)` made anew). On bbbp it "
             "was within the spread with the v1 chiral tags, the learning rate 1e-3 and mean "
             "pooling; checked again there with today's featurisation and config "
             "(`readout-bn`, the config as it is, against `default (no readout BN)`), it beats "
             "it by more than the spread, on every paired seed. Without it the graph "
             "embeddings differ little between molecules (RMS-normalised node states are not "
             "centred), and on ogbg-molhiv the output collapsed to a constant for most of the "
             "15 epochs (training loss at the base rate). It is `PLSTMNet`'s default now; the "
             "main pLSTM runs made before are kept, marked `(no readout BN)`. The main runs "
             "redone with it confirm the choice on validation: better than the runs without it "
             "on every dataset run both ways except FreeSolv and PROTEINS, where the difference "
             "is within the spread (on PROTEINS, fold by fold, the runs without it score higher "
             "more often, but by less than the fold-to-fold spread), so it stays on there too; "
             "both rows are in the table.",
             adopted=Adoption("plstm.readout_norm", False, " (no readout BN)")),
]
#: how the adopted variants changed the defaults; :func:`run_label` marks the runs they replaced
ADOPTIONS = tuple(d.adopted for d in ABLATION_DECISIONS if d.adopted)


#: the featurisation of a run file without a ``featurizer`` key: the key came four commits
#: after ``ogb9x3-rank-v2`` and no committed run made from those commits lacks it, so such a run
#: was made with the version before
UNRECORDED_FEATURIZER = "ogb9x3-rank-v1"


@dataclass(frozen=True)
class FeaturizationChange:
    """A featurisation version that changed the graphs of some datasets: the runs on them made
    with the version it replaced carry its mark, and compare with each other only, like the runs
    an :class:`Adoption` marks. ``note`` says, in the section pairing the rerun rows with the
    marked ones, what the change was."""
    replaced: str
    mark: str
    datasets: tuple[str, ...]
    note: str

    def replaced_in(self, run: dict) -> bool:
        return (run["dataset"] in self.datasets
                and run.get("featurizer", UNRECORDED_FEATURIZER) == self.replaced)


#: the datasets with chiral tags (``@`` in their SMILES): ``ogb9x3-rank-v2`` changed the chiral
#: tag feature, so their graphs only (``tests/test_summarize.py`` checks the list on the data)
CHIRAL_DATASETS = ("ogbg-molbace", "ogbg-molbbbp", "ogbg-molclintox", "ogbg-molfreesolv",
                   "ogbg-mollipo", "ogbg-molsider", "ogbg-moltox21", "ogbg-moltoxcast",
                   "peptides-func")
FEATURIZATION_CHANGES = (
    FeaturizationChange(
        "ogb9x3-rank-v1", " (v1 chiral tags)", CHIRAL_DATASETS,
        "A training is deterministic: the code just before the tag fix (`60926f9`) gave GINE's "
        "old FreeSolv runs again to four decimals, and since then the library changed in the "
        "tags and in file handling only, so a row's differences come from the tags, carried "
        "through every later step of training."),
    FeaturizationChange(
        "ogb9x3-rank-v2", " (v2 chiral tags)", CIS_TRANS_DATASETS,
        "`ogb9x3-rank-v3` changed the tag of ring cis/trans and pseudo-asymmetric centres only "
        "(the intro above), in a few molecules of these datasets; a row's differences come "
        "from those graphs, carried through every later step of training."),
)
#: every mark a row's label may carry
MARKS = ADOPTIONS + FEATURIZATION_CHANGES


def adoption_of(variant: str, dataset: str) -> Adoption | None:
    """The adoption that made ``variant`` the default on ``dataset``; None if it is not."""
    return next((d.adopted for d in ABLATION_DECISIONS
                 if variant in d.variants and d.adopted and d.adopted.holds_on(dataset)), None)


def stale_decisions(rows: list[dict]) -> list[str]:
    """Where the ablation rows of today's defaults (rows without marks) no longer support
    :data:`ABLATION_DECISIONS`, one line each: a kept default that a variant now beats by more
    than the spread over at least :data:`MIN_RUNS` runs, an adopted variant with such rows that
    beats the default it replaced in none of them or scores below it in one (one adopted on
    named datasets only: that does not beat it by more than the spread on one of them), or a
    variant with that many runs that no decision covers. An adopted variant that beat the
    default it replaced by more than the spread with a featurisation since replaced
    (:func:`led_before`) needs only not to score below it with today's: the rule moves a default
    on a clear lead, and the value it replaced has none."""
    decided = {v: d for d in ABLATION_DECISIONS for v in d.variants}
    problems, adopted_support = [], defaultdict(list)
    for row in rows:
        reference = default_for(row, rows)
        variant = unmarked(row["model"])
        if (reference is None or marks_in(row["model"]) or row["runs"] < MIN_RUNS
                or variant in NEVER_ADOPTED):
            continue
        where = f"{row['dataset']} `{variant}` ({row['runs']} runs): {gain(row, reference)}"
        verdict = comparison(row, reference)[2]
        if variant not in decided:
            problems.append(f"{where}, but no decision covers `{variant}`")
        elif adoption := adoption_of(variant, row["dataset"]):
            supported = verdict == MORE or led_before(row, rows)
            adopted_support[variant].append(supported)
            if verdict == BELOW or (adoption.datasets and not supported):
                problems.append(f"{where}, but the decision adopted it")
        elif verdict == MORE:
            problems.append(f"{where}, but the decision keeps the default")
    problems += [f"`{variant}` was adopted, but beats the default it replaced by more than the "
                 "spread on no dataset, with today's featurisation or an older one"
                 for variant, support in adopted_support.items() if not any(support)]
    return problems


def led_before(row: dict, rows: list[dict]) -> bool:
    """Whether the variant of ``row`` (a row of today's defaults) beat its default by more than
    the spread over at least :data:`MIN_RUNS` runs in a row of the same dataset and budget that
    differs from it only by the mark of a featurisation since replaced."""
    for older in rows:
        marks = marks_in(older["model"])
        if (budget(older) == budget(row) and older["runs"] >= MIN_RUNS
                and unmarked(older["model"]) == unmarked(row["model"])
                and marks and marks == marks_in(older["model"], FEATURIZATION_CHANGES)
                and (reference := default_for(older, rows)) is not None
                and comparison(older, reference)[2] == MORE):
            return True
    return False


def budget(row: dict) -> tuple[str, int]:
    """The dataset and number of epochs of a row: a variant compares only with a default of
    the same budget."""
    return row["dataset"], row["epochs"]


def with_main_defaults(ablations: list[dict], main: list[dict]) -> list[dict]:
    """Ablation rows plus, for each number of epochs a dataset's ablations ran at, where they
    have no ``default`` runs at that budget with the same marks, the main pLSTM runs (the same
    config) at that budget, labelled as such. A row of a variant adopted on its dataset that
    carries no adoption mark is labelled :data:`ADOPTED`: its runs are runs of today's default
    (of an older featurisation where they carry its mark), and main runs of the same seeds,
    budget and marks are those runs again (copied), so they add no row."""
    def copies_of_adopted(row: dict) -> tuple:
        return *budget(row), marks_in(row["model"]), tuple(row["seeds"])

    labelled = [{**r, "model": r["model"] + ADOPTED}
                if not marks_in(r["model"], ADOPTIONS)
                and adoption_of(unmarked(r["model"]), r["dataset"]) else r
                for r in ablations]
    covered = {(*budget(r), r["model"]) for r in ablations}
    budgets = {budget(r) for r in ablations}
    adopted = {copies_of_adopted(r) for r in labelled if r["model"].endswith(ADOPTED)}
    extra = []
    for row in main:
        marks = row["model"].removeprefix("plstm")
        if (unmarked(row["model"]) == "plstm" and budget(row) in budgets
                and (*budget(row), "default" + marks) not in covered
                and (marks_in(row["model"], ADOPTIONS) or copies_of_adopted(row) not in adopted)):
            extra.append({**row, "model": "default (main plstm runs)" + marks})
    return labelled + extra


def default_for(row: dict, rows: list[dict]) -> dict | None:
    """The row a variant is compared with: its dataset's default at the same number of epochs
    with the same marks (where no ``default`` runs have them, the adopted variant, which is
    that default); for a variant adopted on that dataset, the default it replaced (which has
    its mark too); None for a default."""
    if row["model"].startswith("default"):
        return None
    wanted = marks_in(row["model"])
    adoption = adoption_of(unmarked(row["model"]), row["dataset"])
    if adoption is not None:
        wanted |= {adoption.mark}
    same = [r for r in rows if budget(r) == budget(row) and r is not row
            and marks_in(r["model"]) == wanted]
    defaults = [r for r in same if r["model"].startswith("default")]
    adopted = [r for r in same if r["model"].endswith(ADOPTED)]
    return next(iter(defaults + adopted), None)


def ablation_tables(rows: list[dict]) -> str:
    if not rows:
        return ""
    lines = ["## Ablations (validation decides)", "", ABLATION_INTRO, "",
             "Decisions so far (`results/summarize.py` checks each one against the rows below "
             "and fails where a row of today's default no longer supports it):", "",
             *(f"- {d.text}" for d in ABLATION_DECISIONS), "",
             "| dataset | variant | metric | valid | test | runs (seeds) | params | epochs | "
             "valid gain over the default | valid against the default, seed by seed |",
             "|---|---|---|---|---|---|---:|---:|---|---|"]
    def best_first(row: dict) -> tuple:
        return row["dataset"], -direction(row["metric"]) * row["val_mean"]

    for row in sorted(rows, key=best_first):
        default = default_for(row, rows)
        by_seed = format_paired(paired(row, default)) if default else ""
        over = gain(row, default) if default else ""
        lines.append(f"| {row['dataset']} | {row['model']} | {row['metric']} | {row['val']} | "
                     f"{row['test']} | {row['runs']} ({', '.join(map(str, row['seeds']))}) | "
                     f"{row['params']:,} | {row['epochs']} | {over} | {by_seed} |")
    return "\n".join(lines + [""])


#: fewest pLSTM runs of a dataset, and configurations with :data:`MIN_RUNS` runs, that
#: :func:`validation_agreement` correlates
MIN_AGREEMENT_RUNS, MIN_CONFIGURATIONS = 10, 5


def validation_agreement(*groups: dict[tuple[str, str], list[dict]]) -> list[dict]:
    """Per dataset, how well the validation metric ranks the pLSTM runs of ``groups`` (each as
    :func:`load_runs` gives it: the main runs, the ablations) by their test metric: Spearman's
    rank correlation (and its p-value) over the runs, each training counted once, and over the
    means of the configurations with at least :data:`MIN_RUNS` runs. A copied run
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


def update_readme(readme: Path, text: str) -> None:
    """Replaces the block between the results markers of the project README."""
    start, end = README_MARKERS
    content = readme.read_text()
    if start not in content or end not in content:
        raise SystemExit(f"{readme} has no {start} ... {end} block")
    head, rest = content.split(start, 1)
    tail = rest.split(end, 1)[1]
    readme.write_text(f"{head}{start}\n{text}{end}{tail}")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=Path, default=HERE / "runs")
    parser.add_argument("--ablations", type=Path, default=HERE / "ablations")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--readme", type=Path, default=HERE.parent / "README.md",
                        help="project README whose results block is regenerated")
    args = parser.parse_args()
    main_runs = load_runs(args.runs)
    rows = summary_rows(main_runs)
    text, stale = tables(rows) + featurization_table(rows), []
    if args.ablations.is_dir():
        ablation_runs = load_runs(args.ablations)
        ablations = with_main_defaults(summary_rows(ablation_runs), rows)
        text += "\n" + ablation_tables(ablations)
        stale = stale_decisions(ablations)
        text += "\n" + agreement_table(validation_agreement(main_runs, ablation_runs))
    preface = intro(rows)
    (args.out / "README.md").write_text(f"# Results\n\n{preface}\n\n{text}")
    update_readme(args.readme, headline_table(rows))
    (args.out / "summary.json").write_text(json.dumps(rows, indent=1))
    if rows:
        plot(rows, args.out / "summary.png")
    print(f"{len(rows)} (dataset, model) groups -> {args.out / 'README.md'}")
    if stale:
        raise SystemExit("The ablation runs no longer support these decisions; revisit "
                         "ABLATION_DECISIONS in results/summarize.py:\n"
                         + "\n".join(f"- {line}" for line in stale))


if __name__ == "__main__":
    main()
