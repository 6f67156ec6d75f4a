"""Command-line entry points: ``train.py`` (:mod:`plstm_graph.cli.train`) and ``evaluate.py``
(:mod:`plstm_graph.cli.evaluate`)."""
