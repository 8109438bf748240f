"""Give freed native memory back to the system, so one step's peak does not add to the next's.

Each step of a run allocates big, short-lived native buffers: onnxruntime's activations for
text detection (~150 MB for one 960 px frame; RapidOCR runs it without its memory arena),
decoded frames, VP9 encoder buffers. glibc keeps most freed pages in the process (its mmap
threshold rises to the size of the blocks freed, so later blocks come from the heap, and freed
heap pages stay resident), and reads of differently sized images fragment the heap, so the
run's peak grew with every OCR read and was carried into the next step. `malloc_trim(0)`
returns the free pages of every arena. It is called after each OCR read (`core/ocr/rapid.py`)
and after the crop job; the cost is the page faults of allocating that memory again, about
15 % more OCR CPU time (docs/benchmarks.md). Trimming only every fourth read or only at the
end of each job kept most of the peak; fixing the mmap threshold instead (`mallopt`) lowered
the peak as much but made every decoded 1080p frame a fresh mapping (crop step 12-25 % slower).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache


@lru_cache(maxsize=1)
def _malloc_trim():
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


def release_free_memory() -> bool:
    """Return the process's free heap pages to the system; False where the C library has no
    `malloc_trim` (nothing to do there)."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
