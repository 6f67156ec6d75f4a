"""PLSTMConv: the PyG operator."""
import pytest
import torch
from rdkit import Chem
from torch_geometric.data import Batch, Data
from torch_geometric.nn import GINEConv
from torch_geometric.utils import from_rdmol, from_smiles

from plstm_graph.dag import LineDAGIndex, build_line_dag
from plstm_graph.functional import plstm_dag
from plstm_graph.nn import PLSTMConv
from plstm_graph.transforms import LineDAG

SMILES = ["CC(=O)Oc1ccccc1C(=O)O", "c1ccc2c(c1)ccc1ccccc12", "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
          "[Na+].[Cl-]", "C", "OC[C@H]1OC(O)[C@H](O)[C@@H](O)[C@@H]1O",
          "NCC(=O)N[C@@H](C)C(=O)N[C@@H](CO)C(=O)O"]  # last: Gly-Ala-Ser, a peptide


def molecule(mol: Chem.Mol) -> Data:
    data = from_rdmol(mol)
    data.x = data.x.float()
    data.edge_attr = data.edge_attr.float()
    data.canonical_rank = torch.tensor(list(Chem.CanonicalRankAtoms(mol, breakTies=True)))
    return data


def batch_of(smiles=SMILES, transform=True) -> Batch:
    graphs = [molecule(Chem.MolFromSmiles(s)) for s in smiles]
    if transform:
        graphs = LineDAG().transform_many(graphs)
    return Batch.from_data_list(graphs)


def test_repr_and_reset():
    conv = PLSTMConv(16, 32, heads=4, mode="D", reverse=True)
    assert str(conv) == ("PLSTMConv(16, 32, heads=4, mode='D', reverse=True, "
                         "bidirectional=False, norm_group='fanout', engine='auto')")
    before = conv.lin_node_gates.bias.detach().clone()
    conv.reset_parameters()
    bias = conv.lin_node_gates.bias.detach().view(4, 4)
    assert not torch.equal(before.view(4, 4)[3], bias[3])  # random transition bias
    assert bool((bias[:3] == -5.0).all())  # source, mark, direct


@pytest.mark.parametrize("mode", ["P", "D"])
def test_spread_transition_init_is_deterministic_and_trainable(mode):
    conv = PLSTMConv(9, 8, heads=4, mode=mode, transition_init="spread")
    bias = conv.lin_node_gates.bias.detach().view(4, 4)[3]
    assert torch.allclose(bias, torch.tensor([1.0, 5 / 3, 7 / 3, 3.0]))
    b = batch_of()
    dag = LineDAGIndex.from_data(b)
    structure = conv.orient(b.edge_index, dag)
    projections = conv.project(b.x.float(), structure, None)
    _, transition, _, _ = conv.gates(projections, structure)
    assert bool((transition > 0).all()) and bool((transition < 1).all())
    transition.sum().backward()  # not saturated, unlike the random init with std 10
    assert conv.lin_node_gates.bias.grad.view(4, 4)[3].abs().min() > 1e-3


def test_invalid_options_raise():
    with pytest.raises(ValueError, match="mode"):
        PLSTMConv(8, 8, mode="X")
    with pytest.raises(ValueError, match="transition_init"):
        PLSTMConv(8, 8, transition_init="zero")
    with pytest.raises(ValueError, match="multiple of heads"):
        PLSTMConv(8, 10, heads=4)
    with pytest.raises(ValueError, match="'reverse' has no effect with 'bidirectional'"):
        PLSTMConv(8, 8, reverse=True, bidirectional=True)
    conv = PLSTMConv(9, 8, edge_dim=3)
    b = batch_of()
    with pytest.raises(ValueError, match="edge_dim"):
        conv(b.x, b.edge_index, b.edge_attr[:, :2])


