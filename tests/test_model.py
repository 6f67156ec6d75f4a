"""PLSTMNet / GINENet: shapes, batching, options, parameter counts."""
from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader

from plstm_graph.data import smiles_to_data
from plstm_graph.nn import GINENet, PLSTMNet
from plstm_graph.nn.models import MODELS, num_parameters
from plstm_graph.nn.models.base import DegreeEncoding
from plstm_graph.transforms import LineDAG

SMILES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "C", "OC1CCC2(C)C(CCC3C2CCC2(C)C3CCC2O)C1"]


@pytest.fixture(scope="module")
def graphs():
    return LineDAG().transform_many([smiles_to_data(s) for s in SMILES])


def batch_of(graphs):
    return next(iter(DataLoader(graphs, batch_size=len(graphs))))


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("options", [{}, {"virtual_node": True, "pooling": "attention"},
                                     {"pooling": "sum", "degree_encoding": True}])
def test_batch_equals_single_graphs(graphs, name, options):
    torch.manual_seed(0)
    model = MODELS[name](3, hidden_channels=32, num_layers=2, **options).eval()
    out = model(batch_of(graphs))
    assert out.shape == (len(graphs), 3)
    single = torch.cat([model(batch_of([g])) for g in graphs])
    torch.testing.assert_close(out, single, atol=1e-5, rtol=1e-4)


def test_readout_norm_standardises_graph_embeddings(graphs):
    torch.manual_seed(0)
    model = PLSTMNet(1, hidden_channels=32, readout_norm=True).train()
    embedding = model.embed(batch_of(graphs))  # training mode: this batch's statistics
    torch.testing.assert_close(embedding.mean(0), torch.zeros(32), atol=1e-5, rtol=0)
    torch.testing.assert_close(embedding.var(0, unbiased=False), torch.ones(32), atol=1e-3,
                               rtol=0)
    assert model(batch_of(graphs[:1])).shape == (1, 1)  # one graph: running statistics
    model.eval()  # running statistics: a batch equals its graphs one by one
    torch.testing.assert_close(model(batch_of(graphs)),
                               torch.cat([model(batch_of([g])) for g in graphs]))


def test_plstm_blocks_alternate_orientation_and_size():
    model = PLSTMNet(1, hidden_channels=96, num_layers=3)
    for i, block in enumerate(model.layers):
        assert [sub.conv.mode for sub in block] == ["P", "D"]
        assert all(sub.conv.reverse == (i % 2 == 1) for sub in block)
    bidirectional = PLSTMNet(1, hidden_channels=96, num_layers=3, bidirectional=True)
    assert all(sub.conv.bidirectional and not sub.conv.reverse
               for block in bidirectional.layers for sub in block)
    assert num_parameters(bidirectional) == num_parameters(model)
    assert model.layers[0][0].mlp[0].out_features == 384  # 4 x 96, a multiple of 64
    assert PLSTMNet(1, hidden_channels=96, mlp_factor=2).layers[0][0].mlp[0].out_features == 192


def test_parameter_counts():
    # the released configuration (hidden 96, 2 x (P + D), MLP x 4) is ~0.47 M (spec A9)
    assert 450_000 < num_parameters(PLSTMNet(1)) < 520_000
    assert num_parameters(PLSTMNet(1, mlp_factor=2)) < 350_000
    assert 1_500_000 < num_parameters(GINENet(1)) < 3_000_000


def test_runs_without_precomputed_structure(graphs):
    model = PLSTMNet(2, hidden_channels=32).eval()
    plain = [Data(x=g.x, edge_index=g.edge_index, edge_attr=g.edge_attr) for g in graphs]
    assert model(batch_of(plain)).shape == (len(graphs), 2)


@pytest.mark.parametrize("spellings", [("NCCO", "OCCN"), ("CC(=O)Nc1ccc(O)cc1",
                                                          "Oc1ccc(NC(C)=O)cc1")])
def test_structure_built_on_the_fly_is_canonical(spellings):
    """Without the LineDAG pre-transform, the model builds the same structure itself: the
    prediction matches the precomputed one and does not depend on the SMILES spelling."""
    torch.manual_seed(0)
    model = PLSTMNet(1, hidden_channels=32).eval()
    raw = [smiles_to_data(s) for s in spellings]
    precomputed = model(batch_of(LineDAG().transform_many(raw)))
    on_the_fly = model(batch_of(raw))
    torch.testing.assert_close(on_the_fly, precomputed, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(on_the_fly[0], on_the_fly[1], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("order", ["canonical", "bfs", "dfs"])
def test_prediction_does_not_depend_on_the_spelling(order):
    """Every order but ``index`` orients a molecule the same way however its SMILES is written:
    the configs use ``canonical``, and ``dfs`` on Peptides-func."""
    torch.manual_seed(0)
    model = PLSTMNet(1, hidden_channels=32).eval()
    spellings = ["NCC(=O)N[C@@H](C)C(=O)N[C@@H](CO)C(=O)O",  # Gly-Ala-Ser, from either end
                 "OC(=O)[C@H](CO)NC(=O)[C@H](C)NC(=O)CN"]
    graphs = LineDAG(order).transform_many([smiles_to_data(s) for s in spellings])
    out = model(batch_of(graphs))
    torch.testing.assert_close(out[0], out[1], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_float_features_without_edge_attr(name):
    x = torch.rand(6, 7)
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4, 4, 5], [1, 0, 2, 1, 3, 2, 4, 3, 5, 4]])
    data = Data(x=x, edge_index=edge_index)
    model = MODELS[name](2, hidden_channels=16, in_channels=7, edge_in_channels=None).eval()
    assert model(batch_of([LineDAG()(data)])).shape == (1, 2)


def test_bad_options():
    with pytest.raises(ValueError, match="block_modes"):
        PLSTMNet(1, block_modes="PPD")
    with pytest.raises(ValueError, match="pooling"):
        GINENet(1, pooling="max-ish")
    with pytest.raises(ValueError, match="in_channels"):
        PLSTMNet(1, in_channels="atoms")


def test_degree_encoding_is_sinusoidal():
    enc = DegreeEncoding(8)
    edge_index = torch.tensor([[0, 0, 1, 2], [1, 2, 0, 0]])
    pe = enc(edge_index, 3)
    assert torch.allclose(pe[0, 0], torch.tensor(2.0).sin()) and pe[1, 1] == torch.tensor(1.0).cos()
    assert pe.shape == (3, 8)
