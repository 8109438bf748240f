"""Cancelling a queued run never races the dequeuer (dagster#3323): held first, cancelled a tick later.

The dequeuer here is Dagster's own `QueuedRunCoordinatorDaemon`, driven one step at a time so a test
can put the run_queue tick exactly where the race was: between the pass that chose a run and its
launch, and while a launched run is STARTING. Runs launch through the real `DefaultRunLauncher` into
a code server of the light code location (`light_defs`), and the instance has dagster.yaml's queue.
"""

from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.test_utils import create_run_for_test, create_test_daemon_workspace_context
from dagster._core.workspace.load_target import ModuleTarget
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon

from captionacc_assets.core.region import Region
from captionacc_assets.defs.sensors.approvals import supersede_older_runs
from captionacc_assets.defs.sensors.run_queue import run_queue_tick
from captionacc_assets.defs.sensors.runs import HOLD_BEFORE_CANCEL_S
from captionacc_assets.resources.catalog import CatalogResource
from captionacc_assets_tests.automation.daemon import LIGHT_MODULE, REPO, wait_for
from captionacc_assets_tests.automation.test_sensors import queued_run

S = dg.DagsterRunStatus
PROJECT_QUEUE = {k: v for k, v in yaml.safe_load((REPO / "dagster.yaml").read_text()).items() if k != "telemetry"}

pytestmark = pytest.mark.timeout(300)


def later() -> datetime:
    return datetime.now(timezone.utc) + timedelta(seconds=HOLD_BEFORE_CANCEL_S)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """CAPTIONACC_HOME and LIGHT_WORK_DIR for this process and the code server it starts."""
    monkeypatch.setenv("CAPTIONACC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LIGHT_WORK_DIR", str(tmp_path / "work"))
    for path in (tmp_path / "home", tmp_path / "work" / "gates"):
        path.mkdir(parents=True)
    return tmp_path


@pytest.fixture
def catalog(home) -> CatalogResource:
    catalog = CatalogResource(url=f"sqlite:///{home / 'home' / 'catalog.sqlite'}")
    catalog.ensure_schema()
    return catalog


@pytest.fixture
def instance(home):
    with dg.instance_for_test(overrides=PROJECT_QUEUE) as instance:
        yield instance


def upload(catalog, video_id):
    catalog.register_upload(
        video_id=video_id,
        tenant_id="tenant-a",
        storage_key=f"tenant-a/client/videos/{video_id}/video.mp4",
        display_path=f"{video_id}.mp4",
        size_bytes=1,
    )


class Dequeuer:
    """Dagster's queued run daemon, one step at a time: choose the runs to launch, then launch them."""

    def __init__(self, instance, workspace):
        self.instance, self.workspace = instance, workspace
        self.daemon = QueuedRunCoordinatorDaemon(interval_seconds=1)
        self.config = instance.get_concurrency_config()

    def choose(self) -> list[dg.DagsterRun]:
        return self.daemon._get_runs_to_dequeue(self.instance, self.config, fixed_iteration_time=None)

    def launch(self, run: dg.DagsterRun) -> bool:
        request = self.workspace.create_request_context()
        return self.daemon._dequeue_run(self.instance, request, run, self.config, fixed_iteration_time=None)


def test_a_deleted_videos_run_is_held_one_tick_then_cancelled_and_a_live_one_untouched(catalog, instance):
    for video_id in ("gone", "live"):
        upload(catalog, video_id)
    doomed, live = queued_run(instance, "gone"), queued_run(instance, "live")
    catalog.soft_delete("gone")
    dequeuer = Dequeuer(instance, workspace=None)
    assert {r.run_id for r in dequeuer.choose()} == {doomed.run_id, live.run_id}

    assert run_queue_tick(catalog, instance)["held_to_cancel"] == 1
    held = instance.get_run_by_id(doomed.run_id)
    assert (held.status, held.tags["captionacc/cancel"]) == (S.QUEUED, "requested")
    assert [r.run_id for r in dequeuer.choose()] == [live.run_id]  # the next pass reads the hold
    assert run_queue_tick(catalog, instance)["cancelled"] == 0  # held for less than HOLD_BEFORE_CANCEL_S

    counts = run_queue_tick(catalog, instance, now=later())
    assert (counts["cancelled"], counts["held_to_cancel"]) == (1, 0)
    assert instance.get_run_by_id(doomed.run_id).status == S.CANCELED
    kept = instance.get_run_by_id(live.run_id)
    assert kept.status == S.QUEUED and "captionacc/cancel" not in kept.tags
    assert kept.tags["trigger"] == "ui"  # retagged as before
    assert run_queue_tick(catalog, instance, now=later())["cancelled"] == 0  # once


