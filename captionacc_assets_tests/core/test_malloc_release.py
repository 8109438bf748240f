"""Freed heap memory goes back to the system when released (glibc, a real process)."""

import subprocess
import sys

import pytest

# A child process frees 100 blocks of 2 MiB, each followed by a 256 KiB block that stays
# allocated (so the heap top cannot simply shrink), after one 30 MiB block was freed (which
# raises glibc's mmap threshold above 2 MiB: the blocks come from the heap, as onnxruntime's
# activations do). It prints its RSS before and after the frees.
_CHILD = """
import ctypes, ctypes.util, os, sys
from captionacc_assets.core.malloc_release import release_free_memory
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
def touched(size):
    block = libc.malloc(size)
    libc.memset(block, 1, size)
    return block
def rss_mb():
    for line in open(f"/proc/{os.getpid()}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024
libc.free(touched(30 << 20))
blocks, kept = [], []
for _ in range(100):
    blocks.append(touched(2 << 20))
    kept.append(touched(256 << 10))
before = rss_mb()
for block in blocks:
    libc.free(block)
if sys.argv[1] == "released":
    assert release_free_memory()
print(before, rss_mb())
"""


def _rss_before_and_after_free(mode: str) -> tuple[int, int]:
    out = subprocess.run([sys.executable, "-c", _CHILD, mode], check=True, capture_output=True, text=True).stdout
    before, after = map(int, out.split())
    return before, after


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_released_heap_memory_leaves_the_process():
    before, after = _rss_before_and_after_free("kept")
    assert before - after < 50, "glibc alone keeps the freed 200 MiB resident (the control)"
    before, after = _rss_before_and_after_free("released")
    assert before - after > 150, (before, after)
