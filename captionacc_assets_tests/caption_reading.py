"""What a span of cropped frames reads, computed in the test from the published chunks: the
per-pixel median of the span's median frames (`frames_for_median`), OCR'd and normalized."""

import json
import tempfile
from pathlib import Path

from captionacc_assets.core.caption_assembly import frames_for_median
from captionacc_assets.core.caption_text import read_caption_text
from captionacc_assets.core.caption_text_fixes import normalize_caption_text
from captionacc_assets.core.median_frame import median_frame
from captionacc_assets.core.chunks import MANIFEST_NAME, iter_chunk_frames
from captionacc_assets.core.extents.decode import CaptionSpan
from captionacc_assets.core.keys import VideoKeys


def span_median_text(storage, keys: VideoKeys, version: int, span: tuple[int, int], engine) -> str:
    prefix = keys.cropped_frames_prefix(version)
    manifest = json.loads(storage.get_bytes(prefix + MANIFEST_NAME))
    indices = frames_for_median(CaptionSpan(span[0], span[1], "predicted", 0.0))
    with tempfile.TemporaryDirectory(prefix="reading-") as work:
        for chunk in manifest["chunks"]:
            if set(indices) & set(chunk["frame_indices"]):
                storage.get_file(prefix + chunk["name"], Path(work) / chunk["name"])
        image = median_frame([frame for _, frame in iter_chunk_frames(Path(work), manifest, indices)])
    return normalize_caption_text(read_caption_text(engine, image)[0])
