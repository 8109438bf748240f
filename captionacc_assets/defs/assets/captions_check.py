"""The `captions_cover_timeline` check, which both ways of writing captions.db report.

A full captions run and a run answering a person's OCR requests each publish captions.db;
each reads it back and reports whether each caption zone's rows still partition the timeline.
"""

from pathlib import Path

import dagster as dg

from captionacc_assets.core.dbs.captions_db import read_captions_db, rows_by_zone, validate_partition
from captionacc_assets.core.keys import VideoKeys

COVERAGE_CHECK = "captions_cover_timeline"


def captions_cover_timeline(storage, keys: VideoKeys, frame_count: int, work: Path) -> dg.AssetCheckResult:
    """Read the published captions.db back and check each zone's rows partition `[0, frame_count)`."""
    rows = read_captions_db(storage.get_file(keys.captions_db, work / "published-captions.db.gz"))
    zones = rows_by_zone(rows)
    try:
        validate_partition(rows, frame_count)
        problem = None
    except ValueError as error:
        problem = str(error)
    return dg.AssetCheckResult(
        check_name=COVERAGE_CHECK,
        passed=problem is None,
        metadata={
            "problem": problem or "none",
            "zone_count": len(zones),
            **{f"zone_{zone}_rows": len(zone_rows) for zone, zone_rows in zones.items()},
        },
    )
