"""Soft-deleted videos: cancel their queued and running runs (SPEC §4 step 5), and remove their
partitions, so a backfill or "All partitions" in the UI no longer includes them.

The other sensors start nothing for a deleted video, and the run-queue sensor cancels
any queued run of one that slips in later (e.g. launched from the UI). A run that reads the
video after its deletion materializes nothing and succeeds (`defs/stage.video_to_process`):
a deletion is an expected condition, so none of the video's assets is marked failed.
"""

import json
from typing import NamedTuple

import dagster as dg

from captionacc_assets.defs.partitions import videos_partitions

from captionacc_assets.defs.sensors.runs import cancel_run, in_flight_runs
from captionacc_assets.defs.sensors.settings import default_status, sensor_interval_seconds
from captionacc_assets.resources.catalog import CatalogResource

PAGE_SIZE = 200


class DeletionTick(NamedTuple):
    cancelled: list[str]  # run ids
    cursor: str | None
    removed_partitions: list[str]  # video ids whose partition this tick removes


def deletion_tick(catalog: CatalogResource, instance: dg.DagsterInstance, cursor: str | None,
                  page_size: int = PAGE_SIZE) -> DeletionTick:
    """Cancel the in-flight runs of videos deleted since the cursor, and name their partitions to remove."""
    after = tuple(json.loads(cursor)) if cursor else None
    rows = catalog.list_deleted_videos(after, page_size)
    cancelled = []
    for row in rows:
        for run in in_flight_runs(instance, row["id"]):
            cancel_run(instance, run, f"video {row['id']} was deleted at {row['deleted_at'].isoformat()}")
            cancelled.append(run.run_id)
    if rows:
        cursor = json.dumps([rows[-1]["deleted_at"].isoformat(), rows[-1]["id"]])
    removed = [row["id"] for row in rows if instance.has_dynamic_partition(videos_partitions.name, row["id"])]
    return DeletionTick(cancelled, cursor, removed)


@dg.sensor(
    name="deleted_videos", minimum_interval_seconds=sensor_interval_seconds(), default_status=default_status(),
    description="Cancels the queued and running runs of soft-deleted videos and removes their partitions",
)
def deleted_videos(context: dg.SensorEvaluationContext, catalog: CatalogResource) -> dg.SensorResult:
    tick = deletion_tick(catalog, context.instance, context.cursor)
    message = (f"{len(tick.removed_partitions)} deleted video(s) removed from the partitions, "
               f"{len(tick.cancelled)} of their run(s) cancelled")
    if tick.cancelled or tick.removed_partitions:
        context.log.info(f"{message}: videos {tick.removed_partitions}, runs {tick.cancelled}")
    return dg.SensorResult(
        cursor=tick.cursor, skip_reason=message if tick.cancelled or tick.removed_partitions else "no newly deleted videos",
        dynamic_partitions_requests=[videos_partitions.build_delete_request(tick.removed_partitions)]
        if tick.removed_partitions else [],
    )