@pytest.mark.parametrize("mode", ["P", "D"])
@pytest.mark.parametrize("reverse", [False, True])
def test_drop_in_beside_gine_and_precomputed_equals_on_the_fly(mode, reverse):
    torch.manual_seed(0)
    b = batch_of()
    gine = GINEConv(torch.nn.Linear(9, 16), edge_dim=3)
    conv = PLSTMConv(9, 16, mode=mode, reverse=reverse, edge_dim=3)
    assert gine(b.x, b.edge_index, b.edge_attr).shape == (b.num_nodes, 16)
    on_the_fly = conv(b.x, b.edge_index, b.edge_attr, batch=b.batch)
    precomputed = conv(b.x, b.edge_index, b.edge_attr, dag=LineDAGIndex.from_data(b),
                       batch=b.batch)
    assert on_the_fly.shape == (b.num_nodes, 16)
    # on the fly, the order comes from WL ranks instead of RDKit's: compare with the same order
    conv.order = "index"
    idx = build_line_dag(b.edge_index, b.num_nodes, b.batch, order="index")
    torch.testing.assert_close(conv(b.x, b.edge_index, b.edge_attr, batch=b.batch),
                               conv(b.x, b.edge_index, b.edge_attr, dag=idx, batch=b.batch))
    assert torch.isfinite(precomputed).all()


