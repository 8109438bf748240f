"""A light code location for the queue tests: the real sensors, jobs, partitions and tags,
with asset bodies that only record when they ran (and wait at a gate when the test says so).

The real pipeline takes seconds of OCR per video; the queue, sensors and daemon do not care
what the steps compute, so these steps are instant unless a gate file holds them. The approval
step is shaped like `captions_db` where the queue cares: it takes a `modal_compute` pool slot, waits
for a person's captions lock outside that slot and writes under the lock, and answers caption OCR
requests (claims them, records which) when its run names some.
Env: CAPTIONACC_HOME (the catalog), LIGHT_WORK_DIR (run log `runs.jsonl`, gate files `gates/{video}`).
"""

import json
import os
import time
from pathlib import Path

import dagster as dg

from captionacc_assets.defs.editor_locks import editor_lock, wait_for_person_outside_pool
from captionacc_assets.defs.jobs import ALL_JOBS, APPROVAL_SELECTION, INITIAL_SELECTION
from captionacc_assets.defs.partitions import videos_partitions
from captionacc_assets.defs.run_tags import requested_ocr_ids
from captionacc_assets.defs.sensors import ALL_SENSORS
from captionacc_assets.resources.catalog import CatalogResource
from captionacc_assets.resources.storage import LocalStorageResource
from captionacc_assets.settings import local_paths


def work_dir() -> Path:
    return Path(os.environ["LIGHT_WORK_DIR"])


def record_run(context: dg.AssetExecutionContext, stage: str, **extra) -> None:
    """Log start and end of the step; hold at `gates/{video}` while that file exists."""
    video_id = context.partition_key
    started = time.time()
    gate = work_dir() / "gates" / video_id
    while gate.exists():
        time.sleep(0.1)
    line = {
        "run_id": context.run_id,
        "video": video_id,
        "stage": stage,
        "start": started,
        "end": time.time(),
        "tags": dict(context.run.tags),
        **extra,
    }
    with open(work_dir() / "runs.jsonl", "a") as log:
        log.write(json.dumps(line) + "\n")


@dg.multi_asset(partitions_def=videos_partitions, specs=[dg.AssetSpec(k) for k in INITIAL_SELECTION])
def light_initial(context: dg.AssetExecutionContext, catalog: CatalogResource):
    catalog.require_video(context.partition_key)
    record_run(context, "initial")
    for key in INITIAL_SELECTION:
        yield dg.MaterializeResult(asset_key=key)


@dg.multi_asset(
    partitions_def=videos_partitions,
    specs=[dg.AssetSpec(k) for k in APPROVAL_SELECTION],
    can_subset=True,
    pool="modal_compute",
)
def light_approved(context: dg.AssetExecutionContext, catalog: CatalogResource):
    video_id = context.partition_key
    catalog.require_video(video_id)
    before_lock_check = work_dir() / "gates" / f"{video_id}.before-lock"  # lets a test lock the video mid-run
    while before_lock_check.exists():
        time.sleep(0.1)
    wait_for_person_outside_pool(context, catalog, video_id, "captions")
    with editor_lock(catalog, video_id, "captions", context.log.info):
        if requested_ocr_ids(context.run.tags):
            claimed = [
                r["id"]
                for r in catalog.claim_caption_ocr_requests(
                    video_id, requested_ocr_ids(context.run.tags), context.run_id
                )
            ]
            record_run(context, "caption_ocr", answered=claimed)
            catalog.finish_caption_ocr_requests(claimed, "completed")
        else:
            record_run(context, "approval")
    for key in context.selected_asset_keys:
        yield dg.MaterializeResult(asset_key=key)


defs = dg.Definitions(
    assets=[light_initial, light_approved],
    jobs=ALL_JOBS,
    sensors=ALL_SENSORS,
    resources={
        "catalog": CatalogResource(url=local_paths().catalog_url),
        "storage": LocalStorageResource(root=str(local_paths().storage_root)),
    },
    executor=dg.in_process_executor,
)
