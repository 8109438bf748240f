"""Crashes and races as they really happen, at each stage of `captionacc process`.

Kills: the real command SIGKILLs itself at a fault point (`CAPTIONACC_FAULT=kill@POINT`), then
the same command runs again on the same home. The rerun must give exactly the reference
captions and exports, leave no temp file in storage or in $TMPDIR, and leave the killed run
failed in Dagster with every stage out of `processing`.

Races: the command SIGSTOPs itself at a fault point, a second real command approves another
crop meanwhile, and the first continues. Whatever the first then did, one more run must end
with exactly one active version, the newest, whose captions and exports match.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import psutil
import pytest

from captionacc_assets.core.dbs.captions_db import read_captions_provenance
from captionacc_assets.core.fault_points import FAULT_VAR, POINTS
from captionacc_assets.resources.catalog import CatalogResource
from captionacc_assets.synthetic.generate import write_video
from captionacc_assets.synthetic.video_spec import Cue, VideoSpec

SPEC = VideoSpec(
    width=640,
    height=360,
    fps=25.0,
    duration_s=6.0,
    background="textured",
    seed=11,
    cues=(Cue(0.5, 2.2, "你好，世界"), Cue(2.8, 4.6, "Good night"), Cue(4.9, 5.8, "再见")),
)
RACE_POINTS = ("extract.ocr", "crop.encode", "caption_ocr.ocr", "captions.before_commit", "captions.before_exports")
COMMAND_TIMEOUT_S = 300


def run_cli(args: list[str], env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "captionacc_assets.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        **kwargs,
    )


class Home:
    """One CAPTIONACC_HOME and private $TMPDIR, as a user's shell would have them."""

    def __init__(self, root: Path, clip: Path):
        self.root, self.clip = root, clip
        self.home, self.tmp, self.out = root / "home", root / "tmp", root / "out"
        for path in (self.tmp, self.out):
            path.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "CAPTIONACC_HOME": str(self.home), "TMPDIR": str(self.tmp)}
        self.env.pop("DAGSTER_HOME", None)
        self.env.pop(FAULT_VAR, None)

    def process_args(self) -> list[str]:
        return [
            "process",
            str(self.clip),
            "--approve",
            "always",
            "--srt",
            str(self.out / "c.srt"),
            "--json",
            str(self.out / "c.json"),
        ]

    def process(self, fault: str | None = None) -> subprocess.CompletedProcess:
        env = {**self.env, FAULT_VAR: fault} if fault else self.env
        return run_cli(self.process_args(), env)

    @property
    def catalog(self) -> CatalogResource:
        return CatalogResource(url=f"sqlite:///{self.home / 'catalog.sqlite'}")

    def video(self) -> dict:
        (row,) = self.catalog.list_new_videos(None, 10)
        return row

    def exports(self) -> dict:
        captions = json.loads((self.out / "c.json").read_text())["captions"]
        return {"srt": (self.out / "c.srt").read_text(), "captions": captions}

    def stored(self, key: str) -> Path:
        return self.home / "storage" / key

    def leftovers(self) -> list[str]:
        """Hidden temp files or staging folders in storage, and anything of ours left in $TMPDIR."""
        hidden = [str(p) for p in (self.home / "storage").rglob(".*")]
        # `.ses` is a fixed-name session file a dependency writes once per $TMPDIR; it is not ours.
        return hidden + [str(p) for p in self.tmp.iterdir() if p.name != ".ses"]

    def versions(self) -> list[dict]:
        catalog, video_id = self.catalog, self.video()["id"]
        latest = catalog.latest_cropped_frames_version(video_id)["version"]
        return [catalog.get_cropped_frames_version(video_id, v) for v in range(1, latest + 1)]

    def runs(self) -> list[dg.DagsterRun]:
        instance = dg.DagsterInstance.from_config(str(self.home / "dagster"))
        try:
            return list(instance.get_runs())
        finally:
            instance.dispose()


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return write_video(SPEC, tmp_path_factory.mktemp("clip") / "episode-01.mp4")


