"""A real `dagster-daemon` (sensors + queued run coordinator) on a fresh instance, for the queue tests."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import dagster as dg

from captionacc_assets.resources.catalog import CatalogResource

REPO = Path(__file__).resolve().parents[2]
DAEMON = str(Path(sys.executable).with_name("dagster-daemon"))


def wait_for(predicate: Callable[[], object], timeout_s: float, what: str, every_s: float = 0.25):
    """Poll until `predicate()` is truthy; fail with `what` after `timeout_s` (a liveness bound, not a speed test)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


LIGHT_MODULE = "captionacc_assets_tests.automation.light_defs"


class LightDaemon:
    """The daemon runs the light code location against CAPTIONACC_HOME=`home`, with the project's dagster.yaml.

    `module` may name another code location, e.g. `captionacc_assets.definitions` (the real assets);
    `env` adds settings for the daemon and the runs it launches.
    """

    def __init__(self, root: Path, module: str = LIGHT_MODULE, env: dict | None = None):
        self.root = root
        self.module = module
        self.home = root / "home"
        self.dagster_home = self.home / "dagster"
        self.work = root / "work"
        for path in (self.dagster_home, self.work / "gates"):
            path.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "dagster.yaml", self.dagster_home / "dagster.yaml")
        self.env = {
            **os.environ,
            "CAPTIONACC_HOME": str(self.home),
            "DAGSTER_HOME": str(self.dagster_home),
            "LIGHT_WORK_DIR": str(self.work),
            "CAPTIONACC_SENSOR_INTERVAL_S": "1",
            **(env or {}),
        }
        self.catalog = CatalogResource(url=f"sqlite:///{self.home / 'catalog.sqlite'}")
        self.catalog.ensure_schema()
        self.instance = dg.DagsterInstance.from_config(str(self.dagster_home))
        self.process: subprocess.Popen | None = None

    def start(self) -> "LightDaemon":
        self.log = open(self.root / "daemon.log", "a")
        self.process = subprocess.Popen(
            [DAEMON, "run", "-m", self.module, "--log-level", "warning"],
            cwd=REPO,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def stop(self) -> None:
        for gate in (self.work / "gates").iterdir():
            gate.unlink()
        self._stop_process()
        self.instance.dispose()

    def restart(self, **env: str) -> "LightDaemon":
        """Stop the daemon and start it again with `env` added (e.g. other model weights)."""
        self._stop_process()
        self.env.update(env)
        return self.start()

    def _stop_process(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()

    # -- catalog side, as the web app would write it ------------------------------------------
    def upload(self, video_id: str, tenant: str = "tenant-free", gated: bool = False) -> str:
        if gated:
            self.gate(video_id)
        self.catalog.register_upload(
            video_id=video_id,
            tenant_id=tenant,
            storage_key=f"{tenant}/client/videos/{video_id}/video.mp4",
            display_path=f"{video_id}.mp4",
            size_bytes=1,
        )
        return video_id

    def gate(self, video_id: str) -> None:
        (self.work / "gates" / video_id).touch()

    def open_gate(self, video_id: str) -> None:
        (self.work / "gates" / video_id).unlink(missing_ok=True)

    # -- Dagster side ----------------------------------------------------------------------------
    def runs(self, video_id: str, job: str | None = None, statuses=None) -> list[dg.DagsterRun]:
        return list(
            self.instance.get_runs(
                dg.RunsFilter(
                    tags={"dagster/partition": video_id},
                    job_name=job,
                    statuses=statuses or [],
                )
            )
        )

    def wait_run(self, video_id: str, job: str, statuses, timeout_s: float = 90) -> dg.DagsterRun:
        self.assert_alive()
        return wait_for(
            lambda: next(iter(self.runs(video_id, job, statuses)), None),
            timeout_s,
            f"a {job} run of {video_id} in {[s.value for s in statuses]}\n{self.log_tail()}",
        )

    def recorded(self) -> list[dict]:
        import json

        path = self.work / "runs.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def assert_alive(self) -> None:
        assert self.process.poll() is None, f"dagster-daemon exited:\n{self.log_tail()}"

    def log_tail(self) -> str:
        self.log.flush()
        return (self.root / "daemon.log").read_text()[-3000:]
