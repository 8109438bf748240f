"""Soft-deleted videos: cancel their queued and running runs (SPEC §4 step 5), and remove their
partitions, so a backfill or "All partitions" in the UI no longer includes them.

A partition that a backfill still in progress targets is removed once that backfill ends (Dagster
fails a whole backfill whose targeted partitions vanish): the cursor keeps it pending until then,
and the backfill's run of the deleted video materializes nothing.

The other sensors start nothing for a deleted video, and the run-queue sensor cancels
any queued run of one that slips in later (e.g. launched from the UI). A started run is stopped
at once; a queued or starting one is held, and the run-queue sensor finishes it (`runs.py`). A run that reads the
video after its deletion materializes nothing and succeeds (`defs/stage.video_to_process`):
a deletion is an expected condition, so none of the video's assets is marked failed.
"""

import json
from typing import NamedTuple

import dagster as dg
from dagster._core.execution.backfill import BulkActionStatus, BulkActionsFilter

from captionacc_assets.defs.partitions import VIDEOS, videos_partitions

from captionacc_assets.defs.sensors.runs import cancel_run, in_flight_runs
from captionacc_assets.defs.sensors.settings import default_status, sensor_interval_seconds
from captionacc_assets.resources.catalog import CatalogResource

PAGE_SIZE = 200
BACKFILLS_IN_PROGRESS = [BulkActionStatus.REQUESTED, BulkActionStatus.CANCELING, BulkActionStatus.FAILING]


class DeletionTick(NamedTuple):
    cancelled: list[str]  # run ids
    cursor: str | None
    removed_partitions: list[str]  # video ids whose partition this tick removes


def partitions_in_backfills(instance: dg.DagsterInstance) -> set[str]:
    """The video partitions that backfills still in progress target."""
    keys: set[str] = set()
    for backfill in instance.get_backfills(filters=BulkActionsFilter(statuses=BACKFILLS_IN_PROGRESS)):
        data = backfill.asset_backfill_data
        if data is None:
            keys.update(backfill.partition_names or [])
        else:
            keys.update(p.partition_key for p in data.target_subset.iterate_asset_partitions() if p.partition_key)
    return keys


def _parse_cursor(cursor: str | None) -> tuple[tuple | None, list[str]]:
    """(position after which to read deletions, partitions still to remove); a list is the older cursor."""
    data = json.loads(cursor) if cursor else None
    if isinstance(data, dict):
        return (tuple(data["after"]) if data.get("after") else None), list(data.get("pending", []))
    return (tuple(data) if data else None), []


def deletion_tick(
    catalog: CatalogResource, instance: dg.DagsterInstance, cursor: str | None, page_size: int = PAGE_SIZE
) -> DeletionTick:
    """Cancel (or hold to cancel) the in-flight runs of videos deleted since the cursor; partitions to remove."""
    after, pending = _parse_cursor(cursor)
    rows = catalog.list_deleted_videos(after, page_size)
    cancelled = []
    for row in rows:
        for run in in_flight_runs(instance, row["id"]):
            cancel_run(instance, run, f"video {row['id']} was deleted at {row['deleted_at'].isoformat()}")
            cancelled.append(run.run_id)
    if rows:
        after = (rows[-1]["deleted_at"].isoformat(), rows[-1]["id"])
    candidates = [
        video_id
        for video_id in dict.fromkeys(pending + [row["id"] for row in rows])
        if instance.has_dynamic_partition(VIDEOS, video_id)
    ]
    in_backfills = partitions_in_backfills(instance) if candidates else set()
    removed = [video_id for video_id in candidates if video_id not in in_backfills]
    still_pending = [video_id for video_id in candidates if video_id in in_backfills]
    if rows or still_pending != pending:
        cursor = json.dumps({"after": list(after) if after else None, "pending": still_pending})
    return DeletionTick(cancelled, cursor, removed)


@dg.sensor(
    name="deleted_videos",
    minimum_interval_seconds=sensor_interval_seconds(),
    default_status=default_status(),
    description="Cancels the queued and running runs of soft-deleted videos and removes their partitions",
)
def deleted_videos(context: dg.SensorEvaluationContext, catalog: CatalogResource) -> dg.SensorResult:
    tick = deletion_tick(catalog, context.instance, context.cursor)
    pending = _parse_cursor(tick.cursor)[1]
    message = (
        f"{len(tick.removed_partitions)} deleted video(s) removed from the partitions, "
        f"{len(tick.cancelled)} of their run(s) being cancelled, {len(pending)} kept until their backfill ends"
    )
    did_something = tick.cancelled or tick.removed_partitions or pending
    if did_something:
        context.log.info(f"{message}: removed {tick.removed_partitions}, cancelled {tick.cancelled}, kept {pending}")
    return dg.SensorResult(
        cursor=tick.cursor,
        skip_reason=message if did_something else "no newly deleted videos",
        dynamic_partitions_requests=[videos_partitions.build_delete_request(tick.removed_partitions)]
        if tick.removed_partitions
        else [],
    )
