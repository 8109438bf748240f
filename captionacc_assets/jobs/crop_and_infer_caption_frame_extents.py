"""Job 2: crop the approved region at 10 Hz into the chunk pyramid and classify every pair.

Produces `cropped_frames` (VP9 chunks + manifest) and `caption_frame_extents`
(forward and backward pair predictions) from one streaming decode of the video.
"""

from dataclasses import asdict, dataclass, field
from pathlib import Path

from captionacc_assets.core.chunks import MANIFEST_NAME, ChunkPyramidWriter
from captionacc_assets.core.dbs.extents_db import write_extents_db
from captionacc_assets.core.extents.baseline import PairClassifier
from captionacc_assets.core.extents.labels import LABELS
from captionacc_assets.core.fault_points import reach
from captionacc_assets.core.keys import VideoKeys
from captionacc_assets.core.region import Region
from captionacc_assets.core.video import iter_frames_at, probe_video
from captionacc_assets.jobs.background import BackgroundSink
from captionacc_assets.jobs.object_store import GZIP, ObjectStore, fetch_video
from captionacc_assets.jobs.progress import Progress, ProgressTicker, Timings, no_progress


@dataclass
class CropInferResult:
    version: int
    frame_count: int
    chunk_count: int
    cropped_frames_prefix: str
    caption_frame_extents_key: str
    model_hash: str
    label_counts: dict
    keys_written: list[str]
    timings: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def crop_and_infer_caption_frame_extents(
    store: ObjectStore,
    keys: VideoKeys,
    video_key: str,
    *,
    region: Region,
    version: int,
    classifier: PairClassifier,
    work_dir: Path,
    progress: Progress = no_progress,
) -> CropInferResult:
    timings = Timings()
    work_dir.mkdir(parents=True, exist_ok=True)
    with timings.measure("download"):
        video_path = fetch_video(store, video_key, work_dir)
    probe = probe_video(video_path)
    n = probe.frame_count
    chunks_dir = work_dir / f"cropped_frames_v{version}"
    writer = ChunkPyramidWriter(chunks_dir, n)
    encoder = BackgroundSink(writer.add, max_pending=16)  # 16 crops: ~16 MB at 1080p, not 64
    ticker = ProgressTicker(progress, "crop + extents", n)

    def cropped_frames():
        for done, (index, crop) in enumerate(
            iter_frames_at(video_path, range(n), region=region, probe=probe), 1
        ):
            encoder.put(index, crop)
            ticker.tick(done)
            if done == n // 2:
                reach("crop.encode")
            yield crop

    with timings.measure("decode_crop_classify"):
        predictions = classifier.predict(cropped_frames())
    with timings.measure("finish_chunks"):
        encoder.close()
        manifest = writer.close()

    extents_key = keys.caption_frame_extents_db(version, classifier.model_hash)
    extents_path = work_dir / Path(extents_key).name
    labels = predictions.forward_labels()
    write_extents_db(
        extents_path,
        forward=predictions.forward,
        backward=predictions.backward,
        labels=LABELS,
        model_hash=classifier.model_hash,
        cropped_frames_version=version,
    )

    prefix = keys.cropped_frames_prefix(version)
    written = []
    with timings.measure("publish"):
        # Versions and extents databases are immutable: an existing one is never overwritten.
        if not store.exists(prefix + MANIFEST_NAME):
            store.put_dir(prefix, chunks_dir)
            written.append(prefix)
        if not store.exists(extents_key):
            store.put_file(extents_key, extents_path, GZIP)
            written.append(extents_key)

    return CropInferResult(
        version=version,
        frame_count=n,
        chunk_count=len(manifest["chunks"]),
        cropped_frames_prefix=prefix,
        caption_frame_extents_key=extents_key,
        model_hash=classifier.model_hash,
        label_counts={label: labels.count(label) for label in LABELS},
        keys_written=written,
        timings=dict(timings),
    )
