"""Give large freed buffers back to the system at once, so a step's peak does not add to the next's.

Each step of a run allocates big, short-lived native buffers: onnxruntime's activations for
text detection (~150 MB for one 960 px frame), decoded frames, VP9 encoder buffers. glibc
serves blocks above its mmap threshold with their own mapping and unmaps them on free, but
it raises that threshold to the size of every such block freed (up to 32 MB), so from the
first OCR call on the same sizes come from the heap and stay resident after they are freed.
The process then carries every earlier step's high-water mark into the next one (the
captions_db step used to set the run's peak RSS on top of the crop step's leftovers).

Fixing the threshold at 1 MiB stops that adjustment: 1 MiB and larger blocks are mapped and
unmapped each time (their pages are zeroed by the kernel when mapped again; a cost measured
in docs/benchmarks.md), smaller ones still come from the heap.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number (malloc.h)
MMAP_THRESHOLD_BYTES = 1 << 20


def release_large_blocks_on_free(threshold_bytes: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Fix glibc's mmap threshold for this process. Call it before threads start; returns False
    where the C library is not glibc (nothing changes there)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, int(threshold_bytes)))
