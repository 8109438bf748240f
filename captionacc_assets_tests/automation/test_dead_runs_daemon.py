"""A run killed with SIGKILL under the real daemon: failed, undone in the catalog, and run again.

The light code location's steps wait at a gate, so the run is surely mid-step when its run
worker process (found from the run's own "Started process" event) is killed.
"""

import json
import os
import signal
import time

import dagster as dg

from captionacc_assets.defs.editor_locks import SERVER_HOLDER
from captionacc_assets.defs.run_liveness import run_process
from captionacc_assets.defs.sensors.dead_runs import ATTEMPT_TAG, RETRY_OF_TAG
from captionacc_assets_tests.automation.daemon import wait_for

S = dg.DagsterRunStatus


def test_a_killed_run_is_failed_and_its_video_runs_again_within_a_few_sensor_ticks(daemon):
    video_id = daemon.upload("killed-1", gated=True)
    run = daemon.wait_run(video_id, "initial_processing", [S.STARTED])
    process = wait_for(
        lambda: run_process(daemon.instance, daemon.instance.get_run_by_id(run.run_id)), 60, "the run worker's pid"
    )
    # What the real initial stage holds while it runs: its stage `processing` and the layout lock.
    daemon.catalog.set_stage_status(video_id, "layout", "processing")
    assert daemon.catalog.acquire_lock(video_id, "layout", SERVER_HOLDER)

    os.kill(process.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    wait_for(
        lambda: daemon.instance.get_run_by_id(run.run_id).status == S.FAILURE,
        60,
        f"the killed run failed\n{daemon.log_tail()}",
    )
    failed_s = time.monotonic() - killed_at
    retry = wait_for(
        lambda: next(
            (
                r
                for r in daemon.runs(video_id, "initial_processing", [S.STARTED])
                if r.tags.get(RETRY_OF_TAG) == run.run_id
            ),
            None,
        ),
        60,
        f"the retry started\n{daemon.log_tail()}",
    )
    restarted_s = time.monotonic() - killed_at

    row = daemon.catalog.get_video(video_id)
    assert row["layout_status"] == "error"
    assert "stopped unexpectedly" in row["layout_error_details"]["message"]
    assert "it will be retried" in row["layout_error_details"]["message"]
    assert daemon.catalog.lock_holder(video_id, "layout") is None
    assert retry.tags[ATTEMPT_TAG] == "2" and retry.tags["trigger"] == "upload"
    assert retry.tags["dagster/partition"] == video_id

    daemon.open_gate(video_id)
    wait_for(lambda: daemon.instance.get_run_by_id(retry.run_id).status == S.SUCCESS, 60, "the retry succeeded")
    figures = {
        "sensor_interval_s": 1,
        "kill_to_failed_s": round(failed_s, 2),
        "kill_to_retry_started_s": round(restarted_s, 2),
    }
    (daemon.root / "dead_run_recovery.json").write_text(json.dumps(figures))
    print(f"dead run recovery: {figures}")
    assert restarted_s < 30, figures  # a liveness bound: a few 1 s sensor ticks and a dequeue, not a speed test
