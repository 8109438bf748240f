"""Layout inference: where the burned-in captions are, from the OCR of sampled full frames.

Captions recur: across many frames they sit at one vertical position with one line
height and one horizontal anchor, and their text changes from sample to sample. Other
text does not: a channel logo has the same text in the same box in every frame, and
scene text turns up at random places. So we cluster OCR boxes into rows (vertical
centre + height), score each row on how many frames it appears in, how much its text
varies, how consistent its anchor is and where it sits (bottom, then top), take the
best row, merge an adjacent second line into it, and pad it into a generous crop
region, since captions not yet seen may be taller or wider than the sampled ones.

Some videos have captions in two places (bilingual releases, dialogue at the bottom and signs
at the top, cues moved to the top while something is shown at the bottom). A second zone is
proposed only on the other half of the frame, from a row with its own evidence of captions:
clearly different texts in at least two sampled frames (a logo or channel bug reads the same
every time), a caption-like line height, a steady anchor near the top or bottom edge, and
confident reads (scene clutter reads weakly and at random places). Full frames are sampled
sparsely, so a second zone may be seen in only two or three of them; a row accepted as a
second zone is not a rival of the main zone and does not lower its confidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Sequence

import numpy as np

from captionacc_assets.core.caption_text_fixes import normalize_caption_text
from captionacc_assets.core.ocr.engine import OcrBox
from captionacc_assets.core.region import Region

DEFAULT_REGION = Region(0.05, 0.78, 0.95, 0.98)
"""Proposed when no caption text is found: a bottom band, confidence 0."""

# Boxes join a row when their centre is within this many line heights of it...
_ROW_CENTER_TOLERANCE = 0.4
# ...and their height is within this ratio of its height.
_ROW_HEIGHT_RATIO = 1.5
# A second caption line (e.g. bilingual captions) may differ more in height.
_LINE_HEIGHT_RATIO = 1.8
# Padding above and below the observed text, in line heights.
_VERTICAL_PAD = 0.6
# Horizontal margin beyond the widest observed caption, in line heights.
_HORIZONTAL_MARGIN = 1.0
# The crop spans at least this much of the width, around a centred anchor.
_MIN_CENTERED_WIDTH = 0.8
# Left/right anchored crops reach this far toward the open side.
_OPEN_SIDE_EDGE = 0.95
# Anchor positions this consistent (stdev, fraction of width) count as fully consistent.
_ANCHOR_STD_GOOD = 0.02
_ANCHOR_STD_BAD = 0.12
# This many frames agreeing is enough for full support.
_FULL_SUPPORT_FRAMES = 5
# A second zone: its row's centre this near the top or bottom edge (fraction of the height)...
_SECOND_ZONE_EDGE = 0.35
# ...its line height a caption's (fraction of the frame height)...
_SECOND_ZONE_HEIGHT = (0.02, 0.2)
# ...texts this different (difflib ratio below it) count as two captions, not two reads of one...
_DIFFERENT_TEXT_RATIO = 0.5
# ...its anchor at least this steady (stdev of the anchored edge, fraction of the width)...
_SECOND_ZONE_ANCHOR_STD = 0.06
# ...and its boxes read at least this confidently on average.
_SECOND_ZONE_MIN_CONFIDENCE = 0.8
# Evidence (frames seen + clearly different texts) for full support of a second zone.
_SECOND_ZONE_FULL_EVIDENCE = 5


PLACEMENTS = ("top", "bottom")
MAX_ZONES = 2


@dataclass(frozen=True)
class CaptionZone:
    """One place where captions are burned in: its crop region, anchor and how sure we are."""

    region: Region
    anchor: str = "center"
    """left|center|right: which edge of the captions stays put."""
    anchor_position: float = 0.5
    """x of the anchored edge (left edge, centre or right edge) of the sampled captions."""
    confidence: float = 0.0
    vertical_center: float = 0.5
    box_height: float = 0.05
    line_count: int = 1

    @property
    def placement(self) -> str:
        """ "top" when the region's vertical centre is in the upper half of the frame, else "bottom"."""
        return "top" if (self.region.top + self.region.bottom) / 2 < 0.5 else "bottom"

    def as_dict(self) -> dict:
        """JSON-friendly, precise enough to rebuild the region."""
        return {
            "region": [float(v) for v in self.region.as_tuple()],
            "anchor": self.anchor,
            "anchor_position": float(self.anchor_position),
            "confidence": float(self.confidence),
            "vertical_center": float(self.vertical_center),
            "box_height": float(self.box_height),
            "line_count": int(self.line_count),
            "placement": self.placement,
        }


