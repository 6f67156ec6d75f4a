"""Every speed table of the performance issue in one run, on real ogbg-molhiv molecules:

1. forward + backward time and peak memory of ``PLSTMConv`` per engine against ``GINEConv``;
2. preprocessing throughput, and training throughput of ``PLSTMNet`` against the
   GINE + virtual node baseline at equal parameter count.

    python -m benchmarks [--device cuda] [--skip-loop] [--batch 128] [--molecules 2048]

The scaling curves are a separate, longer run: ``python -m benchmarks.scaling``.
"""
from benchmarks import common, conv_speed, throughput

if __name__ == "__main__":
    common.main(__doc__, conv_speed, throughput, prog="python -m benchmarks")
