from plstm_graph.nn.conv.plstm_conv import PLSTMConv

__all__ = ["PLSTMConv"]