@dataclass(frozen=True, init=False)
class LayoutProposal:
    """The proposed layout: one or two caption zones, the main (strongest) one first, and a
    predicted in/out label for every OCR box ("in" when it lies inside any zone).

    `region`, `anchor`, `confidence`, ... are zone 0's, so single-zone readers keep working.
    It can still be built the single-zone way: `LayoutProposal(region=..., anchor=..., ...)`.
    """

    zones: tuple[CaptionZone, ...]
    box_labels: dict[tuple[int, int], tuple[str, float]] = field(default_factory=dict)

    def __init__(
        self,
        zones: Sequence[CaptionZone] | None = None,
        box_labels: dict[tuple[int, int], tuple[str, float]] | None = None,
        *,
        region: Region | None = None,
        anchor: str = "center",
        confidence: float = 0.0,
        vertical_center: float | None = None,
        box_height: float = 0.05,
        line_count: int = 1,
        anchor_position: float = 0.5,
    ):
        if zones is None:
            if region is None:
                raise TypeError("LayoutProposal needs zones or a region")
            zones = (
                CaptionZone(
                    region=region,
                    anchor=anchor,
                    anchor_position=anchor_position,
                    confidence=confidence,
                    vertical_center=(region.top + region.bottom) / 2 if vertical_center is None else vertical_center,
                    box_height=box_height,
                    line_count=line_count,
                ),
            )
        elif region is not None:
            raise TypeError("LayoutProposal takes zones or a single zone's fields, not both")
        zones = tuple(zones)
        if not 1 <= len(zones) <= MAX_ZONES:
            raise ValueError(f"a layout has 1 or {MAX_ZONES} caption zones, not {len(zones)}")
        object.__setattr__(self, "zones", zones)
        object.__setattr__(self, "box_labels", dict(box_labels or {}))

    @property
    def main(self) -> CaptionZone:
        return self.zones[0]

    @property
    def region(self) -> Region:
        return self.zones[0].region

    @property
    def anchor(self) -> str:
        return self.zones[0].anchor

    @property
    def anchor_position(self) -> float:
        return self.zones[0].anchor_position

    @property
    def confidence(self) -> float:
        return self.zones[0].confidence

    @property
    def vertical_center(self) -> float:
        return self.zones[0].vertical_center

    @property
    def box_height(self) -> float:
        return self.zones[0].box_height

    @property
    def line_count(self) -> int:
        return self.zones[0].line_count

    def as_dict(self) -> dict:
        """JSON-friendly summary: zone 0's fields as before (the per-box labels are counted, not
        listed), plus `zones`, each zone's own dict."""
        labels = [label for label, _ in self.box_labels.values()]
        return {
            "region": list(self.region.as_tuple()),
            "anchor": self.anchor,
            "anchor_position": round(float(self.anchor_position), 4),
            "confidence": round(float(self.confidence), 4),
            "vertical_center": round(float(self.vertical_center), 4),
            "box_height": round(float(self.box_height), 4),
            "line_count": int(self.line_count),
            "in_box_count": labels.count("in"),
            "out_box_count": labels.count("out"),
            "zones": [zone.as_dict() for zone in self.zones],
        }


