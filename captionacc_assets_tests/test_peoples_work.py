"""A person's work through the real assets, in-process: box labels survive a re-run of initial
processing, and a caption OCR request that cannot be answered says why in the catalog (the
request row and `text_error_details`) and changes nothing stored."""

import gzip

import dagster as dg
import pytest

from captionacc_assets.core.dbs.captions_db import SCHEMA_VERSION
from captionacc_assets.core.dbs.sqlite_artifact import edit_gzip_db, open_gzip_db
from captionacc_assets.definitions import ALL_ASSETS
from captionacc_assets.defs.jobs import REQUESTED_OCR_SELECTION
from captionacc_assets.defs.run_tags import caption_ocr_run_tags
from captionacc_assets.synthetic.video_spec import Cue, VideoSpec
from captionacc_assets_tests.editor import EditorStandIn, stored_captions_table
from captionacc_assets_tests.processed import processed_video

SPEC = VideoSpec(
    width=480,
    height=270,
    fps=10.0,
    duration_s=7.0,
    background="textured",
    seed=11,
    cues=(Cue(1.0, 2.0, "Good night"), Cue(2.0, 6.0, "Hello world")),
)


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    with processed_video(tmp_path_factory.mktemp("peoples-work") / "home", SPEC, video_id="clip") as (
        platform,
        video_id,
        _,
    ):
        yield platform, video_id


def answer_in_process(platform, video_id, request_ids):
    """A `requested_caption_ocr` run as the sensor tags it, run in this process."""
    return dg.materialize(
        ALL_ASSETS,
        selection=REQUESTED_OCR_SELECTION,
        partition_key=video_id,
        instance=platform.instance,
        resources=platform.resources,
        raise_on_error=False,
        tags={**caption_ocr_run_tags("tenant-a", "free", request_ids, "editor-ann")},
    )


def test_a_rerun_of_initial_processing_keeps_a_persons_box_labels(processed, tmp_path):
    platform, video_id = processed
    keys = platform.keys(video_id)
    assert platform.catalog.acquire_lock(video_id, "layout", "editor-ann", lock_type="client")
    edited = edit_gzip_db(
        platform.storage.get_file(keys.layout_db, tmp_path / "layout.db.gz"),
        tmp_path / "edited.db.gz",
        lambda conn: conn.execute(
            "UPDATE boxes SET label = CASE WHEN predicted_label = 'in' THEN 'out' ELSE 'in' END,"
            " label_updated_at = datetime('now')"
        ),
    )
    platform.storage.put_file(keys.layout_db, edited)
    platform.catalog.release_lock(video_id, "layout", "editor-ann")
    with open_gzip_db(edited) as conn:
        mine = {tuple(r)[:2]: tuple(r)[2:] for r in conn.execute("SELECT frame_index, text, label FROM boxes")}
    assert mine

    rerun = platform.initial_processing(video_id, trigger="ui")
    assert rerun.success, rerun.error
    with open_gzip_db(platform.storage.get_file(keys.layout_db, tmp_path / "again.db.gz")) as conn:
        again = {tuple(r)[:2]: tuple(r)[2:] for r in conn.execute("SELECT frame_index, text, label FROM boxes")}
    assert again == mine  # the same boxes, each with the person's label
    assert rerun.metadata["layout_db"]["person_labels_kept"] == len(mine)


def test_a_request_for_a_caption_that_does_not_exist_is_an_error_and_changes_nothing(processed):
    platform, video_id = processed
    keys = platform.keys(video_id)
    before = platform.storage.get_bytes(keys.captions_db)
    request = platform.catalog.request_caption_ocr(video_id, caption_ids=[999], requested_by="editor-ann")
    result = answer_in_process(platform, video_id, [request["id"]])
    assert not result.success
    row = platform.catalog.get_caption_ocr_request(request["id"])
    assert row["status"] == "error" and "caption id 999 does not exist" in row["error"]
    video = platform.catalog.get_video(video_id)
    assert video["text_status"] == "error" and "caption id 999 does not exist" in video["text_error_details"]["message"]
    assert platform.storage.get_bytes(keys.captions_db) == before


