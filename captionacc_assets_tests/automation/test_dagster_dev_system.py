"""The whole automation in `dagster dev` (webserver + daemon) on the embedded default.

The test only does what a user does: `captionacc ui`, `captionacc upload`, `captionacc approve`.
Every run is launched by the sensors through the run queue; the test launches none.
"""

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
    env = {**os.environ, "CAPTIONACC_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
           "CAPTIONACC_SENSOR_INTERVAL_S": "2"}
    port = free_port()
    log = open(tmp_path / "dagster-dev.log", "w")
    process = subprocess.Popen([CAPTIONACC, "ui", "--port", str(port)], cwd=REPO, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    tail = lambda: (tmp_path / "dagster-dev.log").read_text()[-4000:]
    try:
        wait_for(lambda: process.poll() is not None or answers(f"http://127.0.0.1:{port}/server_info"), 300,
                 "the Dagster webserver")
        assert process.poll() is None, tail()
        yield env, home, tail
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def captionacc(env, *args) -> str:
    done = subprocess.run([CAPTIONACC, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_upload_and_approval_reach_exported_captions_with_no_run_launched_by_hand(dagster_dev, tmp_path):
    env, home, tail = dagster_dev
    spec = VideoSpec(width=640, height=360, fps=10.0, duration_s=6.0, background="moving", cues=CUES, seed=3)
    video_path = write_video(spec, tmp_path / "clip.mp4")
    catalog = CatalogResource(url=f"sqlite:///{home / 'catalog.sqlite'}")

    video_id = captionacc(env, "upload", str(video_path), "--tenant", "tenant-sys").splitlines()[-1]
    wait_for(lambda: catalog.get_video(video_id)["layout_status"] in ("annotate", "error"), 600,
             f"initial processing by the upload sensor\n{tail()}", every_s=1)
    assert catalog.get_video(video_id)["layout_status"] == "annotate", catalog.get_video(video_id)

    captionacc(env, "approve", video_id, "--by", "editor-alice")
    keys = VideoKeys(tenant="tenant-sys", video=video_id)
    srt_file = home / "storage" / keys.export("srt")
    wait_for(lambda: srt_file.exists() or catalog.get_video(video_id)["text_status"] == "error", 600,
             f"captions exported after the approval\n{tail()}", every_s=1)
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
        finished = lambda: [r.status for r in instance.get_runs(dg.RunsFilter(
            tags={"dagster/partition": video_id}, statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE],
        ))]
        assert wait_for(lambda: len(finished()) == 2, 120, f"both runs to finish\n{tail()}")
        assert finished() == [dg.DagsterRunStatus.SUCCESS] * 2
        approval = instance.get_latest_materialization_event(dg.AssetKey("layout_approval"))
        metadata = approval.asset_materialization.metadata
        assert approval.dagster_event.partition == video_id
        assert metadata["requested_by"].value == "editor-alice"
        assert metadata["version"].value == 1
    finally:
        instance.dispose()