@dataclass
class _Row:
    """A cluster of boxes at one vertical position and height."""

    members: np.ndarray  # indices into the flattened box arrays
    center: float
    height: float
    frames: set[int]
    variety: float = 0.0
    anchor: str = "center"
    anchor_std: float = 1.0
    anchor_position: float = 0.5
    score: float = 0.0


class _Boxes:
    """All boxes of all frames, flattened into arrays."""

    def __init__(self, frames: Sequence[tuple[int, Sequence[OcrBox]]]):
        self.keys: list[tuple[int, int]] = []
        self.frame: list[int] = []
        self.boxes: list[OcrBox] = []
        for frame_index, boxes in frames:
            for box_index, box in enumerate(boxes):
                if box.bottom <= box.top or box.right <= box.left:
                    continue
                self.keys.append((frame_index, box_index))
                self.frame.append(frame_index)
                self.boxes.append(box)
        self.frame_arr = np.array(self.frame, dtype=np.int64)
        self.left = np.array([b.left for b in self.boxes], dtype=np.float64)
        self.right = np.array([b.right for b in self.boxes], dtype=np.float64)
        self.top = np.array([b.top for b in self.boxes], dtype=np.float64)
        self.bottom = np.array([b.bottom for b in self.boxes], dtype=np.float64)
        self.cy = (self.top + self.bottom) / 2
        self.h = self.bottom - self.top
        self.text = [normalize_caption_text(b.text) for b in self.boxes]
        self.conf = np.array([b.confidence for b in self.boxes], dtype=np.float64)

    def __len__(self) -> int:
        return len(self.boxes)

    def per_frame_extents(self, members: np.ndarray) -> dict[int, tuple[float, float, str]]:
        """frame -> (left, right, text read left to right) of the given boxes."""
        out: dict[int, list[int]] = {}
        for i in members:
            out.setdefault(int(self.frame_arr[i]), []).append(int(i))
        extents = {}
        for frame, idx in out.items():
            idx.sort(key=lambda i: (round(float(self.cy[i]), 2), float(self.left[i])))
            extents[frame] = (
                float(self.left[idx].min()),
                float(self.right[idx].max()),
                " ".join(self.text[i] for i in idx),
            )
        return extents


def _cluster_rows(b: _Boxes) -> list[_Row]:
    """Greedy clustering: seed a row at the box whose row spans the most frames,
    re-centre it on its members' medians, take its members, repeat.

    Boxes are kept sorted by vertical centre so each row is a `searchsorted` window:
    linear-ish in the number of boxes, for videos with thousands of them.
    """
    n = len(b)
    order = np.argsort(b.cy, kind="stable")
    cy_sorted = b.cy[order]

    def compatible(center: float, height: float) -> np.ndarray:
        lo = np.searchsorted(cy_sorted, center - _ROW_CENTER_TOLERANCE * height, side="left")
        hi = np.searchsorted(cy_sorted, center + _ROW_CENTER_TOLERANCE * height, side="right")
        window = order[lo:hi]
        ratio = b.h[window] / height
        return window[(ratio <= _ROW_HEIGHT_RATIO) & (ratio >= 1 / _ROW_HEIGHT_RATIO)]

    support = np.array([len(np.unique(b.frame_arr[compatible(b.cy[i], b.h[i])])) for i in range(n)])
    unassigned = np.ones(n, dtype=bool)
    rows: list[_Row] = []
    for seed in np.lexsort((-b.cy, -support)):  # most support first; lower on screen breaks ties
        if not unassigned[seed]:
            continue
        members = compatible(b.cy[seed], b.h[seed])
        members = members[unassigned[members]]
        center, height = float(np.median(b.cy[members])), float(np.median(b.h[members]))
        members = compatible(center, height)
        members = members[unassigned[members]]
        if seed not in members:
            members = np.append(members, seed)
        unassigned[members] = False
        rows.append(
            _Row(
                members=members,
                center=float(np.median(b.cy[members])),
                height=float(np.median(b.h[members])),
                frames={int(f) for f in b.frame_arr[members]},
            )
        )
    return rows


