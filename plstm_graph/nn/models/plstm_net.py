"""The pLSTM graph-property model (``PLSTM_SPEC.md`` §1.6, §2.5, §7)."""
from __future__ import annotations

import copy

from torch import Tensor, nn

from plstm_graph.dag import LineDAGIndex, line_dag_of
from plstm_graph.nn.conv import PLSTMConv
from plstm_graph.nn.models.base import OGB_ATOM, OGB_BOND, GraphNet, round_up

BLOCK_MODES = ("PD", "DP", "P", "D")


class PLSTMSubBlock(nn.Module):
    r"""A pre-norm residual pLSTM sub-block ("PostUpProjectionBlock", ``PLSTM_SPEC.md`` §1.6):

    .. math::
        x \leftarrow x + \mathrm{pLSTM}(\mathrm{RMSNorm}(x)), \qquad
        x \leftarrow x + W_2\,\mathrm{GELU}(W_1\,\mathrm{RMSNorm}(x))

    Args:
        channels (int): hidden size.
        mode (str): ``"P"`` or ``"D"``.
        reverse (bool): run on the reversed DAG.
        edge_dim (int, optional): width of the encoded edge features (:obj:`None`: the layer
            uses the mean of the end nodes).
        heads (int, optional): memory heads. (default: :obj:`4`)
        mlp_factor (float, optional): width of :math:`W_1` relative to ``channels``, rounded up
            to a multiple of 64. (default: :obj:`4.0`)
        dropout (float, optional): dropout on both residual branches. (default: :obj:`0.0`)
        **conv_kwargs (optional): further arguments of :class:`~plstm_graph.nn.PLSTMConv`.
    """

    def __init__(self, channels: int, mode: str, reverse: bool, edge_dim: int | None,
                 heads: int = 4, mlp_factor: float = 4.0, dropout: float = 0.0,
                 **conv_kwargs) -> None:
        super().__init__()
        self.norm_layer = nn.RMSNorm(channels, eps=1e-5)
        self.conv = PLSTMConv(channels, channels, heads=heads, mode=mode, edge_dim=edge_dim,
                              reverse=reverse, **conv_kwargs)
        self.norm_mlp = nn.RMSNorm(channels, eps=1e-5)
        width = round_up(mlp_factor * channels, 64)
        self.mlp = nn.Sequential(nn.Linear(channels, width), nn.GELU(),
                                 nn.Linear(width, channels))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None,
                dag: LineDAGIndex | None, batch: Tensor | None) -> Tensor:
        x = x + self.dropout(self.conv(self.norm_layer(x), edge_index, edge_attr, dag=dag,
                                       batch=batch))
        return x + self.dropout(self.mlp(self.norm_mlp(x)))


class PLSTMNet(GraphNet):
    r"""pLSTM for graph-level prediction, from the `"pLSTM: parallelizable Linear Source
    Transition Mark networks" <https://arxiv.org/abs/2506.11997>`_ paper.

    Node (and edge) encoders, an optional sinusoidal degree encoding, ``num_layers`` blocks of
    pLSTM sub-blocks (by default a P sub-block then a D sub-block) whose DAG orientation
    alternates from block to block (block :math:`i` runs reversed when :math:`i` is odd) or,
    with ``bidirectional``, runs both ways in every sub-block, a final RMSNorm, pooling and an
    MLP head. Uses the line-DAG fields precomputed by :class:`~plstm_graph.transforms.LineDAG`
    when the input carries them, and otherwise builds the structure once per call from the same
    inputs (``canonical_rank``, else ``x``).

    Args:
        out_channels (int): number of outputs.
        hidden_channels (int, optional): hidden size. (default: :obj:`96`)
        num_layers (int, optional): number of blocks. (default: :obj:`2`)
        heads (int, optional): memory heads per pLSTM layer. (default: :obj:`4`)
        block_modes (str, optional): sub-blocks of each block: ``"PD"``, ``"DP"``, ``"P"`` or
            ``"D"``. (default: :obj:`"PD"`)
        mlp_factor (float, optional): MLP width factor of each sub-block. (default: :obj:`4.0`)
        norm_group (str, optional): P-mode transition normalisation, ``"fanout"`` or
            ``"fanin"``. (default: :obj:`"fanout"`)
        transition_init (str, optional): transition bias init, ``"random"`` or ``"spread"``
            (see :class:`~plstm_graph.nn.PLSTMConv`). (default: :obj:`"random"`)
        engine (str, optional): pLSTM kernel engine. (default: :obj:`"auto"`)
        degree_encoding (bool, optional): sinusoidal degree encoding. (default: :obj:`True`)
        pooling (str, optional): ``"mean"``, ``"sum"`` or ``"attention"``.
            (default: :obj:`"mean"`)
        readout_norm (bool, optional): batch-normalise the pooled graph embeddings; without it
            the embeddings of RMS-normalised node states differ little between graphs and the
            head can collapse to a constant output. (default: :obj:`True`)
        bidirectional (bool, optional): every pLSTM layer runs both DAG orientations and
            averages them (``PLSTM_SPEC.md`` A4), instead of alternating the orientation from
            block to block: the same parameters, twice the propagation cost.
            (default: :obj:`False`)
        in_channels, edge_in_channels, virtual_node, head_layers, dropout: see
            :class:`~plstm_graph.nn.models.base.GraphNet`.
    """

    def __init__(self, out_channels: int, hidden_channels: int = 96, num_layers: int = 2,
                 heads: int = 4, block_modes: str = "PD", mlp_factor: float = 4.0,
                 norm_group: str = "fanout", transition_init: str = "random",
                 engine: str = "auto",
                 degree_encoding: bool = True, pooling: str = "mean",
                 in_channels: int | str = OGB_ATOM, edge_in_channels: int | str | None = OGB_BOND,
                 virtual_node: bool = False, head_layers: int = 2, dropout: float = 0.0,
                 readout_norm: bool = True, bidirectional: bool = False) -> None:
        super().__init__(out_channels, hidden_channels, num_layers, in_channels=in_channels,
                         edge_in_channels=edge_in_channels, pooling=pooling,
                         degree_encoding=degree_encoding, virtual_node=virtual_node,
                         head_layers=head_layers, dropout=dropout, readout_norm=readout_norm)
        if block_modes not in BLOCK_MODES:
            raise ValueError(f"Unknown block_modes '{block_modes}'; choose one of {BLOCK_MODES}")
        self.layers = nn.ModuleList(
            nn.ModuleList(
                PLSTMSubBlock(hidden_channels, mode, reverse=i % 2 == 1 and not bidirectional,
                              edge_dim=self.edge_channels, heads=heads, mlp_factor=mlp_factor,
                              dropout=dropout, norm_group=norm_group,
                              transition_init=transition_init, engine=engine,
                              bidirectional=bidirectional)
                for mode in block_modes)
            for i in range(num_layers))
        self.final_norm = nn.RMSNorm(hidden_channels, eps=1e-5)

    def embed(self, data) -> Tensor:
        if "dag_edge" not in data:  # a plain PyG input: build the structure once for all layers
            structure = line_dag_of(data)
            data = copy.copy(data)
            for name, value in structure._asdict().items():
                data[name] = value
        return super().embed(data)

    def layer_forward(self, index: int, x: Tensor, edge_attr: Tensor | None, data) -> Tensor:
        dag = LineDAGIndex.from_data(data)
        for sub_block in self.layers[index]:
            x = sub_block(x, data.edge_index, edge_attr, dag, data.batch)
        return x
