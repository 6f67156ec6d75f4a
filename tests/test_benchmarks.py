"""The benchmark entry point runs and its peak-memory probe measures what it should."""
from __future__ import annotations

import os
import subprocess
import sys

import networkx as nx
import pandas as pd
import pytest
import torch

from benchmarks.common import REPO, peak_memory
from benchmarks.dag_reach import reach
from plstm_graph.data import smiles_to_data
from plstm_graph.transforms import LineDAG

# the CPU probe resets the peak resident set through /proc, which only Linux has
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="CPU peak memory is measured through Linux's /proc")


@linux_only
def test_peak_memory_sees_a_known_allocation():
    size = 64 * 2**20
    peak = peak_memory(lambda: torch.ones(size // 4).sum())
    # within a MiB below: pages that malloc keeps resident (keep_freed_memory, which train.py
    # applies to this process in other tests) can be reused without raising the peak
    assert peak is not None and size - 2**20 <= peak < size + 16 * 2**20


@linux_only
def test_peak_memory_of_nothing_is_small():
    peak = peak_memory(lambda: None)
    assert peak is not None and peak < 8 * 2**20


@pytest.mark.slow
def test_entry_point_prints_every_table(shared_data):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--batch", "4", "--molecules", "8", "--repeats", "1",
         "--skip-loop"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    layers = [line.split() for line in lines if line.startswith(("GINEConv", "PLSTMConv"))]
    assert [row[:3] for row in layers[1:]] == [
        ["PLSTMConv", mode, engine] for mode in "PD" for engine in ("scan", "dense", "auto")]
    assert all(float(row[-1]) > 0 for row in layers)  # peak MB
    propagation = [line.split()[:3] for line in lines if line.startswith("plstm_dag")]
    assert propagation == [["plstm_dag", mode, engine] for mode in "PD"
                           for engine in ("scan", "dense")]
    assert any(line.startswith("preprocessing: featurise") for line in lines)
    assert [line.split()[0] for line in lines if line.startswith(("PLSTMNet", "GINE +"))] == [
        "PLSTMNet", "GINE"]


def test_train_step_times_a_train_py_configuration(shared_data, data_cache, tmp_path):
    from benchmarks import train_step

    args, train_args = train_step.parse_args(
        ["--steps", "2", "--warmup", "1", "--barrier", str(tmp_path / "barrier"), "--",
         "--config", "configs/ogbg-molbbbp.yaml", "--model", "gine", "--data.data_dir",
         str(shared_data), "--data.cache_dir", str(data_cache), "--num_threads", "1"])
    result = train_step.measure(args, train_args)
    split = pd.read_csv(shared_data / "ogbg_molbbbp" / "split" / "scaffold" / "train.csv.gz",
                        header=None)
    assert result["dataset"] == "ogbg-molbbbp" and result["model"] == "gine"
    assert result["steps"] == 2 and result["s_per_step"] > 0
    assert result["steps_per_epoch"] == len(split) // 32  # the config's batch size, last dropped
    assert result["epoch_train_s"] == pytest.approx(
        result["s_per_step"] * result["steps_per_epoch"], abs=0.01)
    assert [p.name for p in (tmp_path / "barrier").iterdir()] == [result["tag"]]


def test_train_step_rejects_an_empty_measurement(capsys):
    from benchmarks.train_step import parse_args

    with pytest.raises(SystemExit):
        parse_args(["--steps", "0"])
    assert "--steps must be at least 1" in capsys.readouterr().err


def test_train_step_barrier_names_the_missing_processes(tmp_path):
    from benchmarks.train_step import wait_for_all

    with pytest.raises(SystemExit, match="fewer than 3 processes"):
        wait_for_all(tmp_path, "only", processes=3, timeout=0.2)


@pytest.mark.parametrize("order", ["index", "bfs", "dfs"])
def test_dag_reach_of_a_chain_oriented_end_to_end(order):
    (pentane,) = LineDAG(order).transform_many([smiles_to_data("CCCCC")])
    assert reach(pentane) == {"atoms": 5, "depth": 4, "p_reach": 1.0, "d_reach": 1.0}


@pytest.mark.parametrize("order", ["canonical", "index", "bfs", "dfs"])
def test_dag_reach_counts_directed_paths(order):
    (graph,) = LineDAG(order).transform_many([smiles_to_data("c1ccc2c(c1)cccc2CC(=O)O")])
    dag = nx.DiGraph(graph.edge_index[:, graph.dag_edge].t().tolist())
    pairs = 14 * 13 // 2
    joined = sum(nx.has_path(dag, u, v) for u in dag for v in dag if u != v)
    result = reach(graph)
    assert result["depth"] == nx.dag_longest_path_length(dag)
    assert result["p_reach"] == joined / pairs
    # D-mode's multitree drops line edges of the rings' diamonds, never a bond itself
    assert dag.number_of_edges() / pairs <= result["d_reach"] <= result["p_reach"]
