"""The embedded default as one object: catalog, storage and a Dagster instance under CAPTIONACC_HOME.

The `captionacc` command and the end-to-end tests drive videos through the real assets
with it: upload -> initial stage -> approval -> captions, each a partitioned materialization
recorded in the same Dagster instance that `dagster dev` shows.
"""

import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Sequence
from typing import Any
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from captionacc_assets.core.dbs.layout_db import read_proposed_zones
from captionacc_assets.core.layout import CaptionZone
from captionacc_assets.core.proposed_zones import regions_to_approve
from captionacc_assets.core.errors import EnvironmentFault, InputError
from captionacc_assets.core.keys import VideoKeys, validate_id
from captionacc_assets.core.region import Region
from captionacc_assets.definitions import ALL_ASSETS, APPROVAL_SELECTION, INITIAL_SELECTION
from captionacc_assets.defs.partitions import VIDEOS
from captionacc_assets.defs.stage import ERROR_KIND
from captionacc_assets.defs.run_liveness import dead_runs, recover_dead_run, scratch_prefix
from captionacc_assets.defs.run_tags import video_run_tags
from captionacc_assets.resources.profile import build_resources
from captionacc_assets.settings import LocalPaths, local_paths, profile, require_env

REPO_DAGSTER_YAML = Path(__file__).resolve().parents[1] / "dagster.yaml"
PROCESS_JOB = "captionacc_process"  # the job name of `captionacc process` runs in the Runs list


def prepare_dagster_home(paths: LocalPaths) -> Path:
    """Point DAGSTER_HOME into CAPTIONACC_HOME and give it the project's dagster.yaml.

    The production profile gets dagster_production.yaml (Dagster's storage on Postgres), so it
    never falls back to SQLite unnoticed; an instance file already there is never overwritten.
    """
    paths.dagster_home.mkdir(parents=True, exist_ok=True)
    target = paths.dagster_home / "dagster.yaml"
    source = REPO_DAGSTER_YAML
    if profile() == "production":
        require_env("DAGSTER_PG_URL", "Dagster's run and event storage on Postgres (dagster_production.yaml)")
        source = REPO_DAGSTER_YAML.with_name("dagster_production.yaml")
    if not target.exists() and source.exists():
        shutil.copyfile(source, target)
    os.environ["DAGSTER_HOME"] = str(paths.dagster_home)
    return paths.dagster_home


@dataclass
class StageRun:
    success: bool
    seconds: float
    step_seconds: dict[str, float] = field(default_factory=dict)
    metadata: dict[str, dict] = field(default_factory=dict)
    error: str | None = None
    # `input` or `environment` when a person can fix the cause (bad input, a full disk, a bad
    # setting); None for a bug.
    error_kind: str | None = None


# Exceptions that name what to fix in the environment, by the class name Dagster records.
_ENVIRONMENT_FAULTS = {EnvironmentFault.__name__, *(cls.__name__ for cls in EnvironmentFault.__subclasses__())}


def _failure_cause(data) -> tuple[str, str | None]:
    """A failed step's message and kind: the stage's own `dg.Failure`, else the exception under
    Dagster's wrapper line ("Error occurred while executing op ..."), which names nothing."""
    failure = data.user_failure_data
    if failure is not None and failure.description:
        kind = failure.metadata.get(ERROR_KIND)
        return failure.description, kind.value if kind is not None else None
    error = data.error
    if error is None:
        return "step failed", None
    while error.cause is not None:
        error = error.cause
    if error.cls_name in _ENVIRONMENT_FAULTS:
        return error.message.strip().split(": ", 1)[-1], "environment"
    return error.message.strip(), None


