"""Server jobs respect the web editor's locks (SPEC §4 `video_database_state`).

Before a job writes `layout.db` or `captions.db` it takes that database's lock as the
server. While a person holds it, the job waits and retries with exponential backoff,
logging who holds it, instead of overwriting their work. Waiting longer than the limit
fails the run with a message that says who holds the lock: never a silent failure.
Only one run touches a video at a time (the run-queue tag limit), so all server runs
share one holder id and a crashed run's lock is simply taken over by the next run.
"""

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

from captionacc_assets.core.errors import InputError
from captionacc_assets.resources.catalog import CatalogResource
from captionacc_assets.core.stages import STAGE_OF_DATABASE

SERVER_HOLDER = "captionacc-server"


@dataclass(frozen=True)
class LockWaitPolicy:
    first_delay_s: float = 5.0
    max_delay_s: float = 300.0
    max_wait_s: float = 4 * 3600.0

    @classmethod
    def from_env(cls) -> "LockWaitPolicy":
        """`CAPTIONACC_LOCK_RETRY_S` (first delay, doubling up to `CAPTIONACC_LOCK_RETRY_MAX_S`), `CAPTIONACC_LOCK_WAIT_MAX_S`."""
        env = os.environ.get
        return cls(
            float(env("CAPTIONACC_LOCK_RETRY_S", cls.first_delay_s)),
            float(env("CAPTIONACC_LOCK_RETRY_MAX_S", cls.max_delay_s)),
            float(env("CAPTIONACC_LOCK_WAIT_MAX_S", cls.max_wait_s)),
        )

    def delays(self) -> Iterator[float]:
        """Exponential backoff delays that together stay within `max_wait_s`."""
        waited, delay = 0.0, self.first_delay_s
        while waited < self.max_wait_s:
            step = min(delay, self.max_wait_s - waited)
            yield step
            waited += step
            delay = min(delay * 2, self.max_delay_s)


class EditorLockHeld(InputError):
    """A person kept the lock for longer than the job waits; their message says who and what to do."""


def held_too_long(database_name: str, video_id: str, holder: str, waited_s: float) -> str:
    """What a person reads when a server job gave up waiting for their lock: who, and what to do."""
    return (
        f"the {database_name} database of video {video_id!r} has been locked by {holder!r} in the editor "
        f"for over {waited_s:.0f} s; ask them to finish or release it (it expires 30 min after their last "
        f"activity), then re-run this stage"
    )


@contextmanager
def editor_lock(
    catalog: CatalogResource,
    video_id: str,
    database_name: str,
    log: Callable[[str], None],
    policy: LockWaitPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold `database_name`'s lock as the server for the block, waiting for a person to release it."""
    policy = policy or LockWaitPolicy.from_env()
    waited = 0.0
    delays = policy.delays()
    while not catalog.acquire_lock(video_id, database_name, SERVER_HOLDER, lock_type="server"):
        holder = catalog.lock_holder(video_id, database_name) or "someone"
        delay = next(delays, None)
        if delay is None:
            raise EditorLockHeld(held_too_long(database_name, video_id, holder, waited))
        log(
            f"the {database_name} database of video {video_id} is locked by {holder!r} in the editor; "
            f"retrying in {delay:.0f} s (waited {waited:.0f} s)"
        )
        sleep(delay)
        waited += delay
    try:
        yield
    finally:
        catalog.release_lock(video_id, database_name, SERVER_HOLDER)


def wait_for_person_outside_pool(
    context,
    catalog: CatalogResource,
    video_id: str,
    database_name: str,
    policy: LockWaitPolicy | None = None,
) -> None:
    """Call first in a pooled step that will take `database_name`'s lock: while a person holds it,
    the step hands its `modal_compute` slot back and is retried later (`RetryRequested`), so a video
    a person is editing never holds compute capacity that other videos could use.

    The delays follow the same backoff as `editor_lock`, one per retry; once they are used up
    the stage fails saying who holds the lock. A lock taken in the moment between this check
    and the step's `editor_lock` is waited for there, as before.
    """
    import dagster as dg

    holder = catalog.lock_holder(video_id, database_name)
    if holder is None or holder == SERVER_HOLDER:
        return
    policy = policy or LockWaitPolicy.from_env()
    delays = list(policy.delays())
    attempt = context.retry_number
    if attempt >= len(delays):
        message = held_too_long(database_name, video_id, holder, policy.max_wait_s)
        catalog.set_stage_status(video_id, STAGE_OF_DATABASE[database_name], "error", message)
        raise dg.Failure(description=message, allow_retries=False)
    context.log.info(
        f"the {database_name} database of video {video_id} is locked by {holder!r} in the editor; giving back "
        f"the compute slot and retrying in {delays[attempt]:.0f} s (attempt {attempt + 1} of {len(delays)})"
    )
    raise dg.RetryRequested(max_retries=len(delays), seconds_to_wait=delays[attempt])
