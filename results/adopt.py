"""Make an adopted ablation variant the main pLSTM runs of a dataset (issue 5, item 5).

Run it once a decision in ``results/report/decisions.py`` adopts the variant on the dataset: its
``Adoption`` names the config option, the value it replaced and the mark of the runs that keep
that value. The run files of the dataset that keep the replaced value, main runs and ablations
alike, move to a folder named after the mark (``plstm`` -> ``plstm-mean-pooling``); a row's label
comes from its runs' configs, so the folders only keep them apart. Then the variant's runs are
copied into the main ``plstm`` folder as ``plstm`` runs with a ``copied_from`` key: they are the
same trainings, made with the config the dataset has now. Nothing is overwritten.

    python results/adopt.py ogbg-molbace pool-sum [--dry-run]
    python results/summarize.py
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from report.decisions import Adoption, adoption_of
from report.marks import marks_in, run_label
from report.rows import RUN_FILES

HERE = Path(__file__).resolve().parent

ROOT = HERE.parent


def run_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(RUN_FILES))


def folder_suffix(adoption: Adoption) -> str:
    """The mark as a folder suffix: `` (mean pooling)`` -> ``mean-pooling``."""
    return adoption.mark.strip(" ()").lower().replace(" ", "-")


Step = tuple[Path, Path, "dict | None"]


def plan(dataset: str, variant: str, runs: Path, ablations: Path) -> list[Step]:
    """The steps that adopt ``variant`` on ``dataset``, in order: (source, target, None) moves a
    file or folder, (source, target, run) writes ``run``, the source's run as a main run. The
    runs that move are those of today's default (no other mark) that keep the replaced value;
    runs marked by an earlier adoption are history already and stay. Raises ``SystemExit`` with
    the reason where the adoption cannot be carried out."""
    adoption = adoption_of(variant, dataset)
    if adoption is None:
        raise SystemExit(f"`{variant}` is not adopted on {dataset}: give its decision in "
                         "ABLATION_DECISIONS (results/report/decisions.py) an Adoption that "
                         "holds on it first")
    source = ablations / dataset / variant
    if not run_files(source):
        raise SystemExit(f"no run files in {source}")
    suffix, moves = folder_suffix(adoption), []
    for folder in sorted(p for p in [*(runs / dataset).glob("*"), *(ablations / dataset).glob("*")]
                         if p.is_dir() and p != source and not p.name.endswith(suffix)):
        files = run_files(folder)
        replaced = [f for f in files
                    if marks_in(run_label(json.loads(f.read_text()))) == {adoption.mark}]
        target = folder.with_name(f"{folder.name}-{suffix}")
        if replaced and replaced == files:
            moves.append((folder, target, None))
        else:
            moves += [(f, target / f.name, None) for f in replaced]
    moved = {src for src, _, _ in moves}
    for src, target, _ in moves:
        if target.exists():
            raise SystemExit(f"{target} exists; {src} is not moved over it")
    copies = []
    for path in run_files(source):
        run = json.loads(path.read_text())
        if marks_in(run_label(run)):
            raise SystemExit(f"{path} is marked {run_label(run)!r}: it is not a run of today's "
                             "default with the variant; not copied")
        target, copied_from = runs / dataset / "plstm" / path.name, os.path.relpath(path, ROOT)
        if target.exists() and not {target, target.parent} & moved:
            if json.loads(target.read_text()).get("copied_from") == copied_from:
                raise SystemExit(f"`{variant}` is adopted on {dataset} already: {target} is "
                                 f"a copy of {path}")
            raise SystemExit(f"{target} exists; {path} is not copied over it")
        copies.append((path, target, {**run, "model": "plstm", "copied_from": copied_from}))
    return moves + copies


def carry_out(steps: list[Step], dry_run: bool = False) -> None:
    for src, target, run in steps:
        print(f"{'copy' if run else 'move'} {os.path.relpath(src, ROOT)} -> "
              f"{os.path.relpath(target, ROOT)}")
        if dry_run:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if run is None:
            src.rename(target)
        else:
            target.write_text(json.dumps(run, indent=2, default=str) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", help="OGB or TU name, as in the run files: ogbg-molbace")
    parser.add_argument("variant", help="the adopted ablation variant: pool-sum")
    parser.add_argument("--runs", type=Path, default=HERE / "runs")
    parser.add_argument("--ablations", type=Path, default=HERE / "ablations")
    parser.add_argument("--dry-run", action="store_true", help="print the steps only")
    args = parser.parse_args(argv)
    carry_out(plan(args.dataset, args.variant, args.runs, args.ablations), args.dry_run)


if __name__ == "__main__":
    main()
