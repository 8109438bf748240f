"""A non-learned caption pair classifier: is (frame i, frame i + 1) the same caption, a change,
or no caption?

Burned-in captions are bright strokes (white or yellow) hemmed in by something dark (an
outline, a shadow or a box), and they stand still while the scene behind them moves. So:

1. Each crop becomes a binary "ink" mask at half resolution: bright fill pixels with a dark
   pixel within a stroke's reach on both sides (left and right, or above and below).
2. Ink that is also present in a neighbouring frame is caption; ink that is not is moving
   background. Each frame's mask is cleaned against its other neighbour before a pair is
   compared, so a moving or cut scene does not look like a caption change.
3. Per pair we keep only small per-column-block counts (ink of each side, ink of each side
   missing from the other), so memory stays bounded while frames stream in.
4. After the last frame, thresholds are calibrated per video: a frame shows a caption when
   its persistent ink clears an absolute floor and, by a margin, the persistent ink of
   the video's moving background (so a video without captions is all empty); two captioned frames differ when both sides
   lose a large share of their ink, globally or within one column block (one changed
   character). A fade grows or shrinks the ink but only one side loses it, so it is not
   a change.

Probabilities are soft: they reflect the margin from each threshold.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from captionacc_assets.core.errors import InputError

from captionacc_assets.core.extents.labels import (
    DIFFERENT,
    EMPTY_EMPTY,
    EMPTY_VALID,
    LABELS,
    REVERSE_PERMUTATION,
    SAME,
    VALID_EMPTY,
    PairPredictions,
)

ALGORITHM_VERSION = "ink-persistence-v1"


@dataclass(frozen=True)
class BaselineParams:
    """Tunable constants of the baseline; all of them go into `model_hash`."""

    fill_threshold: int = 170  # min(R, G) of caption fill: white and yellow both pass
    dark_threshold: int = 90  # luma of outline / shadow / box
    stroke_reach: float = 0.09  # how far (x crop height) the dark edge may be from fill
    block_width: float = 0.35  # column block width (x crop height): about one glyph
    min_caption_ink: float = 0.02  # absolute floor of persistent ink (x cell-grid height^2)
    unstable_loss: float = 0.3  # a frame whose ink mostly leaves both neighbours is moving background
    noise_margin: float = 3.0  # caption ink must exceed the moving background's this many times
    valid_softness: float = 0.25  # log-ink units per logit of the valid probability
    different_threshold: float = 0.18  # change score (share of ink lost) of a caption change...
    different_margin: float = 0.12  # ...or this much above the video's typical same-caption score
    different_threshold_max: float = 0.35
    different_softness: float = 0.03
    block_qualify: float = 0.3  # a block counts when both sides hold this x typical ink


class _PairFeatureStream:
    """Consumes frames one by one, keeping the last four ink masks and small per-pair counts.

    With m_i the ink mask of frame i and P_i = m_i & m_(i+1) (ink that stays from i to i+1):
    - a frame's persistent ink is the most ink it shares with two neighbours at once
      (frames i-2..i, i-1..i+1 or i..i+2); moving background rarely stays three frames;
    - the pair (i, i+1) compares A' = P_(i-1) (frame i without its moving background)
      with B' = P_(i+1), per column block: their ink, and the ink each loses in the other
      frame (A' & ~(m_(i+1) | m_(i+2)), B' & ~(m_i | m_(i-1))).
    """

    def __init__(self, params: BaselineParams) -> None:
        self.p = params
        self.shape: tuple[int, ...] | None = None
        self.n = 0
        self.masks: list[np.ndarray] = []  # m of the last (up to) 4 frames
        self.stays: list[np.ndarray] = []  # P of the last (up to) 3 pairs
        self.stay_blocks: list[np.ndarray] = []  # block sums of those P
        self.stay_counts: list[int] = []  # |P_i| for every pair
        self.triple_counts: list[int] = []  # |m_(c-1) & m_c & m_(c+1)| for every centre c >= 1
        self.blocks_a: list[np.ndarray] = []
        self.blocks_b: list[np.ndarray] = []
        self.blocks_la: list[np.ndarray] = []
        self.blocks_lb: list[np.ndarray] = []

    def _setup(self, frame: np.ndarray) -> None:
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise InputError(f"crops must be HxWx3 uint8 RGB arrays; got shape {frame.shape}, dtype {frame.dtype}")
        height, width = frame.shape[:2]
        if height < 8 or width < 8:
            raise InputError(f"crop {width}x{height} px is too small to hold a caption; check the crop region")
        self.shape = frame.shape
        reach = int(np.clip(round(height * self.p.stroke_reach), 3, 24))
        self.kh, self.kv = np.ones((1, reach), np.uint8), np.ones((reach, 1), np.uint8)
        self.far = reach - 1
        self.cell_h, self.cell_w = height // 2, width // 2
        bw = min(self.cell_w, max(4, int(round(self.cell_h * self.p.block_width))))
        starts = np.arange(0, self.cell_w - bw + 1, max(1, bw // 2))
        if starts[-1] + bw < self.cell_w:
            starts = np.append(starts, self.cell_w - bw)
        self.block_start, self.block_end = starts, starts + bw

    def _ink(self, frame: np.ndarray) -> np.ndarray:
        """Half-resolution 0/1 mask of caption-like strokes: bright fill with dark on both sides."""
        red, green, _ = cv2.split(frame)
        bright = cv2.threshold(cv2.min(red, green), self.p.fill_threshold - 1, 255, cv2.THRESH_BINARY)[1]
        luma = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        dark = cv2.threshold(luma, self.p.dark_threshold, 255, cv2.THRESH_BINARY_INV)[1]
        left = cv2.dilate(dark, self.kh, anchor=(self.far, 0))
        right = cv2.dilate(dark, self.kh, anchor=(0, 0))
        up = cv2.dilate(dark, self.kv, anchor=(0, self.far))
        down = cv2.dilate(dark, self.kv, anchor=(0, 0))
        ink = cv2.bitwise_and(bright, cv2.bitwise_or(cv2.bitwise_and(left, right), cv2.bitwise_and(up, down)))
        # half resolution; a cell is ink when at least 2 of its 4 pixels are (mean >= 127.5)
        cells = cv2.resize(
            ink[: self.cell_h * 2, : self.cell_w * 2], (self.cell_w, self.cell_h), interpolation=cv2.INTER_AREA
        )
        return cv2.threshold(cells, 100, 1, cv2.THRESH_BINARY)[1]

    def _blocks(self, mask: np.ndarray) -> np.ndarray:
        columns = cv2.reduce(mask, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
        cumulative = np.concatenate(([0], np.cumsum(columns)))
        return (cumulative[self.block_end] - cumulative[self.block_start]).astype(np.int32)

    def push(self, frame: np.ndarray) -> None:
        frame = np.asarray(frame)
        if self.shape is None:
            self._setup(frame)
        elif frame.shape != self.shape or frame.dtype != np.uint8:
            raise InputError(
                f"crop {self.n} has shape {frame.shape} {frame.dtype}; every crop of a video must be "
                f"{self.shape} uint8 (one approved crop region per cropped frames version)"
            )
        mask = self._ink(frame)
        j, self.n = self.n, self.n + 1
        self.masks = (self.masks + [mask])[-4:]
        if j == 0:
            return
        stay = self.masks[-2] & mask  # P_(j-1)
        self.stays = (self.stays + [stay])[-3:]
        self.stay_blocks = (self.stay_blocks + [self._blocks(stay)])[-3:]
        self.stay_counts.append(int(cv2.countNonZero(stay)))
        if j >= 2:
            self.triple_counts.append(int(cv2.countNonZero(self.stays[-2] & mask)))
            # pair (j-2, j-1): A' = P_(j-3) (P_(j-2) at the start), B' = P_(j-1); a cell is
            # lost only when it is missing from both frames on the other side (flicker is not)
            a_index = -3 if j >= 3 else -2
            a_side = self.masks[-3] | self.masks[-4] if j >= 3 else self.masks[-3]
            b_side = self.masks[-2] | mask
            self._add_pair(
                self.stays[a_index], self.stay_blocks[a_index], stay, self.stay_blocks[-1], a_side=a_side, b_side=b_side
            )

    def _add_pair(self, a_clean, a_blocks, b_clean, b_blocks, *, a_side, b_side) -> None:
        self.blocks_a.append(a_blocks)
        self.blocks_b.append(b_blocks)
        self.blocks_la.append(self._blocks(cv2.subtract(a_clean, b_side)))
        self.blocks_lb.append(self._blocks(cv2.subtract(b_clean, a_side)))

    def finish(self) -> "_VideoFeatures":
        n = self.n
        if n == 0:
            raise InputError("no crops were given: a video needs at least one 10 Hz crop to classify")
        if n >= 2:
            # last pair (n-2, n-1): B' has no later frame, so B' = P_(n-2)
            a_index = -2 if n >= 3 else -1
            a_side = self.masks[-2] | self.masks[-3] if n >= 3 else self.masks[-2]
            self._add_pair(
                self.stays[a_index],
                self.stay_blocks[a_index],
                self.stays[-1],
                self.stay_blocks[-1],
                a_side=a_side,
                b_side=self.masks[-1],
            )
        # persistent ink of frame i: max over the frame triples that contain it (a two-frame
        # video has only its pair, which lets more moving background through)
        triples = np.zeros(n + 2)
        triples[2:n] = self.triple_counts
        if n == 2:
            triples[1:3] = self.stay_counts[0]
        persist = np.maximum(np.maximum(triples[:-2], triples[1:-1]), triples[2:])
        k = len(self.block_start)
        stack = lambda rows: np.array(rows, dtype=np.int32).reshape(-1, k)  # noqa: E731
        return _VideoFeatures(
            persist=persist,
            a=stack(self.blocks_a),
            b=stack(self.blocks_b),
            lost_a=stack(self.blocks_la),
            lost_b=stack(self.blocks_lb),
            cell_h=self.cell_h,
        )


@dataclass
class _VideoFeatures:
    persist: np.ndarray  # (n,) ink cells each frame shares with two neighbours
    a: np.ndarray  # (n-1, K) cleaned ink of A per column block
    b: np.ndarray
    lost_a: np.ndarray  # (n-1, K) cleaned ink of A absent from B
    lost_b: np.ndarray
    cell_h: int


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def _valid_probability(f: _VideoFeatures, p: BaselineParams) -> tuple[np.ndarray, float]:
    """Per frame, the probability that it shows a caption, and the ink threshold used.

    The threshold is an absolute floor (about a small glyph's ink), raised above the
    persistent ink of frames whose ink does not stay put (moving background), so a busy
    scene without captions stays empty. A split between captions' own ink levels (a
    one-glyph caption beside long ones, as Otsu's method would make) is never used.
    """
    floor = p.min_caption_ink * f.cell_h**2
    threshold = floor
    if len(f.a):
        a_total, b_total = f.a.sum(axis=1), f.b.sum(axis=1)
        unstable = (
            np.minimum(f.lost_a.sum(axis=1) / np.maximum(a_total, 1), f.lost_b.sum(axis=1) / np.maximum(b_total, 1))
            >= p.unstable_loss
        )
        unstable_frame = np.zeros(len(f.persist), bool)
        unstable_frame[1:-1] = unstable[:-1] & unstable[1:]
        if unstable_frame.sum() >= 5:
            threshold = max(floor, p.noise_margin * float(np.percentile(f.persist[unstable_frame], 75)))
    log_ink = np.log1p(f.persist)
    return _sigmoid((log_ink - np.log1p(threshold)) / p.valid_softness), float(threshold)


def _change_score(f: _VideoFeatures, p: BaselineParams, valid_pair: np.ndarray) -> np.ndarray:
    """Per pair, how much the caption changed, 0..1: the largest of

    - the share of ink *both* sides lose, over the whole crop (a new caption, or the same
      caption re-centred because its length changed);
    - the same within one column block (one changed glyph);
    - how much more one side loses in one block than the caption's blocks typically do
      (a glyph swapped for one drawn inside it), counted only when both sides hold about
      as much ink: a fade loses ink on one side only, and shrinks that side.
    Ratios carry a pseudo-count of a fraction of a typical glyph's ink, so a side with
    almost no ink (the frame before a fade-in) cannot score high.
    """
    both = np.minimum(f.a, f.b)
    typical = float(np.median(both[valid_pair].max(axis=1))) if valid_pair.any() else 0.0
    q = max(p.block_qualify * typical, 4.0)
    # only blocks where a side holds glyph-like ink: scattered background ink is ignored
    inked = (f.a >= q) | (f.b >= q)
    a_total, b_total = (f.a * inked).sum(axis=1), (f.b * inked).sum(axis=1)
    global_score = np.minimum(
        (f.lost_a * inked).sum(axis=1) / (a_total + q), (f.lost_b * inked).sum(axis=1) / (b_total + q)
    )
    ratio_a = f.lost_a / (f.a + q)
    ratio_b = f.lost_b / (f.b + q)
    block_score = np.where(inked, np.minimum(ratio_a, ratio_b), 0.0).max(axis=1, initial=0.0)
    one_sided = np.where(inked, np.maximum(ratio_a, ratio_b), np.nan)
    has_ink = ~np.isnan(one_sided)
    counts = has_ink.sum(axis=1)
    top = np.where(has_ink, one_sided, 0.0).max(axis=1, initial=0.0)
    ordered = np.sort(np.where(has_ink, one_sided, np.inf), axis=1)
    median = np.zeros(len(top))
    rows = np.nonzero(counts)[0]
    median[rows] = ordered[rows, (counts[rows] - 1) // 2]
    balance = np.minimum(a_total, b_total) / np.maximum(np.maximum(a_total, b_total), 1)
    one_sided_score = (top - median) * np.clip((balance - 0.6) / 0.3, 0.0, 1.0)
    return np.maximum(np.maximum(global_score, block_score), one_sided_score)


def _classify(f: _VideoFeatures, p: BaselineParams) -> PairPredictions:
    valid, _ = _valid_probability(f, p)
    va, vb = valid[:-1], valid[1:]
    valid_pair = (va > 0.5) & (vb > 0.5)
    score = _change_score(f, p, valid_pair)
    # most captioned pairs are "same": their median score is this video's noise level
    noise = float(np.median(score[valid_pair])) if valid_pair.any() else 0.0
    threshold = float(np.clip(noise + p.different_margin, p.different_threshold, p.different_threshold_max))
    differ = _sigmoid((score - threshold) / p.different_softness)
    forward = np.empty((len(va), len(LABELS)), np.float64)
    forward[:, SAME] = va * vb * (1 - differ)
    forward[:, DIFFERENT] = va * vb * differ
    forward[:, EMPTY_EMPTY] = (1 - va) * (1 - vb)
    forward[:, EMPTY_VALID] = (1 - va) * vb
    forward[:, VALID_EMPTY] = va * (1 - vb)
    forward /= forward.sum(axis=1, keepdims=True)
    forward = forward.astype(np.float32)
    return PairPredictions(forward=forward, backward=forward[:, list(REVERSE_PERMUTATION)])


class BaselinePairClassifier:
    """The non-learned pair classifier (see the module docstring); implements `PairClassifier`."""

    def __init__(self, **params) -> None:
        try:
            self.params = BaselineParams(**params)
        except TypeError as exc:
            raise InputError(f"unknown baseline parameter: {exc}; known: {sorted(asdict(BaselineParams()))}") from exc
        payload = json.dumps({"algorithm": ALGORITHM_VERSION, **asdict(self.params)}, sort_keys=True)
        self.model_hash = hashlib.sha256(payload.encode()).hexdigest()[:16]

    def features(self, frames: Iterable[np.ndarray]) -> _VideoFeatures:
        stream = _PairFeatureStream(self.params)
        for frame in frames:
            stream.push(frame)
        return stream.finish()

    def predict(self, frames: Iterable[np.ndarray]) -> PairPredictions:
        return _classify(self.features(frames), self.params)
