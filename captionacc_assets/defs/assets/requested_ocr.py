"""`captions_db` in "requested OCR" mode: answer a person's caption OCR requests.

A `requested_caption_ocr` run names its requests in the `captionacc/caption_ocr_requests` tag;
`captions_db` hands such a run to `materialize_requested_ocr`. It stays a materialization of
`captions_db` (the lineage shows each change of the published captions.db, with who asked
for it) and its exports follow in the same run.

The run claims the requests (`processing`), marks `text` processing, answers them through
`jobs.requested_caption_ocr` (captions lock, current version's cropped frames, optimistic
publish), then closes each request `completed` or `error` with its reason. `text` ends in
`annotate`, or `error` with the reasons of the requests it could not answer (SPEC §4 step 4).
"""

from functools import partial

import dagster as dg

from captionacc_assets.core.errors import InputError
from captionacc_assets.defs.assets.captions_check import captions_cover_timeline
from captionacc_assets.defs.editor_locks import editor_lock, wait_for_person_outside_pool
from captionacc_assets.defs.run_tags import requested_ocr_ids
from captionacc_assets.defs.sensors.dead_runs import RETRY_OF_TAG
from captionacc_assets.defs.stage import progress_logger, recorded_stage, run_video, scratch_dir, video_keys
from captionacc_assets.compute.object_store import ObjectStore
from captionacc_assets.compute.requested_caption_ocr import OcrRequest, RequestedOcrResult, answer_requests
from captionacc_assets.resources.catalog import CatalogResource
from captionacc_assets.resources.compute import ComputeResource


def answer_claimed(
    context: dg.AssetExecutionContext,
    catalog: CatalogResource,
    storage: ObjectStore,
    compute: ComputeResource,
    requests: list[dict],
) -> RequestedOcrResult:
    video_id = context.partition_key
    log = progress_logger(context)
    with recorded_stage(catalog, video_id, "text"), scratch_dir() as work:
        row = run_video(context, catalog)
        keys = video_keys(row)
        version = row["current_cropped_frames_version"]
        if version is None:
            raise InputError(
                f"video {video_id!r} has no captions yet: approve its layout and wait for "
                f"captions_db before asking for a caption's OCR"
            )
        return answer_requests(
            storage,
            keys,
            [OcrRequest.from_row(r) for r in requests],
            hold_lock=partial(editor_lock, catalog, video_id, "captions", log),
            read=lambda zone, spans: compute.caption_ocr_spans(
                storage, keys, version, spans, work / f"spans-zone{zone}", log, zone=zone
            ),
            work_dir=work,
            progress=log,
        )


def close_requests(
    catalog: CatalogResource, video_id: str, requests: list[dict], result: RequestedOcrResult
) -> list[str]:
    """Each request `completed` or `error`; a caption moved while it was read is asked for again."""
    catalog.finish_caption_ocr_requests(result.accepted, "completed")
    problems = []
    for request_id, why in result.rejected.items():
        catalog.finish_caption_ocr_requests([request_id], "error", why)
        problems.append(why)
    by_id = {r["id"]: r for r in requests}
    for caption_id, span in result.moved.items():
        if span is None:
            problems.append(f"caption {caption_id} was deleted while its OCR ran: nothing was written for it")
            continue
        again = catalog.request_caption_ocr(
            video_id,
            caption_ids=[caption_id],
            requested_by=next(
                (r["requested_by"] for r in by_id.values() if caption_id in (r["caption_ids"] or [])), None
            ),
        )
        problems.append(
            f"caption {caption_id} moved to {list(span)} while its OCR ran; request {again['id']} reads it again"
        )
    return problems


def materialize_requested_ocr(
    context: dg.AssetExecutionContext,
    catalog: CatalogResource,
    storage: ObjectStore,
    compute: ComputeResource,
) -> dg.MaterializeResult:
    video_id = context.partition_key
    wait_for_person_outside_pool(context, catalog, video_id, "captions")
    requests = catalog.claim_caption_ocr_requests(  # a retry of a dead run takes over what that run claimed
        video_id, requested_ocr_ids(context.run.tags), context.run_id, taking_over=context.run.tags.get(RETRY_OF_TAG)
    )
    if not requests:
        raise dg.Failure(
            description=f"caption OCR requests {requested_ocr_ids(context.run.tags)} of video "
            f"{video_id!r} were answered by another run already",
            allow_retries=False,
        )
    ids = [r["id"] for r in requests]
    try:
        result = answer_claimed(context, catalog, storage, compute, requests)
    except dg.Failure as failure:
        catalog.finish_caption_ocr_requests(ids, "error", failure.description or "caption OCR failed")
        raise
    except Exception as error:
        catalog.finish_caption_ocr_requests(ids, "error", f"internal error ({type(error).__name__}): {error}")
        raise
    problems = close_requests(catalog, video_id, requests, result)
    if result.rejected:
        catalog.set_stage_status(video_id, "text", "error", "; ".join(result.rejected.values()))

    with scratch_dir() as work:
        coverage = captions_cover_timeline(
            storage, video_keys(catalog.require_video(video_id)), result.frame_count, work
        )
    return dg.MaterializeResult(
        check_results=[coverage],
        metadata={
            "mode": "requested OCR",
            "key": result.captions_db_key,
            "requests": ids,
            "requested_by": sorted({r["requested_by"] or "unknown" for r in requests}),
            "answered": dg.MetadataValue.json({str(k): v for k, v in result.answered.items()}),
            "merged_with_edits_made_meanwhile": result.merged,
            "problems": dg.MetadataValue.json(problems),
            "timings_s": result.timings,
        },
    )
