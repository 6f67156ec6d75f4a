"""Writing files so that a reader never sees half of one."""
from __future__ import annotations

import os
from pathlib import Path


def atomic_write(path: str | os.PathLike, write) -> Path:
    """Calls ``write(tmp_path)`` and moves the result to ``path`` in one ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
