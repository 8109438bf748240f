"""Decoding pair predictions into caption spans, on hand-made label sequences."""

import numpy as np
import pytest

from captionacc_assets.core.extents.decode import CaptionSpan, combined_pair_probabilities, decode_captions
from captionacc_assets.core.extents.labels import DIFFERENT, LABELS, REVERSE_PERMUTATION, PairPredictions


def soft(label: str, p: float = 0.96) -> np.ndarray:
    """A probability vector with `p` on `label` and the rest spread evenly."""
    v = np.full(len(LABELS), (1 - p) / (len(LABELS) - 1))
    v[LABELS.index(label)] = p
    return v


def pair_labels(caption_ids: list[int]) -> list[str]:
    """Labels of consecutive pairs given each frame's caption id (-1 = no caption)."""
    out = []
    for a, b in zip(caption_ids, caption_ids[1:]):
        if a < 0 and b < 0:
            out.append("empty_empty")
        elif a < 0:
            out.append("empty_valid")
        elif b < 0:
            out.append("valid_empty")
        else:
            out.append("same" if a == b else "different")
    return out


def predictions(forward_rows, backward_rows=None) -> PairPredictions:
    forward = np.array(forward_rows, dtype=np.float64).reshape(-1, len(LABELS))
    if backward_rows is None:
        backward = forward[:, list(REVERSE_PERMUTATION)]
    else:
        backward = np.array(backward_rows, dtype=np.float64).reshape(-1, len(LABELS))
    return PairPredictions(forward=forward, backward=backward)


def from_ids(caption_ids: list[int], p: float = 0.96) -> PairPredictions:
    return predictions([soft(label, p) for label in pair_labels(caption_ids)])


def captions(spans: list[CaptionSpan]) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in spans if s.state == "predicted"]


def truth_spans(caption_ids: list[int]) -> list[tuple[int, int]]:
    spans, start = [], None
    for i, c in enumerate(caption_ids + [-2]):
        if start is not None and c != caption_ids[start]:
            spans.append((start, i - 1))
            start = None
        if start is None and 0 <= c:
            start = i
    return spans


def assert_covers(spans: list[CaptionSpan], n: int) -> None:
    assert spans[0].start == 0 and spans[-1].end == n - 1
    for left, right in zip(spans, spans[1:]):
        assert right.start == left.end + 1
        assert not (left.state == "gap" and right.state == "gap")
    for s in spans:
        assert s.start <= s.end and s.state in ("predicted", "gap") and 0.0 <= s.confidence <= 1.0


@pytest.mark.parametrize(
    "caption_ids",
    [
        [-1] * 4 + [0] * 10 + [-1] * 5,  # single caption
        [-1] * 3 + [0] * 6 + [1] * 7 + [2] * 5 + [-1] * 2,  # back-to-back captions
        [-1] * 2 + [0] * 8 + [-1] * 4 + [1] * 6 + [-1] + [2] * 9 + [-1] * 3,  # gaps, one of one frame
        [0] * 7 + [-1] * 3 + [1] * 6,  # caption at the very first frame
        [-1] * 3 + [0] * 5 + [1] * 6,  # caption at the very last frame
        [0] * 12,  # a caption the whole video
        [-1] * 12,  # no caption at all
        [-1] * 3 + [0] * 5 + [-1] * 3,  # a 0.5 s cue survives
    ],
)
def test_decodes_clean_label_sequences_exactly(caption_ids):
    spans = decode_captions(from_ids(caption_ids))
    assert_covers(spans, len(caption_ids))
    assert captions(spans) == truth_spans(caption_ids)
    assert all(s.confidence > 0.9 for s in spans)


def test_single_frame_video_is_one_gap():
    spans = decode_captions(predictions(np.zeros((0, 5))))
    assert len(spans) == 1 and spans[0].start == spans[0].end == 0 and spans[0].state == "gap"


def test_weak_isolated_different_does_not_split_a_caption():
    ids = [-1] * 3 + [0] * 12 + [-1] * 3
    rows = [soft(label) for label in pair_labels(ids)]
    rows[8] = np.array([0.40, 0.45, 0.05, 0.05, 0.05])  # "different" by a hair
    assert captions(decode_captions(predictions(rows))) == [(3, 14)]


