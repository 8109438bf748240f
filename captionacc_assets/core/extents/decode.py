"""Decode pair predictions into caption spans that cover the whole 10 Hz timeline.

A single pair prediction can be wrong; a caption is a run of many pairs. So the frames are
decoded jointly: a two-state Viterbi (each frame is empty or shows a caption) where every
step from frame i to i + 1 is scored by the probability of the pair label that step
implies (empty->empty: `empty_empty`, empty->caption: `empty_valid`, caption->empty:
`valid_empty`, caption->same caption: `same`, caption->next caption: `different`), with a
small cost for each boundary. An isolated wrong pair then costs less to overrule than to
obey, while a confident `different` still splits back-to-back captions.

Forward and backward predictions are averaged first (the backward columns permuted back to
the forward pair's labels). Captions shorter than `min_caption_frames` are dropped into the
gap, or folded into a caption they touch (a fade's first frames), unless every pair around
and inside them is confident.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from captionacc_assets.core.extents.labels import (
    DIFFERENT,
    EMPTY_EMPTY,
    EMPTY_VALID,
    LABELS,
    REVERSE_PERMUTATION,
    SAME,
    VALID_EMPTY,
    PairPredictions,
    label_between,
)

_EMPTY, _CAPTION = 0, 1

_PROBABILITY_FLOOR = 1e-4  # one impossible pair costs log(1e-4): a few confident pairs outweigh it
_BOUNDARY_COST = np.log(0.5)  # every caption start or end: prefer fewer, longer spans
_CHANGE_COST = np.log(0.8)  # a caption change: a split needs `different` clearly above `same`
_STRONG_EVIDENCE = 0.95  # a short caption survives when all its pairs are at least this sure


@dataclass(frozen=True)
class CaptionSpan:
    """An inclusive 10 Hz index range that shows one caption ("predicted") or none ("gap")."""

    start: int
    end: int
    state: str
    confidence: float


def combined_pair_probabilities(predictions: PairPredictions) -> np.ndarray:
    """(n-1, 5) probabilities of each forward pair: the mean of both directions' opinions."""
    forward = np.asarray(predictions.forward, dtype=np.float64)
    backward_as_forward = np.asarray(predictions.backward, dtype=np.float64)[:, list(REVERSE_PERMUTATION)]
    combined = (forward + backward_as_forward) / 2
    totals = combined.sum(axis=1, keepdims=True)
    return np.divide(combined, totals, out=np.full_like(combined, 1 / len(LABELS)), where=totals > 0)


