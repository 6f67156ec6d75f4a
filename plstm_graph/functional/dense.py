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


def _exclusive_cumsum(x: Tensor) -> Tensor:
    return torch.cumsum(x, 0) - x


def dense_engine(query: Tensor, key: Tensor, value: Tensor, source: Tensor, transition: Tensor,
                 mark: Tensor, direct: Tensor, edge_index: Tensor, line_index: Tensor,
                 edge_level: Tensor, batch: Tensor | None) -> Tensor:
    num_nodes, heads, dk = query.shape
    num_edges = edge_index.size(1)
    device = query.device
    direct_term = (direct * (query * key).sum(-1))[..., None] * value
    if num_edges == 0:
        return direct_term
    graph = batch if batch is not None else connected_components(edge_index, num_nodes)
    graph = torch.unique(graph, return_inverse=True)[1]
    tail, head = edge_index
    src, dst = line_index
    edge_graph = graph[tail]
    line_graph = edge_graph[dst]
    node_local = _group_rank(torch.arange(num_nodes, device=device), graph)
    # DAG edges in topological order within each graph: T becomes strictly lower triangular
    edge_local = _group_rank(edge_level * num_edges + torch.arange(num_edges, device=device),
                             edge_graph)

    # Bucket layout: graph g of bucket b sits at position slot[g] of the bucket's padded block
    # [size_b, H, n_max_b, ...]; all blocks of one kind share one flat buffer, laid out so that
    # each bucket's view is contiguous for the solver and the matmuls.
    num_graphs = int(graph.max()) + 1
    node_count = torch.bincount(graph, minlength=num_graphs)
    edge_count = torch.bincount(edge_graph, minlength=num_graphs)
    has_edges = edge_count > 0  # graphs without edges have only the direct term
    buckets, bucket = torch.unique(_size_buckets(torch.maximum(node_count, edge_count))
                                   [has_edges], return_inverse=True)
    graph_ids = has_edges.nonzero().view(-1)
    slot = _group_rank(graph_ids, bucket)
    zeros = torch.zeros(buckets.numel(), dtype=torch.long, device=device)
    size = torch.bincount(bucket, minlength=buckets.numel())
    n_max = zeros.scatter_reduce(0, bucket, node_count[graph_ids], "amax")
    e_max = zeros.scatter_reduce(0, bucket, edge_count[graph_ids], "amax")
    per_head = torch.stack([n_max, e_max * n_max, e_max * e_max])  # node rows, A_S/A_M, T
    blocks = size * heads * per_head
    base = torch.zeros(3, num_graphs, dtype=torch.long, device=device)
    base[:, graph_ids] = (torch.cumsum(blocks, 1) - blocks)[:, bucket] \
        + slot * heads * per_head[:, bucket]
    stride = torch.zeros_like(base)
    stride[:, graph_ids] = per_head[:, bucket]
    g_n = torch.zeros_like(graph)
    g_e = torch.zeros_like(graph)
    g_n[graph_ids], g_e[graph_ids] = n_max[bucket], e_max[bucket]
    h = torch.arange(heads, device=device)

    in_blocks = has_edges[graph].nonzero().view(-1)
    ng = graph[in_blocks]
    node_pos = (base[0, ng] + node_local[in_blocks])[:, None] + h * stride[0, ng][:, None]
    source_pos = (base[1, edge_graph] + edge_local * g_n[edge_graph] + node_local[tail])[:, None]
    mark_pos = (base[1, edge_graph] + node_local[head] * g_e[edge_graph] + edge_local)[:, None]
    line_pos = (base[2, line_graph] + edge_local[dst] * g_e[line_graph] + edge_local[src])[:, None]
    edge_heads = h * stride[1, edge_graph][:, None]

    total = blocks.sum(1).tolist()
    dv = value.size(-1)
    qkv = torch.cat([query, key, value], dim=-1)[in_blocks]
    qkv = qkv.new_zeros(total[0], 2 * dk + dv).index_put((node_pos.view(-1),),
                                                        qkv.view(-1, 2 * dk + dv))
    a_source = source.new_zeros(total[1]).index_put(((source_pos + edge_heads).view(-1),),
                                                    source.view(-1))
    a_mark = mark.new_zeros(total[1]).index_put(((mark_pos + edge_heads).view(-1),),
                                                mark.view(-1))
    neg_t = transition.new_zeros(total[2]).index_put(
        ((line_pos + h * stride[2, line_graph][:, None]).view(-1),), -transition.view(-1))

    outputs = []
    splits = [b.tolist() for b in blocks]
    for i, (qkv_b, s_b, m_b, t_b) in enumerate(zip(
            qkv.split(splits[0]), a_source.split(splits[1]), a_mark.split(splits[1]),
            neg_t.split(splits[2]))):
        sz, n, e = int(size[i]), int(n_max[i]), int(e_max[i])
        # (I - T) X = A_S; with unitriangular=True the solver never reads the diagonal
        paths = torch.linalg.solve_triangular(t_b.view(sz, heads, e, e), s_b.view(sz, heads, e, n),
                                              upper=False, unitriangular=True)
        gating = m_b.view(sz, heads, n, e) @ paths
        q, k, v = qkv_b.view(sz, heads, n, -1).split([dk, dk, dv], dim=-1)
        outputs.append((((q @ k.transpose(-1, -2)) * gating) @ v).view(-1, dv))
    attention = torch.cat(outputs)[node_pos]
    return direct_term.index_put((in_blocks,), attention, accumulate=True)
