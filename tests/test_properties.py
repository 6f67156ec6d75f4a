"""Property-based tests over random graphs: engines, transform invariants and batching."""
import networkx as nx
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.data import Batch, Data

from plstm_graph.dag import LineDAGIndex, build_line_dag
from plstm_graph.functional import plstm_dag
from plstm_graph.transforms import LineDAG


@st.composite
def graphs(draw, max_nodes=12):
    n = draw(st.integers(1, max_nodes))
    pairs = [(a, b) for a in range(n) for b in range(a + 1, n)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=2 * n)) if pairs else []
    edges = torch.tensor(chosen, dtype=torch.long).view(-1, 2).t()
    edge_index = torch.cat([edges, edges.flip(0)], dim=1)
    x = torch.tensor(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))).view(-1, 1)
    return Data(x=x, edge_index=edge_index, num_nodes=n)


SETTINGS = settings(max_examples=40, deadline=None)


@SETTINGS
@given(graphs(), st.sampled_from(["index", "canonical", "bfs", "dfs"]), st.sampled_from(["P", "D"]),
       st.integers(0, 2**16))
def test_engines_agree_on_random_graphs(data, order, mode, seed):
    index = build_line_dag(data.edge_index, data.num_nodes, order=order, x=data.x)
    lines = index.line_index if mode == "P" else index.line_index[:, index.line_keep]
    dag = data.edge_index[:, index.dag_edge]
    gen = torch.Generator().manual_seed(seed)
    n, e, ell, h = data.num_nodes, dag.size(1), lines.size(1), 2

    def rand(*shape):
        return torch.rand(*shape, generator=gen, dtype=torch.float64) * 2 - 1

    tensors = [rand(n, h, 3), rand(n, h, 3), rand(n, h, 2), rand(e, h), rand(ell, h) * 0.5,
               rand(e, h), rand(n, h)]
    expected = plstm_dag(*tensors, dag, lines, engine="loop")
    for engine in ("scan", "dense"):
        torch.testing.assert_close(plstm_dag(*tensors, dag, lines, engine=engine), expected,
                                   rtol=1e-10, atol=1e-10)


@SETTINGS
@given(graphs(), st.sampled_from(["index", "canonical", "bfs", "dfs"]))
def test_transform_invariants(data, order):
    out = LineDAG(order)(data)
    tail, head = data.edge_index[:, out.dag_edge]
    bonds = {tuple(sorted(p)) for p in data.edge_index.t().tolist()}
    assert sorted(tuple(sorted(p)) for p in zip(tail.tolist(), head.tolist())) == sorted(bonds)
    dag = nx.DiGraph(list(zip(tail.tolist(), head.tolist())))
    assert nx.is_directed_acyclic_graph(dag)
    src, dst = out.line_index
    assert bool((head[src] == tail[dst]).all()) and bool((tail[src] != head[dst]).all())
    assert out.line_index.size(1) == sum(dag.in_degree(j) * dag.out_degree(j) for j in dag)
    assert bool((out.dag_level[src] < out.dag_level[dst]).all())
    assert bool((out.dag_level_rev[dst] < out.dag_level_rev[src]).all())
    for lines in (out.line_index[:, out.line_keep], out.line_index.flip(0)[:, out.line_keep_rev]):
        kept = nx.DiGraph(list(map(tuple, lines.t().tolist())))
        for a in kept:  # a multitree: path counts from every node are 0 or 1
            count = {a: 1}
            for v in nx.topological_sort(kept):
                if v in count:
                    for w in kept.successors(v):
                        count[w] = count.get(w, 0) + count[v]
            assert max(count.values()) == 1


@SETTINGS
@given(st.lists(graphs(max_nodes=8), min_size=1, max_size=4),
       st.sampled_from(["index", "canonical", "bfs", "dfs"]))
def test_batching_is_the_disjoint_union(graph_list, order):
    transform = LineDAG(order)
    batch = Batch.from_data_list([transform(g) for g in graph_list])
    direct = build_line_dag(batch.edge_index, batch.num_nodes, batch.batch, order=order,
                            x=batch.x)
    for got, expected in zip(LineDAGIndex.from_data(batch), direct):
        assert torch.equal(got, expected)
