"""The pLSTM graph operator."""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch_geometric.nn.conv import MessagePassing
from torch_geometric.typing import Adj, OptTensor
from torch_geometric.utils import scatter

from plstm_graph.dag import ORDERS, LineDAGIndex, build_line_dag, row_keys
from plstm_graph.functional import ENGINES, plstm_dag
from plstm_graph.nn.norm import MultiHeadRMSNorm

MODES = ("P", "D")
NORM_GROUPS = ("fanout", "fanin")
TRANSITION_INITS = ("random", "spread")
SPREAD_RANGE = (1.0, 3.0)  # pre-activation transition biases of the "spread" init


class OrientedLineDAG(NamedTuple):
    """One orientation of the structure, as a layer consumes it."""

    dag_edge: Tensor  # PyG edge id of each DAG edge [E]
    tail: Tensor  # [E]
    head: Tensor  # [E]
    line_index: Tensor  # [2, L] line edges used by the layer's mode
    edge_level: Tensor  # [E]


class Projections(NamedTuple):
    """The linear maps of a layer's input, shared by both orientations."""

    query: Tensor  # [N, H, C]
    key: Tensor  # [N, H, C]
    value: Tensor  # [N, H, C]
    node_gates: Tensor  # [N, 4, H] source, mark, direct, transition at the junction; biases
    edge_gates: Tensor  # [E, 4, H] source, mark, transition of e', transition of e (DAG edges)


