"""Each sensor's tick says what it did, with counts, in the message the Automation page shows."""

import dagster as dg
import pytest

from captionacc_assets.core.layout import CaptionZone
from captionacc_assets.core.region import Region
from captionacc_assets.defs.sensors.approvals import layout_approvals
from captionacc_assets.defs.sensors.auto_approvals import auto_approvals
from captionacc_assets.defs.sensors.deletions import deleted_videos
from captionacc_assets.defs.sensors.run_queue import run_queue
from captionacc_assets.defs.sensors.uploads import new_uploads
from captionacc_assets.resources.catalog import CatalogResource
from captionacc_assets_tests.automation.test_sensors import QUEUED_COORDINATOR, layout_event, queued_run


@pytest.fixture
def catalog(tmp_path):
    catalog = CatalogResource(url=f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    catalog.ensure_schema()
    return catalog


@pytest.fixture
def instance():
    with dg.instance_for_test(overrides={**QUEUED_COORDINATOR, "concurrency": {"pools": {"default_limit": 2}}}) as i:
        yield i


def upload(catalog, video_id, file_name="episode.mp4"):
    catalog.register_upload(
        video_id=video_id,
        tenant_id="tenant-a",
        storage_key=f"tenant-a/client/videos/{video_id}/video.mp4",
        display_path=file_name,
        size_bytes=1,
    )


def tick(sensor, catalog, instance, cursor=None):
    return sensor(dg.build_sensor_context(instance=instance, resources={"catalog": catalog}, cursor=cursor))


def test_new_uploads_names_the_file_in_its_runs_and_says_why_it_started_none(catalog, instance):
    upload(catalog, "fresh", "Episode 01.mp4")
    upload(catalog, "started")
    catalog.set_stage_status("started", "layout", "processing")
    result = tick(new_uploads, catalog, instance)
    assert [(r.partition_key, r.tags["file_name"]) for r in result.run_requests] == [("fresh", "Episode 01.mp4")]
    again = tick(new_uploads, catalog, instance, result.cursor)
    assert again.skip_reason.skip_message == "no new uploads"
    upload(catalog, "done-already")
    catalog.set_stage_status("done-already", "layout", "annotate")
    later = tick(new_uploads, catalog, instance, again.cursor)
    assert later.skip_reason.skip_message.startswith("no new uploads to start: 1 new video(s) already started")


def test_deleted_videos_removes_partitions_and_counts_what_it_did(catalog, instance):
    upload(catalog, "gone")
    upload(catalog, "kept")
    instance.add_dynamic_partitions("videos", ["gone", "kept"])
    run = queued_run(instance, "gone")
    catalog.soft_delete("gone")
    result = tick(deleted_videos, catalog, instance)
    assert result.skip_reason.skip_message == (
        "1 deleted video(s) removed from the partitions, 1 of their run(s) being cancelled, "
        "0 kept until their backfill ends"
    )
    (request,) = result.dynamic_partitions_requests
    assert isinstance(request, dg.DeleteDynamicPartitionsRequest) and list(request.partition_keys) == ["gone"]
    assert instance.get_run_by_id(run.run_id).tags["captionacc/cancel"] == "requested"  # run_queue cancels it
    assert tick(deleted_videos, catalog, instance, result.cursor).skip_reason.skip_message == "no newly deleted videos"


def test_layout_approvals_says_when_it_ignored_deleted_videos(catalog, instance):
    upload(catalog, "gone")
    catalog.request_cropped_frames_version("gone", Region(0.1, 0.8, 0.9, 0.95), "ann")
    catalog.soft_delete("gone")
    result = tick(layout_approvals, catalog, instance)
    assert result.run_requests == [] and result.skip_reason.skip_message == "1 approval(s) of deleted videos ignored"


def test_run_queue_shows_the_gpu_pool_limit_and_use(catalog, instance):
    upload(catalog, "vid")
    queued_run(instance, "vid")
    message = run_queue(dg.build_sensor_context(instance=instance, resources={"catalog": catalog})).skip_message
    assert message == (
        "1 queued run(s): 1 retagged, 0 held to cancel, 0 cancelled, 0 started one(s) told to stop, "
        "0 held back while a person edits; "
        "pool modal_compute: 0 of 2 slot(s) in use, 0 step(s) waiting for one"
    )


def test_auto_approvals_counts_its_approvals(catalog, instance, monkeypatch):
    monkeypatch.setenv("CAPTIONACC_AUTO_APPROVE", "tenant-a=0.5")
    upload(catalog, "vid")
    instance.add_dynamic_partitions("videos", ["vid"])
    layout_event(instance, "vid", CaptionZone(Region(0.1, 0.8, 0.9, 0.95), confidence=0.9))
    result = tick(auto_approvals, catalog, instance)
    assert result.skip_reason.skip_message == "auto-approved 1 layout(s): ['vid']; layout_approvals runs them"
    assert tick(auto_approvals, catalog, instance, result.cursor).skip_reason.skip_message == "nothing to auto-approve"


def test_run_queue_says_it_held_a_deleted_videos_run_then_cancelled_it(catalog, instance):
    upload(catalog, "gone")
    run = queued_run(instance, "gone")
    catalog.soft_delete("gone")
    first = run_queue(dg.build_sensor_context(instance=instance, resources={"catalog": catalog})).skip_message
    assert first.startswith("1 queued run(s): 0 retagged, 1 held to cancel, 0 cancelled, 0 started one(s) told to stop")
    instance.add_run_tags(run.run_id, {"captionacc/cancel_requested_at": "2026-01-01T00:00:00+00:00"})  # long held
    second = run_queue(dg.build_sensor_context(instance=instance, resources={"catalog": catalog})).skip_message
    assert second.startswith(
        "1 queued run(s): 0 retagged, 0 held to cancel, 1 cancelled, 0 started one(s) told to stop"
    )
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.CANCELED
