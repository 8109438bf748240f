import numpy as np
import pytest

from captionacc_assets.core.pixel_median import _batcher_pairs, pixel_median


@pytest.mark.parametrize("count", list(range(1, 18)) + [31, 32])
def test_matches_numpy_median_for_any_count(count):
    rng = np.random.default_rng(count)
    frames = [rng.integers(0, 256, (7, 9, 3), dtype=np.uint8) for _ in range(count)]
    expected = np.floor(np.median(np.stack(frames).astype(np.float64), axis=0) + 0.5).astype(np.uint8)
    assert np.array_equal(pixel_median(frames), expected)


def test_network_sorts_every_zero_one_input():
    # The 0-1 principle: a comparator network sorts everything iff it sorts all 0/1 inputs.
    size = 16
    pairs = _batcher_pairs(size)
    for bits in range(1 << size):
        values = [(bits >> i) & 1 for i in range(size)]
        for a, b in pairs:
            if values[a] > values[b]:
                values[a], values[b] = values[b], values[a]
        assert values == sorted(values)


def test_inputs_are_not_modified():
    frames = [np.full((2, 2), v, np.uint8) for v in (9, 1, 5)]
    assert pixel_median(frames).tolist() == [[5, 5], [5, 5]]
    assert [int(f[0, 0]) for f in frames] == [9, 1, 5]
