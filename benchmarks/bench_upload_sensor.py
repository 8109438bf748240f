"""Time the upload sensor's ticks over a catalog of N videos (default 10,000), on SQLite.

Fills a fresh catalog with one bulk INSERT, then runs ticks from an empty cursor until the
cursor stops moving, timing each. A tick reads at most MAX_PAGES_PER_TICK pages, so its time
does not grow with the catalog.

    .venv/bin/python benchmarks/bench_upload_sensor.py --videos 10000
    .venv/bin/python benchmarks/bench_upload_sensor.py --videos 10000 --burst   # all within the settle window
"""

import argparse
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from captionacc_assets.defs.sensors.uploads import upload_tick
from captionacc_assets.resources.catalog import CatalogResource


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--videos", type=int, default=10_000)
    parser.add_argument(
        "--burst",
        action="store_true",
        help="all uploaded in the last seconds (not yet settled: every tick re-reads them)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        catalog = CatalogResource(url=f"sqlite:///{Path(work) / 'catalog.sqlite'}")
        catalog.ensure_schema()
        catalog.upsert_tenant("bench")
        start = (
            datetime.now(timezone.utc) - timedelta(seconds=30)
            if args.burst
            else datetime(2026, 1, 1, tzinfo=timezone.utc)
        )
        with catalog._write() as conn:  # one bulk insert: setup, not what is measured
            conn.execute(
                catalog.tables.videos.insert(),
                [
                    {
                        "id": f"v{i:06d}",
                        "tenant_id": "bench",
                        "storage_key": f"bench/client/videos/v{i:06d}/video.mp4",
                        "uploaded_at": start + timedelta(milliseconds=i),
                        "size_bytes": 1,
                    }
                    for i in range(args.videos)
                ],
            )
        cursor, seconds, requested = None, [], 0
        while True:
            t0 = time.perf_counter()
            result = upload_tick(catalog, cursor)
            seconds.append(time.perf_counter() - t0)
            requested += len(result.run_requests)
            if result.cursor == cursor:
                break
            cursor = result.cursor
        print(
            f"{args.videos} videos{' (burst)' if args.burst else ''}: {len(seconds)} ticks, {requested} run requests, "
            f"slowest tick {max(seconds):.3f} s, median {sorted(seconds)[len(seconds) // 2]:.3f} s"
        )


if __name__ == "__main__":
    main()
