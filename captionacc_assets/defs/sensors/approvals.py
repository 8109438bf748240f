"""Layout approvals -> a run of cropped frames, extents, captions and exports for that version.

An approval is a `cropped_frames_versions` row with status `requested` (SPEC §4). The run
carries the version in a tag, so the `layout_approval` event it records names exactly the
approved crop and who approved it. A newer approval of the same video supersedes older
ones: their queued or running runs are cancelled and their versions archived, so the
newest crop wins and no stale version becomes active.
"""

import json

import dagster as dg

from captionacc_assets.defs.jobs import approved_processing_job
from captionacc_assets.defs.run_tags import EDITOR_LOCK_TAG, approval_run_tags, run_version
from captionacc_assets.defs.sensors.runs import cancel_run, in_flight_runs
from captionacc_assets.defs.sensors.settings import default_status, sensor_interval_seconds
from captionacc_assets.resources.catalog import CatalogResource

PAGE_SIZE = 500


def newest_per_video(rows: list[dict]) -> dict[str, dict]:
    newest: dict[str, dict] = {}
    for row in rows:
        if row["video_id"] not in newest or row["version"] > newest[row["video_id"]]["version"]:
            newest[row["video_id"]] = row
    return newest


def supersede_older_runs(instance: dg.DagsterInstance, video_id: str, version: int) -> list[str]:
    """Cancel the video's in-flight approval runs for older versions; their run ids."""
    cancelled = []
    for run in in_flight_runs(instance, video_id, approved_processing_job.name):
        older = run_version(run.tags)
        if older is not None and older < version:
            cancel_run(instance, run, f"superseded by the approval of cropped frames version {version}")
            cancelled.append(run.run_id)
    return cancelled


def approval_tick(
    catalog: CatalogResource, instance: dg.DagsterInstance, cursor: str | None, page_size: int = PAGE_SIZE, log=None
) -> dg.SensorResult:
    after_id = json.loads(cursor)["after_id"] if cursor else None
    rows = catalog.list_requested_versions(after_id, page_size)
    if not rows:
        return dg.SensorResult(skip_reason="no new layout approvals", cursor=cursor)
    live = [row for row in rows if row["video_deleted_at"] is None]
    tiers = catalog.tenant_tiers([row["tenant_id"] for row in live])
    newest = newest_per_video(live)
    held = catalog.databases_people_hold(list(newest))  # a run of a video being edited waits in the queue
    run_requests, cancelled, archived = [], 0, 0
    for video_id, row in newest.items():
        cancelled += len(supersede_older_runs(instance, video_id, row["version"]))
        archived += catalog.supersede_versions(video_id, row["version"])
        tags = approval_run_tags(
            row["tenant_id"], tiers[row["tenant_id"]], row["version"], row["requested_by"], row["display_path"]
        )
        if "captions" in held.get(video_id, set()):
            tags[EDITOR_LOCK_TAG] = "held"
        run_requests.append(
            dg.RunRequest(run_key=f"approval:{video_id}:{row['version']}", partition_key=video_id, tags=tags)
        )
    ignored = len(rows) - len(live)
    if run_requests and log is not None:  # the tick's log says what else it did; Dagster lists the runs
        log(
            f"{len(run_requests)} approval run(s) requested: {cancelled} superseded run(s) being cancelled, "
            f"{archived} older version(s) archived, {ignored} approval(s) of deleted videos ignored"
        )
    return dg.SensorResult(
        run_requests=run_requests,
        cursor=json.dumps({"after_id": rows[-1]["id"]}),
        skip_reason=None if run_requests else f"{ignored} approval(s) of deleted videos ignored",
    )


@dg.sensor(
    name="layout_approvals",
    job=approved_processing_job,
    minimum_interval_seconds=sensor_interval_seconds(),
    default_status=default_status(),
    description="Runs crop, inference, captions and exports for each new layout approval; the newest crop wins",
)
def layout_approvals(context: dg.SensorEvaluationContext, catalog: CatalogResource) -> dg.SensorResult:
    return approval_tick(catalog, context.instance, context.cursor, log=context.log.info)
