"""What every asset body shares: the video's keys, a scratch directory, and stage status.

`recorded_stage` is how bad input reaches people: the catalog's `{stage}_error_details`
and the failed materialization carry the same actionable message.
"""

import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import dagster as dg

from captionacc_assets.core.errors import InputError
from captionacc_assets.core.keys import VideoKeys, validate_key
from captionacc_assets.defs.run_tags import missing_video_tags
from captionacc_assets.resources.catalog import CatalogResource


def run_video(context: dg.AssetExecutionContext, catalog: CatalogResource) -> dict:
    """The partition's video row (an actionable error if unknown or deleted), with the run tagged.

    Runs the sensors launch carry `tenant`, `tier`, `priority` and `trigger` already; a run
    launched from the UI or by a backfill may start before the run-queue sensor tags it, so
    the run tags itself here (SPEC §5: the tags are on every run).
    """
    row = catalog.require_video(context.partition_key)
    missing = missing_video_tags(context.run.tags, row["tenant_id"], catalog.tenant_tier(row["tenant_id"]))
    if missing:
        context.instance.add_run_tags(context.run_id, missing)
    return row


def video_keys(row: dict) -> VideoKeys:
    keys = VideoKeys(tenant=row["tenant_id"], video=row["id"])
    validate_key(row["storage_key"], keys.tenant)
    if not row["storage_key"].startswith(keys.client_prefix):
        raise InputError(f"video {row['id']!r} has storage key {row['storage_key']!r} outside its own folder")
    return keys


@contextmanager
def scratch_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="captionacc-") as path:
        yield Path(path)


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
    except InputError as error:
        catalog.set_stage_status(video_id, stage, "error", str(error))
        raise dg.Failure(description=str(error), allow_retries=False) from error
    except Exception as error:
        catalog.set_stage_status(video_id, stage, "error", f"internal error ({type(error).__name__}): {error}")
        raise
    if done_status:
        catalog.set_stage_status(video_id, stage, done_status)


def progress_logger(context: dg.AssetExecutionContext):
    return lambda message: context.log.info(message)
