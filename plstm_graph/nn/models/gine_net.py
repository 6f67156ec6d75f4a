"""The GINE baseline (OGB's ``gin`` / ``gin-virtual`` with bond features)."""
from __future__ import annotations

from torch import Tensor, nn
from torch_geometric.nn import MLP, GINConv, GINEConv

from plstm_graph.nn.models.base import OGB_ATOM, OGB_BOND, GraphNet


class GINENet(GraphNet):
    r"""A stack of :class:`~torch_geometric.nn.conv.GINEConv` layers from the `"Strategies for
    Pre-training Graph Neural Networks" <https://arxiv.org/abs/1905.12265>`_ paper, in the
    OGB example's layout: each layer is GINE (MLP with batch norm, trainable :math:`\epsilon`),
    batch norm, ReLU (not after the last layer) and dropout; optional virtual node; pooling and
    an MLP head. Graphs without edge features use :class:`~torch_geometric.nn.conv.GINConv`.

    Args:
        out_channels (int): number of outputs.
        hidden_channels (int, optional): hidden size. (default: :obj:`300`)
        num_layers (int, optional): number of GINE layers. (default: :obj:`5`)
        dropout (float, optional): dropout after every layer and in the head.
            (default: :obj:`0.5`)
        pooling (str, optional): ``"mean"``, ``"sum"`` or ``"attention"``.
            (default: :obj:`"mean"`)
        head_layers (int, optional): linear layers of the prediction head (OGB's example
            has one). (default: :obj:`1`)
        in_channels, edge_in_channels, degree_encoding, virtual_node: see
            :class:`~plstm_graph.nn.models.base.GraphNet`.
    """

    def __init__(self, out_channels: int, hidden_channels: int = 300, num_layers: int = 5,
                 dropout: float = 0.5, pooling: str = "mean",
                 in_channels: int | str = OGB_ATOM, edge_in_channels: int | str | None = OGB_BOND,
                 degree_encoding: bool = False, virtual_node: bool = False,
                 head_layers: int = 1) -> None:
        super().__init__(out_channels, hidden_channels, num_layers, in_channels=in_channels,
                         edge_in_channels=edge_in_channels, pooling=pooling,
                         degree_encoding=degree_encoding, virtual_node=virtual_node,
                         head_layers=head_layers, dropout=dropout)
        self.convs = nn.ModuleList()
        for _ in range(num_layers):
            mlp = MLP([hidden_channels, 2 * hidden_channels, hidden_channels], norm="batch_norm")
            self.convs.append(GINConv(mlp, train_eps=True) if self.edge_channels is None
                              else GINEConv(mlp, train_eps=True, edge_dim=self.edge_channels))
        self.norms = nn.ModuleList(nn.BatchNorm1d(hidden_channels) for _ in range(num_layers))
        self.dropout = nn.Dropout(dropout)

    def layer_forward(self, index: int, x: Tensor, edge_attr: Tensor | None, data) -> Tensor:
        conv = self.convs[index]
        x = conv(x, data.edge_index) if edge_attr is None else conv(x, data.edge_index, edge_attr)
        x = self.norms[index](x)
        if index < self.num_layers - 1:
            x = x.relu()
        return self.dropout(x)
