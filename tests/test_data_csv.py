"""A user's CSV as a dataset: scaffold / seeded random split, task-type inference, NaN labels,
clear errors, and an OGB-compatible evaluator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from ogb.graphproppred import Evaluator
from sklearn.metrics import average_precision_score

from plstm_graph.data import DatasetEvaluator, evaluator_for, load_dataset


def _write(path, text):
    path.write_text(text)
    return path


@pytest.fixture()
def small_csv(tmp_path):
    rows = ["smiles,active,logp"]
    smiles = ["CCO", "c1ccccc1", "CC(=O)O", "CCN", "c1ccncc1", "CCCC", "OCC(O)CO", "C1CCCCC1"]
    for i, s in enumerate(smiles * 5):
        active = "" if i % 7 == 3 else str(i % 2)
        rows.append(f"{s},{active},{0.1 * i:.1f}")
    return _write(tmp_path / "my_set.csv", "\n".join(rows) + "\n")


def test_csv_scaffold_split_reproduces_official_bbbp(shared_data, tmp_path):
    """bbbp's mapping file as a user CSV: the scaffold split equals OGB's official split."""
    df = pd.read_csv(shared_data / "ogbg_molbbbp" / "mapping" / "mol.csv.gz")
    path = tmp_path / "bbbp.csv"
    df[["smiles", "p_np"]].to_csv(path, index=False)
    ds = load_dataset(path, root=tmp_path, pre_transform=None, log=False)
    assert ds.name == "bbbp" and len(ds) == len(df)
    assert (ds.num_tasks, ds.task_type, ds.eval_metric) == (1, "binary classification", "rocauc")
    split = ds.get_idx_split()
    for k in ("train", "valid", "test"):
        official = pd.read_csv(
            shared_data / "ogbg_molbbbp" / "split" / "scaffold" / f"{k}.csv.gz", header=None
        )[0].to_numpy()
        np.testing.assert_array_equal(split[k].numpy(), official)


def test_csv_random_split_is_seeded_partition(small_csv, tmp_path):
    kw = dict(root=tmp_path, pre_transform=None, split="random", log=False)
    a = load_dataset(str(small_csv), seed=1, **kw).get_idx_split()
    b = load_dataset(str(small_csv), seed=1, **kw).get_idx_split()
    c = load_dataset(str(small_csv), seed=2, **kw).get_idx_split()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)
    assert [len(a[k]) for k in ("train", "valid", "test")] == [32, 4, 4]
    assert torch.equal(torch.cat(list(a.values())).sort().values, torch.arange(40))


def test_csv_labels_tasks_and_nan(small_csv, tmp_path):
    ds = load_dataset(small_csv, root=tmp_path, pre_transform=None, log=False)
    assert ds.task_names == ["active", "logp"]
    # 'logp' is not 0/1, so the table is a regression task set
    assert (ds.num_tasks, ds.task_type, ds.eval_metric) == (2, "regression", "rmse")
    y = ds._data.y
    assert y.shape == (40, 2)
    nan_rows = [i for i in range(40) if i % 7 == 3]
    assert torch.isnan(y[nan_rows, 0]).all() and not torch.isnan(y[:, 1]).any()
    cls = load_dataset(
        small_csv, root=tmp_path, pre_transform=None, target_columns=["active"], log=False
    )
    assert (cls.num_tasks, cls.task_type, cls.eval_metric) == (1, "binary classification", "rocauc")


@pytest.mark.parametrize("content, message", [
    ("smi,y\nCCO,1\n", r"a\.csv.*no 'smiles' column"),
    ("", r"a\.csv.*is empty"),
    ("smiles,y\n", r"a\.csv.*no rows"),
    ("smiles,y\nCCO,1\nCCN,active\n", r"non-numeric label 'active' in column 'y', row 1"),
    ("smiles\nCCO\n", "no target columns"),
    ("smiles,y\nCCO,1\nC1CC,0\n", r"row 1: cannot parse SMILES 'C1CC'"),
])
def test_csv_errors_are_clear(tmp_path, content, message):
    with pytest.raises(ValueError, match=message):
        load_dataset(_write(tmp_path / "a.csv", content), root=tmp_path, pre_transform=None)


def test_missing_csv_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        load_dataset(tmp_path / "missing.csv", root=tmp_path, pre_transform=None)


def test_csv_skip_invalid_then_split_on_kept_rows(tmp_path):
    path = _write(tmp_path / "g.csv", "smiles,y\nCCO,1\nC1CC,0\nc1ccccc1,0\nCCN,1\n")
    with pytest.warns(UserWarning, match="skipped 1"):
        ds = load_dataset(
            path, root=tmp_path, pre_transform=None, on_invalid="skip", split="random", log=False
        )
    assert len(ds) == 3 and ds.skipped_rows == [1]
    split = ds.get_idx_split()
    assert sorted(torch.cat(list(split.values())).tolist()) == [0, 1, 2]
    assert ds._data.row.tolist() == [0, 2, 3]


def test_csv_cache_follows_file_content(tmp_path):
    path = _write(tmp_path / "h.csv", "smiles,y\nCCO,1\nCCN,0\n")
    a = load_dataset(path, root=tmp_path, pre_transform=None, log=False)
    _write(path, "smiles,y\nCCO,0\nCCN,0\n")
    b = load_dataset(path, root=tmp_path, pre_transform=None, log=False)
    assert a.processed_dir != b.processed_dir and float(b[0].y) == 0.0


def test_dataset_evaluator_reuses_ogb_metrics():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, size=(200, 1)).astype(float)
    y_pred = rng.normal(size=(200, 1))
    mine = DatasetEvaluator("my_set", 1, "rocauc").eval({"y_true": y_true, "y_pred": y_pred})
    ogb = Evaluator("ogbg-molhiv").eval({"y_true": y_true, "y_pred": y_pred})
    assert mine == ogb
    y10 = rng.integers(0, 2, size=(300, 10)).astype(float)
    p10 = rng.normal(size=(300, 10))
    ap = DatasetEvaluator("peptides-func", 10, "ap").eval({"y_true": y10, "y_pred": p10})["ap"]
    expected = np.mean([average_precision_score(y10[:, i], p10[:, i]) for i in range(10)])
    assert ap == pytest.approx(expected)
    with pytest.raises(RuntimeError, match="Number of tasks"):
        DatasetEvaluator("x", 2, "rmse").eval({"y_true": y_true, "y_pred": y_pred})


def test_evaluator_for_csv_dataset(small_csv, tmp_path):
    ds = load_dataset(small_csv, root=tmp_path, pre_transform=None, log=False)
    ev = evaluator_for(ds)
    assert isinstance(ev, DatasetEvaluator) and ev.eval_metric == "rmse" and ev.num_tasks == 2
    y = ds._data.y.numpy()
    out = ev.eval({"y_true": y, "y_pred": np.nan_to_num(y)})
    assert out["rmse"] == pytest.approx(0.0)
