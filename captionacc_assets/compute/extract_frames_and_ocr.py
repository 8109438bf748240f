"""Job 1: full frames, their OCR, and the proposed layout (`full_frames`, `raw_ocr_db`, `layout_db`)."""

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from captionacc_assets.core.dbs.layout_db import match_person_labels, read_person_labels, write_layout_db
from captionacc_assets.core.dbs.raw_ocr_db import write_raw_ocr_db
from captionacc_assets.core.fault_points import reach
from captionacc_assets.core.full_frames import encode_jpeg, full_frame_name, make_thumbnail
from captionacc_assets.core.index_space import full_frame_indices
from captionacc_assets.core.keys import VideoKeys
from captionacc_assets.core.layout import infer_layout
from captionacc_assets.core.ocr.engine import OcrBox, OcrEngine
from captionacc_assets.core.pictures import preview_frame_index
from captionacc_assets.core.video import VideoProbe, iter_frames_at, probe_of
from captionacc_assets.core.background import BackgroundSink
from captionacc_assets.compute.object_store import GZIP, ObjectStore, fetch_video
from captionacc_assets.compute.progress import Progress, ProgressTicker, Timings, no_progress

# Short videos get at least this many full frames so layout inference sees enough captions.
MIN_LAYOUT_FRAMES = 10
# Full frames go to OCR a few at a time: an engine that batches (a Vision montage) sends one
# request per group instead of one per frame, and memory holds at most this many frames.
# An engine that reads one image at a time says so (`frames_per_call = 1`): holding 8 decoded
# frames for it only costs memory (8 x 6 MB at 1080p, 8 x 100 MB at 8K).
OCR_BATCH_FRAMES = 8


@dataclass
class ExtractResult:
    probe: dict
    full_frame_indices: list[int]
    ocr_box_count: int
    frames_without_text: int
    layout: dict
    in_region_box_count: int
    preview_frame_index: int  # the full frame showing the most caption text in the region
    keys_written: list[str]
    timings: dict = field(default_factory=dict)
    person_labels_kept: int = 0  # box labels a person set in the layout.db published before, carried over

    def as_dict(self) -> dict:
        return asdict(self)


def extract_frames_and_ocr(
    store: ObjectStore,
    keys: VideoKeys,
    video_key: str,
    *,
    engine: OcrEngine,
    work_dir: Path,
    min_layout_frames: int = MIN_LAYOUT_FRAMES,
    progress: Progress = no_progress,
    probe: VideoProbe | None = None,
) -> ExtractResult:
    """`probe`: the `video` asset's probe of this file, used instead of probing again (`probe_of`)."""
    timings = Timings()
    work_dir.mkdir(parents=True, exist_ok=True)
    with timings.measure("download"):
        video_path = fetch_video(store, video_key, work_dir)
    probe = probe_of(video_path, probe)
    indices = full_frame_indices(probe.frame_count, min_layout_frames)
    frames_dir = work_dir / "full_frames"
    thumbs_dir = work_dir / "full_frames_thumbnails"
    frames_dir.mkdir(exist_ok=True)
    thumbs_dir.mkdir(exist_ok=True)

    ocr_frames: list[tuple[int, list[OcrBox]]] = []
    pending: list[tuple[int, np.ndarray]] = []
    batch_frames = getattr(engine, "frames_per_call", OCR_BATCH_FRAMES)

    def recognize(batch: list[tuple[int, np.ndarray]]) -> None:
        with timings.measure("ocr"):
            found = engine.recognize_many([image for _, image in batch])
        ocr_frames.extend((index, boxes) for (index, _), boxes in zip(batch, found))
        reach("extract.ocr")

    # OCR runs on a worker thread while the next frames are decoded and written (both release
    # the GIL); one batch waits for it at most, so memory holds about three batches.
    reader = BackgroundSink(recognize, max_pending=1)
    ticker = ProgressTicker(progress, "full frames + OCR", len(indices))
    try:
        for done, (index, image) in enumerate(iter_frames_at(video_path, indices, probe=probe), 1):
            with timings.measure("jpeg"):
                (frames_dir / full_frame_name(index)).write_bytes(encode_jpeg(image, 95))
                (thumbs_dir / full_frame_name(index)).write_bytes(make_thumbnail(image))
            pending.append((index, image))
            if len(pending) >= batch_frames:
                reader.put(pending)
                pending = []
            ticker.tick(done)
        if pending:
            reader.put(pending)
    except BaseException:
        reader.abandon()
        raise
    reader.close()

    with timings.measure("layout"):
        proposal = infer_layout(ocr_frames)
        raw_ocr_path = work_dir / "raw-ocr.db.gz"
        layout_path = work_dir / "layout.db.gz"
        write_raw_ocr_db(
            raw_ocr_path, ocr_frames, engine=engine.name, frame_width=probe.width, frame_height=probe.height
        )
        person_labels = match_person_labels(_published_person_labels(store, keys, work_dir), ocr_frames)
        write_layout_db(
            layout_path,
            ocr_frames,
            proposal,
            frame_width=probe.width,
            frame_height=probe.height,
            person_labels=person_labels,
        )

    written = []
    with timings.measure("publish"):
        # Each set replaces the previous one whole, so a crash never leaves a partial set visible.
        store.replace_dir(keys.full_frames_prefix, frames_dir)
        store.replace_dir(keys.full_frames_thumbnails_prefix, thumbs_dir)
        written += [keys.full_frames_prefix, keys.full_frames_thumbnails_prefix]
        store.put_file(keys.raw_ocr_db, raw_ocr_path, GZIP)
        store.put_file(keys.layout_db, layout_path, GZIP)
        written += [keys.raw_ocr_db, keys.layout_db]

    inside = [
        [proposal.box_labels.get((index, b), ("out",))[0] == "in" for b in range(len(boxes))]
        for index, boxes in ocr_frames
    ]
    return ExtractResult(
        probe=probe.as_dict(),
        full_frame_indices=[i for i, _ in ocr_frames],
        ocr_box_count=sum(len(b) for _, b in ocr_frames),
        frames_without_text=sum(1 for _, b in ocr_frames if not b),
        layout=proposal.as_dict(),
        in_region_box_count=sum(map(sum, inside)),
        preview_frame_index=preview_frame_index(ocr_frames, inside),
        keys_written=written,
        timings=dict(timings),
        person_labels_kept=len(person_labels),
    )


def _published_person_labels(store: ObjectStore, keys: VideoKeys, work_dir: Path) -> list:
    """The box labels people set in the layout.db published before (none for the first run)."""
    if not store.exists(keys.layout_db):
        return []
    return read_person_labels(store.get_file(keys.layout_db, work_dir / "published-layout.db.gz"))
