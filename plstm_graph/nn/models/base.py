"""Pieces shared by the graph-level models: input encoders, degree encoding, virtual node,
pooling, prediction head, and the :class:`GraphNet` template that wires them together."""
from __future__ import annotations

import math
from abc import ABC, abstractmethod

import torch
from ogb.graphproppred.mol_encoder import AtomEncoder, BondEncoder
from torch import Tensor, nn
from torch_geometric.nn import MLP
from torch_geometric.nn.aggr import AttentionalAggregation, MeanAggregation, SumAggregation
from torch_geometric.nn.norm import BatchNorm
from torch_geometric.utils import degree

POOLINGS = ("mean", "sum", "attention")
#: ``in_channels`` / ``edge_in_channels`` value meaning "OGB categorical atom / bond features".
OGB_ATOM, OGB_BOND = "atom", "bond"


def node_encoder(in_channels: int | str, hidden_channels: int) -> nn.Module:
    """OGB :class:`AtomEncoder` for ``"atom"`` (long ``[N, 9]`` features), else a ``Linear``."""
    if in_channels == OGB_ATOM:
        return AtomEncoder(hidden_channels)
    if isinstance(in_channels, int) and in_channels > 0:
        return nn.Linear(in_channels, hidden_channels)
    raise ValueError(f"in_channels must be '{OGB_ATOM}' or a positive int, got {in_channels!r}")


def edge_encoder(edge_in_channels: int | str | None, hidden_channels: int) -> nn.Module | None:
    """OGB :class:`BondEncoder` for ``"bond"``, a ``Linear`` for an int, nothing for ``None``."""
    if edge_in_channels is None:
        return None
    if edge_in_channels == OGB_BOND:
        return BondEncoder(hidden_channels)
    if isinstance(edge_in_channels, int) and edge_in_channels > 0:
        return nn.Linear(edge_in_channels, hidden_channels)
    raise ValueError(f"edge_in_channels must be '{OGB_BOND}', a positive int or None, "
                     f"got {edge_in_channels!r}")


class DegreeEncoding(nn.Module):
    r"""Sinusoidal encoding of each node's number of neighbours (``PLSTM_SPEC.md`` A16).

    .. math::
        \mathrm{PE}(d)_{2i} = \sin(d / b^{2i/C}), \qquad \mathrm{PE}(d)_{2i+1} = \cos(d / b^{2i/C})

    Args:
        channels (int): output size (the hidden size it is added to).
        base (float, optional): the wavelength base :math:`b`. (default: :obj:`10000.0`)
    """

    def __init__(self, channels: int, base: float = 10000.0) -> None:
        super().__init__()
        exponent = torch.arange(0, channels, 2, dtype=torch.float) / channels
        self.register_buffer("inv_freq", base ** -exponent, persistent=False)
        self.channels = channels

    def forward(self, edge_index: Tensor, num_nodes: int) -> Tensor:
        deg = degree(edge_index[1], num_nodes, dtype=torch.float)
        angle = deg[:, None] * self.inv_freq
        pe = torch.stack([angle.sin(), angle.cos()], dim=-1).flatten(1)
        return pe[:, :self.channels]


class VirtualNode(nn.Module):
    """OGB-style virtual node: one state per graph, added to every node before each layer and
    updated after it from the sum of the node states (residual MLP update).

    Args:
        channels (int): hidden size.
        num_updates (int): number of updates (one fewer than the number of layers).
    """

    def __init__(self, channels: int, num_updates: int) -> None:
        super().__init__()
        self.channels = channels
        self.updates = nn.ModuleList(
            MLP([channels, 2 * channels, channels], norm="layer_norm",
                norm_kwargs={"mode": "node"}, act="relu")
            for _ in range(num_updates))

    def initial(self, num_graphs: int, like: Tensor) -> Tensor:
        return like.new_zeros(num_graphs, self.channels)

    def update(self, layer: int, state: Tensor, x: Tensor, batch: Tensor) -> Tensor:
        pooled = torch.zeros_like(state).index_add_(0, batch, x)
        return state + self.updates[layer](pooled + state)


def make_pooling(kind: str, channels: int) -> nn.Module:
    """Graph readout: ``"mean"``, ``"sum"`` or ``"attention"`` (gated attentional pooling)."""
    if kind == "mean":
        return MeanAggregation()
    if kind == "sum":
        return SumAggregation()
    if kind == "attention":
        return AttentionalAggregation(gate_nn=nn.Linear(channels, 1))
    raise ValueError(f"Unknown pooling '{kind}'; choose one of {POOLINGS}")


