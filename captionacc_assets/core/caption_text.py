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


def is_cjk(char: str) -> bool:
    """Scripts written without spaces between words (Han, kana) and their punctuation.
    Hangul is not here: Korean puts spaces between words."""
    code = ord(char)
    return (
        0x2E80 <= code <= 0x2FDF  # CJK radicals
        or 0x3000 <= code <= 0x30FF  # CJK symbols and punctuation, hiragana, katakana
        or 0x3100 <= code <= 0x31FF  # bopomofo, kanbun, katakana extensions
        or 0x3400 <= code <= 0x4DBF  # CJK extension A
        or 0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0xF900 <= code <= 0xFAFF  # CJK compatibility ideographs
        or 0xFE30 <= code <= 0xFE4F  # CJK compatibility forms
        or 0xFF00 <= code <= 0xFFEF  # halfwidth and fullwidth forms (，！？)
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
        if out and not (is_cjk(out[-1]) or is_cjk(text[0])):
            out += " "
        out += text
    return out


# A read less confident than this is tried again on the image enlarged...
_RETRY_BELOW_CONFIDENCE = 0.9
_RETRY_SCALE = 2
# ...and the second read wins only if it is more confident and at least this confident.
_RETRY_ACCEPT_CONFIDENCE = 0.8


# Exactly two periods: the drop shadow of a "." read as a second one. ("..." stays.)
_DOUBLED_PERIOD = re.compile(r"(?<!\.)\.\.(?!\.)")


def _read_once(engine: OcrEngine, image: np.ndarray) -> tuple[str, float]:
    boxes = drop_clutter([b for b in engine.recognize(image) if b.text.strip()])
    if not boxes:
        return "", 0.0
    height, width = np.shape(image)[:2]
    kept = drop_strays(group_into_lines(boxes), width / max(height, 1))
    boxes = [b for line in kept for b in line]
    lines = [join_line([b.text for b in line]) for line in kept]
    text = clean_ocr_text(normalize_caption_text("\n".join(lines)))
    if not text:
        return "", 0.0
    return text, float(np.mean([b.confidence for b in boxes]))


def _enlarged(image: np.ndarray, scale: int) -> np.ndarray:
    from PIL import Image

    height, width = image.shape[:2]
    return np.asarray(
        Image.fromarray(np.ascontiguousarray(image)).resize((width * scale, height * scale), Image.Resampling.BICUBIC)
    )


def read_caption_text(engine: OcrEngine, image: np.ndarray) -> tuple[str, float]:
    """OCR a caption image: lines joined by "\\n" top to bottom, with the mean confidence
    of the boxes read. ("", 0.0) when no text is found.

    A doubtful read is tried again on the image enlarged: text detectors size their
    search to the image, and on a short caption over a busy picture they can merge the
    few letters with the scene into one box that reads as junk; at twice the size the
    letters stand apart. The more confident read wins."""
    text, confidence = _read_once(engine, image)
    if confidence < _RETRY_BELOW_CONFIDENCE and image.shape[0] * image.shape[1] > 0:
        again, again_confidence = _read_once(engine, _enlarged(np.asarray(image), _RETRY_SCALE))
        if again and again_confidence > confidence and again_confidence >= _RETRY_ACCEPT_CONFIDENCE:
            return again, again_confidence
    return text, confidence


# Spanish marks and common short words English does not use: enough to tell a Spanish
# caption line from an English one without a language model.
_SPANISH_LETTERS = set("ñÑáéíóúÁÉÍÓÚüÜ¿¡")
_SPANISH_WORDS = frozenset(
    "el la los las del al que qué con por para una es está están muy pero como cómo mi ya "
    "le les su sus y ni sí mañana hola gracias vamos aquí ahora".split()
)
_SENTENCE = re.compile(r"[^.!?…]*[.!?…]+|[^.!?…]+$")
_WORD = re.compile(r"\w+")


def _looks_spanish(text: str) -> bool:
    if _SPANISH_LETTERS.intersection(text):
        return True
    return any(word in _SPANISH_WORDS for word in _WORD.findall(text.casefold()))


def restore_inverted_exclamation(text: str) -> str:
    """Put back the "¡" that opens a Spanish exclamation. RapidOCR's recognizer has no
    "¡" in its alphabet (it has "¿"), so "¡Vamos!" always reads "Vamos!"; in a caption
    that looks Spanish, each sentence that ends in "!" without a "¡" gets one at its start.
    Where it read the mark as a "j" glued to a capital ("jFeliz"), which no word starts
    with, that "j" is the mark. An engine that reads "¡" (Google Vision) is left alone:
    such sentences already have it."""
    if "!" not in text or not _looks_spanish(text):
        return text
    lines = []
    for line in text.split("\n"):
        sentences = []
        for sentence in _SENTENCE.findall(line):
            body = sentence.lstrip()
            if body.endswith("!") and "¡" not in body and body[0].isalpha():
                mark_read_as_j = len(body) > 1 and body[0] == "j" and body[1].isupper()
                sentence = sentence[: len(sentence) - len(body)] + "¡" + body[int(mark_read_as_j) :]
            sentences.append(sentence)
        lines.append("".join(sentences))
    return "\n".join(lines)


def clean_ocr_text(text: str) -> str:
    """Undo what the recognizer gets wrong the same way every time: a shadowed "."
    read as "..", and the "¡" missing from its alphabet."""
    return restore_inverted_exclamation(_DOUBLED_PERIOD.sub(".", text))


_FULLWIDTH_ALNUM = {
    code: code - 0xFEE0 for code in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))
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
