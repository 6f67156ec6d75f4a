"""Graph-level models: :class:`PLSTMNet` and the :class:`GINENet` baseline."""
from plstm_graph.nn.models.base import GraphNet, num_parameters
from plstm_graph.nn.models.gine_net import GINENet
from plstm_graph.nn.models.plstm_net import PLSTMNet, PLSTMSubBlock

#: Model classes by the short name used in configs, results and checkpoints.
MODELS = {"plstm": PLSTMNet, "gine": GINENet}

__all__ = ["MODELS", "GINENet", "GraphNet", "PLSTMNet", "PLSTMSubBlock", "num_parameters"]