class GraphNet(nn.Module, ABC):
    r"""Template of a graph-level predictor: encode, a stack of layers, pool, MLP head.

    Subclasses build their layers, may set ``self.final_norm`` and implement
    :meth:`layer_forward`. Models take a PyG
    :class:`~torch_geometric.data.Batch` (or ``Data``) like OGB's graph-property models.

    Args:
        out_channels (int): number of outputs (tasks, or classes for multi-class tasks).
        hidden_channels (int): hidden size.
        num_layers (int): number of layers (blocks).
        in_channels (int or str, optional): ``"atom"`` for OGB atom features (long ``[N, 9]``)
            or the width of float node features. (default: :obj:`"atom"`)
        edge_in_channels (int or str, optional): ``"bond"`` for OGB bond features, the width of
            float edge features, or :obj:`None` for graphs without edge features.
            (default: :obj:`"bond"`)
        pooling (str, optional): ``"mean"``, ``"sum"`` or ``"attention"``.
            (default: :obj:`"mean"`)
        degree_encoding (bool, optional): add a sinusoidal encoding of the node degree to the
            encoded node features. (default: :obj:`False`)
        virtual_node (bool, optional): add an OGB-style virtual node. (default: :obj:`False`)
        head_layers (int, optional): number of linear layers of the prediction head.
            (default: :obj:`2`)
        dropout (float, optional): dropout probability in the head (and where subclasses use it).
            (default: :obj:`0.0`)
        readout_norm (bool, optional): batch-normalise the pooled graph embeddings before the
            head, as chemprop's ``batch_norm`` does. (default: :obj:`False`)
    """

    def __init__(self, out_channels: int, hidden_channels: int, num_layers: int,
                 in_channels: int | str = OGB_ATOM, edge_in_channels: int | str | None = OGB_BOND,
                 pooling: str = "mean", degree_encoding: bool = False,
                 virtual_node: bool = False, head_layers: int = 2, dropout: float = 0.0,
                 readout_norm: bool = False) -> None:
        super().__init__()
        if num_layers < 1 or head_layers < 1:
            raise ValueError("num_layers and head_layers must be at least 1")
        self.out_channels = out_channels
        self.hidden_channels = hidden_channels
        self.num_layers = num_layers
        self.node_encoder = node_encoder(in_channels, hidden_channels)
        self.edge_encoder = edge_encoder(edge_in_channels, hidden_channels)
        self.degree_encoding = DegreeEncoding(hidden_channels) if degree_encoding else None
        self.virtual_node = VirtualNode(hidden_channels, num_layers - 1) if virtual_node else None
        self.pool = make_pooling(pooling, hidden_channels)
        # a one-graph training batch is normalised with the running statistics
        self.readout_norm = (BatchNorm(hidden_channels, allow_single_element=True)
                             if readout_norm else nn.Identity())
        self.head = MLP([hidden_channels] * head_layers + [out_channels], act="relu", norm=None,
                        dropout=dropout)
        self.final_norm: nn.Module = nn.Identity()

    @property
    def edge_channels(self) -> int | None:
        """Width of the encoded edge features handed to the layers (``None``: no edge features)."""
        return None if self.edge_encoder is None else self.hidden_channels

    @abstractmethod
    def layer_forward(self, index: int, x: Tensor, edge_attr: Tensor | None, data) -> Tensor:
        """Applies layer ``index`` to node states ``x``."""

    def embed(self, data) -> Tensor:
        """Graph embeddings ``[num_graphs, hidden_channels]`` (the input of the head)."""
        x = self.node_encoder(data.x)
        if self.degree_encoding is not None:
            x = x + self.degree_encoding(data.edge_index, x.size(0))
        edge_attr = None
        if self.edge_encoder is not None:
            if data.edge_attr is None:
                raise ValueError(f"{type(self).__name__} was built with edge features but the "
                                 "input graph has no 'edge_attr'")
            edge_attr = self.edge_encoder(data.edge_attr)
        batch = data.batch if data.batch is not None else x.new_zeros(x.size(0), dtype=torch.long)
        num_graphs = getattr(data, "num_graphs", 1)
        vn = None if self.virtual_node is None else self.virtual_node.initial(num_graphs, x)
        for i in range(self.num_layers):
            if vn is not None:
                x = x + vn[batch]
            x_in = x
            x = self.layer_forward(i, x, edge_attr, data)
            if vn is not None and i < self.num_layers - 1:
                vn = self.virtual_node.update(i, vn, x_in, batch)
        return self.readout_norm(self.pool(self.final_norm(x), batch, dim_size=num_graphs))

    def forward(self, data) -> Tensor:
        """Predictions ``[num_graphs, out_channels]`` (logits for classification)."""
        return self.head(self.embed(data))


def num_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def round_up(value: float, multiple: int) -> int:
    """``value`` rounded up to a multiple of ``multiple``."""
    return int(math.ceil(value / multiple) * multiple)
