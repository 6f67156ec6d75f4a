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
    "default_data_root",
    "find_shared_data",
    "repo_root",
    "resolve_data_root",
]

DATA_DIR_ENV = "PLSTM_DATA_DIR"


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


def find_shared_data() -> Path | None:
    """The project's offline data folder ``<repo>/../shared/data`` if it exists (used by the
    tests)."""
    candidates = []
    root = repo_root()
    if root is not None:
        candidates.append(root.parent / "shared" / "data")
    candidates.append(Path.cwd().parent / "shared" / "data")
    for c in candidates:
        if (c / "manifest.json").is_file():
            return c.resolve()
    return None
