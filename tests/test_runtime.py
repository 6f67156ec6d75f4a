"""keep_freed_memory switches glibc's malloc to serving large tensors from its heap."""
from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from plstm_graph import runtime

glibc_only = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="the setting is glibc's mallopt")

# Is a fresh 24 MiB tensor inside the [heap] mapping (reusable after it is freed) or a
# mapping of its own (handed back to the OS when freed, faulted in again on the next use)?
ON_HEAP = """
import sys
import torch
from plstm_graph.runtime import keep_freed_memory

if sys.argv[1] == "keep":
    assert keep_freed_memory()
address = torch.empty(24 << 18).data_ptr()
with open("/proc/self/maps") as maps:
    heap = [line.split()[0] for line in maps if line.rstrip().endswith("[heap]")]
print(any(int(lo, 16) <= address < int(hi, 16) for lo, hi in (r.split("-") for r in heap)))
"""


def _on_heap(setting: str) -> bool:
    result = subprocess.run([sys.executable, "-c", ON_HEAP, setting], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[-1] == "True"


@glibc_only
def test_large_tensors_come_from_the_heap_once_freed_memory_is_kept():
    assert not _on_heap("default")
    assert _on_heap("keep")


def test_keep_freed_memory_leaves_other_c_libraries_alone(monkeypatch):
    monkeypatch.setattr(runtime.platform, "libc_ver", lambda: ("musl", ""))
    assert runtime.keep_freed_memory() is False
