"""Shared fixtures. The offline benchmark data lives in ``<repo>/../shared/data``; tests that
need it skip with a clear reason when it is absent."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # plain `pytest` without an installed package
    sys.path.insert(0, str(REPO))

# PLSTM_SHARED_DATA points the tests at another copy of the offline data.
SHARED_DATA = Path(os.environ.get("PLSTM_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``<repo>/../shared/data`` (OGB-layout folders, TUDataset/, LRGB/), or skip."""
    if not (SHARED_DATA / "manifest.json").is_file():
        pytest.skip(
            f"offline benchmark data not found at {SHARED_DATA} (no manifest.json there; set "
            "PLSTM_SHARED_DATA to its location)"
        )
    return SHARED_DATA


@pytest.fixture(scope="session")
def manifest(shared_data: Path) -> dict:
    """``shared/data/manifest.json``: counts, task names, metrics, split sizes."""
    return json.loads((shared_data / "manifest.json").read_text())


@pytest.fixture(scope="session")
def data_cache(tmp_path_factory) -> Path:
    """A session-wide folder for processed-dataset caches (never the shared data folder)."""
    return tmp_path_factory.mktemp("plstm_data_cache")
