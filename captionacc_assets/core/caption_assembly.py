"""Turn decoded caption spans plus their OCR text into the rows of `captions.db`.

Two clean-ups happen here because only the text can tell:
- a span whose median frame has no readable text is not a caption (no phantom cues);
- touching spans that read the same text are one caption split by a false boundary.
The result still covers `[0, n)` with no overlaps; uncovered spans become `gap` rows.
"""

from dataclasses import dataclass

from captionacc_assets.core.caption_text import normalize_caption_text
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


def assemble_caption_rows(
    spans: list[CaptionSpan], texts: dict[int, SpanText], n: int
) -> list[CaptionRow]:
    """Rows covering [0, n); `texts` maps a predicted span's start index to its OCR."""
    merged: list[CaptionRow] = []
    for span in spans:
        read = texts.get(span.start) if span.state == "predicted" else None
        text = normalize_caption_text(read.text) if read else ""
        if not text:
            row = CaptionRow(span.start, span.end, "gap", confidence=span.confidence)
        else:
            row = CaptionRow(
                span.start, span.end, "predicted", confidence=span.confidence,
                caption_ocr=text, caption_ocr_confidence=read.confidence,
                caption_ocr_status="completed",
            )
        prev = merged[-1] if merged else None
        same_gap = prev and prev.state == row.state == "gap"
        same_text = prev and prev.state == row.state == "predicted" and prev.caption_ocr == row.caption_ocr
        if same_gap or same_text:
            prev.end_frame_index = row.end_frame_index
            prev.confidence = min(prev.confidence, row.confidence)
        else:
            merged.append(row)
    if merged:
        merged[-1].end_frame_index = n - 1
    return merged
