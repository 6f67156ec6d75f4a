"""Every speed table of the performance issue in one run, on real ogbg-molhiv molecules:

1. forward + backward time and peak memory of ``PLSTMConv`` per engine against ``GINEConv``;
2. preprocessing throughput, and training throughput of ``PLSTMNet`` against the
   GINE + virtual node baseline at equal parameter count.

    python -m benchmarks [--device cuda] [--skip-loop] [--batch 128] [--molecules 2048]

The scaling curves are a separate, longer run: ``python -m benchmarks.scaling``.
"""
from __future__ import annotations

import argparse

from benchmarks import common, conv_speed, throughput


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_arguments(parser)
    conv_speed.add_arguments(parser)
    throughput.add_arguments(parser)
    args = parser.parse_args()
    conv_speed.run(args)
    print()
    throughput.run(args)


if __name__ == "__main__":
    main()
