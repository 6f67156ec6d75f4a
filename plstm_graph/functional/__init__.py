"""Functional pLSTM kernels (engines ``loop``, ``scan``, ``dense``)."""
from plstm_graph.functional.plstm_dag import ENGINES, auto_engine, plstm_dag

__all__ = ["ENGINES", "auto_engine", "plstm_dag"]
