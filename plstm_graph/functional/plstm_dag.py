"""The pLSTM kernel on a DAG: the public entry point, input checks and engine choice."""
from __future__ import annotations

import torch
from torch import Tensor

from plstm_graph.dag import edge_levels
from plstm_graph.functional.dense import dense_engine
from plstm_graph.functional.loop import loop_engine
from plstm_graph.functional.scan import scan_engine

ENGINES = ("auto", "loop", "scan", "dense")

# On a CPU, ``auto`` uses the dense closed form while every graph is small enough for its
# per-graph (edges x edges) triangular solve to be cheap, and the level scan otherwise (long
# chains, large graphs). On a CUDA GPU the scan's per-level kernels are cheap and the dense
# form's many small per-bucket ones are not: there the scan was about twice as fast even on
# small molecules. Measured crossover and GPU table: benchmarks/README.md.
DENSE_MAX_EDGES = 160


def auto_engine(device_type: str, max_graph_edges: int) -> str:
    """The engine that ``engine="auto"`` runs on a device of this type (``"cpu"``,
    ``"cuda"``, ...) for a batch whose largest graph has ``max_graph_edges`` DAG edges."""
    if device_type == "cuda" or max_graph_edges > DENSE_MAX_EDGES:
        return "scan"
    return "dense"


def _check(query, key, value, source, transition, mark, direct, edge_index, line_index):
    n, h, k = query.shape
    e, ell = edge_index.size(1), line_index.size(1)
    expected = {
        "key": (key, (n, h, k)), "value": (value, (n, h, value.size(-1))),
        "source": (source, (e, h)), "mark": (mark, (e, h)), "transition": (transition, (ell, h)),
        "direct": (direct, (n, h)),
    }
    for name, (tensor, shape) in expected.items():
        if tuple(tensor.shape) != shape:
            raise ValueError(f"plstm_dag: '{name}' has shape {tuple(tensor.shape)}, "
                             f"expected {shape}")
    if ell and bool((edge_index[1, line_index[0]] != edge_index[0, line_index[1]]).any()):
        bad = (edge_index[1, line_index[0]] != edge_index[0, line_index[1]]).nonzero()[0, 0]
        raise ValueError(f"plstm_dag: line edge {int(bad)} joins DAG edges "
                         f"{line_index[:, bad].tolist()} that do not meet "
                         "(head of the first must be the tail of the second)")


def plstm_dag(query: Tensor, key: Tensor, value: Tensor, source: Tensor, transition: Tensor,
              mark: Tensor, direct: Tensor, edge_index: Tensor, line_index: Tensor,
              engine: str = "auto", edge_level: Tensor | None = None,
              batch: Tensor | None = None) -> Tensor:
    r"""pLSTM Source/Transition/Mark propagation over a DAG (``PLSTM_SPEC.md`` §1.2).

    .. math::
        C_e = S_e\, k_{t(e)} v_{t(e)}^\top + \sum_{(e' \to e)} T_{e \leftarrow e'}\, C_{e'}
        \qquad
        y_n = \sum_{e:\, h(e) = n} M_e\, C_e^\top q_n + D_n\, (q_n^\top k_n)\, v_n

    Args:
        query, key: ``[N, H, K]``; value: ``[N, H, V]``.
        source, mark: ``[E, H]``; transition: ``[L, H]``; direct: ``[N, H]``.
        edge_index: DAG edges ``[2, E]`` as (tail, head).
        line_index: ``[2, L]`` pairs (incoming edge ``e'``, outgoing edge ``e``) with
            ``head(e') == tail(e)``; any subset of the full line graph, acyclic.
        engine: ``"loop"`` (per-edge reference), ``"scan"`` (level-synchronous),
            ``"dense"`` (closed form per graph) or ``"auto"`` (:func:`auto_engine`: the scan
            on a CUDA GPU; on a CPU the dense form while every graph has at most
            ``DENSE_MAX_EDGES`` DAG edges, else the scan).
        edge_level: optional precomputed topological level of each DAG edge in the line DAG
            (any leveling with ``level[e'] < level[e]`` for every line edge).
        batch: optional graph id of each node; the dense engine otherwise finds the connected
            components itself.

    Returns:
        ``y`` of shape ``[N, H, V]``, in float32 or wider (also under autocast).

    Raises:
        ValueError: on mismatched shapes, a line edge that joins edges that do not meet, or a
            cyclic ``line_index``.
    """
    if engine not in ENGINES:
        raise ValueError(f"plstm_dag: unknown engine '{engine}'; choose one of {ENGINES}")
    _check(query, key, value, source, transition, mark, direct, edge_index, line_index)
    num_edges = edge_index.size(1)
    if edge_level is None:
        edge_level = edge_levels(line_index, num_edges)
    elif line_index.numel() and bool((edge_level[line_index[0]] >= edge_level[line_index[1]])
                                     .any()):
        raise ValueError("plstm_dag: edge_level is not a topological leveling of line_index "
                         "(it is cyclic or the levels are stale)")

    dtype = torch.promote_types(query.dtype, torch.float32)
    tensors = [t.to(dtype) for t in (query, key, value, source, transition, mark, direct)]
    if engine == "auto":
        engine = auto_engine(query.device.type, _max_graph_edges(edge_index, batch))
    with torch.autocast(query.device.type, enabled=False):
        if engine == "loop":
            return loop_engine(*tensors, edge_index, line_index, edge_level)
        if engine == "scan":
            return scan_engine(*tensors, edge_index, line_index, edge_level)
        return dense_engine(*tensors, edge_index, line_index, edge_level, batch)


def _max_graph_edges(edge_index: Tensor, batch: Tensor | None) -> int:
    if batch is None or edge_index.size(1) == 0:
        return edge_index.size(1)
    return int(torch.bincount(batch[edge_index[0]]).max())