def _anchor(lefts: np.ndarray, centers: np.ndarray, rights: np.ndarray) -> tuple[str, float, float]:
    """(anchor, stdev of the anchored edge, its median position). Centred unless one
    edge is clearly steadier than the centre."""
    if len(centers) < 2:
        return "center", _ANCHOR_STD_BAD, float(centers[0])
    stds = {"left": float(np.std(lefts)), "center": float(np.std(centers)), "right": float(np.std(rights))}
    positions = {
        "left": float(np.median(lefts)),
        "center": float(np.median(centers)),
        "right": float(np.median(rights)),
    }
    anchor = "center"
    edge = min(("left", "right"), key=lambda side: stds[side])
    if stds[edge] < 0.6 * stds["center"] and stds["center"] > _ANCHOR_STD_GOOD:
        anchor = edge
    return anchor, stds[anchor], positions[anchor]


def _consistency(std: float) -> float:
    """1 for a steady anchor, down to 0.3 for a scattered one."""
    t = (std - _ANCHOR_STD_GOOD) / (_ANCHOR_STD_BAD - _ANCHOR_STD_GOOD)
    return float(1.0 - 0.7 * np.clip(t, 0.0, 1.0))


def _position_prior(center: float) -> float:
    """Captions sit at the bottom, sometimes at the top, rarely mid-frame."""
    if center >= 0.6:
        return 1.0
    if center <= 0.3:
        return 0.7
    return 0.35


def _distinct_texts(texts: Sequence[str]) -> int:
    """How many different texts, ignoring spaces and case: OCR reads a logo "CA TV" in
    one frame and "CATV" in the next, and that is still one text. (Not fuzzier than
    that: real caption lines can differ by a single character.)"""
    return len({"".join(text.split()).casefold() for text in texts})


def _describe(b: _Boxes, row: _Row, frame_count: int) -> None:
    """Fill in a row's text variety, anchor and score."""
    extents = b.per_frame_extents(row.members)
    lefts = np.array([e[0] for e in extents.values()])
    rights = np.array([e[1] for e in extents.values()])
    texts = [e[2] for e in extents.values()]
    n = len(extents)
    if n >= 2:
        # Four different texts are plenty: short videos sample one caption several times.
        distinct = min(1.0, (_distinct_texts(texts) - 1) / min(n - 1, 4))
        width_change = min(1.0, float(np.std(rights - lefts)) / 0.02)
        row.variety = distinct * (0.5 + 0.5 * width_change)
    else:
        row.variety = 0.5  # one sighting: no evidence either way
    row.anchor, row.anchor_std, row.anchor_position = _anchor(lefts, (lefts + rights) / 2, rights)
    centred = 1.0 if row.anchor != "center" or abs(row.anchor_position - 0.5) < 0.1 else 0.8
    row.score = (
        (n / frame_count)
        * (0.15 + 0.85 * row.variety)
        * _position_prior(row.center)
        * _consistency(row.anchor_std)
        * centred
    )


def _is_static(row: _Row) -> bool:
    """The same text in every frame it appears in (a logo, a sign): not captions."""
    return len(row.frames) >= 3 and row.variety < 0.05


