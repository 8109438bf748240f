"""Evidence of a one-character caption change, from the crops at (near) full resolution.

The pair model sees each crop shrunk to 40 x 320 and one pair at a time. Over a moving
picture, a counter ticking ("Round 1/12" -> "Round 2/12") or one changed letter is a small
local change among many (the picture moves everywhere), and the model often calls it
`same`. What tells them apart is time: a caption change is a local change of caption ink
that *persists*, with the rest of the caption's ink staying where it was.

So, for every pair (i, i + 1), with the `window` frames up to i ("before") and the
`window` frames from i + 1 ("after"):

1. Each crop becomes a mask of caption-like ink (bright fill with something dark within a
   stroke's reach on both sides: outline, shadow or box; the test the baseline uses),
   computed at full resolution and kept at a working height of at most `work_height`.
2. Persistent ink of a side is ink in every one of its frames (moving background rarely
   stays put for `window` frames); ink *lost* is persistent before and absent from every
   frame after, ink *gained* the reverse.
3. Per column block (a fraction of the crop height: about one glyph), the best run of
   `local_blocks` blocks is the candidate glyph. A change is local when, in that run,
   lost and gained ink are both a large share of its persistent ink, while the rest of
   the crop keeps its ink (it changes little, and a good share of it persists on both
   sides). A new caption, a fade or a scene cut changes ink everywhere: no local evidence
   (the pair model handles those).
4. Only the pair where that local score peaks within `window` pairs keeps it.

`strength` is in [0, 1]; `ModelPairClassifier` moves that share of the pair's caption mass
(`same` + `different`) to `different` (never less than the model said). The parameters are
stored inside the model's weights file, so they are covered by the model hash.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, fields

import cv2
import numpy as np

from captionacc_assets.core.errors import InputError

PairRow = tuple[float, float, float, float]
"""A pair's best candidate: (local change, rest changed, rest kept, stillness)."""


@dataclass(frozen=True)
class ChangeEvidenceParams:
    algorithm: str = "local-persistent-ink-v2"  # names this code's rules, so the model hash follows them
    window: int = 3  # frames on each side of a pair
    max_gap: int = 2  # frames each side may leave out next to the pair (a fade's dim frames)
    gap_penalty: float = 0.1  # local score lost per frame left out
    work_height: int = 96  # masks are kept at most this tall (px)
    fill_threshold: int = 170  # min(R, G) of caption fill: white and yellow pass
    dark_threshold: int = 90  # luma of outline / shadow / box
    stroke_reach: float = 0.09  # how far (x crop height) the dark edge may be from the fill
    hem_sides: int = 2  # 2: dark on both sides (left and right, or above and below); 1: on one side
    block_width: float = 0.12  # column block width (x working height)
    local_blocks: int = 3  # blocks in a candidate glyph
    min_local_ink: float = 0.004  # persistent ink the candidate needs (x working height^2, both sides)
    band_share: float = 0.2  # caption rows: unchanged ink at least this share of the fullest row's
    band_margin: float = 0.1  # ...plus this margin (x working height) above and below
    column_share: float = 0.3  # caption columns: blocks with this share of a typical block's unchanged ink
    max_gap_blocks: int = 4  # ...in a run with gaps of at most this many blocks (word spaces)
    glyph_share: float = 0.5  # a candidate's ink counts as at least this share of typical caption ink
    shift_tolerance: float = 0.06  # sideways shift (x working height) the rest of the caption may make
    balance: float = 0.2  # lost and gained: the smaller at least this share of the larger
    rest_max_change: float = 0.12  # outside the candidate, changed ink over persistent ink stays below this
    rest_min_kept: float = 0.5  # ...and this share of the persistent ink before persists after
    min_stillness: float = 0.0  # the candidate's persistent ink over all its ink, on each side...
    full_stillness: float = 0.9  # ...below this its local score is scaled down in proportion
    max_picture_change: float = 40.0  # mean grey change of the whole crop between the windows above which it is a cut
    prefilter: float = 0.5  # pairs whose crude local score stays under this x threshold are skipped
    threshold: float = 0.35  # local score (changed / persistent ink of the candidate) of a change
    softness: float = 0.06

    @classmethod
    def from_dict(cls, values: dict) -> "ChangeEvidenceParams":
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise InputError(
                f"unknown change evidence parameters {sorted(unknown)} in the weights file; "
                f"known: {sorted(known)} (a newer model than this code?)"
            )
        return cls(**values)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class PairChange:
    """Per pair: the local change score, its parts, and the resulting strength."""

    local: np.ndarray
    rest_change: np.ndarray
    rest_kept: np.ndarray
    stillness: np.ndarray
    strength: np.ndarray


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def _count(masks: list[np.ndarray]) -> np.ndarray:
    """Per pixel, in how many of the 0/1 masks it is set."""
    total = masks[0].copy()
    for mask in masks[1:]:
        total += mask
    return total


