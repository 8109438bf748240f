"""Runs whose process was killed: fail them, undo their catalog state, and retry them.

A killed run would otherwise hold its video's one-run-per-video slot forever, or (when the
code server noticed and failed it) leave its stages `processing` and its editor locks held
(see `defs/run_liveness.py`). Each tick fails the dead runs, puts their stages in `error` with
a message saying so, releases the server's editor locks, sweeps the temp files they left,
and requests the same job again for the same video, with the same tags, at most
`MAX_ATTEMPTS` times in all. Runs of `captionacc process` run outside any job of this code
location: they are failed and cleaned up, and the next `captionacc process` continues them.
"""

import json
from datetime import datetime, timedelta, timezone

import dagster as dg

from captionacc_assets.defs.jobs import ALL_JOBS
from captionacc_assets.defs.run_liveness import PROCESS_TAG, RECOVERED_TAG, crashed_runs, dead_runs, recover_dead_run
from captionacc_assets.defs.run_tags import BACKFILL_TAG, EXTENTS_KEY_TAG, PARTITION_TAG
from captionacc_assets.defs.sensors.settings import default_status, sensor_interval_seconds
from captionacc_assets.compute.object_store import ObjectStore
from captionacc_assets.resources.catalog import CatalogResource

ATTEMPT_TAG = "captionacc/attempt"
RETRY_OF_TAG = "captionacc/retry_of"
MAX_ATTEMPTS = 3
FIRST_LOOK_BACK = timedelta(hours=1)  # a fresh cursor looks at the failures of the last hour
CURSOR_OVERLAP = timedelta(seconds=60)  # runs already recovered carry RECOVERED_TAG, so overlap is harmless
JOB_NAMES = {job.name for job in ALL_JOBS}
# Tags a retry must not inherit: Dagster's own run bookkeeping, the dead process, and what
# the dead run pinned after its start (the retry pins again from the catalog).
_NOT_INHERITED = (PROCESS_TAG, RECOVERED_TAG, EXTENTS_KEY_TAG, ATTEMPT_TAG, RETRY_OF_TAG, BACKFILL_TAG)


def retry_request(run: dg.DagsterRun) -> dg.RunRequest | None:
    """The same job for the same video, tagged as the dead run was; None past the attempt limit."""
    attempt = int(run.tags.get(ATTEMPT_TAG, "1"))
    if run.job_name not in JOB_NAMES or attempt >= MAX_ATTEMPTS:
        return None
    tags = {k: v for k, v in run.tags.items() if not k.startswith("dagster/") and k not in _NOT_INHERITED}
    tags.update({ATTEMPT_TAG: str(attempt + 1), RETRY_OF_TAG: run.run_id})
    if run.tags.get("dagster/priority"):
        tags["dagster/priority"] = run.tags["dagster/priority"]
    return dg.RunRequest(
        run_key=f"retry:{run.run_id}",
        job_name=run.job_name,
        partition_key=run.tags[PARTITION_TAG],
        tags=tags,
    )


def dead_run_tick(
    catalog: CatalogResource,
    storage: ObjectStore,
    instance: dg.DagsterInstance,
    cursor: str | None,
    now: datetime | None = None,
) -> dg.SensorResult:
    """Recover the runs found dead since the cursor (the last tick's time, with an overlap)."""
    now = now or datetime.now(timezone.utc)
    since = datetime.fromisoformat(json.loads(cursor)["checked_at"]) if cursor else now - FIRST_LOOK_BACK
    requests, recovered = [], []
    for run, process in dead_runs(instance) + crashed_runs(instance, since - CURSOR_OVERLAP):
        retry = retry_request(run)
        recover_dead_run(instance, catalog, storage, run, process, retried=retry is not None)
        recovered.append(run.run_id)
        if retry is not None:
            requests.append(retry)
    next_cursor = json.dumps({"checked_at": now.isoformat()})
    if not recovered:
        return dg.SensorResult(skip_reason="no run has lost its process", cursor=next_cursor)
    done = (
        f"failed and cleaned up {len(recovered)} run(s) whose process was lost, "
        f"{len(requests)} retried, {len(recovered) - len(requests)} not (past {MAX_ATTEMPTS} attempts or run "
        f"by `captionacc process`)"
    )
    return dg.SensorResult(run_requests=requests, cursor=next_cursor, skip_reason=None if requests else done)


@dg.sensor(
    name="dead_runs",
    jobs=ALL_JOBS,
    minimum_interval_seconds=sensor_interval_seconds(),
    default_status=default_status(),
    description="Fails runs whose process was killed, undoes their catalog state and locks, and retries them",
)
def dead_runs_sensor(
    context: dg.SensorEvaluationContext,
    catalog: CatalogResource,
    storage: dg.ResourceParam[ObjectStore],
) -> dg.SensorResult:
    result = dead_run_tick(catalog, storage, context.instance, context.cursor)
    if result.run_requests:
        context.log.info(
            f"retrying {len(result.run_requests)} run(s) whose process was killed: "
            f"{[request.partition_key for request in result.run_requests]}"
        )
    return result