def _merge_adjacent_lines(b: _Boxes, band: list[_Row], rows: list[_Row]) -> list[_Row]:
    """Add rows right above or below the band that read as more lines of the same
    captions: similar height, appearing with it (or overlapping it), same anchor."""
    merged = True
    while merged:
        merged = False
        members = np.concatenate([r.members for r in band])
        top, bottom = float(b.top[members].min()), float(b.bottom[members].max())
        height = float(np.median(b.h[members]))
        frames = set().union(*(r.frames for r in band))
        main = band[0]
        for row in rows:
            if any(row is r for r in band) or _is_static(row):
                continue
            ratio = row.height / height
            if not (1 / _LINE_HEIGHT_RATIO <= ratio <= _LINE_HEIGHT_RATIO):
                continue
            row_top, row_bottom = float(b.top[row.members].min()), float(b.bottom[row.members].max())
            gap = max(row_top - bottom, top - row_bottom)
            if gap > 0.6 * max(height, row.height):
                continue
            overlaps = gap < -0.25 * min(height, row.height)
            together = len(row.frames & frames) / len(row.frames)
            if not (overlaps or together >= 0.5):
                continue
            extents = b.per_frame_extents(row.members)
            ls = np.array([e[0] for e in extents.values()])
            rs = np.array([e[1] for e in extents.values()])
            edge = {"left": ls, "center": (ls + rs) / 2, "right": rs}[main.anchor]
            tolerance = max(2 * main.anchor_std, 0.05)
            if abs(float(np.median(edge)) - main.anchor_position) > tolerance:
                continue
            band.append(row)
            merged = True
            break
    return band


def _line_count(b: _Boxes, members: np.ndarray) -> int:
    """2 when some frame shows two separate lines inside the band."""
    by_frame: dict[int, list[int]] = {}
    for i in members:
        by_frame.setdefault(int(b.frame_arr[i]), []).append(int(i))
    for idx in by_frame.values():
        idx.sort(key=lambda i: b.top[i])
        for i, j in zip(idx, idx[1:]):
            overlap = min(b.bottom[i], b.bottom[j]) - max(b.top[i], b.top[j])
            if overlap < 0.25 * min(b.h[i], b.h[j]):
                return 2
    return 1


def _region(b: _Boxes, members: np.ndarray, anchor: str, anchor_position: float, height: float) -> Region:
    top = max(0.0, float(b.top[members].min()) - _VERTICAL_PAD * height)
    bottom = min(1.0, float(b.bottom[members].max()) + _VERTICAL_PAD * height)
    margin = _HORIZONTAL_MARGIN * height
    lo, hi = float(b.left[members].min()) - margin, float(b.right[members].max()) + margin
    if anchor == "left":
        left, right = lo, max(hi, _OPEN_SIDE_EDGE)
    elif anchor == "right":
        left, right = min(lo, 1.0 - _OPEN_SIDE_EDGE), hi
    else:
        half = max(anchor_position - lo, hi - anchor_position, _MIN_CENTERED_WIDTH / 2)
        left, right = anchor_position - half, anchor_position + half
    return Region(max(0.0, left), top, min(1.0, right), bottom)


def _label_boxes(
    b: _Boxes, regions: Sequence[Region], band_members: set[int]
) -> dict[tuple[int, int], tuple[str, float]]:
    """ "in" for a box at least half inside any zone's region, else "out"; the label's confidence
    from the region it is most inside (the main zone's on a tie)."""
    labels = {}
    for i, key in enumerate(b.keys):
        w = b.right[i] - b.left[i]
        best = None
        for candidate in regions:
            ix = max(0.0, min(b.right[i], candidate.right) - max(b.left[i], candidate.left))
            iy = max(0.0, min(b.bottom[i], candidate.bottom) - max(b.top[i], candidate.top))
            share = (ix * iy) / (w * b.h[i])
            if best is None or share > best[0]:
                best = (share, candidate)
        assert best is not None  # there is always at least the main zone's region
        inside, region = best
        if inside >= 0.5:
            confidence = 0.6 + 0.4 * inside if i in band_members else 0.5 + 0.2 * inside
            labels[key] = ("in", round(float(confidence), 3))
        else:
            # Farther from the band (in line heights) is surer.
            distance = max(region.top - b.bottom[i], b.top[i] - region.bottom, 0.0) / max(b.h[i], 1e-6)
            labels[key] = ("out", round(float(min(0.99, 0.6 + 0.1 * distance + 0.3 * (1 - inside))), 3))
    return labels