@dataclass
class LocalPlatform:
    paths: LocalPaths
    resources: dict
    instance: dg.DagsterInstance

    @classmethod
    def open(cls) -> "LocalPlatform":
        paths = local_paths()
        prepare_dagster_home(paths)
        return cls(paths, build_resources(), dg.DagsterInstance.get())

    @property
    def catalog(self):
        return self.resources["catalog"]

    @property
    def storage(self):
        return self.resources["storage"]

    def keys(self, video_id: str) -> VideoKeys:
        row = self.catalog.require_video(video_id)
        return VideoKeys(tenant=row["tenant_id"], video=row["id"])

    def upload(self, video_path: Path, tenant: str, video_id: str | None = None, *, add_partition: bool = True) -> str:
        """Store the file under the tenant's key, register it, and add its partition (unless the
        `new_uploads` sensor is to add it, as for `captionacc upload`: then its tick shows the add)."""
        video_path = Path(video_path)
        if not video_path.is_file():
            raise InputError(f"{video_path} does not exist or is not a file")
        tenant = validate_id(tenant, "tenant")
        video_id = validate_id(video_id or uuid.uuid4().hex[:12], "video id")
        ext = (video_path.suffix.lstrip(".") or "bin").lower()
        keys = VideoKeys(tenant=tenant, video=video_id)
        key = keys.video_file(ext)
        if self.catalog.get_video(video_id) is not None:  # before the file: never replace a stored video
            raise InputError(f"video id {video_id!r} is already registered: upload under a new id")
        size = self.storage.put_file(key, video_path)
        self.catalog.upsert_tenant(tenant)
        self.catalog.register_upload(
            video_id=video_id,
            tenant_id=tenant,
            storage_key=key,
            display_path=video_path.name,
            size_bytes=size,
        )
        if add_partition:
            self.instance.add_dynamic_partitions(VIDEOS, [video_id])
        return video_id

    def open_for_processing(self, video_path: Path, tenant: str) -> tuple[str, bool]:
        """The video id for `captionacc process` of this file, and whether it continues an earlier one.

        The id is a hash of the tenant and the file's bytes, so running `process` again on the
        same file (after a crash, say) continues that video from its last published stage
        instead of starting a new one. A deleted video is not continued: the file is uploaded anew.
        """
        video_path = Path(video_path)
        if not video_path.is_file():
            raise InputError(f"{video_path} does not exist or is not a file")
        digest = hashlib.sha256(f"{validate_id(tenant, 'tenant')}\0".encode())
        with video_path.open("rb") as source:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
        video_id = digest.hexdigest()[:12]
        row = self.catalog.get_video(video_id)
        if row is None:
            return self.upload(video_path, tenant, video_id), False
        if row["deleted_at"] is not None:
            return self.upload(video_path, tenant), False
        self.instance.add_dynamic_partitions(VIDEOS, [video_id])
        return video_id, True

    def recover_dead_runs(self) -> int:
        """Fail the runs whose process was killed and undo what they left (the CLI's rerun continues them)."""
        found = dead_runs(self.instance)
        for run, process in found:
            recover_dead_run(self.instance, self.catalog, self.storage, run, process, retried=False)
        return len(found)

    def initial_published(self, video_id: str) -> bool:
        """Whether the initial stage's artifacts are all published (layout.db is written last)."""
        row = self.catalog.require_video(video_id)
        return row["layout_status"] in ("annotate", "done") and self.storage.exists(self.keys(video_id).layout_db)

    def captions_committed(self, video_id: str) -> bool:
        """Whether the newest approved version's captions and exports are committed and current."""
        version = self.catalog.latest_cropped_frames_version(video_id)
        row = self.catalog.require_video(video_id)
        if (
            version is None
            or row["current_cropped_frames_version"] != version["version"]
            or row["text_status"] != "annotate"
        ):
            return False
        export = self.keys(video_id).export("json")
        if not self.storage.exists(export):
            return False
        made_from = json.loads(self.storage.get_bytes(export)).get("made_from") or {}
        return made_from.get("cropped_frames_version") == version["version"]

    def automation_running(self, fresh_s: float = 60.0) -> bool:
        """Whether a Dagster daemon (`captionacc ui`) is running its sensors on this CAPTIONACC_HOME.

        Then uploads and approvals are processed by the sensors through the run queue, and
        `captionacc process` must not run the same stages in-process beside them.
        """
        beat = self.instance.get_daemon_heartbeats().get("SENSOR")
        return beat is not None and time.time() - beat.timestamp < fresh_s

    def require_no_automation(self) -> None:
        """Refuse to run stages in this process while the sensors would run them too."""
        if self.automation_running():
            raise InputError(
                f"`captionacc ui` is running on {self.paths.home}: its sensors process uploads, so use "
                f"`captionacc upload` and `captionacc approve` there, or point CAPTIONACC_HOME elsewhere"
            )

    def approve(
        self,
        video_id: str,
        regions: Region | Sequence[Region] | None,
        requested_by: str,
        second_zone_min_confidence: float | None = None,
    ) -> dict:
        """Record a layout approval: the given crop region(s), or the proposed zones from layout.db.

        Of the proposed zones, a second one is approved only when its own confidence is at least
        `second_zone_min_confidence` (when given: the auto-approval threshold)."""
        self.catalog.require_video(video_id)
        if regions is None:
            regions = regions_to_approve(self.proposed_zones(video_id), second_zone_min_confidence)
        return self.catalog.request_cropped_frames_version(video_id, regions, requested_by)

    def proposed_zones(self, video_id: str) -> list[CaptionZone]:
        """The caption zones layout inference proposed, the main one first (the one reader of layout.db's proposal)."""
        keys = self.keys(video_id)
        if not self.storage.exists(keys.layout_db):
            raise InputError(f"video {video_id!r} has no layout.db yet: run its initial processing first")
        with tempfile.TemporaryDirectory(prefix=scratch_prefix()) as work:
            return read_proposed_zones(self.storage.get_file(keys.layout_db, Path(work) / "layout.db.gz"))

    def proposed_layout(self, video_id: str) -> dict:
        """The main proposed zone as a dict (`region`, `anchor_type`, `confidence`, ...), plus `zones`."""
        zones = self.proposed_zones(video_id)
        main = zones[0]
        return {
            "region": main.region.as_tuple(),
            "anchor_type": main.anchor,
            "confidence": main.confidence,
            "anchor_position": main.anchor_position,
            "vertical_center": main.vertical_center,
            "box_height": main.box_height,
            "line_count": main.line_count,
            "zones": zones,
        }

    def run_tags(self, video_id: str, trigger: str) -> dict[str, str]:
        row = self.catalog.require_video(video_id)
        return video_run_tags(
            row["tenant_id"], self.catalog.tenant_tier(row["tenant_id"]), trigger, file_name=row["display_path"]
        )

    def materialize(
        self, video_id: str, selection: list[str], trigger: str, loggers: dict[str, dg.LoggerDefinition] | None = None
    ) -> StageRun:
        """One stage as one run of the `captionacc_process` job; `loggers` replaces Dagster's console
        logger (the CLI sends the log lines to a file and its progress bar)."""
        started = time.perf_counter()
        job = dg.Definitions(
            jobs=[dg.define_asset_job(PROCESS_JOB, selection=selection)],
            assets=ALL_ASSETS,
            resources=self.resources,
            loggers=loggers,
        ).resolve_job_def(PROCESS_JOB)
        result = job.execute_in_process(
            partition_key=video_id,
            instance=self.instance,
            tags=self.run_tags(video_id, trigger),
            raise_on_error=False,
            run_config={
                "loggers": {name: {} for name in loggers} if loggers else {"console": {"config": {"log_level": "INFO"}}}
            },
        )
        run = StageRun(result.success, round(time.perf_counter() - started, 3))
        for event in result.all_events:
            data: Any = event.event_specific_data  # its type follows the event type tested below
            if event.is_step_success and event.step_key:
                run.step_seconds[event.step_key] = round(data.duration_ms / 1000, 3)
            elif event.is_step_failure and run.error is None:
                run.error, run.error_kind = _failure_cause(data)
            elif event.is_step_materialization:
                mat = data.materialization
                run.metadata[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
        return run

    def initial_processing(self, video_id: str, trigger: str = "upload", loggers=None) -> StageRun:
        return self.materialize(video_id, INITIAL_SELECTION, trigger, loggers)

    def approved_processing(self, video_id: str, trigger: str = "approval", loggers=None) -> StageRun:
        return self.materialize(video_id, APPROVAL_SELECTION, trigger, loggers)
