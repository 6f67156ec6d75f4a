"""Functional pLSTM kernels (engines ``loop``, ``scan``, ``dense``)."""
from plstm_graph.functional.plstm_dag import ENGINES, plstm_dag

__all__ = ["ENGINES", "plstm_dag"]
