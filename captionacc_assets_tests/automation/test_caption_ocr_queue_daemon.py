"""Caption OCR requests and editor locks in a running Dagster: the real sensors and queued run
coordinator in `dagster-daemon`, launching runs of the light code location (whose approval step
takes a `modal_compute` slot and the captions lock like `captions_db` does)."""

import time

import dagster as dg
import pytest

from captionacc_assets.core.region import Region
from captionacc_assets.defs.run_tags import requested_ocr_ids
from captionacc_assets_tests.automation.daemon import LightDaemon, wait_for

S = dg.DagsterRunStatus
DONE = [S.SUCCESS]
REGION = Region(0.1, 0.8, 0.9, 0.95)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    # A run that finds a person's lock retries every second or two, without its compute slot.
    daemon = LightDaemon(
        tmp_path_factory.mktemp("ocr-queue"), env={"CAPTIONACC_LOCK_RETRY_S": "1", "CAPTIONACC_LOCK_RETRY_MAX_S": "2"}
    ).start()
    yield daemon
    daemon.stop()


def ocr_runs(daemon, video_id):
    return sorted(daemon.runs(video_id, "requested_caption_ocr"), key=lambda r: requested_ocr_ids(r.tags))


def test_a_request_made_while_its_video_runs_waits_its_turn_and_is_answered_once(daemon):
    daemon.upload("req-1", gated=True)
    daemon.wait_run("req-1", "initial_processing", [S.STARTED])
    first = daemon.catalog.request_caption_ocr("req-1", caption_ids=[2], requested_by="editor-ann")
    daemon.wait_run("req-1", "requested_caption_ocr", [S.QUEUED])
    second = daemon.catalog.request_caption_ocr("req-1", frame_spans=[(30, 41)], requested_by="editor-ann")
    wait_for(
        lambda: len(ocr_runs(daemon, "req-1")) == 2, 60, f"a second run for the second request\n{daemon.log_tail()}"
    )
    time.sleep(3)  # several dequeue passes while the initial run holds the video
    assert all(r.status == S.QUEUED for r in ocr_runs(daemon, "req-1"))
    assert daemon.catalog.get_caption_ocr_request(second["id"])["status"] == "requested"  # waiting, not dropped

    daemon.open_gate("req-1")
    wait_for(
        lambda: all(r.status == S.SUCCESS for r in ocr_runs(daemon, "req-1")),
        120,
        f"both caption OCR runs to finish\n{daemon.log_tail()}",
    )
    recorded = sorted((r for r in daemon.recorded() if r["video"] == "req-1"), key=lambda r: r["start"])
    assert [r["stage"] for r in recorded] == ["initial", "caption_ocr", "caption_ocr"]
    assert all(a["end"] <= b["start"] for a, b in zip(recorded, recorded[1:]))  # one run per video at a time
    assert sorted(i for r in recorded[1:] for i in r["answered"]) == [first["id"], second["id"]]  # each once
    for request in (first, second):
        row = daemon.catalog.get_caption_ocr_request(request["id"])
        assert row["status"] == "completed" and row["run_id"] in {r.run_id for r in ocr_runs(daemon, "req-1")}
    run = ocr_runs(daemon, "req-1")[0]
    assert {
        k: run.tags[k] for k in ("tenant", "tier", "trigger", "priority", "dagster/priority", "dagster/partition")
    } == {
        "tenant": "tenant-free",
        "tier": "free",
        "trigger": "caption_ocr",
        "priority": "50",
        "dagster/priority": "50",
        "dagster/partition": "req-1",
    }
    time.sleep(3)  # later ticks launch nothing more
    assert len(ocr_runs(daemon, "req-1")) == 2


def gpu_slots_of(daemon, run_ids) -> int:
    info = daemon.instance.event_log_storage.get_concurrency_info("modal_compute")
    return sum(1 for slot in info.claimed_slots if slot.run_id in run_ids)


def test_two_locked_videos_do_not_stop_a_third(daemon):
    locked, free = ["lock-a", "lock-b"], "lock-c"
    for video_id in (*locked, free):
        daemon.upload(video_id)
        daemon.wait_run(video_id, "initial_processing", DONE)
    # The people take their locks once the runs have started (a lock taken before is held back in
    # the queue: test_editor_lock_hold_daemon.py): the steps find them and wait outside the pool.
    for video_id in locked:
        daemon.gate(f"{video_id}.before-lock")
        daemon.catalog.request_cropped_frames_version(video_id, REGION, "editor-ann")
    waiting = [daemon.wait_run(v, "approved_processing", [S.STARTED]).run_id for v in locked]
    for video_id in locked:
        assert daemon.catalog.acquire_lock(video_id, "captions", f"editor-{video_id}", lock_type="client")
        daemon.open_gate(f"{video_id}.before-lock")
    # Both runs reach the captions step and find the person's lock.
    wait_for(
        lambda: all(
            any("locked by 'editor-lock-" in (e.message or "") for e in daemon.instance.all_logs(run_id))
            for run_id in waiting
        ),
        60,
        f"the locked runs to wait for the editor\n{daemon.log_tail()}",
    )
    assert daemon.instance.event_log_storage.get_concurrency_info("modal_compute").slot_count == 2  # both slots exist

    daemon.catalog.request_cropped_frames_version(free, REGION, "editor-ann")
    done = daemon.wait_run(free, "approved_processing", DONE, timeout_s=60)
    for run_id in waiting:  # they waited without their compute slot
        assert any("giving back the compute slot" in (e.message or "") for e in daemon.instance.all_logs(run_id))
    assert [daemon.instance.get_run_by_id(r).status for r in waiting] == [S.STARTED, S.STARTED]  # still waiting
    # Each retry takes a slot for the moment it looks at the lock again; between retries it holds none.
    samples = []
    for _ in range(20):
        samples.append(gpu_slots_of(daemon, waiting))
        time.sleep(0.1)
    assert sum(1 for held in samples if held) <= 5, samples
    assert not [r for r in daemon.recorded() if r["video"] in locked and r["stage"] == "approval"]

    for video_id in locked:
        daemon.catalog.release_lock(video_id, "captions", f"editor-{video_id}")
    for video_id in locked:
        daemon.wait_run(video_id, "approved_processing", DONE, timeout_s=120)
    starts = {r["video"]: r["start"] for r in daemon.recorded() if r["stage"] == "approval"}
    assert all(starts[free] < starts[v] for v in locked), starts  # the free video went first
    assert done.run_id not in waiting
