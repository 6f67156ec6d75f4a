"""Neural-network layers and models."""
from plstm_graph.nn.conv import PLSTMConv
from plstm_graph.nn.norm import MultiHeadRMSNorm

__all__ = ["MultiHeadRMSNorm", "PLSTMConv"]
from plstm_graph.nn.models import GINENet, PLSTMNet  # noqa: E402, F401  (re-export)
