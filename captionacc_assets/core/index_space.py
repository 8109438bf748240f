"""The 10 Hz frame index space every table, key and export uses (SPEC §3).

Index `i` is the instant `t = i / 10` s. A video of duration `d` seconds has
`n = ceil(d * 10)` indices. Full frames are sampled at 0.1 Hz: indices 0, 100, 200, ...
"""

import math

INDEX_RATE_HZ = 10
FULL_FRAME_STEP = 100  # 0.1 Hz in the 10 Hz index space


def frame_count(duration_seconds: float) -> int:
    """Number of 10 Hz indices for a duration; timestamp noise below 10 µs is ignored."""
    if duration_seconds <= 0:
        return 0
    return math.ceil(round(duration_seconds * INDEX_RATE_HZ, 4))


def index_to_seconds(index: int) -> float:
    return index / INDEX_RATE_HZ


def full_frame_indices(n: int, min_frames: int = 0) -> list[int]:
    """Indices of the 0.1 Hz full frames, densified for short videos.

    The 0.1 Hz grid (0, 100, 200, ...) is always included; when that gives fewer
    than `min_frames` samples, evenly spaced extra indices are added so layout
    inference still sees enough frames.
    """
    if n <= 0:
        return []
    indices = set(range(0, n, FULL_FRAME_STEP))
    want = min(min_frames, n)
    if len(indices) < want:
        step = n / want
        indices.update(min(n - 1, int(k * step + step / 2)) for k in range(want))
    return sorted(indices)
