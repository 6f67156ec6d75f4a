"""Slow data tests (``pytest -m slow``): full ogbg-molhiv processing with the default LineDAG
pre-transform and a timing report, hiv's recomputed scaffold split, and full loads of the larger
shared datasets."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import torch

from plstm_graph.data import load_dataset, scaffold_split

pytestmark = pytest.mark.slow

HIV_HARD_ROWS = {137: 19, 987: 19, 12882: 67, 18293: 31, 30784: 22, 30785: 23, 35728: 27}
FIRST_LOAD_LIMIT_S = float(os.environ.get("PLSTM_HIV_FIRST_LOAD_LIMIT_S", "60"))


def _official(folder, k):
    return pd.read_csv(folder / "split" / "scaffold" / f"{k}.csv.gz", header=None)[0].to_numpy()


def test_hiv_first_and_second_load_time(hiv_loads, shared_data, manifest, capsys):
    """ogbg-molhiv featurised + LineDAG: first load < 60 s, cached load < 5 s (printed)."""
    ds, again = hiv_loads["first"], hiv_loads["second"]
    first, second = hiv_loads["first_s"], hiv_loads["second_s"]
    main_cpu, worker_cpu = hiv_loads["main_cpu_s"], hiv_loads["worker_cpu_s"]
    # What the load takes on two otherwise idle cores (the main process plus two workers); on a
    # shared machine the wall time is inflated by other jobs.
    dedicated = main_cpu + worker_cpu / 2
    with capsys.disabled():
        print(
            f"\nogbg-molhiv load: first {first:.1f} s wall (featurise + LineDAG; CPU: main "
            f"{main_cpu:.1f} s, workers {worker_cpu:.1f} s, i.e. ~{dedicated:.1f} s on 2 idle "
            f"cores), second {second:.2f} s"
        )
    assert len(ds) == len(again) == manifest["ogbg-molhiv"]["num_graphs"]
    assert ds.skipped_rows == []
    for row, n_atoms in HIV_HARD_ROWS.items():
        assert again[row].num_nodes == n_atoms and int(again[row].row) == row
    split = again.get_idx_split()
    for k in ("train", "valid", "test"):
        np.testing.assert_array_equal(split[k].numpy(), _official(shared_data / "ogbg_molhiv", k))
    assert "dag_edge" in again[0]
    assert second < 5.0, f"cached load took {second:.2f} s"
    assert min(first, dedicated) < FIRST_LOAD_LIMIT_S, f"first load took {first:.1f} s"


@pytest.mark.parametrize("name", ["hiv", "tox21"])
def test_recomputed_scaffold_split_equals_official(shared_data, name):
    """Includes the 7 + 8 SMILES that need the partial-sanitisation fallback."""
    folder = shared_data / f"ogbg_mol{name}"
    smiles = pd.read_csv(folder / "mapping" / "mol.csv.gz")["smiles"].tolist()
    split = scaffold_split(smiles)
    for k in ("train", "valid", "test"):
        np.testing.assert_array_equal(split[k].numpy(), _official(folder, k))


@pytest.mark.parametrize("name", ["ogbg-mollipo", "ogbg-moltoxcast", "ogbg-molmuv"])
def test_large_datasets_load_with_official_split(shared_data, manifest, data_cache, name):
    ds = load_dataset(name, root=shared_data, cache_dir=data_cache, pre_transform=None, log=False)
    m = manifest[name]
    assert len(ds) == m["num_graphs"] and ds.skipped_rows == []
    assert (ds.num_tasks, ds.task_type, ds.eval_metric) == (
        m["num_tasks"],
        m["task_type"],
        m["eval_metric"],
    )
    split = ds.get_idx_split()
    assert {k: len(v) for k, v in split.items()} == m["split_sizes"]
    folder = shared_data / m["dir"]
    np.testing.assert_array_equal(split["test"].numpy(), _official(folder, "test"))
    labels = pd.read_csv(folder / "mapping" / "mol.csv.gz").drop(columns=["smiles", "mol_id"])
    np.testing.assert_array_equal(
        torch.isnan(ds._data.y).numpy(), labels.isna().to_numpy()
    )  # missing labels stay NaN
