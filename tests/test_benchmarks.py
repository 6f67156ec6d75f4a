"""The benchmark entry point runs and its peak-memory probe measures what it should."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from benchmarks.common import REPO, peak_memory

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
