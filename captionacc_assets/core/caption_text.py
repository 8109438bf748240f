"""A caption's text: OCR of the median of its frames.

Burned-in caption text stays still while the picture behind it moves, so the per-pixel
median over a caption's frames keeps the text and washes out the background; OCR of
that one image is both cheaper and better than OCR of every frame.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Sequence

import numpy as np

from captionacc_assets.core.pixel_median import pixel_median

from captionacc_assets.core.ocr.engine import OcrBox, OcrEngine


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


def group_into_lines(boxes: Iterable[OcrBox]) -> list[list[OcrBox]]:
    """Group boxes into visual lines (top to bottom), each line's boxes left to right.

    Two boxes share a line when they overlap vertically by at least half the
    shorter one's height, so a line that OCR split into pieces reads as one.
    """
    lines: list[list[OcrBox]] = []
    for box in sorted(boxes, key=lambda b: (b.top + b.bottom) / 2):
        height = box.bottom - box.top
        for line in lines:
            top = min(b.top for b in line)
            bottom = max(b.bottom for b in line)
            line_height = float(np.median([b.bottom - b.top for b in line]))
            overlap = min(bottom, box.bottom) - max(top, box.top)
            if overlap >= 0.5 * min(height, line_height):
                line.append(box)
                break
        else:
            lines.append([box])
    lines.sort(key=lambda line: min(b.top for b in line))
    return [sorted(line, key=lambda b: b.left) for line in lines]


def in_reading_order(boxes: Iterable[OcrBox]) -> list[OcrBox]:
    """Boxes top-to-bottom by line, left-to-right within a line."""
    return [box for line in group_into_lines(boxes) for box in line]


def _is_cjk(char: str) -> bool:
    """Scripts written without spaces between words (Han, kana) and their punctuation.
    Hangul is not here: Korean puts spaces between words."""
    code = ord(char)
    return (
        0x2E80 <= code <= 0x2FDF      # CJK radicals
        or 0x3000 <= code <= 0x30FF   # CJK symbols and punctuation, hiragana, katakana
        or 0x3100 <= code <= 0x31FF   # bopomofo, kanbun, katakana extensions
        or 0x3400 <= code <= 0x4DBF   # CJK extension A
        or 0x4E00 <= code <= 0x9FFF   # CJK unified ideographs
        or 0xF900 <= code <= 0xFAFF   # CJK compatibility ideographs
        or 0xFE30 <= code <= 0xFE4F   # CJK compatibility forms
        or 0xFF00 <= code <= 0xFFEF   # halfwidth and fullwidth forms (，！？)
        or 0x20000 <= code <= 0x3FFFF  # CJK extensions B..
    )


def join_line(texts: Sequence[str]) -> str:
    """Join the pieces of one line: a space between Latin-script pieces, none where
    either side of the join is CJK."""
    out = ""
    for text in texts:
        text = text.strip()
        if not text:
            continue
        if out and not (_is_cjk(out[-1]) or _is_cjk(text[0])):
            out += " "
        out += text
    return out


def read_caption_text(engine: OcrEngine, image: np.ndarray) -> tuple[str, float]:
    """OCR a caption image: lines joined by "\\n" top to bottom, with the mean confidence
    of the boxes read. ("", 0.0) when no text is found."""
    boxes = [b for b in engine.recognize(image) if b.text.strip()]
    if not boxes:
        return "", 0.0
    lines = [join_line([b.text for b in line]) for line in group_into_lines(boxes)]
    text = normalize_caption_text("\n".join(lines))
    if not text:
        return "", 0.0
    return text, float(np.mean([b.confidence for b in boxes]))


_FULLWIDTH_ALNUM = {
    code: code - 0xFEE0
    for code in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))
}
_SPACES = re.compile(r"[^\S\n]+")


def normalize_caption_text(text: str) -> str:
    """Canonical caption text: NFC, fullwidth letters/digits to ASCII, whitespace collapsed
    to single spaces, lines stripped, blank lines dropped.

    Not NFKC: that would turn CJK punctuation such as "，" and "！" into ASCII
    "," and "!", which is wrong for Chinese captions.
    """
    text = unicodedata.normalize("NFC", text).translate(_FULLWIDTH_ALNUM)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)
