"""plstm-graph: pLSTM (parallelizable Linear Source Transition Mark networks) for PyG."""
__version__ = "0.1.0"
