"""The level-synchronous scan engine.

Cell states ``C[E, H, K, V]`` are updated in place, one level of the line DAG at a time over the
whole batch (one gather, contract and scatter per level), so the number of sequential steps is
the depth of the line DAG. Autograd through per-level in-place updates would copy the whole
state at every level, so the backward pass is written out: it runs the adjoint recurrence over
the levels in reverse, ``G[e'] += T * G[e]``.
"""
from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable


def level_schedule(line_index: Tensor, edge_level: Tensor) -> tuple[Tensor, list[int]]:
    """Line edges sorted by the level of their target, and the number at each level."""
    target_level = edge_level[line_index[1]]
    order = torch.argsort(target_level, stable=True)
    counts = torch.bincount(target_level)
    return order, [c for c in counts.tolist() if c]


class _Scan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, query, key, value, source, transition, mark, direct, tail, head, src, dst,
                sizes):
        states = source[:, :, None, None] * key[tail, :, :, None] * value[tail, :, None, :]
        for s, d, t in zip(src.split(sizes), dst.split(sizes), transition.split(sizes)):
            states.index_add_(0, d, t[:, :, None, None] * states[s])
        q_head = query[head]
        read = torch.einsum("ehkv,ehk->ehv", states, q_head)
        out = (direct * (query * key).sum(-1))[..., None] * value
        out = out.index_add(0, head, mark[..., None] * read)
        ctx.save_for_backward(query, key, value, source, transition, mark, direct, tail, head,
                              src, dst, states, read)
        ctx.sizes = sizes
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        (query, key, value, source, transition, mark, direct, tail, head, src, dst, states,
         read) = ctx.saved_tensors
        sizes = ctx.sizes
        # direct term: D_n (q_n . k_n) v_n
        qk = (query * key).sum(-1)
        gv_dot = (grad_out * value).sum(-1)
        grad_direct = qk * gv_dot
        coef = (direct * gv_dot)[..., None]
        grad_query = coef * key
        grad_key = coef * query
        grad_value = (direct * qk)[..., None] * grad_out
        # readout: y_h += M_e C_e^T q_h
        g_head = grad_out[head]
        q_head = query[head]
        grad_mark = (read * g_head).sum(-1)
        grad_query = grad_query.index_add(
            0, head, mark[..., None] * torch.einsum("ehkv,ehv->ehk", states, g_head))
        adjoint = (mark[..., None, None] * q_head[..., :, None]) * g_head[..., None, :]
        # adjoint recurrence over the levels in reverse
        for s, d, t in zip(reversed(src.split(sizes)), reversed(dst.split(sizes)),
                           reversed(transition.split(sizes))):
            adjoint.index_add_(0, s, t[:, :, None, None] * adjoint[d])
        grad_transition = torch.einsum("lhkv,lhkv->lh", adjoint[dst], states[src])
        # source: C_e += S_e k_t v_t^T
        k_tail, v_tail = key[tail], value[tail]
        adj_v = torch.einsum("ehkv,ehv->ehk", adjoint, v_tail)
        grad_source = (adj_v * k_tail).sum(-1)
        grad_key = grad_key.index_add(0, tail, source[..., None] * adj_v)
        grad_value = grad_value.index_add(
            0, tail, source[..., None] * torch.einsum("ehkv,ehk->ehv", adjoint, k_tail))
        return (grad_query, grad_key, grad_value, grad_source, grad_transition, grad_mark,
                grad_direct, None, None, None, None, None)


def scan_engine(query: Tensor, key: Tensor, value: Tensor, source: Tensor, transition: Tensor,
                mark: Tensor, direct: Tensor, edge_index: Tensor, line_index: Tensor,
                edge_level: Tensor) -> Tensor:
    order, sizes = level_schedule(line_index, edge_level)
    src, dst = line_index[:, order]
    return _Scan.apply(query, key, value, source, transition[order], mark, direct,
                       edge_index[0], edge_index[1], src, dst, sizes)
