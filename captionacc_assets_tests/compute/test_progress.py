"""Progress reports: about every tenth, at most once a second, and always the last."""

import time

from captionacc_assets.compute.progress import ProgressTicker


def test_quick_ticks_report_at_most_once_an_interval_and_always_the_last():
    said: list[str] = []
    ticker = ProgressTicker(said.append, "full frames + OCR", 16, min_interval_s=60.0)
    for done in range(1, 17):
        ticker.tick(done)
    assert [line.split(" (")[0] for line in said] == ["full frames + OCR: 1/16", "full frames + OCR: 16/16"]


def test_slow_ticks_report_every_tenth():
    said: list[str] = []
    ticker = ProgressTicker(said.append, "crop + extents", 100, min_interval_s=0.01)
    for done in range(1, 101):
        if done % 10 == 0:
            time.sleep(0.012)
        ticker.tick(done)
    assert [line.split(" (")[0].split(": ")[1] for line in said] == [f"{k}/100" for k in range(10, 101, 10)]
