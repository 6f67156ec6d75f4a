"""The ablation tables: each variant beside the default of the same budget and marks, and
the check that the rows still support the decisions."""
from __future__ import annotations

from collections import defaultdict

from .decisions import (
    ABLATION_DECISIONS,
    ADOPTIONS,
    MIN_RUNS,
    NEVER_ADOPTED,
    SUM_POOLED_NAMES,
    adoption_of,
)
from .featurization import FEATURIZATION_CHANGES
from .marks import ADOPTED, marks_in, unmarked
from .rows import BELOW, MORE, budget, comparison, direction, format_paired, gain, paired

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
