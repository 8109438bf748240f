"""Turn decoded caption spans plus their OCR text into the rows of `captions.db`.

Clean-ups happen here because only the text can tell:
- a span whose median frame has no readable text is not a caption (no phantom cues), nor
  is one that reads as a single Latin letter (the picture behind, read as an "A"), nor one
  read with too little confidence for its length (`has_caption_evidence`);
- touching spans that read the same text are one caption split by a false boundary;
- a very short span touching a caption that reads almost the same (a fade frame, or a
  flicker of the background, misread by a character) is a sliver of that caption: no
  one can read a caption shown for half a second that differs by a letter from its
  neighbour, whereas real back-to-back captions that differ by one character each
  stay up for a reading time. A span of one or two indices is too brief to read, and
  joins a touching caption that contains most of its text.
The result still covers `[0, n)` with no overlaps; uncovered spans become `gap` rows.
"""

from dataclasses import dataclass
from difflib import SequenceMatcher

from captionacc_assets.core.caption_text_fixes import normalize_caption_text
from captionacc_assets.core.cjk_spacing import is_cjk
from captionacc_assets.core.dbs.captions_db import CaptionRow
from captionacc_assets.core.extents.decode import CaptionSpan


@dataclass(frozen=True)
class SpanText:
    text: str
    confidence: float


def frames_for_median(span: CaptionSpan, max_frames: int = 15) -> list[int]:
    """Indices whose median represents a caption: its frames, minus fade edges, evenly thinned."""
    start, end = span.start, span.end
    if end - start >= 6:  # drop one frame at each edge, where fades blend captions
        start, end = start + 1, end - 1
    count = end - start + 1
    if count <= max_frames:
        return list(range(start, end + 1))
    step = count / max_frames
    return sorted({start + int(k * step + step / 2) for k in range(max_frames)})


# A span this short (10 Hz indices) is a sliver when it touches a caption... Longer ones
# stay: a real caption whose start or end change detection misplaced can be cut to 0.6 s,
# and its own text is worth more than a tidy timeline.
SLIVER_MAX_INDICES = 5
# ...that reads this similar (difflib ratio: 2 * matching characters / both lengths).
SLIVER_MIN_SIMILARITY = 0.8


# A span this short (0.2 s) is too brief to read at all; it joins a touching caption
# that contains most of its characters in order (a fade frame read in part).
FLICKER_MAX_INDICES = 2
FLICKER_MIN_CONTAINED = 0.6


