"""Job 3: decode pair predictions into caption spans and read each caption's median frame.

Produces `captions.db`: per caption zone, a complete partition of the 10 Hz timeline into
captions (state `predicted`, OCR text in `caption_ocr`) and `gap` rows.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from captionacc_assets.core.caption_assembly import SpanText, assemble_caption_rows, frames_for_median
from captionacc_assets.core.caption_text import read_caption_text
from captionacc_assets.core.chunks import MANIFEST_NAME, iter_chunk_frames, read_manifest
from captionacc_assets.core.confirmed_captions import keep_peoples_captions
from captionacc_assets.core.dbs.captions_db import CaptionsProvenance, ZoneProvenance, write_captions_db
from captionacc_assets.core.dbs.extents_db import read_extents_db
from captionacc_assets.core.dbs.stored_captions import read_stored_captions
from captionacc_assets.core.extents.labels import PairPredictions
from captionacc_assets.core.extents.decode import decode_captions
from captionacc_assets.core.fault_points import reach
from captionacc_assets.core.keys import VideoKeys
from captionacc_assets.core.median_frame import median_frame
from captionacc_assets.core.ocr.engine import OcrEngine
from captionacc_assets.core.background import BackgroundSink
from captionacc_assets.compute.object_store import GZIP, ObjectStore
from captionacc_assets.compute.progress import Progress, ProgressTicker, Timings, no_progress


@dataclass
class CaptionOcrResult:
    caption_count: int
    gap_count: int
    frame_count: int
    captions_db_key: str
    captions: list[dict]
    timings: dict = field(default_factory=dict)
    kept_confirmed: int = 0  # confirmed captions of the previous captions.db kept (boundaries and text)
    kept_typed: int = 0  # unconfirmed captions kept because a person typed their text

    def as_dict(self) -> dict:
        return asdict(self)


def _fetch_chunks(store: ObjectStore, prefix: str, manifest: dict, indices: set[int], dest: Path) -> None:
    for chunk in manifest["chunks"]:
        if indices.intersection(chunk["frame_indices"]):
            target = dest / chunk["name"]
            target.parent.mkdir(parents=True, exist_ok=True)
            store.get_file(prefix + chunk["name"], target)


def _read_span_texts(
    chunks_dir: Path,
    manifest: dict,
    wanted: dict[int, list[int]],
    engine: OcrEngine,
    timings: Timings,
    progress: Progress,
) -> dict[int, SpanText]:
    """OCR each span's median frame, decoding the chunks in one ascending pass.

    Spans do not overlap, so each decoded frame belongs to one span; a span's median is
    made as soon as its last frame arrives, so memory holds one span's frames at a time.
    The OCR runs on a worker thread while the next span is decoded (both release the GIL),
    with at most two medians waiting for it.
    """
    owner = {index: start for start, indices in wanted.items() for index in indices}
    buffers: dict[int, list] = {}
    texts: dict[int, SpanText] = {}
    ticker = ProgressTicker(progress, "caption OCR", len(wanted))

    def read(start: int, image) -> None:
        with timings.measure("ocr"):
            texts[start] = SpanText(*read_caption_text(engine, image))
        reach("caption_ocr.ocr")

    reader, reported = BackgroundSink(read, max_pending=2), 0
    frames = iter_chunk_frames(chunks_dir, manifest, sorted(owner))
    try:
        while True:
            with timings.measure("decode_median"):
                item = next(frames, None)
                if item is None:
                    break
                index, frame = item
                start = owner[index]
                buffers.setdefault(start, []).append(frame)
                if index != wanted[start][-1]:
                    continue
                image = median_frame(buffers.pop(start))
            reader.put(start, image)
            if len(texts) > reported:
                reported = len(texts)
                ticker.tick(reported)
    except BaseException:
        reader.abandon()
        raise
    reader.close()
    ticker.tick(len(texts))
    return texts


def caption_ocr(
    store: ObjectStore,
    keys: VideoKeys,
    *,
    version: int,
    zones: Sequence[ZoneProvenance | dict],
    engine: OcrEngine,
    work_dir: Path,
    video_id: str = "",
    progress: Progress = no_progress,
) -> CaptionOcrResult:
    """captions.db of every zone: each zone's spans from its extents database, each span's
    text from the median of its frames in that zone's cropped frames; one timeline per zone."""
    timings = Timings()
    work_dir.mkdir(parents=True, exist_ok=True)
    zones = _zones(zones)
    if not zones or [z.zone for z in zones] != list(range(len(zones))):
        raise ValueError(f"zones {[z.zone for z in zones]} must be 0, 1, ... in order")
    frame_counts, predicted = [], []
    for zone in zones:
        zone_n, rows = _zone_rows(store, keys, version, zone, engine, work_dir / f"zone{zone.zone}", timings, progress)
        frame_counts.append(zone_n)
        predicted += [replace(row, zone=zone.zone) for row in rows]
    n = frame_counts[0]
    if set(frame_counts) != {n}:
        raise ValueError(f"the zones' cropped frames have {frame_counts} indices; each must have the video's {n}")
    # A person's confirmed captions and typed text in the published captions.db stay; predictions fill between.
    merged = keep_peoples_captions(_published_rows(store, keys, work_dir), predicted, n)
    rows = merged.rows
    captions_path = work_dir / "captions.db.gz"
    write_captions_db(
        captions_path,
        rows,
        frame_count=n,
        video_id=video_id,
        provenance=CaptionsProvenance(version, zones[0].caption_frame_extents_key, zones),
    )
    with timings.measure("publish"):
        store.put_file(keys.captions_db, captions_path, GZIP)

    captions = [
        {
            "start_frame_index": r.start_frame_index,
            "end_frame_index": r.end_frame_index,
            "text": r.caption_ocr,
            "confidence": round(r.confidence, 3),
            "zone": r.zone,
        }
        for r in rows
        if r.state != "gap"
    ]
    return CaptionOcrResult(
        caption_count=len(captions),
        gap_count=len(rows) - len(captions),
        frame_count=n,
        captions_db_key=keys.captions_db,
        captions=captions,
        timings=dict(timings),
        kept_confirmed=merged.kept_confirmed,
        kept_typed=merged.kept_typed,
    )


