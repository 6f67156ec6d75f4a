"""Process-wide settings that make CPU training cheaper."""
from __future__ import annotations

import ctypes
import ctypes.util
import platform

# mallopt(3) parameters
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3


def keep_freed_memory(mmap_threshold: int = 32 << 20, trim_threshold: int = 256 << 20,
                      top_pad: int = 64 << 20) -> bool:
    """Let glibc's ``malloc`` keep freed memory for reuse instead of handing it back at once.

    PyTorch has no caching allocator on the CPU, and by default glibc serves blocks of more
    than 128 KiB with a fresh ``mmap`` (and returns freed heap tops), so every large temporary
    tensor pays one page fault per 4 KiB on first touch: about a thousand per ``PLSTMConv``
    forward+backward on a batch of 128 molecules, 10-15 % of its time
    (``benchmarks/README.md``). Serving blocks of up to ``mmap_threshold`` bytes from the heap
    and trimming the heap only past ``trim_threshold`` removes nearly all of them; it is what
    ``MALLOC_MMAP_THRESHOLD_`` and friends, or jemalloc/tcmalloc as PyTorch's CPU tuning
    guide suggests, do from outside the process. The process keeps up to ``trim_threshold``
    of freed memory.

    Returns:
        :obj:`True` if the settings were applied; :obj:`False` where the C library is not
        glibc (nothing is changed then).
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    return all(libc.mallopt(param, value) == 1 for param, value in (
        (_M_MMAP_THRESHOLD, mmap_threshold), (_M_TRIM_THRESHOLD, trim_threshold),
        (_M_TOP_PAD, top_pad)))
