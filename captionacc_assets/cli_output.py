"""What `captionacc process` shows while it works: one progress bar per stage, and Dagster's own
log lines in `$CAPTIONACC_HOME/logs/process.log` instead of the terminal (`--verbose` prints them).

The bars are driven by the run's log records, as Dagster's loggers receive them: a step's start
and end, and the compute jobs' progress lines (`full frames + OCR: 40/120 (12/s)`).
"""

import logging
import re
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import dagster as dg
from dagster._core.log_manager import LOG_RECORD_METADATA_ATTR
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

TICK = re.compile(r"^(?P<label>.+): (?P<done>\d+)/(?P<total>\d+) \(")
STEP_ENDS = {"STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"}


class _StageBar(logging.Handler):
    """A stage's bar: each of its steps is an equal share; a step's progress lines fill its share."""

    def __init__(self, progress: Progress, stage: str, steps: int):
        super().__init__(logging.INFO)
        self.progress, self.stage, self.steps = progress, stage, max(steps, 1)
        self.task = progress.add_task(stage, total=100.0, step="starting")
        self.done_steps, self.step_fraction = 0, 0.0

    def _show(self, step: str) -> None:
        share = (self.done_steps + min(self.step_fraction, 1.0)) / self.steps
        self.progress.update(self.task, completed=100.0 * min(share, 1.0), step=step)

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, LOG_RECORD_METADATA_ATTR, None) or {}
        event, step = meta.get("dagster_event"), meta.get("step_key") or ""
        kind = event.event_type_value if event is not None else None
        if kind == "STEP_START":
            self.step_fraction = 0.0
            self._show(step)
        elif kind in STEP_ENDS:
            self.done_steps, self.step_fraction = self.done_steps + 1, 0.0
            self._show(step if kind != "STEP_SUCCESS" else f"{step} done")
        elif (tick := TICK.match(meta.get("orig_message") or "")) is not None:
            self.step_fraction = int(tick["done"]) / max(int(tick["total"]), 1)
            self._show(f"{step}: {tick['label']} {tick['done']}/{tick['total']}")

    def finish(self, ok: bool) -> None:
        if ok:
            self.progress.update(self.task, completed=100.0, step="done")


class ProcessOutput:
    """Routes each stage's Dagster logs to the log file and its bar (or, verbose, to the terminal)."""

    def __init__(self, log_path: Path, verbose: bool):
        self.log_path, self.verbose = log_path, verbose
        self.bar: _StageBar | None = None
        self.file_handler: logging.Handler | None = None
        if not verbose:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            self.file_handler = logging.FileHandler(log_path, encoding="utf-8")
            self.file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))

    def loggers(self) -> dict[str, dg.LoggerDefinition] | None:
        """The run's loggers: None keeps Dagster's console logger (verbose)."""
        if self.verbose:
            return None
        output = self

        @dg.logger(None, description="captionacc process: log file and progress bar")
        def captionacc_process(_init_context) -> logging.Logger:
            logger = logging.Logger("captionacc.process", level=logging.DEBUG)
            if output.file_handler is not None:
                logger.addHandler(output.file_handler)
            logger.addHandler(_Forward(output))
            return logger

        return {"console": captionacc_process}

    @contextmanager
    def stage(self, name: str, steps: int) -> Iterator[None]:
        """A bar for the stage while it runs (none when verbose: the log lines are the progress)."""
        if self.verbose:
            yield
            return
        console = Console(file=sys.stdout)
        columns = (
            TextColumn("  {task.description:<20}"),
            BarColumn(bar_width=30),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[step]}"),
        )
        with Progress(*columns, console=console, transient=console.is_terminal) as progress:
            self.bar = _StageBar(progress, name, steps)
            try:
                yield
            finally:
                self.bar = None

    def close(self) -> None:
        if self.file_handler is not None:
            self.file_handler.close()


class _Forward(logging.Handler):
    def __init__(self, output: ProcessOutput):
        super().__init__(logging.DEBUG)
        self.output = output

    def emit(self, record: logging.LogRecord) -> None:
        if self.output.bar is not None:
            self.output.bar.emit(record)


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    """A plain aligned table (greppable, and the same on a terminal and in a pipe)."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    for line in [headers, ["-" * w for w in widths], *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip())
