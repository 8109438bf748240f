"""Progress reporting and stage timing shared by the compute jobs."""

import math
import time
from contextlib import contextmanager
from typing import Callable, Iterator

Progress = Callable[[str], None]


def no_progress(message: str) -> None:
    """Default progress sink: say nothing."""


class ProgressTicker:
    """Reports `done/total` about every `every` fraction so long stages show life, and at most
    once a `min_interval_s` besides the last: each report is an event Dagster stores, ~10 ms
    of the step's own thread, and a 60 s video's 16 full frames were 16 of them."""

    def __init__(self, progress: Progress, label: str, total: int, every: float = 0.1, min_interval_s: float = 1.0):
        self.progress, self.label, self.total = progress, label, max(total, 1)
        self.step = max(1, int(self.total * every))
        self.min_interval_s = min_interval_s
        self.started = time.perf_counter()
        self._reported_at = -math.inf

    def tick(self, done: int) -> None:
        now = time.perf_counter()
        if done == self.total or (done % self.step == 0 and now - self._reported_at >= self.min_interval_s):
            self._reported_at = now
            rate = done / max(now - self.started, 1e-9)
            self.progress(f"{self.label}: {done}/{self.total} ({rate:.0f}/s)")


class Timings(dict):
    """Seconds per named step of a job, in the order they ran."""

    @contextmanager
    def measure(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self[name] = round(self.get(name, 0.0) + time.perf_counter() - start, 3)
