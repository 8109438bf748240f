"""The caption OCR request sensor's ticks over a real catalog (SQLite and Postgres)."""

import json

import dagster as dg
import pytest

from captionacc_assets.defs.run_tags import OCR_REQUESTS_TAG, requested_ocr_ids
from captionacc_assets.defs.sensors.caption_ocr_requests import caption_ocr_request_tick, caption_ocr_requests
from captionacc_assets_tests.automation.test_sensors import catalog, postgres  # noqa: F401 - the same two backends


@pytest.fixture(autouse=True)
def videos(catalog):
    """Three videos of two tenants (one premium) in the catalog of each backend."""
    for video_id, tenant in (("v1", "tenant-p"), ("v2", "tenant-f"), ("gone", "tenant-f")):
        catalog.register_upload(
            video_id=video_id,
            tenant_id=tenant,
            storage_key=f"{tenant}/client/videos/{video_id}/video.mp4",
            display_path=None,
            size_bytes=1,
        )
    catalog.upsert_tenant("tenant-p", tier="premium")


def test_one_tagged_run_per_video_with_the_pending_request_ids(catalog):
    a = catalog.request_caption_ocr("v1", caption_ids=[3], requested_by="ann")
    b = catalog.request_caption_ocr("v2", frame_spans=[(10, 19)], requested_by="bob")
    c = catalog.request_caption_ocr("v1", caption_ids=[4, 5], requested_by="ann")
    result = caption_ocr_request_tick(catalog, None)
    by_video = {r.partition_key: r for r in result.run_requests}
    assert set(by_video) == {"v1", "v2"}
    first = by_video["v1"]
    assert first.run_key == f"caption_ocr:v1:{c['id']}" and requested_ocr_ids(first.tags) == [a["id"], c["id"]]
    assert {
        k: first.tags[k] for k in ("tenant", "tier", "trigger", "priority", "dagster/priority", "requested_by")
    } == {
        "tenant": "tenant-p",
        "tier": "premium",
        "trigger": "caption_ocr",
        "priority": "70",
        "dagster/priority": "70",
        "requested_by": "ann",
    }
    assert by_video["v2"].tags[OCR_REQUESTS_TAG] == str(b["id"]) and by_video["v2"].tags["priority"] == "50"
    # Nothing was claimed: a repeated tick asks again with the same keys (Dagster launches each key once).
    assert [r.run_key for r in caption_ocr_request_tick(catalog, result.cursor).run_requests] == [
        r.run_key for r in result.run_requests
    ]


def test_a_request_made_while_its_videos_run_is_queued_gets_a_later_run_and_is_answered_once(catalog):
    first = catalog.request_caption_ocr("v1", caption_ids=[3])
    (run1,) = caption_ocr_request_tick(catalog, None).run_requests
    second = catalog.request_caption_ocr("v1", caption_ids=[4])
    (run2,) = caption_ocr_request_tick(catalog, None).run_requests
    assert run2.run_key != run1.run_key and requested_ocr_ids(run2.tags) == [first["id"], second["id"]]
    claimed1 = catalog.claim_caption_ocr_requests("v1", requested_ocr_ids(run1.tags), "run-1")
    claimed2 = catalog.claim_caption_ocr_requests("v1", requested_ocr_ids(run2.tags), "run-2")
    assert [r["id"] for r in claimed1] == [first["id"]] and [r["id"] for r in claimed2] == [second["id"]]
    assert caption_ocr_request_tick(catalog, None).run_requests == []


def test_requests_wait_while_a_person_holds_the_captions_lock(catalog):
    catalog.request_caption_ocr("v1", caption_ids=[3])
    assert catalog.acquire_lock("v1", "captions", "editor-ann", lock_type="client")
    result = caption_ocr_request_tick(catalog, None)
    assert result.run_requests == [] and "captions locked by 'editor-ann'" in result.skip_reason.skip_message
    assert catalog.acquire_lock("v1", "captions", "captionacc-server") is False
    catalog.release_lock("v1", "captions", "editor-ann")
    assert [r.partition_key for r in caption_ocr_request_tick(catalog, None).run_requests] == ["v1"]


def test_requests_of_a_deleted_video_are_closed_with_the_reason(catalog):
    request = catalog.request_caption_ocr("gone", caption_ids=[1])
    catalog.soft_delete("gone")
    result = caption_ocr_request_tick(catalog, None)
    assert result.run_requests == [] and "deleted" in result.skip_reason.skip_message
    row = catalog.get_caption_ocr_request(request["id"])
    assert (row["status"], row["error"]) == (
        "error",
        "video 'gone' was deleted: its caption OCR request is not answered",
    )
    assert "was deleted" in catalog.get_video("gone")["text_error_details"]["message"]
    assert caption_ocr_request_tick(catalog, None).skip_reason.skip_message == "no pending caption OCR requests"


def test_the_cursor_pages_through_pending_requests_and_starts_over(catalog):
    made = [catalog.request_caption_ocr("v2", caption_ids=[i])["id"] for i in range(1, 6)]
    seen, cursor = [], None
    for _ in range(3):
        result = caption_ocr_request_tick(catalog, cursor, page_size=2)
        seen += [i for r in result.run_requests for i in requested_ocr_ids(r.tags)]
        cursor = result.cursor
    assert seen == made and cursor is None  # the last, short page starts the next pass from the beginning
    assert json.loads(caption_ocr_request_tick(catalog, None, page_size=2).cursor) == {"after_id": made[1]}


def test_the_sensor_runs_in_a_real_instance(catalog):
    catalog.request_caption_ocr("v1", caption_ids=[3])
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"catalog": catalog})
        result = caption_ocr_requests(context)
    assert [r.partition_key for r in result.run_requests] == ["v1"]
