"""New uploads -> a `videos` partition and an initial-processing run, in one tick.

The cursor is JSON: the `(uploaded_at, id)` position up to which the catalog is settled,
plus the ids already requested after it. A video's `uploaded_at` can be earlier than the
moment its row becomes visible (a web app's transaction commits later than it began), so
the position only moves past rows older than `SETTLE_S`; newer rows are re-read on the
next ticks and skipped by id, and a late row is still found. Each tick reads at most a
page budget of new rows, so it stays short however many videos the catalog holds.
`run_key = upload:{video}` makes a repeated tick or a reset cursor request nothing twice.
"""

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import dagster as dg

from captionacc_assets.defs.jobs import initial_processing_job
from captionacc_assets.defs.partitions import videos_partitions
from captionacc_assets.defs.run_tags import video_run_tags
from captionacc_assets.defs.sensors.settings import default_status, sensor_interval_seconds
from captionacc_assets.resources.catalog import CatalogResource

PAGE_SIZE = 250
MAX_NEW_PER_TICK = 500
TICK_BUDGET_S = 3.0
SETTLE_S = 120.0


@dataclass
class UploadCursor:
    settled: tuple[str, str] | None = None  # (uploaded_at iso, id): every row up to here was seen
    recent: set[str] = field(default_factory=set)  # ids seen after `settled`

    @classmethod
    def parse(cls, cursor: str | None) -> "UploadCursor":
        if not cursor:
            return cls()
        data = json.loads(cursor)
        settled = tuple(data["settled"]) if data.get("settled") else None
        return cls(settled, set(data.get("recent", ())))

    def dump(self) -> str:
        return json.dumps({"settled": list(self.settled) if self.settled else None, "recent": sorted(self.recent)})


def should_start(row: dict) -> bool:
    """Not deleted, and nobody has started its initial processing (e.g. `captionacc process`)."""
    return row["deleted_at"] is None and row["layout_status"] == "wait"


def read_new_rows(
    catalog: CatalogResource, cursor: UploadCursor, page_size: int, max_new: int, budget_s: float
) -> list[dict]:
    """Rows after the settled position, up to `max_new` not seen yet (the recent ones come along)."""
    started, after, rows = time.monotonic(), cursor.settled, []
    while True:
        page = catalog.list_new_videos(after, page_size)
        rows.extend(page)
        new_count = sum(1 for row in rows if row["id"] not in cursor.recent)
        if len(page) < page_size or new_count >= max_new or time.monotonic() - started > budget_s:
            return rows
        after = (page[-1]["uploaded_at"].isoformat(), page[-1]["id"])


def upload_tick(
    catalog: CatalogResource,
    cursor: str | None,
    *,
    now: datetime | None = None,
    page_size: int = PAGE_SIZE,
    max_new: int = MAX_NEW_PER_TICK,
    budget_s: float = TICK_BUDGET_S,
    settle_s: float = SETTLE_S,
) -> dg.SensorResult:
    state = UploadCursor.parse(cursor)
    rows = read_new_rows(catalog, state, page_size, max_new, budget_s)
    new_rows = [row for row in rows if row["id"] not in state.recent]
    horizon = (now or datetime.now(timezone.utc)) - timedelta(seconds=settle_s)
    next_state = UploadCursor(state.settled, state.recent | {row["id"] for row in new_rows})
    settled_rows = [row for row in rows if row["uploaded_at"] <= horizon]  # rows are in (uploaded_at, id) order
    if settled_rows:
        last = settled_rows[-1]
        next_state.settled = (last["uploaded_at"].isoformat(), last["id"])
        next_state.recent -= {row["id"] for row in settled_rows}
    startable = [row for row in new_rows if should_start(row)]
    tiers = catalog.tenant_tiers([row["tenant_id"] for row in startable])
    passed = len(new_rows) - len(startable)
    return dg.SensorResult(
        skip_reason=None
        if startable
        else (
            f"no new uploads to start: {passed} new video(s) already started (e.g. by `captionacc process`) or deleted"
            if passed
            else "no new uploads"
        ),
        dynamic_partitions_requests=[videos_partitions.build_add_request([r["id"] for r in startable])]
        if startable
        else [],
        run_requests=[
            dg.RunRequest(
                run_key=f"upload:{row['id']}",
                partition_key=row["id"],
                tags=video_run_tags(row["tenant_id"], tiers[row["tenant_id"]], "upload", file_name=row["display_path"]),
            )
            for row in startable
        ],
        cursor=next_state.dump(),
    )


@dg.sensor(
    name="new_uploads",
    job=initial_processing_job,
    minimum_interval_seconds=sensor_interval_seconds(),
    default_status=default_status(),
    description="Adds a partition for each new upload and requests its initial processing",
)
def new_uploads(context: dg.SensorEvaluationContext, catalog: CatalogResource) -> dg.SensorResult:
    result = upload_tick(catalog, context.cursor)
    if result.run_requests:
        context.log.info(
            f"added {len(result.run_requests)} video partition(s) and requested their initial processing: "
            f"{[request.partition_key for request in result.run_requests]}"
        )
    return result
