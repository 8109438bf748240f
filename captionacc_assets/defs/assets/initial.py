"""Initial processing: probe the upload, then full frames, OCR and the proposed layout."""

import dagster as dg

from captionacc_assets.core.full_frames import decode_jpeg
from captionacc_assets.core.dbs.layout_db import read_proposed_zones
from captionacc_assets.core.pictures import region_closeup, region_on_frame, zones_on_frame
from captionacc_assets.core.proposed_zones import zones_to_json
from captionacc_assets.core.video import probe_video
from captionacc_assets.defs.editor_locks import editor_lock, wait_for_person_outside_pool
from captionacc_assets.defs.partitions import video_check_spec, videos_partitions
from captionacc_assets.defs.stage import (
    progress_logger,
    recorded_stage,
    scratch_dir,
    stored_probe,
    video_identity,
    video_keys,
    video_to_process,
)
from captionacc_assets.defs.ui_metadata import seconds_table, video_lineage, video_summary
from captionacc_assets.compute.object_store import ObjectStore, fetch_video
from captionacc_assets.resources.catalog import CatalogResource
from captionacc_assets.resources.compute import ComputeResource
from captionacc_assets.settings import video_limits

PROPOSED_ZONES_ENTRY = "proposed_zones"
"""The `layout_db` metadata entry holding the proposed zones exactly (`zones_to_json`); `zones` is rounded."""


@dg.asset(partitions_def=videos_partitions, group_name="initial", kinds={"video"}, output_required=False)
def video(context: dg.AssetExecutionContext, catalog: CatalogResource, storage: dg.ResourceParam[ObjectStore]):
    """The uploaded file and its probe: duration, fps, size, codec, rotation."""
    row = video_to_process(context, catalog)
    if row is None:
        return  # deleted: nothing to materialize, and nothing failed
    with recorded_stage(catalog, row["id"], "layout", done_status=None), scratch_dir() as work:
        video_keys(row)  # the row's key must be inside its own tenant's folder before anything is read
        probe = probe_video(
            fetch_video(storage, row["storage_key"], work), display_name=row["display_path"], limits=video_limits()
        )
        catalog.update_video(
            row["id"],
            duration_seconds=probe.duration_seconds,
            width=probe.width,
            height=probe.height,
            total_frames=probe.frame_count,
        )
    yield dg.MaterializeResult(
        metadata={
            **video_identity(row),
            "summary": video_summary(row, probe.as_dict()),
            "lineage": video_lineage(row["id"]),
            "storage_key": row["storage_key"],
            **probe.as_dict(),
        }
    )


@dg.multi_asset(
    partitions_def=videos_partitions,
    group_name="initial",
    pool="modal_compute",
    check_specs=[
        video_check_spec(
            "caption_region_has_text",
            asset="layout_db",
            description="OCR found text inside the proposed caption region in at least one full frame",
        )
    ],
    specs=[
        dg.AssetSpec(
            "full_frames",
            deps=[video],
            description="JPEG q95 samples at 0.1 Hz plus 320 px thumbnails",
            kinds={"jpeg"},
            skippable=True,
        ),
        dg.AssetSpec(
            "raw_ocr_db",
            deps=[video],
            description="OCR of every full frame, frames with no text included",
            kinds={"sqlite"},
            skippable=True,
        ),
        dg.AssetSpec(
            "layout_db",
            deps=[video],
            description="OCR boxes with in/out labels and the proposed caption region",
            kinds={"sqlite"},
            skippable=True,
        ),
    ],
)
def extract_frames_and_ocr(
    context: dg.AssetExecutionContext,
    catalog: CatalogResource,
    storage: dg.ResourceParam[ObjectStore],
    compute: ComputeResource,
):
    wait_for_person_outside_pool(context, catalog, context.partition_key, "layout")
    row = video_to_process(context, catalog)
    if row is None:
        return  # deleted: nothing to materialize, and nothing failed
    with recorded_stage(catalog, row["id"], "layout"), scratch_dir() as work:
        keys = video_keys(row)
        with editor_lock(catalog, row["id"], "layout", progress_logger(context)):
            result = compute.extract_frames_and_ocr(
                storage,
                keys,
                row["storage_key"],
                work,
                progress_logger(context),
                probe=stored_probe(context.instance, row),  # the `video` asset's probe: not probed again
            )
            # The proposal as the CLI reads it, from the published layout.db: what the auto-approval
            # sensor approves from this materialization is then the same crop, bit for bit.
            zones = read_proposed_zones(storage.get_file(keys.layout_db, work / "published-layout.db.gz"))
    frame, region = decode_jpeg(storage.get_bytes(keys.full_frame(result.preview_frame_index))), zones[0].region
    yield dg.MaterializeResult(
        asset_key="full_frames",
        metadata={
            "prefix": keys.full_frames_prefix,
            "frame_count": len(result.full_frame_indices),
            "frame_indices": str(result.full_frame_indices[:50]),
            "timings_s": seconds_table(result.timings),
        },
    )
    yield dg.MaterializeResult(
        asset_key="raw_ocr_db",
        metadata={
            "key": keys.raw_ocr_db,
            "ocr_box_count": result.ocr_box_count,
            "frames_without_text": result.frames_without_text,
        },
    )
    picture = zones_on_frame(frame, zones) if len(zones) > 1 else region_on_frame(frame, region)
    yield dg.MaterializeResult(
        asset_key="layout_db",
        metadata={
            **video_identity(row),
            "proposed_region": dg.MetadataValue.md(picture),
            "caption_region": dg.MetadataValue.md(region_closeup(frame, region)),
            **(
                {"caption_region_zone_1": dg.MetadataValue.md(region_closeup(frame, zones[1].region))}
                if len(zones) > 1
                else {}
            ),
            "zones": dg.MetadataValue.json(  # rounded, to read in the UI
                [
                    {
                        "placement": z.placement,
                        "confidence": round(z.confidence, 4),
                        "region": [round(v, 4) for v in z.region.as_tuple()],
                    }
                    for z in zones
                ]
            ),
            PROPOSED_ZONES_ENTRY: dg.MetadataValue.json(zones_to_json(zones)),  # exact: what auto-approval takes
            "preview_frame": f"{result.preview_frame_index / 10:.1f} s",
            "key": keys.layout_db,
            "region": [round(v, 4) for v in region.as_tuple()],
            "anchor": zones[0].anchor,
            "confidence": round(zones[0].confidence, 4),
            "person_labels_kept": result.person_labels_kept,
        },
    )
    yield dg.AssetCheckResult(
        check_name="caption_region_has_text",
        asset_key="layout_db",
        passed=result.in_region_box_count > 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"in_region_box_count": result.in_region_box_count},
    )
