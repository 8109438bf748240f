"""Exports name the version they were made from, and refuse a captions.db of another version."""

import json

import pytest
import webvtt

from captionacc_assets.core.dbs.captions_db import CaptionRow, CaptionsProvenance, write_captions_db
from captionacc_assets.core.errors import InputError
from captionacc_assets.core.keys import VideoKeys
from captionacc_assets.compute.caption_exports import export_captions
from captionacc_assets.resources.storage import LocalStorageResource

KEYS = VideoKeys("acme", "vid-1")
EXTENTS_KEY = "acme/server/videos/vid-1/caption_frame_extents/v2_model-0123abcd.db.gz"


@pytest.fixture
def storage(tmp_path):
    store = LocalStorageResource(root=str(tmp_path / "bucket"))
    rows = [CaptionRow(0, 4, "gap"), CaptionRow(5, 14, "predicted", caption_ocr="你好"), CaptionRow(15, 19, "gap")]
    write_captions_db(tmp_path / "c.db.gz", rows, frame_count=20, provenance=CaptionsProvenance(2, EXTENTS_KEY))
    store.put_file(KEYS.captions_db, tmp_path / "c.db.gz")
    return store


def test_json_and_vtt_carry_the_version_and_extents_key(storage, tmp_path):
    export_captions(storage, KEYS, work_dir=tmp_path / "w", expected_version=2)
    made_from = json.loads(storage.get_bytes(KEYS.export("json")))["made_from"]
    assert made_from == {"cropped_frames_version": 2, "caption_frame_extents_key": EXTENTS_KEY}
    vtt = storage.get_bytes(KEYS.export("vtt")).decode()
    assert f"NOTE made from cropped_frames_version=2, caption_frame_extents_key={EXTENTS_KEY}" in vtt
    (cue,) = webvtt.from_string(vtt)  # players (and parsers) skip the NOTE
    assert (cue.start, cue.end, cue.text) == ("00:00:00.500", "00:00:01.500", "你好")


def test_a_captions_db_of_another_version_is_refused_and_nothing_is_written(storage, tmp_path):
    with pytest.raises(InputError, match="made from cropped frames version 2, but the current version is 3"):
        export_captions(storage, KEYS, work_dir=tmp_path / "w", expected_version=3)
    assert storage.list_keys(KEYS.client_prefix + "exports/") == []
