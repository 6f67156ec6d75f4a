"""Shared fixtures. The offline benchmark data lives in ``<repo>/../shared/data``; tests that
need it skip with a clear reason when it is absent."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # plain `pytest` without an installed package
    sys.path.insert(0, str(REPO))


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
