"""Vectorised DAG and line-graph construction for pLSTM.

Everything here works on a disjoint union of graphs at once (a PyG ``Batch`` or a single graph)
with a number of sequential steps that grows with the depth of the line DAG, never with the
number of nodes, edges or graphs. networkx is used only by the tests, as an oracle.

Terminology (see ``PLSTM_SPEC.md`` §1.1): a *DAG edge* ``e = (tail, head)`` carries a pLSTM cell
state; a *line edge* ``e' -> e`` joins two DAG edges with ``head(e') == tail(e)`` at their
*junction* node; the line DAG is leveled by longest path from its sources.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

ORDERS = ("canonical", "index", "bfs", "dfs")


def _group_rank(key: Tensor, group: Tensor) -> Tensor:
    """Dense rank (0, 1, ...) of ``key`` within each ``group``, ties broken by position."""
    n = key.numel()
    order = torch.sort(key, stable=True).indices
    order = order[torch.sort(group[order], stable=True).indices]
    counts = torch.bincount(group, minlength=int(group.max()) + 1 if n else 0)
    start = torch.cumsum(counts, 0) - counts
    rank = torch.empty(n, dtype=torch.long, device=key.device)
    rank[order] = torch.arange(n, device=key.device) - start[group[order]]
    return rank


def _hash(x: Tensor) -> Tensor:
    """A fixed 61-bit mixing function on int64 (splitmix-style), deterministic across runs."""
    x = (x * 0x9E3779B97F4A7C15) & 0x1FFFFFFFFFFFFFFF
    x = ((x ^ (x >> 29)) * 0xBF58476D1CE4E5B) & 0x1FFFFFFFFFFFFFFF
    return x ^ (x >> 31)


def row_keys(x: Tensor) -> Tensor:
    """One integer per row of ``x``, a hash of the row's exact values (bit patterns), so equal
    rows get equal keys wherever they are; ``[N, 1]``, for :func:`wl_rank` on wide float
    features."""
    values = x.detach().reshape(x.size(0), -1)
    if values.is_floating_point():
        values = values.float().view(torch.int32)
    salt = _hash(torch.arange(1, values.size(1) + 1, device=x.device))
    return _hash(values.long() ^ salt).sum(1, keepdim=True)


def wl_rank(edge_index: Tensor, num_nodes: int, batch: Tensor, x: Tensor | None = None,
            iterations: int = 8) -> Tensor:
    """Per-graph node ranks from Weisfeiler-Lehman colour refinement of ``x``.

    Used as the canonical order when no chemistry-aware rank (RDKit) is available: the rank
    depends only on the graph and its node features, except among nodes that refinement cannot
    tell apart, whose ties are broken by node index.
    """
    if x is None:
        colour = torch.zeros(num_nodes, dtype=torch.long, device=edge_index.device)
    else:
        feats = x.reshape(num_nodes, -1)
        feats = feats.long() if not feats.is_floating_point() else (feats * 1e6).round().long()
        colour = torch.zeros(num_nodes, dtype=torch.long, device=edge_index.device)
        for j in range(feats.size(1)):
            colour = _hash(colour * 31 + feats[:, j])
    src, dst = edge_index
    for _ in range(iterations):
        agg = torch.zeros_like(colour).index_add_(0, dst, _hash(colour[src] + 7))
        colour = _hash(colour * 1000003 + (agg & 0xFFFFFFFFFFFF))
    return _group_rank(colour, batch)


def _bfs_distance(edge_index: Tensor, num_nodes: int, root_mask: Tensor) -> Tensor:
    """Hop distance of every node from the nodes of ``root_mask``; ``num_nodes + 1`` where
    unreachable."""
    big = num_nodes + 1
    dist = torch.where(root_mask, 0, big)
    src, dst = edge_index
    for _ in range(num_nodes):
        cand = torch.full_like(dist, big).scatter_reduce_(0, dst, dist[src] + 1, "amin")
        new = torch.minimum(dist, cand)
        if torch.equal(new, dist):
            break
        dist = new
    return dist


def pseudo_peripheral_root(edge_index: Tensor, num_nodes: int, batch: Tensor,
                           rank: Tensor) -> Tensor:
    """A canonical pseudo-peripheral node of each graph (as a node mask), by a double sweep: BFS
    from the lowest-ranked node, then the farthest node from it (lowest rank among the
    farthest)."""
    num_graphs = int(batch.max()) + 1 if num_nodes else 0
    big = num_nodes + 1

    def pick(score: Tensor) -> Tensor:
        # the node with the highest score per graph, lowest rank among ties
        key = score * big - rank
        best = torch.full((num_graphs,), -(2**62), dtype=torch.long,
                          device=score.device).scatter_reduce_(0, batch, key, "amax")
        return key == best[batch]

    dist = _bfs_distance(edge_index, num_nodes, pick(-rank))
    return pick(torch.where(dist >= big, -1, dist))


def pseudo_peripheral_bfs_rank(edge_index: Tensor, num_nodes: int, batch: Tensor,
                               rank: Tensor) -> Tensor:
    """Order nodes by BFS distance from a canonical pseudo-peripheral root (ties: ``rank``).

    This lengthens the paths along which one pLSTM layer propagates compared with canonical
    order (``PLSTM_SPEC.md`` §4); nodes of other fragments (the counter-ion of a salt) follow,
    in canonical-rank order.
    """
    root = pseudo_peripheral_root(edge_index, num_nodes, batch, rank)
    dist = _bfs_distance(edge_index, num_nodes, root)
    return _group_rank(dist * (num_nodes + 1) + rank, batch)


def pseudo_peripheral_dfs_rank(edge_index: Tensor, num_nodes: int, batch: Tensor,
                               rank: Tensor) -> Tensor:
    """Order nodes by depth-first preorder from a canonical pseudo-peripheral root, visiting
    neighbours in ``rank`` order; other fragments follow, each from its lowest-ranked node.

    Edges of the DFS tree and ring closures both run from earlier to later nodes, so the DAG's
    paths are as long as a depth-first walk makes them, as with the reference code's index
    order on atoms numbered in SMILES writing order, but independent of the numbering. The
    walk is sequential (Python), unlike the other orders.
    """
    big = num_nodes + 1
    root = pseudo_peripheral_root(edge_index, num_nodes, batch, rank)
    src, dst = edge_index
    by_source = torch.argsort(src * big + rank[dst])  # each node's neighbours, lowest rank first
    neighbours = dst[by_source].tolist()
    ends = torch.cumsum(torch.bincount(src, minlength=num_nodes), 0).tolist()
    starts = torch.argsort(batch * 2 * big + (~root) * big + rank).tolist()
    preorder, visited, count = [0] * num_nodes, [False] * num_nodes, 0
    for first in starts:
        stack = [first]
        while stack:
            node = stack.pop()
            if visited[node]:
                continue
            visited[node] = True
            preorder[node] = count
            count += 1
            begin = ends[node - 1] if node else 0
            stack.extend(reversed(neighbours[begin:ends[node]]))
    return _group_rank(torch.tensor(preorder, device=edge_index.device), batch)


def node_order(edge_index: Tensor, num_nodes: int, batch: Tensor | None = None,
               order: str = "canonical", rank: Tensor | None = None,
               x: Tensor | None = None) -> Tensor:
    """A per-graph priority of each node; DAG edges point from lower to higher priority.

    Args:
        order: ``"canonical"`` (``rank`` when given, e.g. RDKit's canonical atom ranks, else
            Weisfeiler-Lehman ranks of ``x``), ``"index"`` (node numbering, the reference
            implementation's behaviour), ``"bfs"`` (BFS from a canonical pseudo-peripheral
            root) or ``"dfs"`` (depth-first from that root: the longest propagation paths).
    """
    if order not in ORDERS:
        raise ValueError(f"Unknown DAG order '{order}'; choose one of {ORDERS}")
    device = edge_index.device
    if batch is None:
        batch = torch.zeros(num_nodes, dtype=torch.long, device=device)
    if order == "index":
        return torch.arange(num_nodes, device=device)
    canonical = rank.long() if rank is not None else wl_rank(edge_index, num_nodes, batch, x)
    if order == "canonical":
        return canonical
    walk = pseudo_peripheral_bfs_rank if order == "bfs" else pseudo_peripheral_dfs_rank
    return walk(edge_index, num_nodes, batch, canonical)


def orient(edge_index: Tensor, priority: Tensor) -> Tensor:
    """Ids of the PyG edges that become DAG edges.

    An undirected graph (every edge present in both directions) keeps each edge ``u -> v`` with
    ``priority[u] < priority[v]`` (ties: ``u < v``); a directed graph keeps all its edges and
    their true directions (it must be acyclic, which :func:`edge_levels` checks). Self-loops are
    dropped.

    Raises:
        ValueError: if some edges have their reverse and others do not.
    """
    src, dst = edge_index
    num_nodes = int(priority.numel())
    key = src * num_nodes + dst
    rev_key = dst * num_nodes + src
    sorted_key = torch.sort(key).values
    pos = torch.searchsorted(sorted_key, rev_key).clamp(max=max(key.numel() - 1, 0))
    has_reverse = sorted_key[pos] == rev_key if key.numel() else key.bool()
    if bool(has_reverse.all()):
        # equal priorities (a user's rank with ties) fall back to node ids, so no bond is lost
        keep = (priority[src] < priority[dst]) | ((priority[src] == priority[dst]) & (src < dst))
        return keep.nonzero().view(-1)
    paired = has_reverse & (src != dst)
    if bool(paired.any()):
        lone, pair = int((~has_reverse).nonzero()[0, 0]), int(paired.nonzero()[0, 0])
        raise ValueError(
            f"edge_index is neither undirected nor a DAG: edge {lone} "
            f"({int(src[lone])} -> {int(dst[lone])}) lacks its reverse while edge {pair} "
            f"({int(src[pair])} -> {int(dst[pair])}) has one; for an undirected graph use "
            "torch_geometric.utils.to_undirected")
    return (src != dst).nonzero().view(-1)


def line_graph(tail: Tensor, head: Tensor, num_nodes: int) -> Tensor:
    """All line edges ``(e', e)`` with ``head[e'] == tail[e]``; returns ``[2, L]``.

    An O(sum of in-degree x out-degree) join at each junction node, sorted by (target, source).
    """
    num_edges = tail.numel()
    in_order = torch.argsort(head, stable=True)
    indeg = torch.bincount(head, minlength=num_nodes)
    in_start = torch.cumsum(indeg, 0) - indeg
    count = indeg[tail]  # number of predecessors of each DAG edge
    dst = torch.repeat_interleave(torch.arange(num_edges, device=tail.device), count)
    first = torch.cumsum(count, 0) - count
    offset = torch.arange(dst.numel(), device=tail.device) - first[dst]
    src = in_order[in_start[tail[dst]] + offset]
    return torch.stack([src, dst])


def edge_levels(line_index: Tensor, num_edges: int) -> Tensor:
    """Topological level of each DAG edge in the line DAG: the longest path from a source.

    Raises:
        ValueError: if the line graph has a cycle.
    """
    src, dst = line_index
    device = line_index.device
    level = torch.full((num_edges,), -1, dtype=torch.long, device=device)
    remaining = torch.bincount(dst, minlength=num_edges)
    # successors of each DAG edge as CSR, so every step touches only the current frontier
    by_src = torch.argsort(src, stable=True)
    out_start = torch.cumsum(torch.bincount(src, minlength=num_edges), 0)
    out_count = torch.diff(out_start, prepend=out_start.new_zeros(1))
    out_start = out_start - out_count
    frontier = (remaining == 0).nonzero().view(-1)
    depth = 0
    while frontier.numel():
        level[frontier] = depth
        count = out_count[frontier]
        first = torch.repeat_interleave(out_start[frontier] - torch.cumsum(count, 0) + count,
                                        count)
        targets = dst[by_src[first + torch.arange(first.numel(), device=device)]]
        remaining.index_add_(0, targets, torch.full_like(targets, -1))
        frontier = torch.unique(targets[remaining[targets] == 0])
        depth += 1
    if bool((level < 0).any()):
        bad = (level < 0).nonzero().view(-1)[:5].tolist()
        raise ValueError(f"line_index is cyclic: DAG edges {bad} lie on or behind a cycle")
    return level


def multitree_mask(line_index: Tensor, level: Tensor, edge_graph: Tensor) -> Tensor:
    """D-mode pruning: a keep-mask over line edges that leaves a multitree (spec A17).

    Greedy and deterministic: DAG edges are visited by (level, id); each one's predecessors are
    visited by (level, id) too; the link ``p -> c`` is kept unless some ancestor of ``p`` (``p``
    included) already reaches ``c`` through a link kept before. At most one directed path then
    joins any two DAG edges. Ancestor sets are bitsets over the edges of the same graph, so the
    work is vectorised across all edges of a level and all graphs of a batch.
    """
    src, dst = line_index
    num_edges = level.numel()
    device = level.device
    keep = torch.zeros(src.numel(), dtype=torch.bool, device=device)
    if src.numel() == 0:
        return keep
    local = _group_rank(torch.arange(num_edges, device=device), edge_graph)
    words = int(local.max()) // 64 + 1
    word_of = local // 64
    bit_of = torch.bitwise_left_shift(torch.ones_like(local), local % 64)
    ancestors = torch.zeros(num_edges, words, dtype=torch.long, device=device)
    ancestors[torch.arange(num_edges, device=device), word_of] = bit_of

    # Each target's predecessors in (level, id) order get slots 0, 1, ...; line edges are then
    # grouped by (target level, slot), so every group is one contiguous, vectorised step.
    order = torch.argsort((level[dst] * num_edges + dst) * (num_edges * (int(level.max()) + 1))
                          + level[src] * num_edges + src)
    slot = _group_rank(torch.arange(order.numel(), device=device), dst[order])
    step_key = level[dst[order]] * (int(slot.max()) + 1) + slot
    regroup = torch.argsort(step_key, stable=True)
    order, step_key = order[regroup], step_key[regroup]
    steps, sizes = torch.unique_consecutive(step_key, return_counts=True)
    first_slot = (steps % (int(slot.max()) + 1) == 0).tolist() + [True]
    # union of the ancestor sets of the kept predecessors of each target so far
    reached = torch.zeros(num_edges, words, dtype=torch.long, device=device)
    for i, sel in enumerate(order.split(sizes.tolist())):
        p, c = src[sel], dst[sel]
        if first_slot[i]:
            targets = c  # slot 0 holds every target of the level once
        ok = ~(ancestors[p] & reached[c]).ne(0).any(1)
        keep[sel[ok]] = True
        reached[c[ok]] |= ancestors[p[ok]]
        if first_slot[i + 1]:  # the level is complete
            ancestors[targets] |= reached[targets]
    return keep


class LineDAGIndex(NamedTuple):
    """The precomputed pLSTM structure of a (batched) graph.

    Attributes:
        dag_edge: ids (columns of ``edge_index``) of the PyG edges that are DAG edges ``[E]``.
        line_index: line edges ``(e', e)`` between DAG edges ``[2, L]``.
        line_keep: D-mode multitree mask of the forward orientation ``[L]``.
        line_keep_rev: D-mode multitree mask of the reversed orientation ``[L]``.
        dag_level: level of each DAG edge in the forward line DAG ``[E]``.
        dag_level_rev: level of each DAG edge in the reversed line DAG ``[E]``.
    """

    dag_edge: Tensor
    line_index: Tensor
    line_keep: Tensor
    line_keep_rev: Tensor
    dag_level: Tensor
    dag_level_rev: Tensor

    @classmethod
    def from_data(cls, data) -> LineDAGIndex:
        """Read the fields that :class:`plstm_graph.transforms.LineDAG` stored on ``data``."""
        return cls(*(getattr(data, name) for name in cls._fields))


def build_line_dag(edge_index: Tensor, num_nodes: int, batch: Tensor | None = None,
                   order: str = "canonical", rank: Tensor | None = None,
                   x: Tensor | None = None) -> LineDAGIndex:
    """Orient, build the line DAG, level it both ways and prune it to multitrees, in one pass."""
    device = edge_index.device
    if batch is None:
        batch = torch.zeros(num_nodes, dtype=torch.long, device=device)
    priority = node_order(edge_index, num_nodes, batch, order, rank, x)
    dag_edge = orient(edge_index, priority)
    tail, head = edge_index[:, dag_edge]
    line_index = line_graph(tail, head, num_nodes)
    num_edges = dag_edge.numel()
    edge_graph = batch[tail]
    level = edge_levels(line_index, num_edges)
    level_rev = edge_levels(line_index.flip(0), num_edges)
    keep = multitree_mask(line_index, level, edge_graph)
    keep_rev = multitree_mask(line_index.flip(0), level_rev, edge_graph)
    return LineDAGIndex(dag_edge, line_index, keep, keep_rev, level, level_rev)


def line_dag_of(data, order: str = "canonical") -> LineDAGIndex:
    """The structure of a (batched) PyG graph: the fields that
    :class:`~plstm_graph.transforms.LineDAG` stored on it, or else built now from what the
    transform would use (the ``canonical_rank`` field, or Weisfeiler-Lehman ranks of ``x``)."""
    if "dag_edge" in data:
        return LineDAGIndex.from_data(data)
    rank = data.canonical_rank if order != "index" and "canonical_rank" in data else None
    return build_line_dag(data.edge_index, data.num_nodes, data.batch, order, rank,
                          data.x if rank is None else None)
