"""Where data lives.

Resolution order for the data root: explicit argument (``--data-dir``) > ``PLSTM_DATA_DIR`` > the
default ``<repo>/datasets`` (in a source checkout; ``./datasets`` under the working directory for an
installed package). An explicit directory or ``PLSTM_DATA_DIR`` that does not exist is an error; the
default one is created on first use.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DATA_DIR_ENV",
    "SHARED_DATA_ENV",
    "default_data_root",
    "find_shared_data",
    "repo_root",
    "resolve_data_root",
]

DATA_DIR_ENV = "PLSTM_DATA_DIR"
#: Points the tests and the benchmarks at another copy of the offline benchmark data.
SHARED_DATA_ENV = "PLSTM_SHARED_DATA"


def repo_root() -> Path | None:
    """The source checkout holding this package (the folder with ``pyproject.toml``), or
    ``None``."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() else None


def default_data_root() -> Path:
    """``<repo>/datasets`` in a source checkout, else ``./datasets``."""
    root = repo_root()
    return (root if root is not None else Path.cwd()) / "datasets"


def resolve_data_root(
    data_dir: str | os.PathLike | None = None, *, create_default: bool = True
) -> Path:
    """Explicit ``data_dir`` > ``$PLSTM_DATA_DIR`` > :func:`default_data_root`.

    Raises ``FileNotFoundError`` naming the option when an explicitly given directory does not
    exist.
    """
    for given, option in ((data_dir, "--data-dir / root="),
                          (os.environ.get(DATA_DIR_ENV), f"${DATA_DIR_ENV}")):
        if given is not None and str(given) != "":
            path = Path(given).expanduser()
            if not path.is_dir():
                raise FileNotFoundError(f"data directory {str(path)!r} from {option} does not "
                                        "exist or is not a directory")
            return path
    path = default_data_root()
    if create_default:
        path.mkdir(parents=True, exist_ok=True)
    return path


def find_shared_data() -> Path:
    """The project's offline benchmark data (OGB-layout folders, ``TUDataset/``, ``LRGB/``,
    ``manifest.json``), used by the tests and the benchmarks: ``$PLSTM_SHARED_DATA``, else
    ``shared/data`` beside the source checkout (beside the working directory for an installed
    package).

    Raises ``FileNotFoundError`` naming the folder when it holds no ``manifest.json``.
    """
    given = os.environ.get(SHARED_DATA_ENV)
    if given:
        path = Path(given).expanduser()
    else:
        root = repo_root()
        path = (root if root is not None else Path.cwd()).parent / "shared" / "data"
    if not (path / "manifest.json").is_file():
        raise FileNotFoundError(f"offline benchmark data not found at {str(path)!r} (no "
                                f"manifest.json there; set {SHARED_DATA_ENV} to its location)")
    return path
