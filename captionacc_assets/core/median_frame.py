"""The median image of a caption's frames.

Burned-in caption text stays still while the picture behind it moves, so the per-pixel
median over a caption's frames keeps the text and washes out the background; OCR of
that one image is both cheaper and better than OCR of every frame.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from captionacc_assets.core.pixel_median import pixel_median


def _evenly_spaced(frames: Sequence[np.ndarray], max_frames: int) -> list[np.ndarray]:
    n = len(frames)
    if n <= max_frames:
        return list(frames)
    picks = np.unique(np.linspace(0, n - 1, max_frames).round().astype(int))
    return [frames[int(i)] for i in picks]


def _decimated(frames: Iterable[np.ndarray], max_frames: int) -> list[np.ndarray]:
    """Keep every `stride`-th frame of a stream, doubling the stride whenever more than
    `max_frames` are kept: an evenly spaced sample in bounded memory, without the count."""
    kept: list[np.ndarray] = []
    stride = 1
    for i, frame in enumerate(frames):
        if i % stride:
            continue
        kept.append(frame)
        if len(kept) > max_frames:
            kept = kept[::2]
            stride *= 2
    return kept


def median_frame(frames: Iterable[np.ndarray], max_frames: int = 31) -> np.ndarray:
    """Per-pixel median of same-shaped uint8 frames.

    A `Sequence` (list, tuple) with more than `max_frames` frames is subsampled evenly
    over its whole length. Any other iterable is streamed: every k-th frame is kept,
    with k doubling as needed, so at most `max_frames` frames are held in memory
    and the sample still spans the caption (up to the last stride's tail).
    """
    if max_frames < 1:
        raise ValueError(f"max_frames must be at least 1, got {max_frames}")
    if isinstance(frames, Sequence):
        sample = _evenly_spaced(frames, max_frames)
    else:
        sample = _decimated(frames, max_frames)
    if not sample:
        raise ValueError("median_frame needs at least one frame; the caption span decoded to none")
    shapes = {np.shape(f) for f in sample}
    if len(shapes) != 1:
        raise ValueError(f"median_frame needs frames of one shape, got {sorted(shapes)}")
    if len(sample) == 1:
        return np.asarray(sample[0]).astype(np.uint8, copy=True)
    return pixel_median(sample)
