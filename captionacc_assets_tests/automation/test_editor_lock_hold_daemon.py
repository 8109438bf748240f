"""Under the real daemon, a video a person is editing holds its queued runs back without a run slot.

The run_queue sensor tags the queued approval run `captionacc/editor_lock=held` while a person
holds the captions lock, and dagster.yaml lets no such run start: it stays QUEUED (taking none of
the 4 run slots) instead of starting and waiting inside its step. Released, it runs at once.
"""

import time

import dagster as dg

from captionacc_assets.core.region import Region
from captionacc_assets_tests.automation.daemon import wait_for

S = dg.DagsterRunStatus


def test_a_queued_run_of_an_edited_video_waits_in_the_queue_and_runs_once_released(daemon):
    video_id = daemon.upload("edited-1")
    daemon.wait_run(video_id, "initial_processing", [S.SUCCESS])
    assert daemon.catalog.acquire_lock(video_id, "captions", "editor-ann", lock_type="client")
    daemon.catalog.request_cropped_frames_version(video_id, Region(0.1, 0.8, 0.9, 0.95), "editor-ann")
    run = daemon.wait_run(video_id, "approved_processing", [S.QUEUED])
    wait_for(
        lambda: daemon.instance.get_run_by_id(run.run_id).tags.get("captionacc/editor_lock") == "held",
        60,
        f"the run held back\n{daemon.log_tail()}",
    )
    time.sleep(5)  # many dequeue passes (every 1 s) and sensor ticks
    assert daemon.instance.get_run_by_id(run.run_id).status == S.QUEUED

    daemon.catalog.release_lock(video_id, "captions", "editor-ann")
    wait_for(
        lambda: daemon.instance.get_run_by_id(run.run_id).status == S.SUCCESS,
        90,
        f"the released run succeeded\n{daemon.log_tail()}",
    )
    assert daemon.instance.get_run_by_id(run.run_id).tags["captionacc/editor_lock"] == "free"
