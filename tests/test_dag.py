"""DAG orientation, line graph, levels and D-mode pruning against networkx."""
import itertools

import networkx as nx
import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import from_networkx

from plstm_graph.dag import build_line_dag, edge_levels, line_graph, multitree_mask, node_order
from plstm_graph.transforms import LineDAG

GRAPHS = {
    "grid4x5": nx.grid_2d_graph(4, 5),
    "path40": nx.path_graph(40),
    "tree": nx.random_labeled_tree(30, seed=3),
    "ring_with_tails": nx.lollipop_graph(6, 5),
    "two_fragments": nx.disjoint_union(nx.cycle_graph(5), nx.path_graph(3)),
    "ladder": nx.ladder_graph(8),
}


def undirected(g: nx.Graph):
    g = nx.convert_node_labels_to_integers(g)
    data = from_networkx(g)
    return data.edge_index, g.number_of_nodes(), g


def dag_of(edge_index, index):
    tail, head = edge_index[:, index.dag_edge]
    return tail, head


@pytest.mark.parametrize("name", GRAPHS)
@pytest.mark.parametrize("order", ["index", "canonical", "bfs", "dfs"])
def test_orientation_and_line_graph_match_networkx(name, order):
    edge_index, n, g = undirected(GRAPHS[name])
    index = build_line_dag(edge_index, n, order=order)
    tail, head = dag_of(edge_index, index)
    dag = nx.DiGraph(list(zip(tail.tolist(), head.tolist())))
    dag.add_nodes_from(range(n))
    # every bond exactly once, and acyclic
    assert sorted(map(sorted, dag.to_undirected().edges())) == sorted(map(sorted, g.edges()))
    assert nx.is_directed_acyclic_graph(dag)
    if order == "index":
        assert bool((tail < head).all())
    # line graph: networkx's line graph of the DAG, on edge ids
    ids = {(t, h): e for e, (t, h) in enumerate(zip(tail.tolist(), head.tolist()))}
    expected = {(ids[a], ids[b]) for a, b in nx.line_graph(dag).edges()}
    assert set(map(tuple, index.line_index.t().tolist())) == expected
    # levels: longest path from a source of the line DAG, both orientations
    ldag = nx.DiGraph(list(expected))
    ldag.add_nodes_from(range(len(ids)))
    for level, graph in ((index.dag_level, ldag), (index.dag_level_rev, ldag.reverse())):
        for e in graph.nodes:
            preds = list(graph.predecessors(e))
            assert level[e] == (max(level[p] for p in preds) + 1 if preds else 0)


def count_paths(graph: nx.DiGraph, a, b) -> int:
    return sum(1 for _ in nx.all_simple_paths(graph, a, b)) if a != b else 1


@pytest.mark.parametrize("name", GRAPHS)
def test_multitree_pruning(name):
    edge_index, n, _ = undirected(GRAPHS[name])
    index = build_line_dag(edge_index, n, order="index")
    num_edges = index.dag_edge.numel()
    for lines, keep in ((index.line_index, index.line_keep),
                        (index.line_index.flip(0), index.line_keep_rev)):
        kept = nx.DiGraph(list(map(tuple, lines[:, keep].t().tolist())))
        kept.add_nodes_from(range(num_edges))
        for a, b in itertools.permutations(range(num_edges), 2):
            if nx.has_path(kept, a, b):
                assert count_paths(kept, a, b) == 1, (a, b)
        # a tree's line DAG is already a multitree: nothing is pruned
        if nx.is_tree(GRAPHS[name]):
            assert bool(keep.all())


def test_grid_pruning_matches_reference_count():
    # spec §6: the 3x3 grid has 14 line edges in P-mode and 12 after pruning
    edge_index, n, _ = undirected(nx.grid_2d_graph(3, 3))
    index = build_line_dag(edge_index, n, order="index")
    assert index.line_index.size(1) == 14
    assert int(index.line_keep.sum()) == 12


