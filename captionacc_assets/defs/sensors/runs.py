"""Looking up and cancelling the runs that touch one video (a deletion, a superseded approval)."""

import dagster as dg

from captionacc_assets.defs.run_tags import PARTITION_TAG

IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


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


def cancel_run(instance: dg.DagsterInstance, run: dg.DagsterRun, why: str) -> None:
    """Cancel a queued run at once, or ask a started one to stop (the run coordinator decides how)."""
    instance.report_engine_event(why, run)
    instance.run_coordinator.cancel_run(run.run_id)