class PLSTMConv(MessagePassing):
    r"""The pLSTM graph operator from the `"pLSTM: parallelizable Linear Source Transition Mark
    networks" <https://arxiv.org/abs/2506.11997>`_ paper.

    The undirected graph is oriented into a DAG (edges point from lower to higher node priority,
    see :class:`~plstm_graph.transforms.LineDAG`); every DAG edge :math:`e = (t(e) \to h(e))`
    carries a matrix memory per head, fed by its tail node and by the edges entering its tail
    through line-graph transitions, and read out by its head node:

    .. math::
        \mathbf{C}_e &= S_e\, \mathbf{k}_{t(e)} \mathbf{v}_{t(e)}^{\top}
            + \sum_{e' \to e} T_{e \leftarrow e'}\, \mathbf{C}_{e'}

        \mathbf{x}'_n &= \mathbf{W}_o \operatorname{RMSNorm}_h\Big(
            \sum_{e:\, h(e) = n} M_e\, \mathbf{C}_e^{\top} \mathbf{q}_n
            + D_n\, (\mathbf{q}_n^{\top} \mathbf{k}_n)\, \mathbf{v}_n \Big)

    with :math:`\mathbf{q}, \mathbf{k}, \mathbf{v}` linear maps of :math:`\mathbf{x}`, the
    gates :math:`S_e = \sigma(\mathbf{w}_S^\top [\mathbf{x}_{t(e)} \| \mathbf{z}_e])`,
    :math:`M_e = \sigma(\mathbf{w}_M^\top [\mathbf{x}_{h(e)} \| \mathbf{z}_e])`,
    :math:`D_n = \sigma(\mathbf{w}_D^\top \mathbf{x}_n)` and the transition pre-activation
    :math:`\tau_{e \leftarrow e'} = \mathbf{w}_T^\top [\mathbf{z}_{e'} \| \mathbf{z}_e \|
    \mathbf{x}_j]` at the junction node :math:`j = h(e') = t(e)`. In P-mode (propagation)
    :math:`T = \tau / (0.5 + \sum_{\text{group}} |\tau|)` over the full line DAG, so the
    transitions of a group sum to less than one in absolute value; in D-mode (distribution)
    :math:`T = \tanh(\tau)` on the line DAG pruned to a multitree. :math:`\mathbf{z}_e` is the
    edge feature (``edge_attr``) or, without one, :math:`(\mathbf{x}_{t(e)} + \mathbf{x}_{h(e)})/2`.

    The propagation runs in :func:`plstm_graph.functional.plstm_dag`; it does not use
    :meth:`propagate`.

    Args:
        in_channels (int): size of each input sample.
        out_channels (int): size of each output sample; a multiple of ``heads``.
        heads (int, optional): number of memory heads. (default: :obj:`4`)
        mode (str, optional): ``"P"`` (propagation) or ``"D"`` (distribution).
            (default: :obj:`"P"`)
        edge_dim (int, optional): edge feature dimensionality. With :obj:`None`, ``edge_attr``
            (if given) must have ``in_channels`` features, and without ``edge_attr`` the mean of
            the two end nodes' features stands in for it. (default: :obj:`None`)
        reverse (bool, optional): run on the reversed DAG; stacks alternate orientations.
            (default: :obj:`False`)
        bidirectional (bool, optional): run both orientations of the DAG with the same weights
            and average the two propagations before the normalisation, so every node reads
            from its ancestors and its descendants in one layer (``PLSTM_SPEC.md`` A4); it
            costs two propagations. Excludes ``reverse``. (default: :obj:`False`)
        norm_group (str, optional): P-mode normalisation group: ``"fanout"`` (all transitions
            leaving one incoming edge, paper Eq. 9) or ``"fanin"`` (all transitions entering one
            edge, as the reference code). (default: :obj:`"fanout"`)
        engine (str, optional): ``"auto"`` (the scan on a CUDA GPU, on a CPU the engine that
            suits the graph sizes: :func:`plstm_graph.functional.auto_engine`), ``"scan"``,
            ``"dense"`` or ``"loop"``. (default: :obj:`"auto"`)
        order (str, optional): node order used when the structure is built on the fly (no
            ``dag`` given): ``"canonical"`` (Weisfeiler-Lehman ranks of the input features ``x``,
            so the result does not depend on node numbering), ``"index"``, ``"bfs"`` or ``"dfs"``.
            Precomputing the structure with :class:`~plstm_graph.transforms.LineDAG` is faster
            and, for molecules, uses RDKit's canonical ranks. (default: :obj:`"canonical"`)
        transition_init (str, optional): initial transition biases: ``"random"`` (the
            reference's near-critical init, :math:`\mathcal{N}(0, \sigma^2)` per head, which
            saturates :math:`\tanh` and the P-mode normalisation at :math:`\pm 1`) or
            ``"spread"`` (positive, linearly spaced in :math:`[1, 3]` over the heads, so heads
            start with different decays and the transitions still receive gradient).
            (default: :obj:`"random"`)
        transition_bias_std (float, optional): :math:`\sigma` of the ``"random"`` init.
            (default: :obj:`10.0`)
        **kwargs (optional): Additional arguments of
            :class:`torch_geometric.nn.conv.MessagePassing` (not ``aggr`` or ``flow``: the
            layer does not aggregate through :meth:`propagate`).

    Shapes:
        - **input:**
          node features :math:`(|\mathcal{V}|, F_{in})`,
          edge indices :math:`(2, |\mathcal{E}|)` (both directions of every edge, or a DAG),
          edge features :math:`(|\mathcal{E}|, D)` *(optional)*,
          precomputed structure :class:`~plstm_graph.dag.LineDAGIndex` *(optional)*,
          batch vector :math:`(|\mathcal{V}|)` *(optional)*
        - **output:** node features :math:`(|\mathcal{V}|, F_{out})`
    """

    def __init__(self, in_channels: int, out_channels: int, heads: int = 4, mode: str = "P",
                 edge_dim: int | None = None, reverse: bool = False, bidirectional: bool = False,
                 norm_group: str = "fanout", engine: str = "auto", order: str = "canonical",
                 transition_init: str = "random", transition_bias_std: float = 10.0,
                 **kwargs) -> None:
        for name in ("aggr", "flow"):
            if name in kwargs:
                raise ValueError(f"PLSTMConv: '{name}' has no effect, the layer aggregates "
                                 "through the pLSTM propagation, not propagate()")
        super().__init__(aggr="add", **kwargs)
        for name, value, allowed in (("mode", mode, MODES), ("norm_group", norm_group,
                                     NORM_GROUPS), ("engine", engine, ENGINES),
                                     ("order", order, ORDERS),
                                     ("transition_init", transition_init, TRANSITION_INITS)):
            if value not in allowed:
                raise ValueError(f"PLSTMConv: unknown {name} '{value}'; choose one of {allowed}")
        if reverse and bidirectional:
            raise ValueError("PLSTMConv: 'reverse' has no effect with 'bidirectional', which "
                             "runs both orientations")
        if out_channels % heads:
            raise ValueError(f"PLSTMConv: out_channels ({out_channels}) must be a multiple of "
                             f"heads ({heads})")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.heads = heads
        self.head_channels = out_channels // heads
        self.mode = mode
        self.edge_dim = edge_dim
        self.reverse = reverse
        self.bidirectional = bidirectional
        self.norm_group = norm_group
        self.engine = engine
        self.order = order
        self.transition_init = transition_init
        self.transition_bias_std = transition_bias_std

        edge_channels = edge_dim if edge_dim is not None else in_channels
        self.lin_qkv = nn.Linear(in_channels, 3 * out_channels)
        # Each gate is one linear map of a concatenation of node and edge features, computed as
        # a sum of per-node and per-edge parts before gathering, so no wide rows are gathered:
        # node part [source | mark | direct | transition at the junction], with the biases;
        # edge part [source | mark | transition of e' | transition of e].
        self.lin_node_gates = nn.Linear(in_channels, 4 * heads)
        self.lin_edge_gates = nn.Linear(edge_channels, 4 * heads, bias=False)
        self.norm = MultiHeadRMSNorm(heads, self.head_channels)
        self.lin_out = nn.Linear(out_channels, out_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for lin in (self.lin_qkv, self.lin_out):  # "small init" N(0, 2 / (5 fan_in))
            nn.init.normal_(lin.weight, std=math.sqrt(2 / (5 * lin.in_features)))
            nn.init.zeros_(lin.bias)
        nn.init.zeros_(self.lin_node_gates.weight)
        nn.init.zeros_(self.lin_edge_gates.weight)
        bias = self.lin_node_gates.bias.detach().view(4, self.heads)
        bias[:3] = -5.0  # source, mark and direct gates start nearly shut
        if self.transition_init == "random":
            nn.init.normal_(bias[3], std=self.transition_bias_std)
        else:
            bias[3] = torch.linspace(*SPREAD_RANGE, self.heads)
        self.norm.reset_parameters()

    def line_dag(self, x: Tensor, edge_index: Tensor, dag: LineDAGIndex | None,
                 batch: OptTensor) -> LineDAGIndex:
        """``dag`` if given, else the structure built from the input in this layer's order."""
        if dag is None:
            dag = build_line_dag(edge_index, x.size(0), batch, self.order, x=row_keys(x))
        return dag

    def orient(self, edge_index: Tensor, dag: LineDAGIndex,
               reverse: bool | None = None) -> OrientedLineDAG:
        """The structure in this layer's mode and in the layer's orientation, or in the one
        ``reverse`` gives."""
        tail, head = edge_index[:, dag.dag_edge]
        line_index, keep, level = dag.line_index, dag.line_keep, dag.dag_level
        if reverse is None:
            reverse = self.reverse
        if reverse:
            tail, head = head, tail
            line_index, keep, level = line_index.flip(0), dag.line_keep_rev, dag.dag_level_rev
        if self.mode == "D":
            line_index = line_index[:, keep]
        return OrientedLineDAG(dag.dag_edge, tail, head, line_index, level)

    def project(self, x: Tensor, structure: OrientedLineDAG,
                edge_attr: OptTensor) -> Projections:
        """The linear maps of the input, which both orientations share (``structure`` may be
        either: the edge part depends on the two end nodes, not on which is the tail)."""
        if edge_attr is None:
            if self.edge_dim is not None:
                raise ValueError("PLSTMConv: built with edge_dim but called without edge_attr")
            per_node = self.lin_edge_gates(x)
            edge = (per_node.index_select(0, structure.tail)
                    + per_node.index_select(0, structure.head)) / 2
        else:
            expected = self.edge_dim if self.edge_dim is not None else self.in_channels
            if edge_attr.size(-1) != expected:
                raise ValueError(f"PLSTMConv: edge_attr has {edge_attr.size(-1)} features, "
                                 f"expected {expected}; consider setting 'edge_dim'")
            edge = self.lin_edge_gates(edge_attr).index_select(0, structure.dag_edge)
        query, key, value = self.lin_qkv(x).view(-1, 3, self.heads, self.head_channels).unbind(1)
        return Projections(query, key, value, self.lin_node_gates(x).view(-1, 4, self.heads),
                           edge.view(-1, 4, self.heads))

    def gates(self, projections: Projections,
              structure: OrientedLineDAG) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Source ``[E, H]``, transition ``[L, H]``, mark ``[E, H]`` and direct ``[N, H]``."""
        tail, head, (into, out) = structure.tail, structure.head, structure.line_index
        node, edge = projections.node_gates, projections.edge_gates
        # index_select rather than advanced indexing: several times faster on the CPU
        source = torch.sigmoid(node[:, 0].index_select(0, tail) + edge[:, 0])
        mark = torch.sigmoid(node[:, 1].index_select(0, head) + edge[:, 1])
        direct = torch.sigmoid(node[:, 2])
        tau = (edge[:, 2].index_select(0, into) + edge[:, 3].index_select(0, out)
               + node[:, 3].index_select(0, head.index_select(0, into)))
        if self.mode == "D":
            return source, torch.tanh(tau), mark, direct
        group = into if self.norm_group == "fanout" else out
        total = scatter(tau.abs(), group, dim=0, dim_size=tail.numel(), reduce="sum")
        return source, tau / (0.5 + total.index_select(0, group)), mark, direct

    def oriented_inputs(self, projections: Projections, structure: OrientedLineDAG,
                        batch: OptTensor) -> tuple[list[Tensor], dict]:
        source, transition, mark, direct = self.gates(projections, structure)
        return ([projections.query, projections.key, projections.value, source, transition,
                 mark, direct, torch.stack([structure.tail, structure.head]),
                 structure.line_index], {"edge_level": structure.edge_level, "batch": batch})

    def propagation_inputs(self, x: Tensor, edge_index: Adj, edge_attr: OptTensor = None,
                           dag: LineDAGIndex | None = None, batch: OptTensor = None,
                           reverse: bool | None = None) -> tuple[list[Tensor], dict]:
        """What :meth:`forward` passes to :func:`~plstm_graph.functional.plstm_dag` for one
        orientation (see :meth:`orient`): the positional tensors (query, key, value, source,
        transition, mark, direct, DAG edges, line edges) and the keyword options
        ``edge_level`` and ``batch``."""
        structure = self.orient(edge_index, self.line_dag(x, edge_index, dag, batch), reverse)
        return self.oriented_inputs(self.project(x, structure, edge_attr), structure, batch)

    def forward(self, x: Tensor, edge_index: Adj, edge_attr: OptTensor = None,
                dag: LineDAGIndex | None = None, batch: OptTensor = None) -> Tensor:
        orientations = (False, True) if self.bidirectional else (self.reverse,)
        dag = self.line_dag(x, edge_index, dag, batch)
        structures = [self.orient(edge_index, dag, reverse) for reverse in orientations]
        projections = self.project(x, structures[0], edge_attr)  # shared by both orientations
        out = 0
        for structure in structures:
            inputs, options = self.oriented_inputs(projections, structure, batch)
            out = out + plstm_dag(*inputs, engine=self.engine, **options)
        out = self.norm(out / len(orientations)).reshape(-1, self.out_channels)
        return self.lin_out(out)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
                f"heads={self.heads}, mode='{self.mode}', reverse={self.reverse}, "
                f"bidirectional={self.bidirectional}, "
                f"norm_group='{self.norm_group}', engine='{self.engine}')")

