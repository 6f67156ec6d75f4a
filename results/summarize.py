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
from pathlib import Path

from report.ablations import ablation_tables, stale_decisions, with_main_defaults
from report.agreement import agreement_table, validation_agreement
from report.intro import intro
from report.plot import plot
from report.rows import load_runs, summary_rows
from report.tables import featurization_table, headline_table, tables

HERE = Path(__file__).resolve().parent
README_MARKERS = ("<!-- RESULTS -->", "<!-- /RESULTS -->")


def update_readme(readme: Path, text: str) -> None:
    """Replaces the block between the results markers of the project README."""
    start, end = README_MARKERS
    content = readme.read_text()
    if start not in content or end not in content:
        raise SystemExit(f"{readme} has no {start} ... {end} block")
    head, rest = content.split(start, 1)
    tail = rest.split(end, 1)[1]
    readme.write_text(f"{head}{start}\n{text}{end}{tail}")


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
                         "ABLATION_DECISIONS in results/report/decisions.py:\n"
                         + "\n".join(f"- {line}" for line in stale))


if __name__ == "__main__":
    main()