def test_diamond_drops_later_branch():
    # a -> {p1, p2} -> c in the line DAG: the link from the later branch is dropped
    lines = torch.tensor([[0, 0, 1, 2], [1, 2, 3, 3]])
    level = edge_levels(lines, 4)
    keep = multitree_mask(lines, level, torch.zeros(4, dtype=torch.long))
    assert keep.tolist() == [True, True, True, False]


def test_directed_acyclic_input_keeps_its_directions():
    edge_index = torch.tensor([[2, 1], [1, 0]])  # 2 -> 1 -> 0, against the node numbering
    index = build_line_dag(edge_index, 3, order="index")
    assert index.dag_edge.tolist() == [0, 1]
    assert index.line_index.tolist() == [[0], [1]]


@pytest.mark.parametrize("name", GRAPHS)
def test_dfs_order_is_networkx_preorder(name):
    """Depth-first preorder from the pseudo-peripheral root, neighbours by canonical rank, each
    further fragment from its lowest-ranked node."""
    edge_index, n, g = undirected(GRAPHS[name])
    rank = node_order(edge_index, n, order="canonical")
    priority = node_order(edge_index, n, order="dfs")
    by_rank = lambda nodes: sorted(nodes, key=lambda v: int(rank[v]))  # noqa: E731
    expected = []
    root = int(priority.argmin())
    for first in [root] + by_rank(g.nodes):
        if first not in expected:
            expected += nx.dfs_preorder_nodes(g, first, sort_neighbors=by_rank)
    assert priority.argsort().tolist() == expected
    bfs_root = node_order(edge_index, n, order="bfs").argmin()
    assert root == int(bfs_root)  # the same canonical root as the BFS order


def test_tied_priorities_keep_every_bond():
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])  # path 0 - 1 - 2
    index = build_line_dag(edge_index, 3, rank=torch.tensor([0, 0, 1]))
    tail, head = dag_of(edge_index, index)
    assert sorted(zip(tail.tolist(), head.tolist())) == [(0, 1), (1, 2)]


def test_partly_undirected_input_raises():
    with pytest.raises(ValueError, match="neither undirected nor a DAG.*to_undirected"):
        build_line_dag(torch.tensor([[0, 1, 1], [1, 0, 2]]), 3)  # 1 -> 2 lacks 2 -> 1


def test_transform_refuses_graphs_with_and_without_canonical_ranks():
    with_rank = Data(x=torch.zeros(2, 1), edge_index=torch.tensor([[0, 1], [1, 0]]),
                     canonical_rank=torch.tensor([1, 0]))
    without = Data(x=torch.zeros(2, 1), edge_index=torch.tensor([[0, 1], [1, 0]]))
    with pytest.raises(ValueError, match="graph 1 lacks 'canonical_rank'"):
        LineDAG().transform_many([with_rank, without])


def test_cyclic_line_graph_raises():
    with pytest.raises(ValueError, match="cyclic"):
        edge_levels(torch.tensor([[0, 1, 2], [1, 2, 0]]), 3)
    with pytest.raises(ValueError, match="cyclic"):
        build_line_dag(torch.tensor([[0, 1, 2], [1, 2, 0]]), 3)


def test_line_graph_has_no_u_turns_and_joins_at_junctions():
    edge_index, n, _ = undirected(nx.grid_2d_graph(3, 4))
    index = build_line_dag(edge_index, n)
    tail, head = dag_of(edge_index, index)
    src, dst = index.line_index
    assert bool((head[src] == tail[dst]).all())
    assert bool((tail[src] != head[dst]).all())
    assert line_graph(tail, head, n).size(1) == index.line_index.size(1)


def test_canonical_order_does_not_depend_on_numbering():
    edge_index, n, g = undirected(nx.lollipop_graph(5, 4))
    x = torch.tensor([[d] for _, d in sorted(g.degree())], dtype=torch.float)
    prio = node_order(edge_index, n, order="canonical", x=x)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(0))
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(n)
    prio_perm = node_order(inv[edge_index], n, order="canonical", x=x[perm])
    # WL ranks agree wherever refinement separates the nodes (the tail of a lollipop is rigid)
    tail_nodes = torch.arange(5, n)
    assert torch.equal(prio[tail_nodes], prio_perm[inv[tail_nodes]])
