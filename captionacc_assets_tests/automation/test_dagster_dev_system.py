"""The whole automation in `dagster dev` (webserver + daemon) on the embedded default.

The test only does what a user does: `captionacc ui`, `captionacc upload`, `captionacc approve`,
then a backfill launched the way the UI launches one (the webserver's GraphQL mutation).
Every run is launched by the sensors or the backfill daemon through the run queue; the test launches none.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import dagster as dg
import pytest
import srt

from captionacc_assets.core.keys import VideoKeys
from captionacc_assets.resources.catalog import CatalogResource
from captionacc_assets.synthetic.generate import write_video
from captionacc_assets.synthetic.video_spec import Cue, VideoSpec
from captionacc_assets_tests.automation.daemon import REPO, wait_for

CAPTIONACC = str(Path(sys.executable).with_name("captionacc"))
CUES = (Cue(0.5, 2.5, "你好世界"), Cue(3.0, 5.0, "Hello world"))

pytestmark = pytest.mark.timeout(900)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def dagster_dev(tmp_path):
    home = tmp_path / "home"
    env = {
        **os.environ,
        "CAPTIONACC_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "CAPTIONACC_SENSOR_INTERVAL_S": "2",
    }
    port = free_port()
    log = open(tmp_path / "dagster-dev.log", "w")
    process = subprocess.Popen(
        [CAPTIONACC, "ui", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    tail = lambda: (tmp_path / "dagster-dev.log").read_text()[-4000:]
    try:
        wait_for(
            lambda: process.poll() is not None or answers(f"http://127.0.0.1:{port}/server_info"),
            300,
            "the Dagster webserver",
        )
        assert process.poll() is None, tail()
        yield env, home, tail, f"http://127.0.0.1:{port}/graphql"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


BACKFILL_ASSETS = ("cropped_frames", "caption_frame_extents", "captions_db", "caption_exports")
BACKFILL_DONE = ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED")
LAUNCH_BACKFILL = """
mutation LaunchBackfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on Error { message }
  }
}"""
BACKFILL_STATUS = """
query BackfillStatus($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status }
    ... on Error { message }
  }
}"""


def graphql(url: str, query: str, variables: dict) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.load(response)
    assert not body.get("errors"), body["errors"]
    return body["data"]


def launch_ui_backfill(url: str, assets: tuple[str, ...]) -> str:
    """What *Materialize selected* -> *All partitions* -> *Launch backfill* sends to the webserver."""
    result = graphql(
        url,
        LAUNCH_BACKFILL,
        {
            "params": {
                "assetSelection": [{"path": [name]} for name in assets],
                "allPartitions": True,
                "fromFailure": False,
                "tags": [],
                "title": "new extents model",
            }
        },
    )["launchPartitionBackfill"]
    assert result["__typename"] == "LaunchBackfillSuccess", result
    return result["backfillId"]


def finished_backfill_status(url: str, backfill_id: str) -> str | None:
    """The backfill's final status as the UI shows it; None while it is still running."""
    result = graphql(url, BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
    assert result["__typename"] == "PartitionBackfill", result
    return result["status"] if result["status"] in BACKFILL_DONE else None


def captionacc(env, *args) -> str:
    done = subprocess.run([CAPTIONACC, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_upload_and_approval_reach_exported_captions_with_no_run_launched_by_hand(dagster_dev, tmp_path):
    env, home, tail, graphql_url = dagster_dev
    spec = VideoSpec(width=640, height=360, fps=10.0, duration_s=6.0, background="moving", cues=CUES, seed=3)
    video_path = write_video(spec, tmp_path / "clip.mp4")
    catalog = CatalogResource(url=f"sqlite:///{home / 'catalog.sqlite'}")

    video_id = captionacc(env, "upload", str(video_path), "--tenant", "tenant-sys").splitlines()[-1]
    wait_for(
        lambda: catalog.get_video(video_id)["layout_status"] in ("annotate", "error"),
        600,
        f"initial processing by the upload sensor\n{tail()}",
        every_s=1,
    )
    assert catalog.get_video(video_id)["layout_status"] == "annotate", catalog.get_video(video_id)

    captionacc(env, "approve", video_id, "--by", "editor-alice")
    keys = VideoKeys(tenant="tenant-sys", video=video_id)
    srt_file = home / "storage" / keys.export("srt")
    wait_for(
        lambda: srt_file.exists() or catalog.get_video(video_id)["text_status"] == "error",
        600,
        f"captions exported after the approval\n{tail()}",
        every_s=1,
    )
    captions = list(srt.parse(srt_file.read_text(encoding="utf-8")))
    assert [c.content for c in captions] == [cue.text for cue in CUES]
    assert catalog.get_video(video_id)["current_cropped_frames_version"] == 1

    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    try:
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": video_id}))
        assert sorted((r.job_name, r.tags["trigger"], r.tags.get("dagster/sensor_name")) for r in runs) == [
            ("approved_processing", "approval", "layout_approvals"),
            ("initial_processing", "upload", "new_uploads"),
        ]
        finished = lambda: [
            r.status
            for r in instance.get_runs(
                dg.RunsFilter(
                    tags={"dagster/partition": video_id},
                    statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE],
                )
            )
        ]
        assert wait_for(lambda: len(finished()) == 2, 120, f"both runs to finish\n{tail()}")
        assert finished() == [dg.DagsterRunStatus.SUCCESS] * 2
        approval = instance.get_latest_materialization_event(dg.AssetKey("layout_approval"))
        metadata = approval.asset_materialization.metadata
        assert approval.dagster_event.partition == video_id
        assert metadata["requested_by"].value == "editor-alice"
        assert metadata["version"].value == 1

        # Issue 6: after a new model, re-infer extents and captions of every video from the UI.
        exported_before = srt_file.read_text(encoding="utf-8")
        backfill_id = launch_ui_backfill(graphql_url, BACKFILL_ASSETS)
        # The backfill daemon looks every 30 s (not configurable): ~1 tick to launch, ~1 to see it done.
        status = wait_for(
            lambda: finished_backfill_status(graphql_url, backfill_id),
            300,
            f"backfill {backfill_id} to finish\n{tail()}",
            every_s=1,
        )
        assert status == "COMPLETED_SUCCESS", tail()

        backfill_runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
        assert [r.tags["dagster/partition"] for r in backfill_runs] == [video_id]  # one run per video
        run = backfill_runs[0]
        assert run.status == dg.DagsterRunStatus.SUCCESS
        tier = catalog.tenant_tier("tenant-sys")
        assert {k: run.tags.get(k) for k in ("trigger", "tenant", "tier")} == {
            "trigger": "backfill",
            "tenant": "tenant-sys",
            "tier": tier,
        }
        assert run.tags["priority"] == run.tags["dagster/priority"] and int(run.tags["priority"]) >= 0
        assert run.asset_selection == {dg.AssetKey(name) for name in BACKFILL_ASSETS}
        assert instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_ENQUEUED), "launched outside the queue"

        extents = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("caption_frame_extents"), asset_partitions=[video_id]),
            limit=10,
        ).records
        assert [r.run_id for r in extents][0] == run.run_id and len(extents) == 2
        exports = instance.get_latest_materialization_event(dg.AssetKey("caption_exports"))
        assert exports.run_id == run.run_id
        assert srt_file.read_text(encoding="utf-8") == exported_before
        video = catalog.get_video(video_id)
        assert (video["current_cropped_frames_version"], video["text_status"]) == (1, "annotate"), video
        assert catalog.latest_cropped_frames_version(video_id)["status"] == "active"

        # One run per video at a time: none of its runs overlapped another.
        records = sorted(
            instance.get_run_records(dg.RunsFilter(tags={"dagster/partition": video_id})), key=lambda r: r.start_time
        )
        assert len(records) == 3 and all(r.start_time and r.end_time for r in records)
        assert all(a.end_time <= b.start_time for a, b in zip(records, records[1:])), [
            (r.dagster_run.job_name, r.start_time, r.end_time) for r in records
        ]
    finally:
        instance.dispose()
