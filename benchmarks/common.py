"""Shared helpers for the benchmarks: real molecules, timing and peak memory."""
from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import gc
import statistics
import time
from pathlib import Path

import torch
from torch_geometric.data import Batch

from plstm_graph.data import find_shared_data, smiles_to_data
from plstm_graph.data.tables import read_molecule_table
from plstm_graph.runtime import keep_freed_memory
from plstm_graph.transforms import LineDAG

REPO = Path(__file__).resolve().parents[1]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options every benchmark table shares."""
    parser.add_argument("--batch", type=int, default=128, help="molecules per batch")
    parser.add_argument("--device", default="cpu", help="e.g. cuda")
    parser.add_argument("--system-malloc", action="store_true",
                        help="leave glibc's malloc settings alone (by default freed memory is "
                             "kept for reuse, as train.py does: plstm_graph.runtime)")


def main(description: str, *parts, prog: str | None = None) -> None:
    """Parse the shared options and those of each part (a module with ``add_arguments`` and
    ``run``), then run the parts one after the other."""
    parser = argparse.ArgumentParser(prog=prog, description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    for part in parts:
        part.add_arguments(parser)
    args = parser.parse_args()
    kept = not args.system_malloc and keep_freed_memory()
    print(f"malloc: {'freed memory kept for reuse' if kept else 'system defaults'}")
    for i, part in enumerate(parts):
        if i:
            print()
        part.run(args)


def molhiv_smiles(limit: int | None = None) -> list[str]:
    """SMILES of ogbg-molhiv in dataset order (the offline copy:
    :func:`plstm_graph.data.find_shared_data`)."""
    try:
        smiles, _, _ = read_molecule_table(find_shared_data() / "ogbg_molhiv" / "mapping"
                                           / "mol.csv.gz")
    except FileNotFoundError as exc:
        raise SystemExit(str(exc)) from exc
    return smiles[:limit] if limit else smiles


def molhiv_batch(size: int = 128, offset: int = 0, order: str = "canonical",
                 device: str = "cpu") -> Batch:
    graphs = [smiles_to_data(s) for s in molhiv_smiles(offset + size)[offset:]]
    return Batch.from_data_list(LineDAG(order).transform_many(graphs)).to(device)


def time_once(fn, device: str = "cpu") -> float:
    """Seconds taken by ``fn()``: wall clock on the CPU, CUDA events on a GPU."""
    if device.startswith("cuda"):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / 1e3
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_time(fn, repeats: int = 7, warmup: int = 2, device: str = "cpu") -> float:
    """Median time of ``fn()`` in seconds."""
    for _ in range(warmup):
        fn()
    return statistics.median(time_once(fn, device) for _ in range(repeats))


def interleaved_median_times(fns: dict, repeats: int, device: str = "cpu",
                             max_repeats: dict | None = None) -> dict:
    """Median seconds of each ``fns[name]()``, timed in rounds (every function once per round)
    so that slow drifts of a shared machine hit all of them alike; ``max_repeats[name]`` caps
    the rounds of slow ones (which then get no warm-up run)."""
    max_repeats = max_repeats or {}
    for name, fn in fns.items():
        if name not in max_repeats:
            fn()
            fn()
    times = {name: [] for name in fns}
    for round_ in range(repeats):
        for name, fn in fns.items():
            if round_ < max_repeats.get(name, repeats):
                times[name].append(time_once(fn, device))
    return {name: statistics.median(ts) for name, ts in times.items()}


def _proc_status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def peak_memory(fn, device: str = "cpu") -> int | None:
    """Bytes by which ``fn()`` raises the peak memory above what was in use before it: the
    caching allocator's peak on a GPU; on a CPU the process's peak resident set, reset through
    ``/proc/self/clear_refs`` (Linux; ``None`` elsewhere)."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        fn()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - before
    try:
        gc.collect()
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.malloc_trim(0)  # hand freed heap pages back, so that reusing them counts
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets the peak resident set (VmHWM) to the current one
        before = _proc_status_kib("VmRSS")
    except (OSError, AttributeError, KeyError):
        return None
    fn()
    return (_proc_status_kib("VmHWM") - before) * 1024
