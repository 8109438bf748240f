"""Run a per-item sink on a worker thread, so encoding, OCR or change evidence overlaps decoding.

PyAV releases the GIL inside its codecs and onnxruntime inside a session's run, so a VP9
encoder or an OCR engine fed from a bounded queue runs beside the decoder on the second
core. The queue bound keeps memory flat.
"""

import queue
import threading
from typing import Callable

_DONE = object()


class _Abandoned(Exception):
    """Marks a sink whose producer gave up; never raised to anyone."""


class BackgroundSink:
    def __init__(self, sink: Callable[..., None], max_pending: int = 64):
        self._sink = sink
        self._queue: queue.Queue = queue.Queue(max_pending)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not _DONE:
            if self._error is None:
                try:
                    self._sink(*item)
                except BaseException as error:  # surfaced to the producer in put()/close()
                    self._error = error

    def put(self, *args) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(args)

    def close(self) -> None:
        """Wait for every queued item; re-raise the sink's first error."""
        self._queue.put(_DONE)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abandon(self) -> None:
        """End the worker without running what is still queued, for a producer that failed: its
        error is the one raised, and no thread is left waiting in a warm worker process."""
        if self._error is None:
            self._error = _Abandoned()  # the worker skips the rest
        self._queue.put(_DONE)
        self._thread.join()


class BackgroundConsumer:
    """Run `consume(items)` on a worker thread over the items `put` here, in order.

    For a second caption zone: one decode feeds both zones' classifiers, the second one
    consuming its crops beside the first. `result()` ends the items and returns its value.
    """

    def __init__(self, consume: Callable, max_pending: int = 16):
        self._queue: queue.Queue = queue.Queue(max_pending)
        self._value = None
        self._error: BaseException | None = None
        self._ended = False
        self._thread = threading.Thread(target=self._run, args=(consume,), daemon=True)
        self._thread.start()

    def _items(self):
        while (item := self._queue.get()) is not _DONE:
            yield item
        self._ended = True

    def _run(self, consume: Callable) -> None:
        try:
            self._value = consume(self._items())
        except BaseException as error:  # surfaced to the producer in put()/result()
            self._error = error
            while not self._ended and self._queue.get() is not _DONE:  # drain: the producer never blocks
                pass

    def put(self, item) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(item)

    def result(self):
        self._queue.put(_DONE)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value
