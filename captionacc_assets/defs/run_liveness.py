"""Runs whose process died are failed, and what they left behind in the catalog is undone.

After a kill -9 a run stays STARTED forever: it holds its video's one-run-per-video slot,
its stages and version stay `processing`, and the server keeps the editor lock. Dagster's
run monitoring (dagster.yaml) can fail such runs only where the run launcher checks its
workers, which the DefaultRunLauncher of the embedded default does not, and `captionacc
process` runs outside any launcher. So each run records its process (`host:pid:start time`)
as a tag at its first step, the run worker's own "Started process" event is the fallback,
and a run still STARTED whose process is gone from this host is dead.
"""

import shutil
import socket
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import dagster as dg
import psutil

from captionacc_assets.core.keys import VideoKeys
from captionacc_assets.defs.editor_locks import SERVER_HOLDER
from captionacc_assets.defs.run_tags import PARTITION_TAG
from captionacc_assets.resources.catalog import CatalogResource

PROCESS_TAG = "captionacc/process"
RECOVERED_TAG = "captionacc/recovered"  # on a dead run whose catalog state was undone
SCRATCH_PREFIX = "captionacc-"


def this_process_tag() -> str:
    process = psutil.Process()
    return f"{socket.gethostname()}:{process.pid}:{process.create_time():.3f}"


def scratch_prefix() -> str:
    """Scratch folders carry the pid, so a dead process's leftovers can be found and removed."""
    return f"{SCRATCH_PREFIX}{psutil.Process().pid}-"


@dataclass(frozen=True)
class RunProcess:
    pid: int
    started_at: float | None  # the process's creation time; None when only the pid is known

    def is_gone(self) -> bool:
        """True when no process with this pid and start time runs (a zombie is gone too)."""
        try:
            process = psutil.Process(self.pid)
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
            created = process.create_time()
        except psutil.NoSuchProcess:
            return True
        if self.started_at is None:
            return False
        return abs(created - self.started_at) > 1.0  # the pid was reused by another process


def run_process(instance: dg.DagsterInstance, run: dg.DagsterRun) -> RunProcess | None:
    """The process of a run on this host: its tag, else the run worker's start event; None if unknown."""
    tag = run.tags.get(PROCESS_TAG)
    if tag:
        host, pid, started = tag.rsplit(":", 2)
        return RunProcess(int(pid), float(started)) if host == socket.gethostname() else None
    if type(instance.run_launcher).__name__ != "DefaultRunLauncher":
        return None  # another launcher's workers live elsewhere: Dagster's run monitoring watches them
    for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        data = record.dagster_event.event_specific_data if record.dagster_event else None
        value = (getattr(data, "metadata", None) or {}).get("pid")
        if value is not None:
            return RunProcess(int(value.value), None)
    return None


def dead_runs(instance: dg.DagsterInstance) -> list[tuple[dg.DagsterRun, RunProcess | None]]:
    """Per-video runs that are STARTED although their process is gone."""
    found: list[tuple[dg.DagsterRun, RunProcess | None]] = []
    for run in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        if not run.tags.get(PARTITION_TAG):
            continue
        process = run_process(instance, run)
        if process is not None and process.is_gone():
            found.append((run, process))
    return found


def crashed_runs(
    instance: dg.DagsterInstance, updated_after: datetime
) -> list[tuple[dg.DagsterRun, RunProcess | None]]:
    """Per-video runs Dagster itself failed because their process died, not yet recovered.

    When a code server's run process is killed, the server marks the run failed at once
    ("terminated by signal 9"), but nothing undoes the catalog state. Such a run failed with
    no step failure: every failure inside a step records one.
    """
    found = []
    records = instance.get_run_records(
        dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE], updated_after=updated_after),
        limit=500,
    )
    for record in records:
        run = record.dagster_run
        if not run.tags.get(PARTITION_TAG) or run.tags.get(RECOVERED_TAG):
            continue
        if not instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
            found.append((run, run_process(instance, run)))
    return found


def remove_scratch(pid: int) -> int:
    """Delete the scratch folders and files (video copies, frames, databases) a dead process left."""
    removed = 0
    for path in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}{pid}-*"):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed += 1
    return removed


def recover_dead_run(
    instance: dg.DagsterInstance,
    catalog: CatalogResource,
    storage,
    run: dg.DagsterRun,
    process: RunProcess | None,
    retried: bool,
) -> dict:
    """Fail the run (if still STARTED), undo its catalog state, release its locks, sweep its temp files."""
    video_id = run.tags[PARTITION_TAG]
    then = "it will be retried" if retried else "run it again to continue from the last published stage"
    gone = f"its process {process.pid} is gone" if process else "its process is gone"
    message = f"the run {run.run_id[:8]} stopped unexpectedly ({gone}); {then}"
    if run.status == dg.DagsterRunStatus.STARTED:
        instance.report_run_failed(run, message)
    instance.add_run_tags(run.run_id, {RECOVERED_TAG: "1"})
    changed = {"stages": 0, "versions": 0, "locks": 0, "temp_files": 0, "scratch_dirs": 0}
    row = catalog.get_video(video_id)
    if row is not None:
        changed.update(catalog.recover_interrupted(video_id, message, SERVER_HOLDER))
        keys = VideoKeys(tenant=row["tenant_id"], video=video_id)
        changed["temp_files"] = storage.sweep_temp(keys.client_prefix) + storage.sweep_temp(keys.server_prefix)
    if process is not None:
        changed["scratch_dirs"] = remove_scratch(process.pid)
    return changed
