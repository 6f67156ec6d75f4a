"""The reference engine: the plain per-edge recurrence, kept only as the test oracle."""
from __future__ import annotations

import torch
from torch import Tensor


def loop_engine(query: Tensor, key: Tensor, value: Tensor, source: Tensor, transition: Tensor,
                mark: Tensor, direct: Tensor, edge_index: Tensor, line_index: Tensor,
                edge_level: Tensor) -> Tensor:
    """Visits DAG edges one by one in topological order (``PLSTM_SPEC.md`` §1.2)."""
    tail, head = edge_index.tolist()
    preds: dict[int, list[tuple[int, int]]] = {}
    for idx, (src, dst) in enumerate(line_index.t().tolist()):
        preds.setdefault(dst, []).append((src, idx))
    state: dict[int, Tensor] = {}
    out = [direct[n, :, None] * (query[n] * key[n]).sum(-1, keepdim=True) * value[n]
           for n in range(query.size(0))]
    for e in torch.argsort(edge_level, stable=True).tolist():
        t, h = tail[e], head[e]
        c = source[e, :, None, None] * key[t, :, :, None] * value[t, :, None, :]
        for src, idx in preds.get(e, []):
            c = c + transition[idx, :, None, None] * state[src]
        state[e] = c
        out[h] = out[h] + mark[e, :, None] * torch.einsum("hkv,hk->hv", c, query[h])
    if not out:
        return value.new_zeros(value.shape)
    return torch.stack(out)