def _zones(zones: Sequence[ZoneProvenance | dict]) -> tuple[ZoneProvenance, ...]:
    """The zones as given, or as a Modal call passes them (dicts)."""
    return tuple(
        z if isinstance(z, ZoneProvenance) else ZoneProvenance(**{**z, "region": tuple(z["region"])}) for z in zones
    )


def _zone_rows(
    store: ObjectStore,
    keys: VideoKeys,
    version: int,
    zone: ZoneProvenance,
    engine: OcrEngine,
    work_dir: Path,
    timings: Timings,
    progress: Progress,
) -> tuple[int, list]:
    """(n, the zone's predicted rows partitioning [0, n)) from its extents and cropped frames."""
    work_dir.mkdir(parents=True, exist_ok=True)
    prefix = keys.cropped_frames_prefix(version, zone=zone.zone)
    with timings.measure("decode_extents"):
        extents_path = store.get_file(zone.caption_frame_extents_key, work_dir / "extents.db.gz")
        forward, backward, _meta = read_extents_db(extents_path)
        manifest = read_manifest(store.get_file(prefix + MANIFEST_NAME, work_dir / MANIFEST_NAME))
        n = manifest["frame_count"]
        if len(forward) != max(n - 1, 0):
            raise ValueError(
                f"{zone.caption_frame_extents_key} has {len(forward)} pairs but the frames have {n} indices"
            )
        spans = decode_captions(PairPredictions(forward=forward, backward=backward))

    caption_spans = [s for s in spans if s.state == "predicted"]
    wanted = {s.start: frames_for_median(s) for s in caption_spans}
    chunks_dir = work_dir / "chunks"
    with timings.measure("download_chunks"):
        _fetch_chunks(store, prefix, manifest, {i for v in wanted.values() for i in v}, chunks_dir)

    texts = _read_span_texts(chunks_dir, manifest, wanted, engine, timings, progress)
    return n, assemble_caption_rows(spans, texts, n)


def _published_rows(store: ObjectStore, keys: VideoKeys, work_dir: Path) -> list:
    """The rows of the captions.db published before (people may have edited it); [] for the first."""
    if not store.exists(keys.captions_db):
        return []
    path = store.get_file(keys.captions_db, work_dir / "published-before.db.gz")
    return read_stored_captions(path, f"the published captions.db of video {keys.video!r}").rows
