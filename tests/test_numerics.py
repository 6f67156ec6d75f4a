"""Numerical safety: long chains and dense line graphs stay finite in float32 and bf16."""
import networkx as nx
import pytest
import torch
from torch_geometric.utils import from_networkx

from plstm_graph.nn import PLSTMConv


def undirected(g):
    return from_networkx(nx.convert_node_labels_to_integers(g)).edge_index


CASES = {
    "chain2000": (undirected(nx.path_graph(2000)), 2000),
    "complete30": (undirected(nx.complete_graph(30)), 30),  # 435 bonds, ~4,000 line edges
    "grid12": (undirected(nx.grid_2d_graph(12, 12)), 144),
}
# 2,000 sequential levels, each way, in preprocessing and in the scan: ~15 s a case
SLOW = {"chain2000"}


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.slow) if c in SLOW else c
                                  for c in CASES])
@pytest.mark.parametrize("mode", ["P", "D"])
@pytest.mark.parametrize("autocast", [False, True])
@pytest.mark.parametrize("critical", [False, True])
def test_outputs_and_gradients_are_finite(case, mode, autocast, critical):
    edge_index, n = CASES[case]
    torch.manual_seed(0)
    conv = PLSTMConv(16, 16, heads=2, mode=mode, order="index")
    if critical:  # transitions at +-1 (P: normalised to a group sum ~1), gates fully open
        with torch.no_grad():
            bias = conv.lin_node_gates.bias.view(4, 2)
            bias[3] = 1e4
            bias[:3] = 1e4
    x = torch.randn(n, 16, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        out = conv(x, edge_index)
    assert torch.isfinite(out).all()
    grad, = torch.autograd.grad(out.float().square().mean(), x)
    assert torch.isfinite(grad).all()
    assert float(grad.abs().sum()) > 0
