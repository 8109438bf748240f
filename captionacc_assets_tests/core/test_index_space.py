import pytest

from captionacc_assets.core.index_space import frame_count, full_frame_indices, index_to_seconds


@pytest.mark.parametrize(
    "duration, n",
    [
        (0.0, 0),
        (0.05, 1),
        (0.1, 1),
        (0.1000001, 1),
        (0.11, 2),
        (1.0, 10),
        (19.99, 200),
        (20.0, 200),
        (60.033, 601),
        (3.0 + 1e-9, 30),
    ],
)
def test_frame_count_is_ceil_of_duration_times_ten(duration, n):
    assert frame_count(duration) == n


def test_index_to_seconds_is_a_tenth():
    assert index_to_seconds(0) == 0.0
    assert index_to_seconds(123) == pytest.approx(12.3)


def test_full_frames_sit_on_the_point_one_hz_grid():
    assert full_frame_indices(601) == [0, 100, 200, 300, 400, 500, 600]
    assert full_frame_indices(600) == [0, 100, 200, 300, 400, 500]
    assert full_frame_indices(0) == []


def test_short_videos_get_enough_frames_including_the_grid():
    indices = full_frame_indices(200, min_frames=12)
    assert len(indices) >= 12
    assert {0, 100} <= set(indices)
    assert all(0 <= i < 200 for i in indices)
    assert indices == sorted(set(indices))
    assert full_frame_indices(5, min_frames=12) == [0, 1, 2, 3, 4]