def _default(b: _Boxes) -> LayoutProposal:
    return LayoutProposal(
        region=DEFAULT_REGION,
        anchor="center",
        confidence=0.0,
        vertical_center=(DEFAULT_REGION.top + DEFAULT_REGION.bottom) / 2,
        box_height=0.05,
        line_count=1,
        box_labels={key: ("out", 0.5) for key in b.keys},
    )


def infer_layout(frames: Sequence[tuple[int, Sequence[OcrBox]]]) -> LayoutProposal:
    """Propose the caption region from `(frame_index, boxes)` of the sampled full frames."""
    frames = list(frames)
    frame_count = max(1, len(frames))
    b = _Boxes(frames)
    if len(b) == 0:
        return _default(b)

    rows = _cluster_rows(b)
    for row in rows:
        _describe(b, row, frame_count)
    candidates = sorted((r for r in rows if not _is_static(r)), key=lambda r: r.score, reverse=True)
    if not candidates or candidates[0].score <= 0:
        return _default(b)

    main = candidates[0]
    band = _merge_adjacent_lines(b, [main], candidates)
    members = np.concatenate([r.members for r in band])
    height = float(np.median(b.h[main.members]))
    region = _region(b, members, main.anchor, main.anchor_position, height)

    second = _second_zone(b, band, region, candidates, frame_count)
    second_band = second[0] if second else []
    frames_seen = len(set().union(*(r.frames for r in band)))
    # The second zone's rows (and any other row inside its region) are captions of their own, not rivals.
    rivals = [
        r.score
        for r in candidates
        if not any(r is x for x in band)
        and not any(r is x for x in second_band)
        and not (second and second[1].region.top <= r.center <= second[1].region.bottom)
    ]
    dominance = 1.0 - 0.5 * (rivals[0] / main.score) ** 2 if rivals else 1.0
    confidence = (
        min(1.0, frames_seen / _FULL_SUPPORT_FRAMES)
        * _consistency(main.anchor_std)
        * (0.5 + 0.5 * min(1.0, main.variety / 0.5))
        * max(0.0, dominance)
    )
    if frames_seen < 2:
        confidence = min(confidence, 0.3)

    zones = [
        CaptionZone(
            region=region,
            anchor=main.anchor,
            anchor_position=float(main.anchor_position),
            confidence=float(np.clip(confidence, 0.0, 1.0)),
            vertical_center=(float(b.top[members].min()) + float(b.bottom[members].max())) / 2,
            box_height=height,
            line_count=_line_count(b, members),
        )
    ]
    in_band = {int(i) for i in members}
    if second:
        zones.append(second[1])
        in_band |= {int(i) for r in second_band for i in r.members}
    return LayoutProposal(
        zones=tuple(zones),
        box_labels=_label_boxes(b, [zone.region for zone in zones], in_band),
    )


def _same_text(a: str, b: str) -> bool:
    """Two reads of one text (a logo read "CA TV" and "CATV", or "CAIV"), not two captions."""
    a, b = "".join(a.split()).casefold(), "".join(b.split()).casefold()
    return a == b or SequenceMatcher(None, a, b).ratio() >= _DIFFERENT_TEXT_RATIO


def _text_groups(texts: Sequence[str]) -> list[int]:
    """Sizes of the groups of texts that read as one text (greedy, first text of a group leads it)."""
    leaders: list[str] = []
    sizes: list[int] = []
    for text in texts:
        for k, leader in enumerate(leaders):
            if _same_text(leader, text):
                sizes[k] += 1
                break
        else:
            leaders.append(text)
            sizes.append(1)
    return sizes


