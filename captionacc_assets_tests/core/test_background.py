"""The worker threads that overlap encoding and OCR with decoding."""

import threading

import pytest

from captionacc_assets.core.background import BackgroundSink


def test_close_runs_every_item_in_order_and_raises_the_sinks_first_error():
    seen = []
    sink = BackgroundSink(lambda item: seen.append(item), max_pending=2)
    for item in range(5):
        sink.put(item)
    sink.close()
    assert seen == [0, 1, 2, 3, 4]

    def failing(item):
        raise ValueError(f"bad {item}")

    broken = BackgroundSink(failing)
    broken.put(1)
    with pytest.raises(ValueError, match="bad 1"):
        broken.close()


def test_abandon_ends_the_worker_without_running_what_is_queued():
    started, release, seen = threading.Event(), threading.Event(), []

    def slow(item):
        started.set()
        release.wait(5)
        seen.append(item)

    sink = BackgroundSink(slow, max_pending=4)
    sink.put("running")
    assert started.wait(5)
    sink.put("queued 1")
    sink.put("queued 2")
    threading.Timer(0.2, release.set).start()  # the running item ends after abandon() has begun
    sink.abandon()  # the producer failed: its error, not the sink's, is the one raised
    assert not sink._thread.is_alive()
    assert seen == ["running"]