@pytest.fixture
def dequeuer(home, instance):
    target = ModuleTarget(module_name=LIGHT_MODULE, attribute=None, working_directory=str(REPO), location_name="light")
    with create_test_daemon_workspace_context(target, instance) as workspace:
        yield Dequeuer(instance, workspace)


def approval_run(dequeuer, catalog, video_id: str) -> dg.DagsterRun:
    """A queued approval run of version 1, held at its step's gate once it starts."""
    upload(catalog, video_id)
    catalog.request_cropped_frames_version(video_id, Region(0.1, 0.8, 0.9, 0.95), "ann")
    dequeuer.instance.add_dynamic_partitions("videos", [video_id])
    job = (
        dequeuer.workspace.create_request_context()
        .get_code_location("light")
        .get_repository("__repository__")
        .get_full_job("approved_processing")
    )
    run = create_run_for_test(
        dequeuer.instance,
        job_name="approved_processing",
        status=S.QUEUED,
        tags={"dagster/partition": video_id, "captionacc/cropped_frames_version": "1"},
        remote_job_origin=job.get_remote_origin(),
        job_code_origin=job.get_python_origin(),
    )
    return run


def finish(catalog, instance, run_id: str) -> dg.DagsterRun:
    """Tick the run_queue sensor until the run is finished."""

    def finished():
        run_queue_tick(catalog, instance, now=later())
        run = instance.get_run_by_id(run_id)
        return run if run.is_finished else None

    return wait_for(finished, 120, f"run {run_id} to finish", every_s=0.5)


def gate(home, video_id: str) -> None:
    (home / "work" / "gates" / video_id).touch()


def test_a_run_superseded_while_starting_is_stopped_once_started_and_ends_canceled(home, catalog, dequeuer):
    """The flaky failure: cancelling a run the dequeuer has just launched (STARTING) left it CANCELING
    before its worker started; the worker ignored it and the code server marked it FAILURE."""
    run = approval_run(dequeuer, catalog, "starting")
    gate(home, "starting")
    assert dequeuer.choose() == [run] and dequeuer.launch(run)
    assert instance_status(dequeuer, run) in (S.STARTING, S.STARTED)
    catalog.request_cropped_frames_version("starting", Region(0.2, 0.7, 0.8, 0.9), "bob")
    assert supersede_older_runs(dequeuer.instance, "starting", 2) == [run.run_id]  # the approvals sensor's step
    assert finish(catalog, dequeuer.instance, run.run_id).status == S.CANCELED


def test_a_run_the_dequeuer_chose_before_the_hold_is_stopped_once_started_and_ends_canceled(home, catalog, dequeuer):
    """The race a hold cannot stop: the pass read the run before the hold and launches it after."""
    run = approval_run(dequeuer, catalog, "stale")
    gate(home, "stale")
    chosen = dequeuer.choose()
    assert chosen == [run]
    catalog.request_cropped_frames_version("stale", Region(0.2, 0.7, 0.8, 0.9), "bob")
    supersede_older_runs(dequeuer.instance, "stale", 2)
    assert instance_status(dequeuer, run) == S.QUEUED  # held, not cancelled yet
    assert dequeuer.choose() == []
    assert dequeuer.launch(chosen[0])  # the pass that chose it before the hold launches it anyway
    assert finish(catalog, dequeuer.instance, run.run_id).status == S.CANCELED


def test_a_held_run_cancelled_while_queued_is_never_launched(home, catalog, dequeuer):
    run = approval_run(dequeuer, catalog, "held")
    chosen = dequeuer.choose()
    catalog.soft_delete("held")
    run_queue_tick(catalog, dequeuer.instance)  # holds it
    run_queue_tick(catalog, dequeuer.instance, now=later())  # cancels it, still QUEUED and held
    assert instance_status(dequeuer, run) == S.CANCELED
    assert not dequeuer.launch(chosen[0])  # a pass that chose it before the hold finds it CANCELED
    assert instance_status(dequeuer, run) == S.CANCELED
    assert not (home / "work" / "runs.jsonl").exists()  # its step never ran


def instance_status(dequeuer, run) -> dg.DagsterRunStatus:
    return dequeuer.instance.get_run_by_id(run.run_id).status
