"""Looking up and cancelling the runs that touch one video (a deletion, a superseded approval).

Cancelling is two steps, so a run ends CANCELED whatever the queue daemon does meanwhile. Dagster's
`QueuedRunCoordinator.cancel_run` races the dequeuer (dagster#3323): a run it reads QUEUED may be
STARTING a moment later, and terminating a STARTING run leaves it CANCELING before its worker
starts; the worker then ignores the run and exits, and the code server marks it FAILURE.
- `cancel_run` tags the run `captionacc/cancel=requested` (limit 0 in dagster.yaml: the dequeuer,
  which reads the tags of the queued runs again on every pass, starts no such run) and stops a
  STARTED run at once;
- `finish_cancels` (each run_queue tick) cancels a run still QUEUED once it was held for
  `HOLD_BEFORE_CANCEL_S`, longer than a dequeue pass that read it before the hold lasts; stops it
  once STARTED if the dequeuer took it before the hold; and leaves a STARTING run to its worker.
"""

from datetime import datetime, timedelta, timezone

import dagster as dg

from captionacc_assets.defs.run_tags import CANCEL_REQUESTED, CANCEL_REQUESTED_AT_TAG, CANCEL_TAG, PARTITION_TAG

IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
# A dequeue pass reads the queue once, then launches up to max_concurrent_runs runs, a second or so each.
HOLD_BEFORE_CANCEL_S = 10


def in_flight_runs(instance: dg.DagsterInstance, video_id: str, job_name: str | None = None) -> list[dg.DagsterRun]:
    return list(
        instance.get_runs(
            dg.RunsFilter(
                tags={PARTITION_TAG: video_id},
                statuses=IN_FLIGHT,
                job_name=job_name,
            )
        )
    )


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(timezone.utc)


def cancel_requested(run: dg.DagsterRun) -> bool:
    return run.tags.get(CANCEL_TAG) == CANCEL_REQUESTED


def _held_at(run: dg.DagsterRun) -> datetime | None:
    try:
        held_at = datetime.fromisoformat(run.tags.get(CANCEL_REQUESTED_AT_TAG, ""))
    except ValueError:
        return None
    return held_at if held_at.tzinfo else held_at.replace(tzinfo=timezone.utc)


def _hold_tags() -> dict[str, str]:
    """The hold starts on the wall clock, never on a tick's simulated `now`."""
    return {CANCEL_TAG: CANCEL_REQUESTED, CANCEL_REQUESTED_AT_TAG: datetime.now(timezone.utc).isoformat()}


def cancel_run(instance: dg.DagsterInstance, run: dg.DagsterRun, why: str) -> str | None:
    """Hold the run for cancelling, and stop it now if it is STARTED; what `finish_cancel` did."""
    if not cancel_requested(run):
        instance.report_engine_event(why, run)
        instance.add_run_tags(run.run_id, _hold_tags())
    return finish_cancel(instance, run.run_id)


def finish_cancel(instance: dg.DagsterInstance, run_id: str, now: datetime | None = None) -> str | None:
    """Move a run held for cancelling on: "cancelled", "stopping", or None while it must wait."""
    run = instance.get_run_by_id(run_id)
    if run is None or not cancel_requested(run):
        return None
    if run.status == dg.DagsterRunStatus.STARTED:
        instance.run_launcher.terminate(run_id)  # its worker reports CANCELED once it stops
        return "stopping"
    if run.status != dg.DagsterRunStatus.QUEUED:
        return None  # NOT_STARTED/STARTING: its worker has yet to read the status; terminated once STARTED
    held_at = _held_at(run)
    if held_at is None:  # tagged by hand (e.g. in the UI): the hold starts now
        instance.add_run_tags(run_id, _hold_tags())
        return None
    if _now(now) - held_at < timedelta(seconds=HOLD_BEFORE_CANCEL_S):
        return None
    # Straight to CANCELED, not through the coordinator (which terminates a run it finds STARTING):
    # a worker that still got this run finds it finished and does not start it.
    instance.report_run_canceling(run, message="Canceling run from the queue (held for cancelling).")
    instance.report_run_canceled(run)
    return "cancelled"


def finish_cancels(instance: dg.DagsterInstance, now: datetime | None = None) -> dict[str, int]:
    """Move on every in-flight run held for cancelling; how many were cancelled and told to stop."""
    counts = {"cancelled": 0, "stopping": 0}
    for run in instance.get_runs(dg.RunsFilter(tags={CANCEL_TAG: CANCEL_REQUESTED}, statuses=IN_FLIGHT)):
        outcome = finish_cancel(instance, run.run_id, now)
        if outcome:
            counts[outcome] += 1
    return counts
