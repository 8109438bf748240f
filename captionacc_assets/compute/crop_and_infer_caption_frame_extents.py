"""Job 2: crop each approved caption zone at 10 Hz into its chunk pyramid and classify every pair.

Produces `cropped_frames` (VP9 chunks + manifest) and `caption_frame_extents`
(forward and backward pair predictions) per zone, from one streaming decode of the video.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from captionacc_assets.core.chunks import MANIFEST_NAME, ChunkPyramidWriter
from captionacc_assets.core.dbs.captions_db import ZoneProvenance
from captionacc_assets.core.dbs.extents_db import write_extents_db
from captionacc_assets.core.extents.labels import PairClassifier
from captionacc_assets.core.extents.labels import LABELS
from captionacc_assets.core.fault_points import reach
from captionacc_assets.core.keys import VideoKeys
from captionacc_assets.core.region import Region
from captionacc_assets.core.video import VideoProbe, iter_frames_at, probe_of
from captionacc_assets.core.zones import check_zones, placement
from captionacc_assets.core.malloc_release import release_free_memory
from captionacc_assets.core.background import BackgroundConsumer, BackgroundSink
from captionacc_assets.compute.object_store import GZIP, ObjectStore, fetch_video
from captionacc_assets.compute.progress import Progress, ProgressTicker, Timings, no_progress


@dataclass
class ZoneExtents:
    """What the job made for one caption zone."""

    zone: int
    region: tuple[float, ...]  # (left, top, right, bottom)
    cropped_frames_prefix: str
    caption_frame_extents_key: str
    chunk_count: int
    label_counts: dict


@dataclass
class CropInferResult:
    """The job's result. The flat fields are zone 0's (as before zones); `zones` lists every zone."""

    version: int
    frame_count: int
    chunk_count: int
    cropped_frames_prefix: str
    caption_frame_extents_key: str
    model_hash: str
    label_counts: dict
    keys_written: list[str]
    timings: dict = field(default_factory=dict)
    zones: list[ZoneExtents] = field(default_factory=list)

    def __post_init__(self) -> None:  # rebuilt from a Modal function's dict
        self.zones = [z if isinstance(z, ZoneExtents) else ZoneExtents(**z) for z in self.zones]

    @property
    def extents_keys(self) -> list[str]:
        return [z.caption_frame_extents_key for z in self.zones]

    def zone_provenance(self) -> list[ZoneProvenance]:
        """The zones as the captions job takes them (and captions.db records them)."""
        return [
            ZoneProvenance(z.zone, placement(Region(*z.region)), tuple(z.region), z.caption_frame_extents_key)
            for z in self.zones
        ]

    def as_dict(self) -> dict:
        return asdict(self)


class _Zone:
    """One zone's chunk writer (encoding on its own thread) and classifier input."""

    def __init__(self, zone: int, region: Region, work_dir: Path, version: int, n: int):
        self.zone, self.region = zone, region
        self.chunks_dir = work_dir / f"cropped_frames_v{version}_zone{zone}"
        self.writer = ChunkPyramidWriter(self.chunks_dir, n)
        self.encoder = BackgroundSink(self.writer.add, max_pending=16)  # 16 crops: ~16 MB at 1080p, not 64


