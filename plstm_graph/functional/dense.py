"""The closed-form engine: per graph, masked linear attention with the gating matrix.

For one graph (``PLSTM_SPEC.md`` §1.3), with the DAG edges in topological order the transition
matrix ``T`` is strictly lower triangular, and

    G = A_M (I - T)^{-1} A_S,      Y = (G * (Q K^T)) V + D * (q . k) v.

Graphs are padded in buckets of similar size (padding a whole batch to its largest molecule
wastes most of the work) and each bucket runs one batched triangular solve and two batched
matmuls, all differentiable by autograd.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from plstm_graph.dag import _group_rank

# graphs whose size (max of nodes and DAG edges) differs by less than this factor share a bucket
BUCKET_GROWTH = 1.5
SMALLEST_BUCKET = 8


def connected_components(edge_index: Tensor, num_nodes: int) -> Tensor:
    """Component id of each node (min-label propagation; steps grow with the diameter)."""
    label = torch.arange(num_nodes, device=edge_index.device)
    src, dst = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    while True:
        new = label.scatter_reduce(0, dst, label[src], "amin")
        if torch.equal(new, label):
            return label
        label = new


def _size_buckets(sizes: Tensor) -> Tensor:
    scaled = sizes.clamp(min=SMALLEST_BUCKET).double() / SMALLEST_BUCKET
    return torch.ceil(torch.log(scaled) / math.log(BUCKET_GROWTH)).long()


def _pad_nodes(x: Tensor, slot: Tensor, size: int, n_max: int) -> Tensor:
    """``[n, H, C]`` node rows into ``[size, H, n_max, C]`` at flat positions ``slot``."""
    padded = x.new_zeros(size * n_max, *x.shape[1:]).index_put((slot,), x)
    return padded.view(size, n_max, *x.shape[1:]).transpose(1, 2)


def dense_engine(query: Tensor, key: Tensor, value: Tensor, source: Tensor, transition: Tensor,
                 mark: Tensor, direct: Tensor, edge_index: Tensor, line_index: Tensor,
                 edge_level: Tensor, batch: Tensor | None) -> Tensor:
    num_nodes, heads, _ = query.shape
    num_edges = edge_index.size(1)
    direct_term = (direct * (query * key).sum(-1))[..., None] * value
    if num_edges == 0:
        return direct_term
    graph = batch if batch is not None else connected_components(edge_index, num_nodes)
    graph = torch.unique(graph, return_inverse=True)[1]
    tail, head = edge_index
    edge_graph = graph[tail]
    node_local = _group_rank(torch.arange(num_nodes, device=graph.device), graph)
    edge_local = _group_rank(edge_level * num_edges + torch.arange(num_edges, device=graph.device),
                             edge_graph)
    num_graphs = int(graph.max()) + 1
    node_count = torch.bincount(graph, minlength=num_graphs)
    edge_count = torch.bincount(edge_graph, minlength=num_graphs)
    bucket = _size_buckets(torch.maximum(node_count, edge_count))
    bucket[edge_count == 0] = -1  # graphs without edges have only the direct term
    line_graph = edge_graph[line_index[1]]

    node_ids, outputs = [], []
    for b in torch.unique(bucket[bucket >= 0]).tolist():
        members = bucket == b
        slot = torch.cumsum(members, 0) - 1  # position of each member graph in the bucket
        size = int(members.sum())
        n_max = int(node_count[members].max())
        e_max = int(edge_count[members].max())
        nodes = members[graph].nonzero().view(-1)
        edges = members[edge_graph].nonzero().view(-1)
        lines = members[line_graph].nonzero().view(-1)
        node_slot = slot[graph[nodes]] * n_max + node_local[nodes]

        e_graph = slot[edge_graph[edges]]
        e_loc = edge_local[edges]
        src_shape = (size, e_max, n_max, heads)
        a_source = source.new_zeros(src_shape).index_put(
            (e_graph, e_loc, node_local[tail[edges]]), source[edges]).permute(0, 3, 1, 2)
        a_mark = mark.new_zeros(size, n_max, e_max, heads).index_put(
            (e_graph, node_local[head[edges]], e_loc), mark[edges]).permute(0, 3, 1, 2)
        l_src, l_dst = line_index[:, lines]
        neg_t = transition.new_zeros(size, e_max, e_max, heads).index_put(
            (slot[line_graph[lines]], edge_local[l_dst], edge_local[l_src]),
            -transition[lines]).permute(0, 3, 1, 2)
        # (I - T) X = A_S; with unitriangular=True the solver never reads the diagonal
        paths = torch.linalg.solve_triangular(neg_t, a_source, upper=False, unitriangular=True)
        gating = a_mark @ paths
        q, k, v = (_pad_nodes(t[nodes], node_slot, size, n_max) for t in (query, key, value))
        y = ((q @ k.transpose(-1, -2)) * gating) @ v
        node_ids.append(nodes)
        outputs.append(y.transpose(1, 2).reshape(size * n_max, heads, -1)[node_slot])
    if not node_ids:
        return direct_term
    return direct_term.index_put((torch.cat(node_ids),), torch.cat(outputs), accumulate=True)