def _second_zone_evidence(b: _Boxes, row: _Row) -> int | None:
    """Frames seen + clearly different texts of a row that reads as a second caption zone, or None.

    Captions change: at least two clearly different texts, and no text in more than half of the
    frames (more than two) the row is seen in; a logo or channel bug reads the same every time.
    """
    extents = b.per_frame_extents(row.members)
    texts = [e[2] for e in extents.values()]
    n = len(texts)
    if n < 2 or not _SECOND_ZONE_HEIGHT[0] <= row.height <= _SECOND_ZONE_HEIGHT[1]:
        return None
    if not (row.center <= _SECOND_ZONE_EDGE or row.center >= 1 - _SECOND_ZONE_EDGE):
        return None
    if row.anchor_std > _SECOND_ZONE_ANCHOR_STD:
        return None
    if float(np.mean(b.conf[row.members])) < _SECOND_ZONE_MIN_CONFIDENCE:
        return None
    if np.mean([len("".join(t.split())) for t in texts]) < 2:
        return None  # single letters: shapes of the picture read as text
    groups = _text_groups(texts)
    if len(groups) < 2 or max(groups) > max(2, n // 2):
        return None
    return n + len(groups)


def _second_zone(
    b: _Boxes, band: list[_Row], main_region: Region, candidates: list[_Row], frame_count: int
) -> tuple[list[_Row], CaptionZone] | None:
    """The best row on the other half of the frame that reads as a caption zone of its own, with
    the lines merged into it, as (its rows, its zone); None when no row has the evidence."""
    main_top = main_region.top
    main_bottom = main_region.bottom
    main_is_top = (main_top + main_bottom) / 2 < 0.5
    qualified = []
    for row in candidates:
        if any(row is r for r in band) or (row.center < 0.5) == main_is_top:
            continue
        row_top, row_bottom = float(b.top[row.members].min()), float(b.bottom[row.members].max())
        if row_bottom > main_top and row_top < main_bottom:
            continue  # overlaps the main zone's region: its rows, not another zone
        evidence = _second_zone_evidence(b, row)
        if evidence is not None:
            qualified.append((row, evidence))
    if not qualified:
        return None
    row, evidence = max(qualified, key=lambda item: item[0].score)
    others = [r for r in candidates if not any(r is x for x in band)]
    zone_band = _merge_adjacent_lines(b, [row], [r for r in others if not _overlaps(b, r, main_region)])
    members = np.concatenate([r.members for r in zone_band])
    height = float(np.median(b.h[row.members]))
    cleared = _clear_of(_region(b, members, row.anchor, row.anchor_position, height), main_region, main_is_top)
    if cleared is None:
        return None
    region = cleared
    rivals = [r.score for r, _ in qualified if not any(r is x for x in zone_band)]
    dominance = 1.0 - 0.5 * (rivals[0] / row.score) ** 2 if rivals and row.score > 0 else 1.0
    confidence = (
        min(1.0, evidence / _SECOND_ZONE_FULL_EVIDENCE)
        * _consistency(row.anchor_std)
        * (0.5 + 0.5 * min(1.0, row.variety / 0.5))
        * max(0.0, dominance)
    )
    zone = CaptionZone(
        region=region,
        anchor=row.anchor,
        anchor_position=float(row.anchor_position),
        confidence=float(np.clip(confidence, 0.0, 1.0)),
        vertical_center=(float(b.top[members].min()) + float(b.bottom[members].max())) / 2,
        box_height=height,
        line_count=_line_count(b, members),
    )
    return zone_band, zone


def _overlaps(b: _Boxes, row: _Row, region: Region) -> bool:
    row_top, row_bottom = float(b.top[row.members].min()), float(b.bottom[row.members].max())
    return row_bottom > region.top and row_top < region.bottom


def _clear_of(region: Region, main: Region, main_is_top: bool) -> Region | None:
    """The second zone's region cut back so it does not overlap the main zone's (crops of one
    version never overlap); None if nothing is left."""
    gap = 0.005
    if main_is_top:
        top, bottom = max(region.top, main.bottom + gap), region.bottom
    else:
        top, bottom = region.top, min(region.bottom, main.top - gap)
    if bottom - top < 0.01:
        return None
    return Region(region.left, top, region.right, bottom)
