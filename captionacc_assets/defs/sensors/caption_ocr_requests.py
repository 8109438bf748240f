"""A person's caption OCR requests -> a `requested_caption_ocr` run per video (SPEC §2, §4 step 4).

The web editor inserts a `caption_ocr_requests` row (status `requested`) after confirming or
moving a caption. Each tick reads a page of the pending rows only (index on status, id; the
cursor pages through them and starts over at the end, so a row committed late is still
found) and never opens a captions.db. Per video it requests one run naming the pending
request ids in a tag, with the same per-video lock (`dagster/partition`), tags and priority
as every run, and `run_key = caption_ocr:{video}:{newest request id}`:
- a repeated tick requests nothing twice (same key);
- a request made while a run for that video is queued or going on gets a later run, which the
  per-video tag limit holds until the video's current run ends: it waits its turn;
- the run claims its requests atomically (`requested` -> `processing`), so a request named by
  two runs is answered once.
While a person holds the video's `captions` lock, its requests wait here (no run holds a slot
for them); a deleted video's requests are closed with an error.
"""

import json
from collections import defaultdict

import dagster as dg

from captionacc_assets.defs.editor_locks import SERVER_HOLDER
from captionacc_assets.defs.jobs import requested_caption_ocr_job
from captionacc_assets.defs.run_tags import caption_ocr_run_tags
from captionacc_assets.defs.sensors.settings import default_status, sensor_interval_seconds
from captionacc_assets.resources.catalog import CatalogResource

PAGE_SIZE = 500
MAX_REQUESTS_PER_RUN = 100  # keeps the run tag short; more requests get further runs


def deleted_video_message(video_id: str) -> str:
    return f"video {video_id!r} was deleted: its caption OCR request is not answered"


def caption_ocr_request_tick(
    catalog: CatalogResource, cursor: str | None, page_size: int = PAGE_SIZE
) -> dg.SensorResult:
    after_id = json.loads(cursor)["after_id"] if cursor else None
    rows = catalog.list_pending_caption_ocr_requests(after_id, page_size)
    next_cursor = json.dumps({"after_id": rows[-1]["id"]}) if len(rows) == page_size else None
    by_video: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_video[row["video_id"]].append(row)
    waiting, closed = [], []
    run_requests = []
    tiers = catalog.tenant_tiers([row["tenant_id"] for row in rows])
    for video_id, requests in by_video.items():
        if requests[0]["video_deleted_at"] is not None:
            catalog.finish_caption_ocr_requests([r["id"] for r in requests], "error", deleted_video_message(video_id))
            catalog.set_stage_status(video_id, "text", "error", deleted_video_message(video_id))
            closed.append(video_id)
            continue
        holder = catalog.lock_holder(video_id, "captions")
        if holder is not None and holder != SERVER_HOLDER:
            waiting.append(f"{video_id} (captions locked by {holder!r})")
            continue
        for start in range(0, len(requests), MAX_REQUESTS_PER_RUN):
            batch = requests[start : start + MAX_REQUESTS_PER_RUN]
            run_requests.append(
                dg.RunRequest(
                    run_key=f"caption_ocr:{video_id}:{batch[-1]['id']}",
                    partition_key=video_id,
                    tags=caption_ocr_run_tags(
                        batch[0]["tenant_id"],
                        tiers[batch[0]["tenant_id"]],
                        [r["id"] for r in batch],
                        batch[-1]["requested_by"],
                    ),
                )
            )
    if run_requests:
        return dg.SensorResult(run_requests=run_requests, cursor=next_cursor)
    reasons = [f"waiting for the editor: {', '.join(waiting)}"] if waiting else []
    reasons += [f"closed the requests of deleted videos {closed}"] if closed else []
    return dg.SensorResult(skip_reason="; ".join(reasons) or "no pending caption OCR requests", cursor=next_cursor)


@dg.sensor(
    name="caption_ocr_requests",
    job=requested_caption_ocr_job,
    minimum_interval_seconds=sensor_interval_seconds(),
    default_status=default_status(),
    description="Runs caption OCR for just the captions a person asked for in the editor",
)
def caption_ocr_requests(context: dg.SensorEvaluationContext, catalog: CatalogResource) -> dg.SensorResult:
    return caption_ocr_request_tick(catalog, context.cursor)