def _likeness(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def _similar(a: str, b: str) -> bool:
    return _likeness(a, b) >= SLIVER_MIN_SIMILARITY


def _contained(part: str, whole: str) -> float:
    """Share of `part`'s characters found, in order, in `whole`."""
    blocks = SequenceMatcher(None, part, whole, autojunk=False).get_matching_blocks()
    return sum(block.size for block in blocks) / max(len(part), 1)


# Evidence a caption needs from the OCR of its median frame. Captions are drawn to be read:
# their text reads with high confidence (no real caption of either eval set reads below 0.7;
# the weakest, a brief yellow "Hi!", reads 0.76), while scene text, cuts and textures that got
# through change detection read weakly (a phantom at a cut: 0.61).
# A brief caption, or one of one or two characters, is where such phantoms hide ("三", "2"
# at a scene change), so it needs more.
MIN_OCR_CONFIDENCE = 0.7
MIN_OCR_CONFIDENCE_BRIEF = 0.75
BRIEF_MAX_INDICES = 9  # under one second
BRIEF_MAX_CHARACTERS = 2


def has_caption_evidence(text: str, ocr_confidence: float, span_indices: int) -> bool:
    """Whether a span's OCR reads like a caption rather than the picture behind it."""
    brief = span_indices <= BRIEF_MAX_INDICES or len(text.replace(" ", "").replace("\n", "")) <= BRIEF_MAX_CHARACTERS
    return ocr_confidence >= (MIN_OCR_CONFIDENCE_BRIEF if brief else MIN_OCR_CONFIDENCE)


def _lone_latin_letter(text: str) -> bool:
    """One letter of a script written with spaces: no caption says just "A". (One CJK
    character, "好", is a whole word and stays.)"""
    return len(text) == 1 and text.isalpha() and not is_cjk(text)


def _length(row: CaptionRow) -> int:
    return row.end_frame_index - row.start_frame_index + 1


def _same(a: CaptionRow, b: CaptionRow) -> bool:
    return a.state == b.state and (a.state == "gap" or a.caption_ocr == b.caption_ocr)


def _absorbs(keeper: CaptionRow, sliver: CaptionRow) -> bool:
    """Whether `sliver` (touching `keeper`) is part of the same caption."""
    if _same(keeper, sliver):
        return True
    if keeper.state != sliver.state or _length(sliver) >= _length(keeper):
        return False
    keeper_text, sliver_text = keeper.caption_ocr or "", sliver.caption_ocr or ""
    if _length(sliver) <= FLICKER_MAX_INDICES and _contained(sliver_text, keeper_text) >= FLICKER_MIN_CONTAINED:
        return True
    return _length(sliver) <= SLIVER_MAX_INDICES and _similar(keeper_text, sliver_text)


def _join(keeper: CaptionRow, sliver: CaptionRow) -> CaptionRow:
    """`keeper`'s text over the union of two touching rows."""
    keeper.start_frame_index = min(keeper.start_frame_index, sliver.start_frame_index)
    keeper.end_frame_index = max(keeper.end_frame_index, sliver.end_frame_index)
    keeper.confidence = min(keeper.confidence, sliver.confidence)
    return keeper


def _join_same(rows: list[CaptionRow]) -> list[CaptionRow]:
    """Touching rows that read the same (or are both gaps) as one."""
    joined: list[CaptionRow] = []
    for row in rows:
        if joined and _same(joined[-1], row):
            _join(joined[-1], row)
        else:
            joined.append(row)
    return joined


def _likeliest_keeper(sliver: CaptionRow, *neighbours: CaptionRow | None) -> CaptionRow | None:
    """The touching row that absorbs `sliver` and whose text is most like its own (a counter's
    fragment "Lap 4/1" between "Lap 3/11" and "Lap 4/11" belongs to the one it reads like, not to
    whichever came first); on a tie the longer, then the earlier."""
    best, best_key = None, None
    for keeper in neighbours:
        if keeper is not None and _absorbs(keeper, sliver):
            key = (_likeness(keeper.caption_ocr or "", sliver.caption_ocr or ""), _length(keeper))
            if best_key is None or key > best_key:
                best, best_key = keeper, key
    return best


def _absorb_slivers(rows: list[CaptionRow], length: int) -> list[CaptionRow]:
    """One pass: every row of `length` indices that a neighbour absorbs joins it."""
    kept: list[CaptionRow] = []
    for i, row in enumerate(rows):
        if _length(row) == length:
            keeper = _likeliest_keeper(row, kept[-1] if kept else None, rows[i + 1] if i + 1 < len(rows) else None)
            if keeper is not None:
                _join(keeper, row)
                continue
        kept.append(row)
    return kept


def assemble_caption_rows(spans: list[CaptionSpan], texts: dict[int, SpanText], n: int) -> list[CaptionRow]:
    """Rows covering [0, n); `texts` maps a predicted span's start index to its OCR.

    Touching spans that read the same join first, so a caption cut into pieces by false
    boundaries is whole again before anything is judged a sliver by its length; then
    slivers join a neighbour, the shortest first (one pass per length, so a long video's
    thousands of rows cost a few passes, not one search per join)."""
    rows = _join_same([_row(span, texts) for span in spans])
    while True:
        count = len(rows)
        for length in range(1, SLIVER_MAX_INDICES + 1):
            rows = _join_same(_absorb_slivers(rows, length))
        if len(rows) == count:
            break
    if rows:
        rows[-1].end_frame_index = n - 1
    return rows


def _row(span: CaptionSpan, texts: dict[int, SpanText]) -> CaptionRow:
    """A span as a row: a caption if its OCR reads like one, else a gap."""
    read = texts.get(span.start) if span.state == "predicted" else None
    text = normalize_caption_text(read.text) if read else ""
    if (
        read is None
        or not text
        or _lone_latin_letter(text)
        or not has_caption_evidence(text, read.confidence, span.end - span.start + 1)
    ):
        return CaptionRow(span.start, span.end, "gap", confidence=span.confidence)
    return CaptionRow(
        span.start,
        span.end,
        "predicted",
        confidence=span.confidence,
        caption_ocr=text,
        caption_ocr_confidence=read.confidence,
        caption_ocr_status="completed",
    )