_THUMB = (64, 8)  # grey thumbnail (width, height) that tells a cut of the picture


class ChangeEvidenceStream:
    """Push crops in order; `finish()` gives one `PairChange` row per consecutive pair.

    Holds `2 * (window + max_gap)` small masks, so memory does not grow with the video;
    per pair it keeps three numbers.
    """

    def __init__(self, params: ChangeEvidenceParams | None = None) -> None:
        self.p = params or ChangeEvidenceParams()
        self.reach_frames = self.p.window + self.p.max_gap
        self.masks: deque[np.ndarray] = deque(maxlen=2 * self.reach_frames)
        self.thumbs: deque[np.ndarray] = deque(maxlen=2 * self.reach_frames)
        self.shape: tuple[int, ...] | None = None
        self.n = 0
        self.rows: list[PairRow] = []
        self._changed: tuple[np.ndarray, np.ndarray] | None = None  # lost and gained ink of the last scored window

    def _setup(self, crop: np.ndarray) -> None:
        height, width = crop.shape[:2]
        self.shape = crop.shape
        reach = int(np.clip(round(height * self.p.stroke_reach), 2, 24))
        self.kh, self.kv = np.ones((1, reach), np.uint8), np.ones((reach, 1), np.uint8)
        self.far = reach - 1
        scale = min(1.0, self.p.work_height / height)
        self.work = (max(8, int(round(width * scale))), max(8, int(round(height * scale))))
        wh = self.work[1]
        self.block = max(2, int(round(self.p.block_width * wh)))
        self.n_blocks = int(np.ceil(self.work[0] / self.block))
        self.pad = self.n_blocks * self.block - self.work[0]
        self.q = max(4.0, self.p.min_local_ink * wh * wh)
        shift = max(1, int(round(self.p.shift_tolerance * wh)))
        self.shift_kernel = np.ones((1, 2 * shift + 1), np.uint8)

    def _ink(self, crop: np.ndarray) -> np.ndarray:
        red, green, _ = cv2.split(crop)
        bright = cv2.threshold(cv2.min(red, green), self.p.fill_threshold - 1, 255, cv2.THRESH_BINARY)[1]
        luma = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
        dark = cv2.threshold(luma, self.p.dark_threshold, 255, cv2.THRESH_BINARY_INV)[1]
        left = cv2.dilate(dark, self.kh, anchor=(self.far, 0))
        right = cv2.dilate(dark, self.kh, anchor=(0, 0))
        up = cv2.dilate(dark, self.kv, anchor=(0, self.far))
        down = cv2.dilate(dark, self.kv, anchor=(0, 0))
        if self.p.hem_sides == 2:
            hemmed = cv2.bitwise_or(cv2.bitwise_and(left, right), cv2.bitwise_and(up, down))
        else:  # a drop shadow darkens one side only
            hemmed = cv2.bitwise_or(cv2.bitwise_or(left, right), cv2.bitwise_or(up, down))
        ink = cv2.bitwise_and(bright, hemmed)
        if self.work != (crop.shape[1], crop.shape[0]):
            ink = cv2.resize(ink, self.work, interpolation=cv2.INTER_LINEAR)
        return (ink > 100).astype(np.uint8)

    def _blocks(self, mask: np.ndarray) -> np.ndarray:
        columns = cv2.reduce(mask.view(np.uint8), 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
        if self.pad:
            columns = np.concatenate([columns, np.zeros(self.pad, np.int32)])
        return columns.reshape(self.n_blocks, self.block).sum(axis=1)

    def _score(self, before: list[np.ndarray], after: list[np.ndarray]) -> PairRow:
        """(local score, change outside the candidate, share of ink kept outside it)."""
        p, none = self.p, (0.0, 0.0, 1.0, 1.0)  # no candidate: no change, nothing else changed or lost
        count_b, count_a = _count(before), _count(after)
        persist_b, persist_a = count_b == len(before), count_a == len(after)
        lost_mask, gained_mask = persist_b & (count_a == 0), persist_a & (count_b == 0)
        # most pairs change nowhere: a cheap look over the whole crop first
        m = min(p.local_blocks, self.n_blocks)
        run = np.ones(m, np.int32)
        window = lambda v: np.convolve(v, run, mode="valid")  # noqa: E731
        changed = window(self._blocks(lost_mask) + self._blocks(gained_mask))
        persist = np.maximum(window(self._blocks(persist_b)), window(self._blocks(persist_a)))
        if float((changed / (persist + self.q)).max(initial=0.0)) < p.prefilter * p.threshold:
            return none
        kept = persist_b & persist_a
        # where the caption is: the rows its unchanged ink fills (a text-location prior of this pair)
        row_ink = cv2.reduce(kept.view(np.uint8), 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
        if row_ink.max(initial=0) * self.block < self.q:
            return none
        rows = np.nonzero(row_ink >= p.band_share * row_ink.max())[0]
        margin = int(round(p.band_margin * len(row_ink)))
        r0, r1 = max(0, rows[0] - margin), rows[-1] + margin + 1
        persist_b, persist_a, kept = persist_b[r0:r1], persist_a[r0:r1], kept[r0:r1]
        any_b, any_a = count_b[r0:r1] > 0, count_a[r0:r1] > 0
        lost, gained = self._blocks(lost_mask[r0:r1]), self._blocks(gained_mask[r0:r1])
        pb, pa, kb = self._blocks(persist_b), self._blocks(persist_a), self._blocks(kept)
        # ...and the columns: the longest run of blocks holding its ink (word gaps allowed)
        inked = np.nonzero(kb > 0)[0]
        typical = float(np.percentile(kb[inked], 75)) if len(inked) else 0.0
        solid = np.nonzero(kb >= p.column_share * typical)[0]
        if not len(solid):
            return none
        breaks = np.nonzero(np.diff(solid) > p.max_gap_blocks)[0]
        starts, ends = np.r_[solid[0], solid[breaks + 1]], np.r_[solid[breaks], solid[-1]]
        longest = int(np.argmax(ends - starts))
        c0, c1 = starts[longest], ends[longest]

        lw, gw, pbw, paw = window(lost), window(gained), window(pb), window(pa)
        first = np.arange(len(lw))
        near_caption = (first + m - 1 >= c0 - m) & (first <= c1 + m)
        balanced = np.minimum(lw, gw) >= p.balance * np.maximum(lw, gw)
        glyph_ink = p.glyph_share * typical * m
        local = np.where(
            balanced & near_caption, (lw + gw) / (np.maximum(np.maximum(pbw, paw), glyph_ink) + self.q), 0.0
        )
        w = int(np.argmax(local))
        if local[w] <= 0:
            return none
        # the rest of the caption stays, allowing it a small sideways shift (a centred line
        # moves when one character is wider than the one it replaces)
        grow = lambda mask: cv2.dilate(mask.astype(np.uint8), self.shift_kernel) > 0  # noqa: E731
        lost_t = self._blocks(persist_b & ~grow(any_a))
        gained_t = self._blocks(persist_a & ~grow(any_b))
        kept_t = self._blocks(persist_b & grow(persist_a))
        outside = np.ones(self.n_blocks, bool)
        outside[w : w + m] = False
        rest_b, rest_a = float(pb[outside].sum()), float(pa[outside].sum())
        rest_change = float(lost_t[outside].sum() + gained_t[outside].sum()) / (rest_b + rest_a + self.q)
        # a caption as short as the candidate has no rest to keep
        rest_kept = 1.0 if rest_b < self.q else float(kept_t[outside].sum()) / rest_b
        # caption ink stands still: in the candidate, the ink of every frame of a side is its
        # persistent ink; a slowly panning picture's bright edges are not
        cols = slice(w * self.block, (w + m) * self.block)
        still = [
            float(np.count_nonzero(persist[:, cols])) / max(int(np.count_nonzero(any_ink[:, cols])), 1)
            for persist, any_ink in ((persist_b, any_b), (persist_a, any_a))
        ]
        self._changed = (lost_mask, gained_mask)
        return float(local[w]), rest_change, rest_kept, min(still)

    def _passes(self, row: PairRow) -> bool:
        return row[1] <= self.p.rest_max_change and row[2] >= self.p.rest_min_kept and row[3] >= self.p.min_stillness

    def _picture_cut(self, first: int, b0: int, a1: int) -> bool:
        """Whether the picture behind the caption is cut between the two windows: a scene's
        static bright detail that vanishes at a cut changes like a glyph would."""
        before = np.mean([self.thumbs[i - first] for i in range(b0, b0 + self.p.window) if i < a1], axis=0)
        after = np.mean([self.thumbs[i - first] for i in range(max(b0, a1 - self.p.window), a1)], axis=0)
        return float(np.mean(np.abs(before - after))) > self.p.max_picture_change

    def _between(self, first: int, j: int, gap: int) -> bool:
        """Whether the frames left out around pair (j, j + 1) put the change there: none before
        the pair already shows most of the new ink, none after it still shows most of the old
        (a fade's dim frames show neither; a change two frames earlier fails this)."""
        assert self._changed is not None, "called after a window was scored"
        lost, gained = self._changed
        n_lost, n_gained = np.count_nonzero(lost), np.count_nonzero(gained)
        for i in range(j - gap + 1, j + 1):
            if n_gained and np.count_nonzero(self.masks[i - first] & gained) >= 0.5 * n_gained:
                return False
        for i in range(j + 1, j + 1 + gap):
            if n_lost and np.count_nonzero(self.masks[i - first] & lost) >= 0.5 * n_lost:
                return False
        return True

    def _pair(self, j: int) -> PairRow:
        """Best row of pair (j, j + 1) over the gaps (frames left out around it: a fade's dim frames)."""
        first = self.n - len(self.masks)  # absolute index of masks[0]
        k = self.p.window
        rows: list[PairRow] = [(0.0, 0.0, 1.0, 1.0)]
        for gap in range(self.p.max_gap + 1):
            b0, b1 = max(first, j - gap - k + 1), j - gap + 1
            a0, a1 = j + 1 + gap, min(self.n, j + 1 + gap + k)
            if b1 - b0 < 2 or a1 - a0 < 2:
                continue
            self._changed = None
            if self._picture_cut(first, b0, a1):
                continue
            local, rest_change, rest_kept, stillness = self._score(
                [self.masks[i - first] for i in range(b0, b1)], [self.masks[i - first] for i in range(a0, a1)]
            )
            if gap and self._changed is not None and not self._between(first, j, gap):
                continue
            # a wider gap places the change less exactly: the neighbouring pair's own window wins
            rows.append((local * (1 - self.p.gap_penalty * gap), rest_change, rest_kept, stillness))
        best = max(rows, key=lambda row: (self._passes(row), row[0]))
        return best

    def push(self, crop: np.ndarray) -> None:
        crop = np.asarray(crop)
        if self.shape is None:
            if crop.ndim != 3 or crop.shape[2] != 3 or crop.dtype != np.uint8:
                raise InputError(f"crops must be HxWx3 uint8 RGB arrays; got shape {crop.shape}, dtype {crop.dtype}")
            self._setup(crop)
        elif crop.shape != self.shape:
            raise InputError(f"crop {self.n} has shape {crop.shape}; every crop of a video must be {self.shape}")
        self.masks.append(self._ink(crop))
        self.thumbs.append(
            cv2.resize(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), _THUMB, interpolation=cv2.INTER_AREA).astype(np.float32)
        )
        self.n += 1
        # pair (j, j + 1) is scored once every frame its widest window needs has arrived
        j = self.n - 1 - self.reach_frames
        if j >= 0:
            self.rows.append(self._pair(j))

    def finish(self) -> PairChange:
        if self.n == 0:
            raise InputError("no crops were given: a video needs at least one 10 Hz crop to classify")
        for j in range(len(self.rows), self.n - 1):  # the last pairs: shorter windows after them
            self.rows.append(self._pair(j))
        rows = np.array(self.rows[: self.n - 1], dtype=np.float64).reshape(-1, 4)
        local, rest_change, rest_kept, stillness = rows.T
        p = self.p
        ok = (rest_change <= p.rest_max_change) & (rest_kept >= p.rest_min_kept) & (stillness >= p.min_stillness)
        # a candidate that does not stand still (a panning picture's bright edges) counts for less
        raw = np.where(ok, local * np.minimum(1.0, stillness / p.full_stillness), 0.0)
        # only the peak within `window` pairs keeps its score
        peak = np.ones(len(raw), bool)
        for d in range(1, p.window + 1):
            peak[d:] &= raw[d:] >= raw[:-d]
            peak[:-d] &= raw[:-d] > raw[d:]
        strength = np.where(peak & (raw > 0), _sigmoid((raw - p.threshold) / p.softness), 0.0)
        return PairChange(
            local=local, rest_change=rest_change, rest_kept=rest_kept, stillness=stillness, strength=strength
        )


def pair_change(crops, params: ChangeEvidenceParams | None = None) -> PairChange:
    """`PairChange` of a whole sequence of crops (a convenience for tests and benchmarks)."""
    stream = ChangeEvidenceStream(params)
    for crop in crops:
        stream.push(crop)
    return stream.finish()


def apply_change_evidence(probs: np.ndarray, strength: np.ndarray, different: int, same: int) -> np.ndarray:
    """Rows of pair probabilities with `strength` of each pair's `same` + `different` mass
    on `different` (at least what the model gave it); the rows still sum to what they did."""
    probs = np.array(probs, dtype=np.float32, copy=True)
    mass = probs[:, same] + probs[:, different]
    new_different = np.maximum(probs[:, different], strength.astype(np.float32) * mass)
    probs[:, different] = new_different
    probs[:, same] = mass - new_different
    return probs