def crop_and_infer_caption_frame_extents(
    store: ObjectStore,
    keys: VideoKeys,
    video_key: str,
    *,
    zones: Sequence[Region],
    version: int,
    classifier: PairClassifier,
    work_dir: Path,
    progress: Progress = no_progress,
    probe: VideoProbe | None = None,
) -> CropInferResult:
    """Every zone's chunk pyramid and extents database from ONE streaming decode of the video.

    Zone 0's crops feed the classifier here; a second zone's feed a second classifier pass
    on a worker thread, so a two-zone video is decoded once, not twice. `probe`: the `video`
    asset's probe of this file, used instead of probing again (`probe_of`).
    """
    zones = check_zones(zones)
    timings = Timings()
    work_dir.mkdir(parents=True, exist_ok=True)
    with timings.measure("download"):
        video_path = fetch_video(store, video_key, work_dir)
    probe = probe_of(video_path, probe)
    n = probe.frame_count
    parts = [_Zone(z, region, work_dir, version, n) for z, region in enumerate(zones)]
    others = [BackgroundConsumer(classifier.predict) for _ in parts[1:]]
    ticker = ProgressTicker(progress, "crop + extents", n)
    # One zone is cropped at decode, as before zones; two are cut from the decoded frame.
    decode_region = zones[0] if len(zones) == 1 else None

    def zone_0_crops():
        for done, (index, image) in enumerate(
            iter_frames_at(video_path, range(n), region=decode_region, probe=probe), 1
        ):
            crops = [image] if decode_region else [part.region.crop(image) for part in parts]
            for part, crop in zip(parts, crops):
                part.encoder.put(index, crop)
            for consumer, crop in zip(others, crops[1:]):
                consumer.put(crop)
            ticker.tick(done)
            if done == n // 2:
                reach("crop.encode")
            yield crops[0]

    with timings.measure("decode_crop_classify"):
        try:
            first = classifier.predict(zone_0_crops())
        except BaseException:
            for consumer in others:  # end the other zones' threads; the first error is the one raised
                try:
                    consumer.result()
                except BaseException:
                    pass
            for part in parts:
                part.encoder.abandon()
            raise
        predictions = [first] + [consumer.result() for consumer in others]
    with timings.measure("finish_chunks"):
        manifests = []
        for part in parts:
            part.encoder.close()
            manifests.append(part.writer.close())
    release_free_memory()  # the decoder's and encoders' buffers, before the next step (core/malloc_release.py)

    written: list[str] = []
    results: list[ZoneExtents] = []
    with timings.measure("publish"):
        for part, manifest, zone_predictions in zip(parts, manifests, predictions):
            results.append(
                _publish_zone(
                    store, keys, part, manifest, zone_predictions, version, classifier.model_hash, work_dir, written
                )
            )
    main = results[0]
    return CropInferResult(
        version=version,
        frame_count=n,
        chunk_count=main.chunk_count,
        cropped_frames_prefix=main.cropped_frames_prefix,
        caption_frame_extents_key=main.caption_frame_extents_key,
        model_hash=classifier.model_hash,
        label_counts=main.label_counts,
        keys_written=written,
        timings=dict(timings),
        zones=results,
    )


def _publish_zone(
    store: ObjectStore,
    keys: VideoKeys,
    part: _Zone,
    manifest: dict,
    predictions,
    version: int,
    model_hash: str,
    work_dir: Path,
    written: list[str],
) -> ZoneExtents:
    """Write one zone's extents database and publish it and its chunks, never over existing ones."""
    extents_key = keys.caption_frame_extents_db(version, model_hash, zone=part.zone)
    extents_path = work_dir / Path(extents_key).name
    write_extents_db(
        extents_path,
        forward=predictions.forward,
        backward=predictions.backward,
        labels=LABELS,
        model_hash=model_hash,
        cropped_frames_version=version,
    )
    prefix = keys.cropped_frames_prefix(version, zone=part.zone)
    # Versions and extents databases are immutable: an existing one is never overwritten.
    if not store.exists(prefix + MANIFEST_NAME):
        store.put_dir(prefix, part.chunks_dir)
        written.append(prefix)
    if not store.exists(extents_key):
        store.put_file(extents_key, extents_path, GZIP)
        written.append(extents_key)
    labels = predictions.forward_labels()
    return ZoneExtents(
        zone=part.zone,
        region=part.region.as_tuple(),
        cropped_frames_prefix=prefix,
        caption_frame_extents_key=extents_key,
        chunk_count=len(manifest["chunks"]),
        label_counts={label: labels.count(label) for label in LABELS},
    )