@pytest.fixture(scope="module")
def reference(clip, tmp_path_factory) -> dict:
    """One clean run: the captions and exports every rerun must reproduce, and its approved crop."""
    home = Home(tmp_path_factory.mktemp("reference"), clip)
    done = home.process()
    assert done.returncode == 0, done.stdout + done.stderr
    video = home.video()
    version = home.catalog.get_cropped_frames_version(video["id"], 1)
    crop = ",".join(f"{version[f'crop_{side}']:.3f}" for side in ("left", "top", "right", "bottom"))
    return {**home.exports(), "crop": crop, "caption_count": len(home.exports()["captions"])}


def assert_converged(home: Home, reference: dict, version: int) -> None:
    """Exactly one active version, the newest; captions.db, exports and catalog all made from it."""
    assert home.exports() == {"srt": reference["srt"], "captions": reference["captions"]}
    versions = home.versions()
    assert [v["version"] for v in versions if v["status"] == "active"] == [version]
    assert version == versions[-1]["version"]
    video = home.video()
    assert video["current_cropped_frames_version"] == version
    assert {video[f"{stage}_status"] for stage in ("layout", "boundaries", "text")} <= {"annotate", "done"}
    client = f"{video['tenant_id']}/client/videos/{video['id']}/"
    assert read_captions_provenance(home.stored(client + "captions.db.gz")).cropped_frames_version == version
    made_from = json.loads(home.stored(client + "exports/captions.json").read_text())["made_from"]
    assert made_from["cropped_frames_version"] == version
    assert f"cropped_frames_version={version}" in home.stored(client + "exports/captions.vtt").read_text()
    assert home.leftovers() == []


@pytest.mark.parametrize("point", POINTS)
def test_a_kill_at_each_point_then_a_rerun_gives_exactly_the_reference(point, clip, reference, tmp_path):
    home = Home(tmp_path, clip)
    killed = home.process(fault=f"kill@{point}")
    assert killed.returncode == -signal.SIGKILL, f"never reached {point}:\n{killed.stdout}{killed.stderr}"
    (started,) = [r for r in home.runs() if r.status == dg.DagsterRunStatus.STARTED]

    rerun = home.process()
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "continued from its last published stage" in rerun.stdout
    assert_converged(home, reference, version=1)
    killed_run = next(r for r in home.runs() if r.run_id == started.run_id)
    assert killed_run.status == dg.DagsterRunStatus.FAILURE
    locks = (
        home.catalog.lock_holder(home.video()["id"], "captions"),
        home.catalog.lock_holder(home.video()["id"], "layout"),
    )
    assert locks == (None, None)


def wait_stopped(process: subprocess.Popen, point: str) -> None:
    deadline = time.monotonic() + COMMAND_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the command ended before stopping at {point}:\n{process.communicate()}")
        if psutil.Process(process.pid).status() == psutil.STATUS_STOPPED:
            return
        time.sleep(0.1)
    raise AssertionError(f"the command never stopped at {point}")


@pytest.mark.parametrize("point", RACE_POINTS)
def test_an_approval_racing_each_stage_ends_with_the_newest_version_active(point, clip, reference, tmp_path):
    home = Home(tmp_path, clip)
    first = subprocess.Popen(
        [sys.executable, "-m", "captionacc_assets.cli", *home.process_args()],
        env={**home.env, FAULT_VAR: f"stop@{point}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_stopped(first, point)
        second = run_cli(["approve", home.video()["id"], "--crop", reference["crop"], "--by", "racer"], home.env)
        assert second.returncode == 0, second.stdout + second.stderr
    finally:
        os.kill(first.pid, signal.SIGCONT)
    first_out, _ = first.communicate(timeout=COMMAND_TIMEOUT_S)
    stages = {stage: home.video()[f"{stage}_status"] for stage in ("layout", "boundaries", "text")}
    assert "processing" not in stages.values(), (stages, first_out)  # nothing claims to be running
    newest = home.versions()[-1]["version"]
    assert [v["version"] for v in home.versions() if v["status"] == "active"] in ([], [newest - 1], [newest]), first_out

    rerun = home.process()
    assert rerun.returncode == 0, first_out + rerun.stdout + rerun.stderr
    assert_converged(home, reference, version=newest)
    assert home.versions()[-1]["requested_by"] == "racer"
