"""Progress reporting and stage timing shared by the compute jobs."""

import time
from contextlib import contextmanager
from typing import Callable, Iterator

Progress = Callable[[str], None]


def no_progress(message: str) -> None:
    """Default progress sink: say nothing."""


class ProgressTicker:
    """Reports `done/total` about every `every` fraction so long stages show life."""

    def __init__(self, progress: Progress, label: str, total: int, every: float = 0.1):
        self.progress, self.label, self.total = progress, label, max(total, 1)
        self.step = max(1, int(self.total * every))
        self.started = time.perf_counter()

    def tick(self, done: int) -> None:
        if done % self.step == 0 or done == self.total:
            rate = done / max(time.perf_counter() - self.started, 1e-9)
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
