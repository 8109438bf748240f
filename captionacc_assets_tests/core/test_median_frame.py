"""The median image of a caption's frames: even subsampling, bounded streaming, bad input."""

import numpy as np
import pytest

from captionacc_assets.core.median_frame import median_frame


def test_median_subsamples_sequences_evenly_and_streams_in_bounded_memory():
    frames = [np.full((4, 4, 3), i, np.uint8) for i in range(101)]
    # Evenly spaced over the whole span: 3 picks are 0, 50, 100.
    assert median_frame(frames, max_frames=3)[0, 0, 0] == 50
    assert median_frame(frames, max_frames=31)[0, 0, 0] == 50

    held = []

    def stream():
        for f in frames:
            held.append(f)
            yield f

    result = median_frame(stream(), max_frames=31)
    assert len(held) == 101  # the whole stream was read
    assert 40 <= result[0, 0, 0] <= 60


def test_median_of_one_frame_and_bad_input():
    frame = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    assert np.array_equal(median_frame([frame]), frame)
    with pytest.raises(ValueError, match="at least one frame"):
        median_frame([])
    with pytest.raises(ValueError, match="one shape"):
        median_frame([frame, np.zeros((5, 4, 3), np.uint8)])
