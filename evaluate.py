#!/usr/bin/env python
"""Evaluate or predict with a trained model: ``python evaluate.py MODEL [--split test]`` or
``python evaluate.py MODEL --predict input.csv --out preds.csv``.

See ``python evaluate.py --help`` and :mod:`plstm_graph.cli.evaluate`.
"""
import sys

from plstm_graph.cli.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
