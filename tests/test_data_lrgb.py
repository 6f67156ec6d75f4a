"""LRGB Peptides-func: counts, official split and label statistics against manifest.json; the full
featurised load is a slow test."""

from __future__ import annotations

import hashlib
import pickle

import numpy as np
import pytest
import torch

from plstm_graph.data import DatasetEvaluator, evaluator_for, load_dataset
from plstm_graph.data.api import resolve_name
from plstm_graph.data.lrgb import (
    PEPTIDES_FUNC,
    find_peptides_func,
    read_peptides_func,
    read_peptides_split,
)


@pytest.fixture(scope="module")
def peptides_folder(shared_data):
    folder = find_peptides_func(shared_data)
    if folder is None:
        pytest.skip(f"LRGB/peptides-functional not found under {shared_data}")
    return folder


def test_peptides_files_are_the_official_ones(peptides_folder):
    for rel, md5 in (
        (f"raw/{PEPTIDES_FUNC['csv']}", PEPTIDES_FUNC["csv_md5"]),
        (PEPTIDES_FUNC["split"], PEPTIDES_FUNC["split_md5"]),
    ):
        assert hashlib.md5((peptides_folder / rel).read_bytes()).hexdigest() == md5


def test_peptides_counts_split_and_labels(peptides_folder, manifest):
    m = manifest["LRGB/peptides-functional"]
    smiles, labels = read_peptides_func(peptides_folder)
    split = read_peptides_split(peptides_folder)
    assert len(smiles) == m["num_graphs"] == 15535
    assert labels.shape == (15535, m["num_tasks"]) == (15535, 10)
    assert labels.sum(0).astype(int).tolist() == m["task_positives"]
    assert {k: len(v) for k, v in split.items()} == m["split_sizes"]
    assert [len(split[k]) for k in ("train", "valid", "test")] == [10873, 2331, 2331]
    assert torch.equal(torch.cat(list(split.values())).sort().values, torch.arange(15535))
    # the split is read with a numpy-only unpickler; it equals a plain pickle load of the file
    with open(peptides_folder / PEPTIDES_FUNC["split"], "rb") as f:
        plain = pickle.load(f)
    np.testing.assert_array_equal(split["valid"].numpy(), plain["val"])


def test_peptides_names_and_evaluator():
    assert resolve_name("Peptides-func") == ("peptides", "peptides-func")
    assert resolve_name("peptides-functional") == ("peptides", "peptides-func")

    class Meta:
        name, num_tasks, eval_metric = "peptides-func", 10, "ap"

    ev = evaluator_for(Meta())
    assert isinstance(ev, DatasetEvaluator) and (ev.num_tasks, ev.eval_metric) == (10, "ap")


def test_peptides_missing_offline_is_clear(tmp_path, monkeypatch):
    def offline(*a, **k):
        raise OSError("no network")

    monkeypatch.setattr("torch_geometric.data.download_url", offline)
    with pytest.raises(ConnectionError, match="peptides-func is not under"):
        load_dataset("peptides-func", root=tmp_path, pre_transform=None)


@pytest.mark.slow
def test_peptides_full_load(shared_data, manifest, data_cache):
    m = manifest["LRGB/peptides-functional"]
    ds = load_dataset(
        "peptides-func", root=shared_data, cache_dir=data_cache, pre_transform=None, log=False
    )
    assert len(ds) == 15535 and ds.skipped_rows == []
    assert (ds.num_tasks, ds.task_type, ds.eval_metric) == (10, "binary classification", "ap")
    assert ds._data.x.shape == (m["num_nodes"], 9)  # 2,344,859 atoms
    assert ds._data.edge_index.shape[1] == m["num_edges_directed"]  # 4,773,974
    split = ds.get_idx_split()
    assert [len(split[k]) for k in ("train", "valid", "test")] == [10873, 2331, 2331]
