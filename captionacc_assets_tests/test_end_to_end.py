"""Every asset materialized for a generated ~20 s video with known Chinese and English captions."""

import json

import pytest
import srt

from captionacc_assets.core.dbs.captions_db import read_captions_db, validate_partition
from captionacc_assets.core.chunks import plan_chunks
from captionacc_assets.synthetic.generate import demo_spec
from captionacc_assets_tests.processed import processed_video


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    """Process the demo video once through the real assets; tests below read the results."""
    spec = demo_spec(0)
    with processed_video(tmp_path_factory.mktemp("e2e") / "home", spec) as (platform, video_id, approved):
        yield platform, spec, video_id, approved


def _exported(platform, video_id, fmt):
    return platform.storage.get_bytes(platform.keys(video_id).export(fmt)).decode("utf-8")


def test_captions_match_the_truth_in_text_and_within_one_frame(processed):
    platform, spec, video_id, _ = processed
    got = list(srt.parse(_exported(platform, video_id, "srt")))
    assert [c.content for c in got] == [cue.text for cue in spec.cues]
    for caption, cue in zip(got, spec.cues):
        assert abs(caption.start.total_seconds() - cue.start_s) <= 0.1 + 1e-9, cue
        assert abs(caption.end.total_seconds() - cue.end_s) <= 0.1 + 1e-9, cue
    languages = {"zh" if any("\u4e00" <= ch <= "\u9fff" for ch in cue.text) else "en" for cue in spec.cues}
    assert languages == {"zh", "en"}


def test_every_asset_has_a_materialization_for_the_partition(processed):
    platform, _, video_id, _ = processed
    import dagster as dg

    for name in (
        "video",
        "full_frames",
        "raw_ocr_db",
        "layout_db",
        "layout_approval",
        "cropped_frames",
        "caption_frame_extents",
        "captions_db",
        "caption_exports",
    ):
        event = platform.instance.get_latest_materialization_event(dg.AssetKey(name))
        assert event is not None, name
        assert event.dagster_event.partition == video_id


def test_artifacts_are_published_under_the_spec_keys(processed, tmp_path):
    platform, _, video_id, _ = processed
    keys = platform.keys(video_id)
    storage = platform.storage
    assert storage.exists(keys.raw_ocr_db) and storage.exists(keys.layout_db)
    assert storage.exists(keys.full_frame(0)) and storage.exists(keys.full_frame(100))
    manifest = json.loads(storage.get_bytes(keys.cropped_frames_prefix(1) + "manifest.json"))
    planned = plan_chunks(manifest["frame_count"])
    assert [c["name"] for c in manifest["chunks"]] == [c.name for c in planned]
    for chunk in manifest["chunks"]:
        assert storage.exists(keys.cropped_frames_prefix(1) + chunk["name"])
    extents = [k for k in storage.list_keys(f"{keys.tenant}/server/videos/{video_id}/caption_frame_extents/")]
    assert len(extents) == 1 and extents[0].split("/")[-1].startswith("v1_model-")
    rows = read_captions_db(storage.get_file(keys.captions_db, tmp_path / "captions.db.gz"))
    validate_partition(rows, manifest["frame_count"])


def test_catalog_reaches_annotate_and_activates_the_version(processed):
    platform, spec, video_id, _ = processed
    row = platform.catalog.get_video(video_id)
    assert row["layout_status"] == "done"
    assert row["boundaries_status"] == "annotate"
    assert row["text_status"] == "annotate"
    assert row["current_cropped_frames_version"] == 1
    assert row["total_frames"] == round(spec.duration_s * 10)
    assert platform.catalog.get_cropped_frames_version(video_id, 1)["status"] == "active"


def test_vtt_and_json_agree_with_srt(processed):
    platform, spec, video_id, _ = processed
    vtt = _exported(platform, video_id, "vtt")
    assert vtt.startswith("WEBVTT")
    payload = json.loads(_exported(platform, video_id, "json"))
    captions = payload["captions"] if isinstance(payload, dict) else payload
    assert [c["text"] for c in captions] == [cue.text for cue in spec.cues]
    assert all(c["end_seconds"] == pytest.approx((c["end_frame_index"] + 1) / 10) for c in captions)
