"""plstm-graph: pLSTM (parallelizable Linear Source Transition Mark networks) for PyG."""
__version__ = "0.1.0"
__all__ = ["load_model"]


def __getattr__(name: str):
    # load_model pulls in Lightning: import it only when asked for
    if name == "load_model":
        from plstm_graph.models.predictor import load_model

        return load_model
    raise AttributeError(f"module 'plstm_graph' has no attribute {name!r}")
