#!/usr/bin/env python
"""Train a model: ``python train.py [--config configs/<benchmark>.yaml] [--option value ...]``.

See ``python train.py --help`` and :mod:`plstm_graph.cli.train`.
"""
import sys

from plstm_graph.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
