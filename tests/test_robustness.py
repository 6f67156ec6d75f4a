"""Unusual but valid molecules end to end, and a fuzz test of the SMILES -> graph path."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.data import Batch

from plstm_graph.data import InvalidSmilesError, smiles_to_data
from plstm_graph.nn.models import PLSTMNet
from plstm_graph.transforms import LineDAG

UNUSUAL = {
    "one_atom": "C",
    "no_bonds_ions": "[Na+].[Cl-]",
    "salt_fragments": "CC(=O)[O-].[Na+].O",
    "long_chain_240_atoms": "C" * 240,
    "big_ring_system": "c1ccc2cc3cc4cc5cc6ccccc6cc5cc4cc3cc2c1" * 1,
    "noble_gas": "[He]",
}


@pytest.mark.parametrize("engine", ["auto", "scan", "dense"])
def test_unusual_molecules_train_step(engine):
    torch.manual_seed(0)
    graphs = LineDAG().transform_many([smiles_to_data(s) for s in UNUSUAL.values()])
    batch = Batch.from_data_list(graphs)
    model = PLSTMNet(out_channels=2, hidden_channels=32, num_layers=2, engine=engine)
    out = model(batch)
    assert out.shape == (len(UNUSUAL), 2)
    assert torch.isfinite(out).all()
    out.square().mean().backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_each_unusual_molecule_alone_matches_its_row_in_the_batch():
    torch.manual_seed(0)
    model = PLSTMNet(out_channels=1, hidden_channels=32, num_layers=1).eval()
    graphs = LineDAG().transform_many([smiles_to_data(s) for s in UNUSUAL.values()])
    together = model(Batch.from_data_list(graphs))
    alone = torch.cat([model(Batch.from_data_list([g])) for g in graphs])
    torch.testing.assert_close(together, alone, rtol=1e-4, atol=1e-5)


SMILES_ALPHABET = "CNOSPFIBrcnos()[]=#@+-123456789%.\\/Hl* "


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=SMILES_ALPHABET, max_size=40) | st.text(max_size=20))
def test_fuzz_smiles_to_graph(text):
    try:
        data = smiles_to_data(text)
    except InvalidSmilesError as err:
        assert repr(text)[1:-1] in str(err) or text in str(err)
        return
    graph = LineDAG()(data)
    n = graph.num_nodes
    assert graph.x.shape == (n, 9)
    assert graph.edge_index.numel() == 0 or int(graph.edge_index.max()) < n
    assert graph.edge_index.size(1) == 2 * graph.dag_edge.numel()
