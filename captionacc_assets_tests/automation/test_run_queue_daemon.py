"""The automation in a running Dagster: the real sensors and queued run coordinator in `dagster-daemon`,
over a real catalog, launching real runs of the light code location (instant steps, gates to hold them).
"""

import subprocess
import time
from datetime import datetime, timedelta, timezone

import dagster as dg
import pytest

from captionacc_assets.core.region import Region
from captionacc_assets.defs.sensors.run_queue import run_queue_tick
from captionacc_assets_tests.automation.daemon import DAEMON, REPO, wait_for

S = dg.DagsterRunStatus
DONE = [S.SUCCESS]
IN_FLIGHT = [S.STARTING, S.STARTED]

pytestmark = pytest.mark.timeout(600)


def test_new_uploads_become_partitions_and_one_tagged_run_each(daemon):
    daemon.catalog.upsert_tenant("tenant-free", tier="free")
    for video_id in ("up-1", "up-2", "up-deleted"):
        daemon.upload(video_id)
    daemon.catalog.soft_delete("up-deleted")
    for video_id in ("up-1", "up-2"):
        run = daemon.wait_run(video_id, "initial_processing", DONE)
        assert {k: run.tags[k] for k in ("tenant", "tier", "trigger", "priority", "dagster/priority")} == {
            "tenant": "tenant-free",
            "tier": "free",
            "trigger": "upload",
            "priority": "50",
            "dagster/priority": "50",
        }
    partitions = set(daemon.instance.get_dynamic_partitions("videos"))
    assert {"up-1", "up-2"} <= partitions and "up-deleted" not in partitions
    assert daemon.runs("up-deleted") == []


def test_repeated_ticks_and_a_reset_cursor_launch_nothing_twice(daemon):
    daemon.upload("again-1")
    daemon.wait_run("again-1", "initial_processing", DONE)
    reset = subprocess.run(
        [
            str(DAEMON).replace("dagster-daemon", "dagster"),
            "sensor",
            "cursor",
            "new_uploads",
            "--delete",
            "-m",
            "captionacc_assets_tests.automation.light_defs",
        ],
        cwd=REPO,
        env=daemon.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert reset.returncode == 0, reset.stderr
    daemon.upload("again-2")  # seen by a tick after the reset, which re-reads every video from the start
    daemon.wait_run("again-2", "initial_processing", DONE)
    time.sleep(3)  # a few more ticks
    for video_id in ("up-1", "up-2", "again-1", "again-2"):
        assert len(daemon.runs(video_id)) == 1, video_id
    assert daemon.runs("up-deleted") == []


def test_deleting_a_video_cancels_its_running_and_queued_runs(daemon):
    daemon.upload("del-1", gated=True)
    running = daemon.wait_run("del-1", "initial_processing", [S.STARTED])
    daemon.catalog.request_cropped_frames_version("del-1", Region(0.1, 0.8, 0.9, 0.95), "editor-bob")
    queued = daemon.wait_run("del-1", "approved_processing", [S.QUEUED])
    daemon.catalog.soft_delete("del-1")
    for run in (running, queued):
        wait_for(
            lambda: daemon.instance.get_run_by_id(run.run_id).status == S.CANCELED,
            60,
            f"run {run.run_id} cancelled\n{daemon.log_tail()}",
        )
    assert not [r for r in daemon.recorded() if r["video"] == "del-1"]


def test_two_runs_of_one_video_never_overlap(daemon):
    daemon.upload("one-1", gated=True)
    daemon.wait_run("one-1", "initial_processing", [S.STARTED])
    daemon.catalog.request_cropped_frames_version("one-1", Region(0.1, 0.8, 0.9, 0.95), "editor-ann")
    approval = daemon.wait_run("one-1", "approved_processing", [S.QUEUED])
    time.sleep(3)  # several dequeue passes happen while the initial run holds the video
    assert daemon.instance.get_run_by_id(approval.run_id).status == S.QUEUED
    daemon.open_gate("one-1")
    daemon.wait_run("one-1", "approved_processing", DONE)
    initial, approved = sorted((r for r in daemon.recorded() if r["video"] == "one-1"), key=lambda r: r["start"])
    assert (initial["stage"], approved["stage"]) == ("initial", "approval")
    assert initial["end"] <= approved["start"]
    assert approved["tags"]["captionacc/cropped_frames_version"] == "1"
    assert approved["tags"]["trigger"] == "approval"


def fill_every_run_slot(daemon, prefix: str) -> list[str]:
    """Gated runs in every one of the queue's slots, so what comes next must wait in the queue."""
    slots = daemon.instance.get_concurrency_config().run_queue_config.max_concurrent_runs
    blockers = [daemon.upload(f"{prefix}-{i}", gated=True) for i in range(slots)]
    for video_id in blockers:
        daemon.wait_run(video_id, "initial_processing", [S.STARTED])
    return blockers


def first_started(daemon, video_ids: list[str]) -> list[str]:
    starts = {r["video"]: r["start"] for r in daemon.recorded() if r["video"] in video_ids}
    return sorted(starts, key=starts.get)


def test_premium_dequeues_before_free(daemon):
    daemon.catalog.upsert_tenant("tenant-premium", tier="premium")
    blockers = fill_every_run_slot(daemon, "prio-block")
    daemon.upload("prio-free", "tenant-free")
    daemon.wait_run("prio-free", "initial_processing", [S.QUEUED])
    daemon.upload("prio-premium", "tenant-premium")
    queued = daemon.wait_run("prio-premium", "initial_processing", [S.QUEUED])
    assert queued.tags["dagster/priority"] == "70"
    daemon.open_gate(blockers[0])  # one slot frees up
    for video_id in ("prio-free", "prio-premium"):
        daemon.wait_run(video_id, "initial_processing", DONE)
    for video_id in blockers[1:]:
        daemon.open_gate(video_id)
    assert first_started(daemon, ["prio-free", "prio-premium"]) == ["prio-premium", "prio-free"]


def test_a_free_run_that_waited_20_hours_ties_with_a_fresh_premium_one(daemon):
    blockers = fill_every_run_slot(daemon, "age-block")
    daemon.upload("age-free", "tenant-free")
    old = daemon.wait_run("age-free", "initial_processing", [S.QUEUED])
    # The run-queue sensor's own tick, seen from 20 hours later.
    run_queue_tick(daemon.catalog, daemon.instance, now=datetime.now(timezone.utc) + timedelta(hours=20))
    assert daemon.instance.get_run_by_id(old.run_id).tags["dagster/priority"] == "70"
    daemon.upload("age-premium", "tenant-premium")
    fresh = daemon.wait_run("age-premium", "initial_processing", [S.QUEUED])
    assert fresh.tags["dagster/priority"] == daemon.instance.get_run_by_id(old.run_id).tags["dagster/priority"]
    daemon.open_gate(blockers[0])
    for video_id in ("age-free", "age-premium"):
        daemon.wait_run(video_id, "initial_processing", DONE)
    for video_id in blockers[1:]:
        daemon.open_gate(video_id)
    # A tie dequeues in arrival order: the free run that waited goes first.
    assert first_started(daemon, ["age-free", "age-premium"]) == ["age-free", "age-premium"]
