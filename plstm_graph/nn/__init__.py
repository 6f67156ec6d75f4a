"""Neural-network layers and models."""
from plstm_graph.nn.conv import PLSTMConv
from plstm_graph.nn.models import GINENet, PLSTMNet
from plstm_graph.nn.norm import MultiHeadRMSNorm

__all__ = ["GINENet", "MultiHeadRMSNorm", "PLSTMConv", "PLSTMNet"]