def _viterbi(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Most likely frame states and, per pair, whether a caption changes there."""
    n = len(probs) + 1
    logp = np.log(np.maximum(probs, _PROBABILITY_FLOOR))
    stay_same = logp[:, SAME]
    change = logp[:, DIFFERENT] + _CHANGE_COST
    # step scores [pair, from_state, to_state]
    step = np.empty((len(probs), 2, 2))
    step[:, _EMPTY, _EMPTY] = logp[:, EMPTY_EMPTY]
    step[:, _EMPTY, _CAPTION] = logp[:, EMPTY_VALID] + _BOUNDARY_COST
    step[:, _CAPTION, _EMPTY] = logp[:, VALID_EMPTY] + _BOUNDARY_COST
    step[:, _CAPTION, _CAPTION] = np.maximum(stay_same, change)
    changes_if_caption = change > stay_same

    score = np.zeros(2)
    back = np.zeros((len(probs), 2), dtype=np.int8)
    for i in range(len(probs)):
        candidates = score[:, None] + step[i]  # [from, to]
        back[i] = candidates.argmax(axis=0)
        score = candidates.max(axis=0)
    states = np.empty(n, dtype=np.int8)
    states[-1] = int(score.argmax())
    for i in range(len(probs) - 1, -1, -1):
        states[i] = back[i, states[i + 1]]
    changes = (states[:-1] == _CAPTION) & (states[1:] == _CAPTION) & changes_if_caption
    return states, changes


def _label_of_step(a: int, b: int, changed: bool) -> int:
    return LABELS.index(label_between(a == _CAPTION, b == _CAPTION, changed))


def _segments(states: np.ndarray, changes: np.ndarray) -> list[list[int]]:
    """[start, end, is_caption] runs, split at state changes and caption changes."""
    cuts = np.nonzero((states[:-1] != states[1:]) | changes)[0] + 1
    starts = np.concatenate(([0], cuts))
    ends = np.concatenate((cuts - 1, [len(states) - 1]))
    return [[int(s), int(e), int(states[s])] for s, e in zip(starts, ends)]


def _evidence(probs: np.ndarray, seg: list[int], left: list[int] | None, right: list[int] | None) -> np.ndarray:
    """Probabilities of the labels a segment implies for its inner pairs and its two edges."""
    start, end, kind = seg
    inner_label = SAME if kind == _CAPTION else EMPTY_EMPTY
    values = list(probs[start:end, inner_label])
    if left is not None:
        values.append(probs[start - 1, _label_of_step(left[2], kind, left[2] == kind == _CAPTION)])
    if right is not None:
        values.append(probs[end, _label_of_step(kind, right[2], right[2] == kind == _CAPTION)])
    return np.array(values)


def _drop_short_captions(probs: np.ndarray, segs: list[list[int]], min_frames: int) -> list[list[int]]:
    """Fold captions shorter than `min_frames` into a touching caption, else into the gap."""
    i = 0
    while i < len(segs):
        start, end, kind = segs[i]
        if kind != _CAPTION or end - start + 1 >= min_frames:
            i += 1
            continue
        left = segs[i - 1] if i > 0 else None
        right = segs[i + 1] if i + 1 < len(segs) else None
        evidence = _evidence(probs, segs[i], left, right)
        if evidence.size and evidence.min() >= _STRONG_EVIDENCE:
            i += 1
            continue
        left_caption = left is not None and left[2] == _CAPTION
        right_caption = right is not None and right[2] == _CAPTION
        if left_caption and (not right_caption or probs[start - 1, DIFFERENT] <= probs[end, DIFFERENT]):
            assert left is not None
            left[1] = end  # the change into this fragment was the weaker one
            del segs[i]
            i -= 1  # re-check the grown caption (it may still be short)
        elif right_caption:
            assert right is not None
            right[0] = start
            del segs[i]  # the grown right caption is checked next
        else:
            segs[i][2] = _EMPTY
            i += 1
        i = max(i, 0)
    # adjacent gaps become one
    merged: list[list[int]] = []
    for seg in segs:
        if merged and merged[-1][2] == _EMPTY and seg[2] == _EMPTY:
            merged[-1][1] = seg[1]
        else:
            merged.append(seg)
    return merged


def decode_captions(predictions: PairPredictions, *, min_caption_frames: int = 3) -> list[CaptionSpan]:
    """Caption and gap spans covering [0, n) in order, without overlaps or two gaps in a row."""
    n = predictions.n_frames
    probs = combined_pair_probabilities(predictions)
    if n == 1:
        return [CaptionSpan(0, 0, "gap", 0.5)]  # no pair: nothing says whether it is a caption
    states, changes = _viterbi(probs)
    segs = _drop_short_captions(probs, _segments(states, changes), max(1, int(min_caption_frames)))
    spans = []
    for k, seg in enumerate(segs):
        left = segs[k - 1] if k > 0 else None
        right = segs[k + 1] if k + 1 < len(segs) else None
        evidence = _evidence(probs, seg, left, right)
        confidence = float(evidence.mean()) if evidence.size else 0.5
        spans.append(
            CaptionSpan(
                seg[0], seg[1], "predicted" if seg[2] == _CAPTION else "gap", float(np.clip(confidence, 0.0, 1.0))
            )
        )
    return spans
