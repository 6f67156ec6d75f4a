"""The options of a ``default-<mark>`` ablation variant (``results/run_ablations.sh``): the
dataset's config with one adopted option set back to the value it replaced, to check the
adoption again, after a featurisation change say. The folder suffix is the adoption's mark as
``results/adopt.py`` writes it (`` (mean pooling)`` -> ``default-mean-pooling``).

The runs are named ``default``: their label gets the adoption's mark from their config, so they
compare with the adopted variant. Where the option is not adopted on the config's dataset they
would get no mark and join the row of today's default, so that is an error.

    python results/replaced_default.py configs/ogbg-molbbbp.yaml default-mean-pooling
    --plstm.pooling mean
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from adopt import folder_suffix
from report.decisions import ADOPTIONS

#: the ``default-<mark>`` variant of each adoption
REPLACED_DEFAULTS = {f"default-{folder_suffix(a)}": a for a in ADOPTIONS}


def replaced_options(config: Path, variant: str) -> list[str]:
    """The command-line options that make ``config`` the default ``variant`` names; raises
    ``SystemExit`` where that variant does not exist or its option is not adopted there."""
    if variant not in REPLACED_DEFAULTS:
        raise SystemExit(f"{variant}: no adoption replaced that default; the variants are "
                         + ", ".join(sorted(REPLACED_DEFAULTS)))
    adoption = REPLACED_DEFAULTS[variant]
    dataset = yaml.safe_load(config.read_text())["data"]["dataset"]
    if not adoption.holds_on(dataset):
        raise SystemExit(f"{variant}: `{adoption.option}` is not adopted on {dataset} ({config}, "
                         f"adopted on {', '.join(adoption.datasets)}): its `default` runs would "
                         "be those of today's default")
    value = adoption.replaced
    return [f"--{adoption.option}", json.dumps(value) if isinstance(value, bool) else str(value)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", type=Path, help="the dataset's config: configs/ogbg-molbbbp.yaml")
    parser.add_argument("variant", help="default-<mark>: " + ", ".join(sorted(REPLACED_DEFAULTS)))
    args = parser.parse_args(argv)
    print(" ".join(replaced_options(args.config, args.variant)))


if __name__ == "__main__":
    main()