def test_different_that_disagrees_with_backward_does_not_split_a_caption():
    ids = [-1] * 3 + [0] * 12 + [-1] * 3
    forward = [soft(label) for label in pair_labels(ids)]
    backward = [row[list(REVERSE_PERMUTATION)] for row in forward]
    forward[8] = soft("different", 0.9)  # forward flips, backward still says same
    spans = decode_captions(predictions(forward, backward))
    assert captions(spans) == [(3, 14)]
    combined = combined_pair_probabilities(predictions(forward, backward))
    assert combined[8, DIFFERENT] == pytest.approx((0.9 + 0.01) / 2, abs=1e-3)


def test_confident_different_splits_back_to_back_captions_even_alone():
    ids = [-1] * 3 + [0] * 6 + [1] * 6 + [-1] * 3
    spans = decode_captions(from_ids(ids, p=0.8))
    assert captions(spans) == [(3, 8), (9, 14)]


def test_isolated_empty_empty_inside_a_caption_does_not_split_it():
    ids = [-1] * 3 + [0] * 12 + [-1] * 3
    rows = [soft(label) for label in pair_labels(ids)]
    rows[9] = soft("empty_empty", 0.96)  # both directions agree on the flip
    assert captions(decode_captions(predictions(rows))) == [(3, 14)]


def test_isolated_valid_frame_in_a_gap_does_not_make_a_caption():
    ids = [-1] * 20
    rows = [soft(label) for label in pair_labels(ids)]
    rows[9], rows[10] = soft("empty_valid", 0.7), soft("valid_empty", 0.7)
    spans = decode_captions(predictions(rows))
    assert captions(spans) == [] and len(spans) == 1


def test_fade_in_with_noisy_pairs_gives_one_caption_starting_within_a_frame():
    # truth: caption from frame 5; the fade makes pairs 3..6 uncertain
    ids = [-1] * 5 + [0] * 12 + [-1] * 3
    rows = [soft(label) for label in pair_labels(ids)]
    rows[3] = np.array([0.05, 0.05, 0.45, 0.40, 0.05])  # ee or ev?
    rows[4] = np.array([0.10, 0.05, 0.20, 0.60, 0.05])  # ev (the truth)
    rows[5] = np.array([0.35, 0.55, 0.03, 0.04, 0.03])  # the fade grows the ink: "different"?
    rows[6] = np.array([0.60, 0.30, 0.03, 0.04, 0.03])
    spans = decode_captions(predictions(rows))
    got = captions(spans)
    assert len(got) == 1
    assert abs(got[0][0] - 5) <= 1 and got[0][1] == 16


def test_short_captions_are_dropped_unless_the_evidence_is_strong():
    ids = [-1] * 6 + [0] * 2 + [-1] * 6
    weak = [soft(label, 0.8) for label in pair_labels(ids)]
    weak_spans = decode_captions(predictions(weak))
    assert captions(weak_spans) == [] and len(weak_spans) == 1
    strong = [soft(label, 0.99) for label in pair_labels(ids)]
    assert captions(decode_captions(predictions(strong))) == [(6, 7)]
    assert captions(decode_captions(predictions(weak), min_caption_frames=2)) == [(6, 7)]


def test_short_fragment_next_to_a_caption_is_folded_into_it():
    # a 1-frame "caption" right before a long one (a fade's first frame read as a change)
    ids = [-1] * 4 + [0] + [1] * 10 + [-1] * 3
    rows = [soft(label, 0.85) for label in pair_labels(ids)]
    assert captions(decode_captions(predictions(rows))) == [(4, 14)]


def test_random_predictions_always_cover_the_timeline_without_overlap():
    rng = np.random.default_rng(7)
    for trial in range(200):
        n = int(rng.integers(1, 60))
        # mostly sticky label runs with noise, plus some pure noise
        forward = rng.dirichlet(np.full(5, 0.3), size=n - 1)
        backward = rng.dirichlet(np.full(5, 0.3), size=n - 1) if trial % 2 else forward[:, list(REVERSE_PERMUTATION)]
        spans = decode_captions(
            PairPredictions(forward=forward, backward=backward), min_caption_frames=int(rng.integers(1, 5))
        )
        assert_covers(spans, n)