@pytest.mark.parametrize("mode", ["P", "D"])
def test_engines_agree_inside_the_layer(mode):
    torch.manual_seed(0)
    b = batch_of()
    conv = PLSTMConv(9, 16, mode=mode, edge_dim=3).double()
    dag = LineDAGIndex.from_data(b)
    outs = {}
    for engine in ("loop", "scan", "dense"):
        conv.engine = engine
        outs[engine] = conv(b.x.double(), b.edge_index, b.edge_attr.double(), dag=dag,
                            batch=b.batch)
    torch.testing.assert_close(outs["scan"], outs["loop"], rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(outs["dense"], outs["loop"], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode", ["P", "D"])
def test_bidirectional_averages_the_two_orientations_before_the_norm(mode):
    torch.manual_seed(0)
    b = batch_of()
    x, edge_attr, dag = b.x.double(), b.edge_attr.double(), LineDAGIndex.from_data(b)
    conv = PLSTMConv(9, 16, mode=mode, edge_dim=3, bidirectional=True, engine="dense").double()
    torch.nn.init.normal_(conv.lin_node_gates.weight)
    propagations = [plstm_dag(*inputs, engine="loop", **options) for inputs, options in (
        conv.propagation_inputs(x, b.edge_index, edge_attr, dag, b.batch, reverse)
        for reverse in (False, True))]
    assert not torch.allclose(*propagations)
    expected = conv.lin_out(conv.norm((propagations[0] + propagations[1]) / 2).flatten(1))
    torch.testing.assert_close(conv(x, b.edge_index, edge_attr, dag=dag, batch=b.batch),
                               expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("smiles", SMILES[:3])
@pytest.mark.parametrize("mode", ["P", "D"])
def test_reversing_the_node_order_reverses_the_layer(smiles, mode):
    """The DAG of the reversed canonical order is the reversed DAG: a layer on it equals the
    reversed layer on the original, and a bidirectional layer gives the same output on both."""
    torch.manual_seed(0)
    data = molecule(Chem.MolFromSmiles(smiles))
    flipped = data.clone()
    flipped.canonical_rank = data.num_nodes - 1 - data.canonical_rank
    data, flipped = LineDAG()(data), LineDAG()(flipped)
    forward, reverse, both = (PLSTMConv(9, 16, mode=mode, edge_dim=3, reverse=r,
                                        bidirectional=bi)
                              for r, bi in ((False, False), (True, False), (False, True)))
    reverse.load_state_dict(forward.state_dict())
    both.load_state_dict(forward.state_dict())

    def run(conv, graph):
        return conv(graph.x, graph.edge_index, graph.edge_attr,
                    dag=LineDAGIndex.from_data(graph))

    assert not torch.allclose(run(forward, flipped), run(forward, data), atol=1e-3)
    torch.testing.assert_close(run(forward, flipped), run(reverse, data), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(run(both, flipped), run(both, data), rtol=1e-5, atol=1e-6)


def test_batch_equals_single_graphs():
    torch.manual_seed(0)
    conv = PLSTMConv(9, 16, edge_dim=3)
    b = batch_of()
    out = conv(b.x, b.edge_index, b.edge_attr, dag=LineDAGIndex.from_data(b), batch=b.batch)
    singles = [conv(d.x, d.edge_index, d.edge_attr, dag=LineDAGIndex.from_data(d))
               for d in b.to_data_list()]
    torch.testing.assert_close(out, torch.cat(singles), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("smiles", SMILES)
@pytest.mark.parametrize("mode, order", [("P", "canonical"), ("D", "canonical"), ("P", "bfs"),
                                         ("P", "dfs"), ("D", "dfs")])
def test_renumbering_atoms_does_not_change_the_output(smiles, mode, order):
    torch.manual_seed(0)
    conv = PLSTMConv(9, 16, mode=mode, edge_dim=3)
    mol = Chem.MolFromSmiles(smiles)
    gen = torch.Generator().manual_seed(1)
    outs = []
    for perm in (list(range(mol.GetNumAtoms())),
                 torch.randperm(mol.GetNumAtoms(), generator=gen).tolist()):
        data = LineDAG(order)(molecule(Chem.RenumberAtoms(mol, perm)))
        out = conv(data.x, data.edge_index, data.edge_attr, dag=LineDAGIndex.from_data(data))
        outs.append(out[torch.argsort(data.canonical_rank)])  # rows in canonical atom order
    torch.testing.assert_close(outs[0], outs[1], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("smiles", ["NCCO", "CC(=O)Oc1ccccc1C(=O)O"])
def test_structure_built_on_the_fly_does_not_depend_on_numbering(smiles):
    """Without a precomputed structure the layer orients by Weisfeiler-Lehman ranks of its input
    features, so renumbering the atoms only permutes the output rows."""
    torch.manual_seed(0)
    conv = PLSTMConv(9, 16, edge_dim=3)
    mol = Chem.MolFromSmiles(smiles)
    perm = list(reversed(range(mol.GetNumAtoms())))
    data, renumbered = molecule(mol), molecule(Chem.RenumberAtoms(mol, perm))
    out = conv(data.x, data.edge_index, data.edge_attr)
    out_renumbered = conv(renumbered.x, renumbered.edge_index, renumbered.edge_attr)
    torch.testing.assert_close(out_renumbered, out[perm], rtol=1e-5, atol=1e-6)


def test_message_passing_options_it_ignores_are_refused():
    for option in ({"aggr": "mean"}, {"flow": "target_to_source"}):
        with pytest.raises(ValueError, match=next(iter(option))):
            PLSTMConv(8, 8, **option)


@pytest.mark.parametrize("group", ["fanout", "fanin"])
def test_p_mode_transitions_sum_below_one_per_group(group):
    torch.manual_seed(0)
    conv = PLSTMConv(9, 16, edge_dim=3, norm_group=group)
    torch.nn.init.normal_(conv.lin_node_gates.weight, std=3.0)
    torch.nn.init.normal_(conv.lin_edge_gates.weight, std=3.0)
    b = batch_of()
    dag = LineDAGIndex.from_data(b)
    structure = conv.orient(b.edge_index, dag)
    with torch.no_grad():
        _, transition, _, _ = conv.gates(conv.project(b.x, structure, b.edge_attr), structure)
    into, out = structure.line_index
    group_id = into if group == "fanout" else out
    sums = torch.zeros(structure.tail.numel(), conv.heads).index_add_(0, group_id,
                                                                       transition.abs())
    assert float(sums.max()) < 1.0
    assert float(sums.max()) > 0.9  # the large initial bias puts groups near criticality


@pytest.mark.parametrize("mode", ["P", "D"])
def test_long_chain_at_criticality_is_bounded_and_carries_gradient(mode):
    torch.manual_seed(0)
    n = 200
    x = torch.randn(n, 8, requires_grad=True)
    edge_index = torch.stack([torch.arange(n - 1), torch.arange(1, n)])
    edge_index = torch.cat([edge_index, edge_index.flip(0)], 1)
    conv = PLSTMConv(8, 8, heads=2, mode=mode, order="index", engine="scan")
    with torch.no_grad():  # transitions ~ 1 (P: 1e4 / (0.5 + 1e4); D: tanh(1e4))
        bias = conv.lin_node_gates.bias.view(4, 2)
        bias[3] = 1e4
        bias[:2] = 5.0  # source and mark open
    out = conv(x, edge_index)
    assert torch.isfinite(out).all() and float(out.detach().abs().max()) < 100
    grad, = torch.autograd.grad(out[-1].sum(), x)
    assert float(grad[0].abs().sum()) > 1e-6
    assert torch.isfinite(grad).all()


def test_runs_on_plain_batches_without_edge_features():
    b = Batch.from_data_list([from_smiles(s) for s in SMILES[:3]])
    conv = PLSTMConv(9, 8, heads=2)
    out = conv(b.x.float(), b.edge_index, batch=b.batch)
    assert out.shape == (b.num_nodes, 8)
    out.sum().backward()
    assert conv.lin_node_gates.weight.grad is not None
    assert conv.lin_edge_gates.weight.grad is not None
