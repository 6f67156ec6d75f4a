"""TU datasets with the pLSTM protocol (spec 3.1): counts against manifest.json, 10-fold stratified
8/1/1 splits (partition and stratification properties), metadata and caching outside the shared
folder."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from plstm_graph.data import DatasetEvaluator, evaluator_for, load_dataset
from plstm_graph.data.tu import TU_NAMES, OnesIfNoX

# PyG feature widths with use_node_attr=True (shared/data/README.md: 7 / 37 / 3+1 / 18)
NUM_NODE_FEATURES = {"MUTAG": 7, "NCI1": 37, "PROTEINS": 4, "PTC_FM": 18}


@pytest.fixture(scope="module")
def tu(shared_data, data_cache):
    cache = {}

    def get(name, fold=0):
        key = (name, fold)
        if key not in cache:
            cache[key] = load_dataset(
                name, root=shared_data, cache_dir=data_cache, pre_transform=None, fold=fold,
                log=False,
            )  # fmt: skip
        return cache[key]

    return get


@pytest.mark.parametrize("name", TU_NAMES)
def test_tu_counts_match_manifest(shared_data, manifest, tu, name):
    before = sorted(p.name for p in (shared_data / "TUDataset" / name).iterdir())
    ds = tu(name)
    m = manifest[f"TUDataset/{name}"]
    assert len(ds) == m["num_graphs"]
    assert ds._data.x.shape[0] == m["num_nodes"]
    assert ds._data.edge_index.shape[1] == m["num_edges_directed"]
    counts = torch.bincount(ds._data.y.view(-1)).tolist()
    assert {str(c): n for c, n in enumerate(counts)} == m["class_counts_pyg_y"]
    assert ds.num_node_features == NUM_NODE_FEATURES[name]
    assert ds.num_classes == m["num_classes"] == 2
    assert (ds.num_tasks, ds.task_type, ds.eval_metric) == (1, "multiclass classification", "acc")
    # PyG's processed/ went to the cache, not into the shared folder
    assert sorted(p.name for p in (shared_data / "TUDataset" / name).iterdir()) == before


@pytest.mark.parametrize("name", TU_NAMES)
def test_tu_folds_partition_and_stratify(tu, name):
    ds = tu(name)
    y = ds._data.y.view(-1).numpy()
    n = len(y)
    classes, class_counts = np.unique(y, return_counts=True)
    tests = []
    for fold in range(10):
        split = tu(name, fold).get_idx_split()
        tr, va, te = (split[k].numpy() for k in ("train", "valid", "test"))
        assert all(split[k].dtype == torch.long for k in split)
        assert len(np.intersect1d(tr, va)) == len(np.intersect1d(tr, te)) == 0
        assert len(np.intersect1d(va, te)) == 0
        assert np.array_equal(np.sort(np.concatenate([tr, va, te])), np.arange(n))
        # test: one tenth, stratified (each class within floor/ceil of its tenth)
        assert n // 10 <= len(te) <= -(-n // 10)
        for c, nc in zip(classes, class_counts, strict=True):
            assert nc // 10 <= (y[te] == c).sum() <= -(-nc // 10)
        # valid: one ninth of the rest (8/1/1 overall), stratified up to rounding
        rest = n - len(te)
        assert abs(len(va) - rest / 9) <= 1
        for c in classes:
            assert abs((y[va] == c).sum() - (y[np.concatenate([tr, va])] == c).sum() / 9) <= 1
        tests.append(te)
    # the 10 test folds partition the dataset
    assert np.array_equal(np.sort(np.concatenate(tests)), np.arange(n))


def test_tu_fold_parameter_and_seed(shared_data, tu):
    a, b = tu("MUTAG", 0), tu("MUTAG", 1)
    assert not torch.equal(a.get_idx_split()["test"], b.get_idx_split()["test"])
    assert torch.equal(a.get_idx_split()["test"], tu("MUTAG", 0).get_idx_split()["test"])
    with pytest.raises(ValueError, match="fold must be in 0..9"):
        load_dataset("MUTAG", root=shared_data, fold=10)


def test_tu_evaluator_is_ogb_accuracy(tu):
    ds = tu("PTC_FM")
    ev = evaluator_for(ds)
    assert isinstance(ev, DatasetEvaluator) and ev.eval_metric == "acc"
    y = ds._data.y.view(-1, 1).numpy()
    assert ev.eval({"y_true": y, "y_pred": y})["acc"] == 1.0
    assert ev.eval({"y_true": y, "y_pred": 1 - y})["acc"] == 0.0


def test_ones_if_no_x():
    d = OnesIfNoX()(Data(edge_index=torch.tensor([[0, 1], [1, 0]]), num_nodes=3))
    assert torch.equal(d.x, torch.ones(3, 1))
    x = torch.randn(3, 2)
    assert OnesIfNoX()(Data(x=x)).x is x


def test_tu_default_pre_transform_loads_without_unsafe_fallback(shared_data, tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load_dataset("mutag", root=shared_data, cache_dir=tmp_path, log=False)
        again = load_dataset("MUTAG", root=shared_data, cache_dir=tmp_path, log=False)
    assert not [w for w in caught if "Weights only load failed" in str(w.message)]
    assert type(ds[0]).__name__ == "DAGData" and "dag_edge" in again[0]
    assert ds.processed_dir == again.processed_dir


def test_tu_missing_offline_is_clear(tmp_path, monkeypatch):
    def offline(*a, **k):
        raise OSError("no network")

    monkeypatch.setattr("torch_geometric.io.fs.cp", offline)
    with pytest.raises(ConnectionError, match=r"MUTAG: no raw files under .*TUDataset/MUTAG/raw"):
        load_dataset("MUTAG", root=tmp_path, pre_transform=None)
    with pytest.raises(FileNotFoundError, match="download=False"):
        load_dataset("MUTAG", root=tmp_path, pre_transform=None, download=False)
