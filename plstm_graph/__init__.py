"""plstm-graph: pLSTM (parallelizable Linear Source Transition Mark networks) for PyG."""
__version__ = "0.1.0"
from plstm_graph.models.predictor import load_model  # noqa: E402, F401  (re-export)
