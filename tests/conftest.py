"""Shared fixtures. The offline benchmark data lives in ``<repo>/../shared/data``; tests that
need it skip with a clear reason when it is absent."""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # plain `pytest` without an installed package
    sys.path.insert(0, str(REPO))

# The tests run many small ops. With a second intra-op thread each op waits for it, and on a
# busy machine (a training on the other core) that made the slow gradchecks 100-250x slower.
# On an idle 2-core machine one thread is as fast (both suites within 5 %).
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """:func:`plstm_graph.data.find_shared_data` (OGB-layout folders, TUDataset/, LRGB/), or
    skip."""
    from plstm_graph.data import find_shared_data

    try:
        return find_shared_data()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def manifest(shared_data: Path) -> dict:
    """``shared/data/manifest.json``: counts, task names, metrics, split sizes."""
    return json.loads((shared_data / "manifest.json").read_text())


@pytest.fixture(scope="session")
def data_cache(tmp_path_factory) -> Path:
    """A session-wide folder for processed-dataset caches (never the shared data folder)."""
    return tmp_path_factory.mktemp("plstm_data_cache")


def _cpu_seconds() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


@pytest.fixture(scope="session")
def hiv_loads(shared_data, data_cache) -> dict:
    """ogbg-molhiv loaded twice into the session cache, timed: ``first`` featurises it and builds
    the LineDAGs, ``second`` reads the cache (``*_s`` wall seconds; ``main_cpu_s`` and
    ``worker_cpu_s``, the first load's CPU seconds). A fixture, so that the README's data
    example, which loads it too, finds the cache whichever test runs first."""
    from plstm_graph.data import load_dataset

    assert not (data_cache / "ogbg_molhiv").exists(), "ogbg-molhiv was cached before its timing"
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    first = load_dataset("ogbg-molhiv", root=shared_data, cache_dir=data_cache, log=False)
    first_s = time.perf_counter() - t0
    main_cpu_s, worker_cpu_s = (b - a for a, b in zip(cpu0, _cpu_seconds(), strict=True))
    t0 = time.perf_counter()
    second = load_dataset("ogbg-molhiv", root=shared_data, cache_dir=data_cache, log=False)
    return {"first": first, "second": second, "first_s": first_s,
            "second_s": time.perf_counter() - t0, "main_cpu_s": main_cpu_s,
            "worker_cpu_s": worker_cpu_s}


@pytest.fixture(scope="session")
def freesolv_datamodule(shared_data, data_cache):
    """ogbg-molfreesolv from the shared data, set up (its splits built)."""
    from plstm_graph.models import PropertyDataModule

    dm = PropertyDataModule("ogbg-molfreesolv", data_dir=str(shared_data),
                            cache_dir=str(data_cache), eval_batch_size=128)
    dm.setup()
    return dm


@pytest.fixture(scope="session")
def freesolv_model_file(freesolv_datamodule, tmp_path_factory):
    """An (untrained, seeded) pLSTM for FreeSolv saved as a compact model file."""
    from plstm_graph.models import OptimConfig, PropertyPredictor, save_compact

    torch.manual_seed(0)
    task = freesolv_datamodule.task_info()
    args = {"out_channels": task.out_channels, "hidden_channels": 32,
            **freesolv_datamodule.input_channels()}
    module = PropertyPredictor.from_parts("plstm", args, task,
                                          freesolv_datamodule.featurization(), OptimConfig())
    return save_compact(module, tmp_path_factory.mktemp("model") / "best.pt")
