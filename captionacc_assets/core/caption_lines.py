"""OCR boxes into caption lines: grouped into visual lines, with the picture's clutter and
stray fragments dropped, so only the caption's own text is read."""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from captionacc_assets.core.ocr.engine import OcrBox


def group_into_lines(boxes: Iterable[OcrBox]) -> list[list[OcrBox]]:
    """Group boxes into visual lines (top to bottom), each line's boxes left to right.

    Lines are seeded by the shortest boxes first, and each line keeps its seed's
    vertical extent; a box joins the line it overlaps most if that overlap is at least
    half the shorter height, so a line that OCR split into pieces reads as one. A
    fixed extent (not the growing union) keeps one tall box, say background clutter
    spanning two lines, from chaining two caption lines into one.
    """
    lines: list[tuple[OcrBox, list[OcrBox]]] = []
    for box in sorted(boxes, key=lambda b: (b.bottom - b.top, b.top)):
        height = box.bottom - box.top
        best, best_overlap = None, 0.0
        for seed, members in lines:
            overlap = min(seed.bottom, box.bottom) - max(seed.top, box.top)
            if overlap >= 0.5 * min(height, seed.bottom - seed.top) and overlap > best_overlap:
                best, best_overlap = members, overlap
        if best is None:
            lines.append((box, [box]))
        else:
            best.append(box)
    lines.sort(key=lambda line: line[0].top)
    return [sorted(members, key=lambda b: b.left) for _, members in lines]


# A box read with less confidence than this whose height does not match the confidently
# read text (outside [1 / _ODD_HEIGHT, _ODD_HEIGHT] times its median height) is
# background clutter, not a caption line.
_DOUBTFUL_CONFIDENCE = 0.8
_SURE_CONFIDENCE = 0.9
_ODD_HEIGHT = 1.4


def drop_clutter(boxes: Sequence[OcrBox]) -> list[OcrBox]:
    """Boxes without the doubtful ones whose size is unlike the caption's: one caption
    uses one font size, so a weakly read box much taller or shorter than the confidently
    read text is an edge in the picture that the recognizer forced into a letter."""
    sure = [b.bottom - b.top for b in boxes if b.confidence >= _SURE_CONFIDENCE]
    if not sure:
        return list(boxes)
    typical = float(np.median(sure))
    return [
        b
        for b in boxes
        if b.confidence >= _DOUBTFUL_CONFIDENCE or 1 / _ODD_HEIGHT <= (b.bottom - b.top) / typical <= _ODD_HEIGHT
    ]


# A fragment of this many characters or fewer at a line's end, this many line heights away
# from the rest, is a stray (a sign, a counter, a lone letter of the picture) when dropping it
# brings the line nearer the caption's centre: burned-in captions are centred in their region.
_STRAY_MAX_CHARS = 4
_STRAY_MIN_GAP_LINES = 0.5
# A one-character line under this share of the other lines' height is not a caption line.
_STRAY_LINE_HEIGHT = 0.75


def _centre_offset(line: Sequence[OcrBox]) -> float:
    return abs((line[0].left + line[-1].right) / 2 - 0.5)


def drop_strays(lines: list[list[OcrBox]], aspect: float) -> list[list[OcrBox]]:
    """Lines (each left to right) without stray fragments at their ends and stray tiny lines.

    `aspect` is the image's width over its height, to measure horizontal gaps in line heights.
    """
    kept = []
    for line in lines:
        line = list(line)
        while len(line) > 1:
            height = float(np.median([b.bottom - b.top for b in line]))
            candidates = []
            for end, neighbour in ((0, 1), (-1, -2)):
                box, other = line[end], line[neighbour]
                gap = (box.left - other.right if end == -1 else other.left - box.right) * aspect
                rest = line[1:] if end == 0 else line[:-1]
                if (
                    len(box.text.strip()) <= _STRAY_MAX_CHARS
                    and gap >= _STRAY_MIN_GAP_LINES * height
                    and _centre_offset(rest) < _centre_offset(line)
                ):
                    candidates.append((_centre_offset(line) - _centre_offset(rest), end))
            if not candidates:
                break
            line.pop(max(candidates)[1])
        kept.append(line)
    if len(kept) > 1:

        def line_height(line: Sequence[OcrBox]) -> float:
            return max(b.bottom for b in line) - min(b.top for b in line)

        def tiny(line: Sequence[OcrBox]) -> bool:
            others = [line_height(o) for o in kept if o is not line and len("".join(b.text for b in o).strip()) > 1]
            chars = len("".join(b.text for b in line).strip())
            return chars <= 1 and bool(others) and line_height(line) < _STRAY_LINE_HEIGHT * float(np.median(others))

        kept = [line for line in kept if not tiny(line)]
    return kept


def in_reading_order(boxes: Iterable[OcrBox]) -> list[OcrBox]:
    """Boxes top-to-bottom by line, left-to-right within a line."""
    return [box for line in group_into_lines(boxes) for box in line]
