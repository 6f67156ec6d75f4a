"""Shared helpers for the benchmarks: real molecules and timing."""
from __future__ import annotations

import gzip
import statistics
import time
from pathlib import Path

import torch
from torch_geometric.data import Batch

from plstm_graph.data import smiles_to_data
from plstm_graph.transforms import LineDAG

REPO = Path(__file__).resolve().parents[1]
MOLHIV_CSV = REPO.parent / "shared" / "data" / "ogbg_molhiv" / "mapping" / "mol.csv.gz"


def molhiv_smiles(limit: int | None = None) -> list[str]:
    """SMILES of ogbg-molhiv in dataset order (the offline copy beside the repository)."""
    if not MOLHIV_CSV.is_file():
        raise SystemExit(f"benchmark data not found: {MOLHIV_CSV}")
    with gzip.open(MOLHIV_CSV, "rt") as f:
        next(f)
        rows = [line.split(",")[1] for line in f]
    return rows[:limit] if limit else rows


def molhiv_batch(size: int = 128, offset: int = 0, order: str = "canonical",
                 device: str = "cpu") -> Batch:
    graphs = [smiles_to_data(s) for s in molhiv_smiles(offset + size)[offset:]]
    return Batch.from_data_list(LineDAG(order).transform_many(graphs)).to(device)


def median_time(fn, repeats: int = 7, warmup: int = 2, device: str = "cpu") -> float:
    """Median time of ``fn()`` in seconds: wall clock on the CPU, CUDA events on a GPU."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if device.startswith("cuda"):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
        else:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return statistics.median(times)
