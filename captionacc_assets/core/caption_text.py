"""A caption's text: OCR of its median image, read again enlarged when in doubt."""

from __future__ import annotations

import numpy as np

from captionacc_assets.core.caption_lines import drop_clutter, drop_strays, group_into_lines
from captionacc_assets.core.caption_text_fixes import clean_ocr_text, normalize_caption_text
from captionacc_assets.core.cjk_spacing import join_line
from captionacc_assets.core.ocr.engine import OcrEngine


# A read less confident than this is tried again on the image enlarged...
_RETRY_BELOW_CONFIDENCE = 0.9
_RETRY_SCALE = 2
# ...and the second read wins only if it is more confident and at least this confident.
_RETRY_ACCEPT_CONFIDENCE = 0.8


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


def _heightened(image: np.ndarray) -> np.ndarray:
    """The strip made three times as tall by repeating its top and bottom rows: no new
    edges, only room around the text."""
    height = image.shape[0]
    return np.pad(image, ((height, height), (0, 0), (0, 0)) if image.ndim == 3 else ((height, height), (0, 0)), "edge")


def read_caption_text(engine: OcrEngine, image: np.ndarray) -> tuple[str, float]:
    """OCR a caption image: lines joined by "\\n" top to bottom, with the mean confidence
    of the boxes read. ("", 0.0) when no text is found.

    A doubtful read is tried again twice, and the most confident read wins:
    - on the image enlarged: text detectors size their search to the image, and on a
      short caption over a busy picture they can merge the few letters with the scene
      into one box that reads as junk; at twice the size the letters stand apart;
    - on the strip made taller (`_heightened`): in a thin, wide crop of busy footage the
      detector can find nothing at all around a short line ("01:02" over photo footage
      read as "" or "1"), and finds it once the strip has room above and below."""
    text, confidence = _read_once(engine, image)
    if confidence < _RETRY_BELOW_CONFIDENCE and image.shape[0] * image.shape[1] > 0:
        image = np.asarray(image)
        for retry in (_enlarged(image, _RETRY_SCALE), _heightened(image)):
            again, again_confidence = _read_once(engine, retry)
            if again and again_confidence > confidence and again_confidence >= _RETRY_ACCEPT_CONFIDENCE:
                text, confidence = again, again_confidence
    return text, confidence
