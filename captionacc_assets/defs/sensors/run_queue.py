"""The run queue as SPEC §5 wants it: every queued per-video run tagged, aged and alive.

Each tick looks at the queued runs (whoever launched them: a sensor, the UI, a backfill):
- fills in `tenant`, `tier` and `trigger` when missing (UI launches and backfills lack them);
- raises `dagster/priority` to base(tier) + one point per hour waited (capped at +20), so a
  free video that has waited 20 h ties with a fresh premium one and is never starved;
- cancels queued runs of videos that were deleted meanwhile, in two ticks: one holds the run
  (`captionacc/cancel=requested`, limit 0), a later one cancels it while it is still queued, so the
  dequeuer cannot be launching it (`runs.py`); runs the dequeuer took first are stopped once STARTED;
- holds back (tag `captionacc/editor_lock=held`, limit 0 in dagster.yaml) the queued runs of a video
  while a person holds the database the run's job writes, so they take no run slot, and lets them go
  (`free`) once the lock is released or expires.
The queued run coordinator reads the tags again on every dequeue pass, so a raise or a hold takes
effect on its next pass (it re-reads only the status between choosing a run and launching it).
"""

from datetime import datetime, timezone

import dagster as dg

from captionacc_assets.defs.run_tags import EDITOR_LOCK_TAG, PARTITION_TAG, PRIORITY_TAG, wanted_video_tags
from captionacc_assets.defs.sensors.runs import cancel_requested, cancel_run, finish_cancels
from captionacc_assets.defs.sensors.settings import default_status, sensor_interval_seconds
from captionacc_assets.resources.catalog import CatalogResource

MAX_QUEUED_RUNS_PER_TICK = 2000
COMPUTE_POOL = "modal_compute"  # the pool of the assets that call Modal (limit: dagster.yaml concurrency.pools)


def _as_int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def tag_changes(tags, tenant: str, tier: str, waited_hours: float, file_name: str | None = None) -> dict[str, str]:
    """The tags to add to a queued run; priority only ever rises."""
    wanted = wanted_video_tags(tags, tenant, tier, waited_hours, file_name)
    if int(wanted[PRIORITY_TAG]) <= _as_int(tags.get(PRIORITY_TAG), -1):
        wanted.pop(PRIORITY_TAG), wanted.pop("priority")
    return {key: value for key, value in wanted.items() if tags.get(key) != value}


# The database each job writes, which a person's lock on it must hold back.
JOB_DATABASES = {"initial_processing": "layout", "approved_processing": "captions", "requested_caption_ocr": "captions"}


def editor_lock_tag(run: dg.DagsterRun, held_databases: set[str]) -> str | None:
    """ "held" while a person holds the run's database, "free" once they let go, None if never held."""
    if JOB_DATABASES.get(run.job_name) in held_databases:
        return "held"
    return "free" if run.tags.get(EDITOR_LOCK_TAG) == "held" else None


def run_queue_tick(catalog: CatalogResource, instance: dg.DagsterInstance, now: datetime | None = None) -> dict:
    """Tag, age and prune the queued runs; counts of what was done."""
    now = now or datetime.now(timezone.utc)
    records = [
        r
        for r in instance.get_run_records(
            dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED]),
            limit=MAX_QUEUED_RUNS_PER_TICK,
            ascending=True,  # the longest-waiting first: they are the ones aging matters for
        )
        if r.dagster_run.tags.get(PARTITION_TAG)
    ]
    videos = catalog.get_videos([r.dagster_run.tags[PARTITION_TAG] for r in records])
    tiers = catalog.tenant_tiers([v["tenant_id"] for v in videos.values()])
    held = catalog.databases_people_hold(list(videos))
    counts = {"queued": len(records), "retagged": 0, "held_to_cancel": 0, **finish_cancels(instance, now), "held": 0}
    for record in records:
        run = record.dagster_run
        if cancel_requested(run):
            continue  # held to cancel: `finish_cancels` has it
        video = videos.get(run.tags[PARTITION_TAG])
        if video is None or video["deleted_at"] is not None:
            cancel_run(instance, run, f"video {run.tags[PARTITION_TAG]} is deleted or unknown: nothing runs for it")
            counts["held_to_cancel"] += 1  # a later tick's `finish_cancels` cancels it
            continue
        created = record.create_timestamp
        created = created if created.tzinfo else created.replace(tzinfo=timezone.utc)
        waited_hours = max((now - created).total_seconds() / 3600, 0.0)
        changes = tag_changes(
            run.tags, video["tenant_id"], tiers[video["tenant_id"]], waited_hours, video["display_path"]
        )
        lock = editor_lock_tag(run, held.get(video["id"], set()))
        counts["held"] += lock == "held"
        if lock is not None and run.tags.get(EDITOR_LOCK_TAG) != lock:
            changes[EDITOR_LOCK_TAG] = lock
        if changes:
            instance.add_run_tags(run.run_id, changes)
            counts["retagged"] += 1
    return counts


def pool_usage(instance: dg.DagsterInstance, pool: str = COMPUTE_POOL) -> str:
    """The pool's limit and use, as the tick message shows it: why a started run's step may wait."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return f"pool {pool}: not enforced by this instance's storage"
    info = storage.get_concurrency_info(pool)
    limit = info.limit if info.limit is not None else info.slot_count
    return (
        f"pool {pool}: {info.active_slot_count} of {limit} slot(s) in use, "
        f"{info.pending_step_count} step(s) waiting for one"
    )


@dg.sensor(
    name="run_queue",
    minimum_interval_seconds=sensor_interval_seconds(),
    default_status=default_status(),
    description="Tags every queued per-video run, ages its priority (SPEC §5), and drops runs of deleted videos",
)
def run_queue(context: dg.SensorEvaluationContext, catalog: CatalogResource) -> dg.SkipReason:
    counts = run_queue_tick(catalog, context.instance)
    return dg.SkipReason(
        f"{counts['queued']} queued run(s): {counts['retagged']} retagged, "
        f"{counts['held_to_cancel']} held to cancel, {counts['cancelled']} cancelled, "
        f"{counts['stopping']} started one(s) told to stop, {counts['held']} held back while a person edits; "
        f"{pool_usage(context.instance)}"
    )
