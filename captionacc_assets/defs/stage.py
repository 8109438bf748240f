"""What every asset body shares: the video's keys, a scratch directory, and stage status.

`recorded_stage` is how bad input reaches people: the catalog's `{stage}_error_details`
and the failed materialization carry the same actionable message.
"""

import dataclasses
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import dagster as dg

from captionacc_assets.core.errors import EnvironmentFault, InputError, SupersededVersionError
from captionacc_assets.core.keys import VideoKeys, validate_key
from captionacc_assets.core.video import VideoProbe
from captionacc_assets.defs.run_liveness import PROCESS_TAG, scratch_prefix, this_process_tag
from captionacc_assets.defs.run_tags import missing_video_tags
from captionacc_assets.resources.catalog import CatalogResource
from captionacc_assets.settings import environment_fault
from captionacc_assets.core.stages import STAGES

# `dg.Failure` metadata saying why a stage stopped: `input` (bad input) or `environment` (the machine
# or its configuration), so the CLI can exit 2 for what a person fixes, and 1 for a bug.
ERROR_KIND = "error_kind"


def run_video(context: dg.AssetExecutionContext, catalog: CatalogResource) -> dict:
    """The partition's video row (an actionable error if unknown or deleted), with the run tagged.

    Runs the sensors launch carry `tenant`, `tier`, `priority` and `trigger` already; a run
    launched from the UI or by a backfill may start before the run-queue sensor tags it, so
    the run tags itself here (SPEC §5: the tags are on every run).
    """
    row = catalog.require_video(context.partition_key)
    missing = missing_video_tags(
        context.run.tags, row["tenant_id"], catalog.tenant_tier(row["tenant_id"]), row["display_path"]
    )
    process = this_process_tag()  # so a run whose process dies is found and failed (run_liveness)
    if context.run.tags.get(PROCESS_TAG) != process:
        missing[PROCESS_TAG] = process
    if missing:
        context.instance.add_run_tags(context.run_id, missing)
    return row


def video_to_process(context: dg.AssetExecutionContext, catalog: CatalogResource) -> dict | None:
    """`run_video`'s row, or None for a video deleted meanwhile (a deletion racing its run).

    A deleted video is an expected condition, not a failure: the asset materializes nothing
    (its body returns before yielding, with `output_required=False`), so the run succeeds, the
    UI marks nothing failed, and downstream assets of the run are skipped. The log says why.
    """
    row = catalog.get_video(context.partition_key)
    if row is not None and row["deleted_at"] is not None:
        context.log.info(
            f"skipped: video {row['id']} ({row['display_path'] or 'no file name'}) was deleted "
            f"at {row['deleted_at'].isoformat()}; nothing is materialized for it"
        )
        return None
    return run_video(context, catalog)


def approved_video_to_process(context: dg.AssetExecutionContext, catalog: CatalogResource) -> dict | None:
    """`video_to_process`, and None too for a video with no approved layout yet (e.g. in a
    backfill over every video): such a video is skipped, not failed, until someone approves it."""
    row = video_to_process(context, catalog)
    if row is not None and catalog.latest_cropped_frames_version(row["id"]) is None:
        context.log.info(
            f"skipped: video {row['id']} ({row['display_path'] or 'no file name'}) has no approved "
            f"layout yet; approve one with `captionacc approve {row['id']}`, then this runs"
        )
        return None
    return row


def video_identity(row: dict) -> dict[str, str]:
    """What a person knows a video by, in every materialization's metadata: its file name and tenant."""
    return {"file_name": row["display_path"] or "", "tenant": row["tenant_id"]}


def video_keys(row: dict) -> VideoKeys:
    keys = VideoKeys(tenant=row["tenant_id"], video=row["id"])
    validate_key(row["storage_key"], keys.tenant)
    if not row["storage_key"].startswith(keys.client_prefix):
        raise InputError(f"video {row['id']!r} has storage key {row['storage_key']!r} outside its own folder")
    return keys


def stored_probe(instance: dg.DagsterInstance, row: dict) -> VideoProbe | None:
    """The probe in the partition's latest `video` materialization, for a job to skip probing again.

    None (the job probes the file itself) when there is none, when it lacks a field (an older
    materialization), or when it was of another storage key. A video id names one upload (a second
    registration is refused), yet the stored file could still be replaced under its key; the
    probe carries the probed file's size, and the job uses it only for a download of that size
    (`core.video.probe_of`), where the check costs a `stat` instead of a probe.
    """
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("video"), asset_partitions=[row["id"]]), limit=1, ascending=False
    ).records
    materialization = records[0].asset_materialization if records else None
    if materialization is None:
        return None
    metadata = materialization.metadata
    names = [field.name for field in dataclasses.fields(VideoProbe)]
    if "storage_key" not in metadata or metadata["storage_key"].value != row["storage_key"]:
        return None
    if any(name not in metadata for name in names):
        return None
    values: dict[str, Any] = {name: metadata[name].value for name in names}
    return VideoProbe(**values)


@contextmanager
def scratch_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=scratch_prefix()) as path:
        yield Path(path)


def stand_down(catalog: CatalogResource, video_id: str) -> None:
    """A superseded run's stages go from `processing` back to `wait`: the newer approval's run, queued
    behind this one (one run per video), sets them; nothing claims to be running meanwhile."""
    row = catalog.require_video(video_id)
    for stage in STAGES:
        if row[f"{stage}_status"] == "processing":
            catalog.set_stage_status(video_id, stage, "wait")


@contextmanager
def recorded_stage(
    catalog: CatalogResource, video_id: str, stage: str, *, done_status: str | None = "annotate"
) -> Iterator[None]:
    """Mark `stage` processing, then `done_status` or error with a message a person can act on."""
    catalog.set_stage_status(video_id, stage, "processing")
    try:
        yield
    except dg.Failure:
        raise  # already a deliberate, explained stop (e.g. a superseded approval); not this stage's error
    except SupersededVersionError as error:  # a newer approval's run publishes and sets this stage
        stand_down(catalog, video_id)
        raise dg.Failure(description=str(error), allow_retries=False) from error
    except InputError as error:
        catalog.set_stage_status(video_id, stage, "error", str(error))
        raise dg.Failure(description=str(error), allow_retries=False, metadata={ERROR_KIND: "input"}) from error
    except Exception as error:
        fault = environment_fault(error)
        if fault is None:
            catalog.set_stage_status(video_id, stage, "error", f"internal error ({type(error).__name__}): {error}")
            raise
        try:
            catalog.set_stage_status(video_id, stage, "error", str(fault))
        except EnvironmentFault:
            pass  # the catalog itself is the fault: the failure still says so
        raise dg.Failure(description=str(fault), metadata={ERROR_KIND: "environment"}) from error
    if done_status:
        catalog.set_stage_status(video_id, stage, done_status)


def progress_logger(context: dg.AssetExecutionContext):
    return lambda message: context.log.info(message)
