"""Freed large blocks go back to the system once the mmap threshold is fixed (glibc, a real process)."""

import subprocess
import sys

import pytest

# A child process frees 100 blocks of 2 MiB, each followed by a 256 KiB block that stays
# allocated (so the heap cannot simply be trimmed), after one 30 MiB block was freed (which
# raises glibc's dynamic threshold above 2 MiB). It prints its RSS before and after the frees.
_CHILD = """
import ctypes, ctypes.util, os, sys
from captionacc_assets.core.malloc_release import release_large_blocks_on_free
if sys.argv[1] == "fixed":
    assert release_large_blocks_on_free()
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
print(before, rss_mb())
"""


def _rss_before_and_after_free(mode: str) -> tuple[int, int]:
    out = subprocess.run([sys.executable, "-c", _CHILD, mode], check=True, capture_output=True, text=True).stdout
    before, after = map(int, out.split())
    return before, after


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_freed_large_blocks_leave_the_process_once_the_threshold_is_fixed():
    before, after = _rss_before_and_after_free("default")
    assert before - after < 50, "without the fix glibc keeps the freed 200 MiB resident (the control)"
    before, after = _rss_before_and_after_free("fixed")
    assert before - after > 150, (before, after)