def test_a_good_request_beside_a_bad_one_is_answered_and_the_bad_one_reported(processed):
    platform, video_id = processed
    rows, _ = stored_captions_table(platform.storage, platform.keys(video_id).captions_db)
    caption = next(r for r in rows if r["caption_frame_extents_state"] != "gap")
    n = platform.catalog.get_video(video_id)["total_frames"]
    bad = platform.catalog.request_caption_ocr(video_id, frame_spans=[(n - 3, n + 10)])
    good = platform.catalog.request_caption_ocr(video_id, caption_ids=[caption["id"]])
    result = answer_in_process(platform, video_id, [bad["id"], good["id"]])
    assert result.success
    assert platform.catalog.get_caption_ocr_request(good["id"])["status"] == "completed"
    failed = platform.catalog.get_caption_ocr_request(bad["id"])
    assert failed["status"] == "error" and f"outside the video's frames [0, {n})" in failed["error"]
    video = platform.catalog.get_video(video_id)
    assert video["text_status"] == "error" and f"[{n - 3}, {n + 10}]" in video["text_error_details"]["message"]
    metadata = result.asset_materializations_for_node("captions_db")[0].metadata
    assert list(metadata["answered"].value) == [str(caption["id"])]
    assert {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()} == {
        "captions_db",
        "caption_exports",
    }  # the exports follow the new text


@pytest.mark.parametrize("damage", ["corrupt", "newer_schema"])
def test_a_captions_db_that_cannot_be_rewritten_safely_is_reported_and_kept(processed, damage):
    platform, video_id = processed
    keys = platform.keys(video_id)
    pristine = platform.storage.get_bytes(keys.captions_db)
    path = platform.storage.local_path(keys.captions_db)
    if damage == "corrupt":
        platform.storage.put_bytes(keys.captions_db, gzip.compress(b"SQLite format 3\x00" + b"\x07" * 3000))
    else:
        edit_gzip_db(
            path, path, lambda c: c.execute("UPDATE database_metadata SET schema_version = ?", (SCHEMA_VERSION + 1,))
        )
    damaged = platform.storage.get_bytes(keys.captions_db)
    try:
        request = platform.catalog.request_caption_ocr(video_id, caption_ids=[1])
        assert not answer_in_process(platform, video_id, [request["id"]]).success
        expected = "is corrupt" if damage == "corrupt" else f"schema_version {SCHEMA_VERSION + 1}, newer"
        assert expected in platform.catalog.get_caption_ocr_request(request["id"])["error"]
        assert expected in platform.catalog.get_video(video_id)["text_error_details"]["message"]
        assert platform.storage.get_bytes(keys.captions_db) == damaged  # left exactly as it was
    finally:
        platform.storage.put_bytes(keys.captions_db, pristine)


def test_a_request_on_a_video_with_no_captions_yet_or_deleted_is_an_error(processed, tmp_path):
    platform, _ = processed
    video = tmp_path / "v.mp4"
    video.write_bytes(b"never decoded: no stage runs for it")
    fresh = platform.upload(video, "tenant-a", video_id="fresh")
    gone = platform.upload(video, "tenant-a", video_id="gone")
    waiting = platform.catalog.request_caption_ocr(fresh, caption_ids=[1])
    deleted = platform.catalog.request_caption_ocr(gone, caption_ids=[1])
    platform.catalog.soft_delete(gone)  # after the sensor launched its run
    for video_id, request, expected in ((fresh, waiting, "has no captions yet"), (gone, deleted, "deleted")):
        assert not answer_in_process(platform, video_id, [request["id"]]).success
        row = platform.catalog.get_caption_ocr_request(request["id"])
        assert row["status"] == "error" and expected in row["error"], row
        assert expected in platform.catalog.get_video(video_id)["text_error_details"]["message"]


def test_the_editor_stand_in_and_a_request_answered_in_process(processed):
    platform, video_id = processed
    keys = platform.keys(video_id)
    rows, _ = stored_captions_table(platform.storage, keys.captions_db)
    good_night = next(r for r in rows if r["caption_ocr"] == "Good night")
    request = EditorStandIn(platform.catalog, platform.storage).confirm_new_end(
        video_id, good_night["id"], 57, text="Good night"
    )
    assert answer_in_process(platform, video_id, [request["id"]]).success
    after = {r["id"]: r for r in stored_captions_table(platform.storage, keys.captions_db)[0]}
    assert after[good_night["id"]]["caption_ocr"] == "Hello world"  # most of [10, 57] shows it
    assert after[good_night["id"]]["text"] == "Good night"  # the person's text is theirs
    assert platform.catalog.get_video(video_id)["text_status"] == "annotate"
    srt = platform.storage.get_bytes(keys.export("srt")).decode()
    assert "Good night" in srt and "00:00:05,800" in srt  # the export ends the confirmed caption at (57+1)/10
