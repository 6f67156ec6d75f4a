"""The pLSTM kernel: engines agree with the per-edge oracle in float64, and are differentiable."""
import networkx as nx
import pytest
import torch
from torch_geometric.utils import from_networkx

from plstm_graph.dag import build_line_dag
from plstm_graph.functional import auto_engine, plstm_dag
from plstm_graph.functional.plstm_dag import DENSE_MAX_EDGES


def molecule_like(n, rings, seed):
    g = nx.random_labeled_tree(n, seed=seed)
    rng = torch.Generator().manual_seed(seed)
    nodes = list(g.nodes)
    for _ in range(rings):
        a, b = torch.randint(0, n, (2,), generator=rng).tolist()
        if a != b:
            g.add_edge(nodes[a], nodes[b])
    return g


GRAPHS = {
    "molecule_like": molecule_like(25, 3, 0),
    "grid": nx.grid_2d_graph(5, 6),
    "chain600": nx.path_graph(600),
    "tree": nx.random_labeled_tree(40, seed=1),
    "no_edges": nx.empty_graph(4),
    "single_node": nx.empty_graph(1),
    "fragments": nx.disjoint_union(nx.cycle_graph(6), nx.star_graph(4)),
    # components of different sizes (several padded buckets in the dense engine) and isolated
    # nodes (graphs without edges) in one call
    "mixed_sizes": nx.disjoint_union_all([molecule_like(25, 3, 2), nx.empty_graph(2),
                                          nx.path_graph(3), molecule_like(12, 1, 3),
                                          nx.grid_2d_graph(3, 3)]),
}


def random_inputs(edge_index, num_nodes, mode="P", order="bfs", heads=2, dk=3, dv=4,
                  dtype=torch.float64, seed=0):
    """Random kernel inputs on the oriented graph; D-mode uses the pruned line DAG."""
    index = build_line_dag(edge_index, num_nodes, order=order)
    lines = index.line_index if mode == "P" else index.line_index[:, index.line_keep]
    gen = torch.Generator().manual_seed(seed)
    e, ell = index.dag_edge.numel(), lines.size(1)

    def rand(*shape, scale=1.0):
        return (torch.rand(*shape, generator=gen, dtype=dtype) * 2 - 1) * scale

    tensors = [rand(num_nodes, heads, dk), rand(num_nodes, heads, dk), rand(num_nodes, heads, dv),
               rand(e, heads).abs(), rand(ell, heads, scale=0.7), rand(e, heads).abs(),
               rand(num_nodes, heads).abs()]
    return tensors, edge_index[:, index.dag_edge], lines


def graph(name):
    g = nx.convert_node_labels_to_integers(GRAPHS[name])
    data = from_networkx(g)
    return data.edge_index, g.number_of_nodes()


@pytest.mark.parametrize("name", GRAPHS)
@pytest.mark.parametrize("mode", ["P", "D"])
def test_engines_agree_with_loop(name, mode):
    tensors, dag, lines = random_inputs(*graph(name), mode=mode)
    expected = plstm_dag(*tensors, dag, lines, engine="loop")
    for engine in ("scan", "dense", "auto"):
        out = plstm_dag(*tensors, dag, lines, engine=engine)
        torch.testing.assert_close(out, expected, rtol=1e-10, atol=1e-10 * expected.abs().max())


def test_auto_engine_is_dense_for_small_graphs_on_cpu_and_scan_on_cuda():
    assert auto_engine("cpu", DENSE_MAX_EDGES) == "dense"
    assert auto_engine("cpu", DENSE_MAX_EDGES + 1) == "scan"
    assert auto_engine("cuda", 1) == "scan"


@pytest.mark.parametrize("engine", ["scan", "dense"])
@pytest.mark.parametrize("name", ["molecule_like", "fragments", "mixed_sizes"])
@pytest.mark.parametrize("fast_mode", [True, pytest.param(False, marks=pytest.mark.slow)])
def test_gradcheck(engine, name, fast_mode):
    edge_index, n = graph(name)
    tensors, dag, lines = random_inputs(edge_index, n)
    tensors = [t.requires_grad_() for t in tensors]
    assert torch.autograd.gradcheck(
        lambda *t: plstm_dag(*t, dag, lines, engine=engine), tensors, fast_mode=fast_mode)


def test_batch_equals_concatenation_of_single_graphs():
    singles = [random_inputs(*graph(name), seed=i)
               for i, name in enumerate(["molecule_like", "grid", "tree"])]
    outs = [plstm_dag(*t, dag, lines, engine="loop") for t, dag, lines in singles]
    node_offset = edge_offset = 0
    dags, lines_all = [], []
    for t, dag, lines in singles:
        dags.append(dag + node_offset)
        lines_all.append(lines + edge_offset)
        node_offset += t[0].size(0)
        edge_offset += dag.size(1)
    tensors = [torch.cat(parts) for parts in zip(*(t for t, _, _ in singles))]
    for engine in ("scan", "dense"):
        out = plstm_dag(*tensors, torch.cat(dags, 1), torch.cat(lines_all, 1), engine=engine)
        torch.testing.assert_close(out, torch.cat(outs), rtol=1e-10, atol=1e-12)


def test_invalid_line_index_raises():
    tensors, dag, lines = random_inputs(*graph("molecule_like"))
    bad = lines.clone()
    bad[1, 0] = bad[0, 0]  # an edge followed by itself: does not meet
    with pytest.raises(ValueError, match="do not meet"):
        plstm_dag(*tensors, dag, bad)
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 0]])  # a directed triangle
    cyclic = torch.tensor([[0, 1, 2], [1, 2, 0]])
    t = [x[:3] if x.size(0) >= 3 else x for x in tensors]
    t[3], t[5], t[4] = tensors[3][:3], tensors[5][:3], tensors[4][:3]
    with pytest.raises(ValueError, match="cyclic"):
        plstm_dag(*t, edge_index, cyclic)
    with pytest.raises(ValueError, match="engine"):
        plstm_dag(*tensors, dag, lines, engine="fast")


def test_recurrence_runs_in_float32_under_autocast():
    tensors, dag, lines = random_inputs(*graph("molecule_like"), dtype=torch.float32)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = plstm_dag(*[t.bfloat16() for t in tensors], dag, lines, engine="scan")
    assert out.dtype == torch.float32
    assert torch.isfinite(out).all()
