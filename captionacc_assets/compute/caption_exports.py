"""Write SRT, WebVTT and JSON exports of a published `captions.db`."""

from dataclasses import asdict
from pathlib import Path

from captionacc_assets.core.dbs.captions_db import read_captions_db, read_captions_provenance
from captionacc_assets.core.errors import InputError
from captionacc_assets.core.export import captions_for_export, to_json, to_srt, to_vtt
from captionacc_assets.core.keys import VideoKeys
from captionacc_assets.compute.object_store import ObjectStore

CONTENT_TYPES = {"srt": "application/x-subrip", "vtt": "text/vtt", "json": "application/json"}


def export_captions(
    store: ObjectStore, keys: VideoKeys, *, work_dir: Path, expected_version: int | None = None
) -> dict[str, str]:
    """Publish every export format, JSON and WebVTT naming what they were made from; returns {format: key}.

    With `expected_version` (the catalog's current version, the commit point), a captions.db
    made from another version is refused, so the exports never mix one version's captions
    with another's approval. A captions.db from before provenance was recorded (version 0) passes.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    path = store.get_file(keys.captions_db, work_dir / "captions.db.gz")
    made_from = read_captions_provenance(path)
    if expected_version is not None and made_from.cropped_frames_version not in (0, expected_version):
        raise InputError(
            f"captions.db of video {keys.video!r} was made from cropped frames version "
            f"{made_from.cropped_frames_version}, but the current version is {expected_version}: "
            f"materialize captions_db again, then caption_exports"
        )
    # A two-zone video's cues say where they sit; a one-zone video's exports stay as they were.
    placements = made_from.placements() if len(made_from.zones) > 1 else None
    captions = captions_for_export(read_captions_db(path), placements)
    note = {
        "cropped_frames_version": made_from.cropped_frames_version,
        "caption_frame_extents_key": made_from.caption_frame_extents_key,
        **{f"zone{z.zone}_caption_frame_extents_key": z.caption_frame_extents_key for z in made_from.zones if z.zone},
    }
    texts = {
        "srt": to_srt(captions),
        "vtt": to_vtt(captions, made_from=note),
        "json": to_json(
            captions, video_id=keys.video, made_from={k: v for k, v in asdict(made_from).items() if k != "zones" or v}
        ),
    }
    for fmt, text in texts.items():
        store.put_bytes(keys.export(fmt), text.encode("utf-8"), CONTENT_TYPES[fmt])
    return {fmt: keys.export(fmt) for fmt in texts}
