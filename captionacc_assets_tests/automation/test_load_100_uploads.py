"""Load: 100 uploads at once through the real sensors, queue and daemon; each processed exactly once.

The throughput it prints is recorded in docs/benchmarks.md (it is not asserted: no timed tests).
"""

import time

import dagster as dg
import pytest

from captionacc_assets_tests.automation.daemon import wait_for

pytestmark = pytest.mark.timeout(900)


def test_load_100_uploads_at_once_are_each_processed_exactly_once(daemon):
    ids = [f"load-{i:03d}" for i in range(100)]
    started = time.monotonic()
    for video_id in ids:
        daemon.upload(video_id)
    wait_for(
        lambda: all(daemon.runs(v, "initial_processing", [dg.DagsterRunStatus.SUCCESS]) for v in ids),
        800,
        "all 100 uploads processed",
        every_s=1,
    )
    seconds = time.monotonic() - started
    records = [r for r in daemon.recorded() if r["video"] in ids]
    assert sorted(r["video"] for r in records) == ids  # each exactly once, none lost
    assert all(len(daemon.runs(v)) == 1 for v in ids)
    print(f"\nload: 100 uploads processed in {seconds:.1f} s = {100 / seconds:.2f} videos/s")
