"""Soft-deleted videos: cancel their queued and running runs (SPEC §4 step 5).

The other sensors start nothing for a deleted video, and the run-queue sensor cancels
any queued run of one that slips in later (e.g. launched from the UI).
"""

import json

import dagster as dg

from captionacc_assets.defs.sensors.runs import cancel_run, in_flight_runs
from captionacc_assets.defs.sensors.settings import default_status, sensor_interval_seconds
from captionacc_assets.resources.catalog import CatalogResource

PAGE_SIZE = 200


def deletion_tick(catalog: CatalogResource, instance: dg.DagsterInstance, cursor: str | None,
                  page_size: int = PAGE_SIZE) -> tuple[list[str], str | None]:
    """Cancel the in-flight runs of videos deleted since the cursor; (cancelled run ids, new cursor)."""
    after = tuple(json.loads(cursor)) if cursor else None
    rows = catalog.list_deleted_videos(after, page_size)
    cancelled = []
    for row in rows:
        for run in in_flight_runs(instance, row["id"]):
            cancel_run(instance, run, f"video {row['id']} was deleted at {row['deleted_at'].isoformat()}")
            cancelled.append(run.run_id)
    if rows:
        cursor = json.dumps([rows[-1]["deleted_at"].isoformat(), rows[-1]["id"]])
    return cancelled, cursor


@dg.sensor(
    name="deleted_videos", minimum_interval_seconds=sensor_interval_seconds(), default_status=default_status(),
    description="Cancels the queued and running runs of soft-deleted videos",
)
def deleted_videos(context: dg.SensorEvaluationContext, catalog: CatalogResource) -> dg.SensorResult:
    cancelled, cursor = deletion_tick(catalog, context.instance, context.cursor)
    if cancelled:
        context.log.info(f"cancelled {len(cancelled)} run(s) of deleted videos: {cancelled}")
    return dg.SensorResult(cursor=cursor, skip_reason=None if cancelled else "no runs of deleted videos")
