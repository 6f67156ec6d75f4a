"""The closed-form engine: per graph, masked linear attention with the gating matrix.

For one graph (``PLSTM_SPEC.md`` §1.3), with the DAG edges in topological order the transition
matrix ``T`` is strictly lower triangular, and

    G = A_M (I - T)^{-1} A_S + diag(D),      Y = (G * (Q K^T)) V.

Graphs are padded in buckets of similar size (padding a whole batch to its largest molecule
wastes most of the work); each bucket runs one batched triangular solve (for the inverse) and a
few batched matmuls, forward and backward written out in :class:`_BucketAttention`. The index
bookkeeping depends only on the structure and is computed once per call by
:func:`dense_layout`; moving rows in and out of the padded layout costs one gather each way,
also in the backward pass.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from plstm_graph.dag import _group_rank

# graphs whose size (max of nodes and DAG edges) differs by less than this factor share a bucket
BUCKET_GROWTH = 1.5
SMALLEST_BUCKET = 8


class DenseLayout(NamedTuple):
    """Where every node row and every gate lands in the padded per-bucket blocks.

    Node rows of bucket ``b`` form a block ``[size_b, H, n_b]``; its coefficients form the
    blocks ``-T`` and ``A_S`` (stored transposed, so the triangular solver reads them without a
    copy) and ``A_M``, one after the other in one flat buffer. Graphs without edges have
    ``e = 0`` blocks and only the direct term.

    Padding rows hold some node's q/k/v/D and, in the backward pass, some node's output
    gradient. Off the diagonal, their rows and columns of ``G`` are zero, and the gates are read
    only at real positions, so they add nothing to any real output or gradient; this is what
    lets both gathers below be undone by a gather.
    """

    row_source: Tensor  # [R] row (node * H + head) that fills each padded row
    output_row: Tensor  # [N * H] padded row of each node and head
    coefficient_pos: Tensor  # [(L + 2E) * H] flat positions of -T, S and M, in that order
    shapes: list[tuple[int, int, int]]  # (graphs, n, e) of each bucket
    row_splits: list[int]
    coefficient_splits: list[int]  # T, A_S, A_M of bucket 0, then of bucket 1, ...


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


def _offsets(sizes: Tensor) -> Tensor:
    return torch.cumsum(sizes, 0) - sizes


class _GatherRows(torch.autograd.Function):
    """``x[index]`` where every row of ``x`` whose gradient matters is picked exactly once, at
    ``inverse[row]``; the other rows take any row's gradient (see :class:`DenseLayout`). The
    backward pass is then a gather, much cheaper than the scatter-add of ``x[index]``.
    """

    @staticmethod
    def forward(ctx, x: Tensor, index: Tensor, inverse: Tensor) -> Tensor:
        ctx.save_for_backward(inverse)
        return x.index_select(0, index)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None, None]:
        (inverse,) = ctx.saved_tensors
        return grad.index_select(0, inverse), None, None


class _ScatterToZeros(torch.autograd.Function):
    """A zero vector of length ``size`` holding ``values`` at the distinct ``positions``."""

    @staticmethod
    def forward(ctx, values: Tensor, positions: Tensor, size: int) -> Tensor:
        ctx.save_for_backward(positions)
        return values.new_zeros(size).scatter_(0, positions, values)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None, None]:
        (positions,) = ctx.saved_tensors
        return grad.index_select(0, positions), None, None


class _BucketAttention(torch.autograd.Function):
    """Every bucket's ``(G * (Q K^T)) V`` with ``G = A_M (I - T)^{-1} A_S + diag(D)`` (the
    direct term is the diagonal: a DAG has no path from a node to itself), on padded rows
    ``[R, 2K + V + 1]`` (q, k, v, D) and the flat coefficient buffer; returns ``[R, V]``. The
    backward pass is written out so that each bucket writes its gradients into one buffer,
    without autograd's per-view bookkeeping:

        dP = dO V^T,  dV = P^T dO,  dQ = (dP * G) K,  dK = (dP * G)^T Q,  dG = dP * (Q K^T),
        dA_M = dG X^T,  dA_S = (I - T)^{-T} A_M^T dG,  d(-T) = -dA_S X^T,  dD = diag(dG),

    with X = (I - T)^{-1} A_S.
    """

    @staticmethod
    def forward(ctx, rows: Tensor, coefficients: Tensor, layout: DenseLayout, heads: int,
                dk: int) -> Tensor:
        dv = rows.size(1) - 2 * dk - 1
        out = rows.new_empty(rows.size(0), dv)
        saved = []
        for rows_b, out_b, (neg_t, a_source, a_mark) in _buckets(
                layout, heads, rows, out, coefficients):
            q, k, v, direct = rows_b.split([dk, dk, dv, 1], -1)
            # (I - T)^{-1} by one triangular solve (unitriangular: the diagonal is never
            # read); the backward pass then needs matmuls only, no second solve
            e = neg_t.size(-1)
            inverse = torch.linalg.solve_triangular(
                neg_t, torch.eye(e, dtype=rows.dtype, device=rows.device).expand_as(neg_t),
                upper=False, unitriangular=True)
            paths = inverse @ a_source
            gating = a_mark @ paths
            gating.diagonal(dim1=-2, dim2=-1).copy_(direct.squeeze(-1))
            scores = q @ k.mT
            weights = scores * gating
            torch.matmul(weights, v, out=out_b)
            saved += [inverse, paths, gating, scores, weights]
        ctx.save_for_backward(rows, coefficients, *saved)
        ctx.layout, ctx.heads, ctx.dk = layout, heads, dk
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out: Tensor) -> tuple[Tensor, Tensor, None, None, None]:
        rows, coefficients, *saved = ctx.saved_tensors
        dk = ctx.dk
        dv = rows.size(1) - 2 * dk - 1
        grad_rows = torch.empty_like(rows)
        grad_coefficients = torch.empty_like(coefficients)
        buckets = zip(_buckets(ctx.layout, ctx.heads, rows, grad_out, coefficients),
                      _buckets(ctx.layout, ctx.heads, grad_rows, None, grad_coefficients),
                      *(saved[i::5] for i in range(5)))
        for ((rows_b, grad_out_b, (_, _, a_mark)), (grad_rows_b, _, grad_coef),
             inverse, paths, gating, scores, weights) in buckets:
            q, k, v, _ = rows_b.split([dk, dk, dv, 1], -1)
            grad_q, grad_k, grad_v, grad_direct = grad_rows_b.split([dk, dk, dv, 1], -1)
            grad_weights = grad_out_b @ v.mT
            grad_v.copy_(weights.mT @ grad_out_b)
            grad_scores = grad_weights * gating
            grad_q.copy_(grad_scores @ k)
            grad_k.copy_(grad_scores.mT @ q)
            grad_gating = grad_weights * scores
            grad_direct.copy_(grad_gating.diagonal(dim1=-2, dim2=-1).unsqueeze(-1))
            grad_neg_t, grad_source, grad_mark = grad_coef
            torch.matmul(grad_gating, paths.mT, out=grad_mark)
            # A_S and -T are stored transposed: dA_S^T = (dG^T A_M) (I - T)^{-1}, and the
            # buffer of -T gets -X dA_S^T
            grad_source_t = (grad_gating.mT @ a_mark) @ inverse
            grad_source.mT.copy_(grad_source_t)
            torch.matmul(paths, grad_source_t, out=grad_neg_t.mT).neg_()
        return grad_rows, grad_coefficients, None, None, None


def _buckets(layout: DenseLayout, heads: int, rows: Tensor, out: Tensor | None,
             coefficients: Tensor):
    """Per bucket: its rows ``[size, H, n, -1]``, its output rows and its
    coefficient blocks ``-T [size, H, e, e]``, ``A_S [size, H, e, n]``, ``A_M [size, H, n, e]``
    (``-T`` and ``A_S`` are stored transposed: views, not copies)."""
    row_blocks = rows.split(layout.row_splits)
    out_blocks = out.split(layout.row_splits) if out is not None else [None] * len(row_blocks)
    blocks = coefficients.split(layout.coefficient_splits)
    for i, (size, n, e) in enumerate(layout.shapes):
        neg_t, a_source, a_mark = blocks[3 * i:3 * i + 3]
        yield (row_blocks[i].view(size, heads, n, -1),
               None if out_blocks[i] is None else out_blocks[i].view(size, heads, n, -1),
               (neg_t.view(size, heads, e, e).mT, a_source.view(size, heads, n, e).mT,
                a_mark.view(size, heads, n, e)))


def dense_layout(edge_index: Tensor, line_index: Tensor, edge_level: Tensor,
                 batch: Tensor | None, num_nodes: int, heads: int) -> DenseLayout:
    """The padded-bucket layout of a batch of graphs (integer work only)."""
    num_edges = edge_index.size(1)
    device = edge_index.device
    graph = batch if batch is not None else connected_components(edge_index, num_nodes)
    graph = torch.unique(graph, return_inverse=True)[1]
    tail, head = edge_index
    src, dst = line_index
    edge_graph = graph[tail]
    node_local = _group_rank(torch.arange(num_nodes, device=device), graph)
    # DAG edges in topological order within each graph: T becomes strictly lower triangular
    edge_local = _group_rank(edge_level * num_edges + torch.arange(num_edges, device=device),
                             edge_graph)

    num_graphs = int(graph.max()) + 1
    node_count = torch.bincount(graph, minlength=num_graphs)
    edge_count = torch.bincount(edge_graph, minlength=num_graphs)
    buckets, bucket = torch.unique(_size_buckets(torch.maximum(node_count, edge_count)),
                                   return_inverse=True)
    slot = _group_rank(torch.arange(num_graphs, device=device), bucket)
    zeros = torch.zeros(buckets.numel(), dtype=torch.long, device=device)
    size = torch.bincount(bucket, minlength=buckets.numel())
    n_max = zeros.scatter_reduce(0, bucket, node_count, "amax")
    e_max = zeros.scatter_reduce(0, bucket, edge_count, "amax")
    g_n, g_e = n_max[bucket], e_max[bucket]  # padded sizes of each graph
    rows = size * heads * n_max
    row_base = _offsets(rows)[bucket] + slot * heads * g_n
    per_head = torch.stack([e_max * e_max, e_max * n_max, n_max * e_max], 1)  # [bucket, 3]
    blocks = size[:, None] * heads * per_head
    block_base = _offsets(blocks.view(-1)).view(-1, 3)  # [bucket, (T, A_S, A_M)]
    stride = per_head[bucket]  # [graph, 3]
    base = block_base[bucket] + slot[:, None] * heads * stride
    h = torch.arange(heads, device=device)

    output_row = (row_base[graph][:, None] + h * g_n[graph][:, None]
                  + node_local[:, None]).view(-1)
    row_source = torch.zeros(int(rows.sum()), dtype=torch.long, device=device)
    row_source[output_row] = torch.arange(num_nodes * heads, device=device)

    line_graph = edge_graph[dst]
    transition_pos = base[line_graph, 0] + edge_local[src] * g_e[line_graph] + edge_local[dst]
    source_pos = base[edge_graph, 1] + node_local[tail] * g_e[edge_graph] + edge_local
    mark_pos = base[edge_graph, 2] + node_local[head] * g_e[edge_graph] + edge_local
    coefficient_pos = torch.cat([
        transition_pos[:, None] + h * stride[line_graph, 0][:, None],
        source_pos[:, None] + h * stride[edge_graph, 1][:, None],
        mark_pos[:, None] + h * stride[edge_graph, 2][:, None]]).view(-1)
    shapes = list(zip(size.tolist(), n_max.tolist(), e_max.tolist()))
    return DenseLayout(row_source, output_row, coefficient_pos, shapes, rows.tolist(),
                       blocks.view(-1).tolist())


def dense_engine(query: Tensor, key: Tensor, value: Tensor, source: Tensor, transition: Tensor,
                 mark: Tensor, direct: Tensor, edge_index: Tensor, line_index: Tensor,
                 edge_level: Tensor, batch: Tensor | None) -> Tensor:
    num_nodes, heads, dk = query.shape
    dv = value.size(-1)
    layout = dense_layout(edge_index, line_index, edge_level, batch, num_nodes, heads)
    rows = torch.cat([query, key, value, direct[..., None]], -1).view(num_nodes * heads, -1)
    rows = _GatherRows.apply(rows, layout.row_source, layout.output_row)
    coefficients = torch.cat([-transition.reshape(-1), source.reshape(-1), mark.reshape(-1)])
    coefficients = _ScatterToZeros.apply(coefficients, layout.coefficient_pos,
                                         sum(layout.coefficient_splits))
    out = _BucketAttention.apply(rows, coefficients, layout, heads, dk)
    return _GatherRows.apply(out, layout.output_row, layout.row_source).view(num_nodes, heads, dv)
