"""Write SRT, WebVTT and JSON exports of a published `captions.db`."""

from pathlib import Path

from captionacc_assets.core.dbs.captions_db import read_captions_db
from captionacc_assets.core.export import captions_for_export, to_json, to_srt, to_vtt
from captionacc_assets.core.keys import VideoKeys
from captionacc_assets.jobs.object_store import ObjectStore

EXPORT_FORMATS = {
    "srt": (to_srt, "application/x-subrip"),
    "vtt": (to_vtt, "text/vtt"),
    "json": (None, "application/json"),
}


def export_captions(store: ObjectStore, keys: VideoKeys, *, work_dir: Path) -> dict[str, str]:
    """Publish every export format; returns {format: key}."""
    work_dir.mkdir(parents=True, exist_ok=True)
    rows = read_captions_db(store.get_file(keys.captions_db, work_dir / "captions.db.gz"))
    captions = captions_for_export(rows)
    written = {}
    for fmt, (render, content_type) in EXPORT_FORMATS.items():
        text = render(captions) if render else to_json(captions, video_id=keys.video)
        store.put_bytes(keys.export(fmt), text.encode("utf-8"), content_type)
        written[fmt] = keys.export(fmt)
    return written
