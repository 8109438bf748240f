"""Crop the approved region into the chunk pyramid and predict every pair's label."""

import dagster as dg

from captionacc_assets.defs.assets.approval import run_cropped_frames_version
from captionacc_assets.defs.partitions import videos_partitions
from captionacc_assets.defs.run_tags import EXTENTS_KEY_TAG, join_extents_keys
from captionacc_assets.defs.stage import (
    approved_video_to_process,
    progress_logger,
    recorded_stage,
    scratch_dir,
    stored_probe,
    video_keys,
)
from captionacc_assets.defs.ui_metadata import counts_table, seconds_table, zones_table
from captionacc_assets.compute.object_store import ObjectStore
from captionacc_assets.resources.catalog import CatalogResource
from captionacc_assets.resources.compute import ComputeResource


@dg.multi_asset(
    partitions_def=videos_partitions,
    group_name="extents",
    pool="modal_compute",
    specs=[
        dg.AssetSpec(
            "cropped_frames",
            deps=["layout_approval"],
            description="The approved region at 10 Hz as VP9 chunks (16/4/1 pyramid)",
            kinds={"webm"},
            skippable=True,
        ),
        dg.AssetSpec(
            "caption_frame_extents",
            deps=["layout_approval"],
            description="Forward and backward label of every consecutive 10 Hz pair",
            kinds={"sqlite"},
            skippable=True,
        ),
    ],
)
def crop_and_infer_caption_frame_extents(
    context: dg.AssetExecutionContext,
    catalog: CatalogResource,
    storage: dg.ResourceParam[ObjectStore],
    compute: ComputeResource,
):
    row = approved_video_to_process(context, catalog)
    if row is None:
        return  # deleted, or no approved layout yet: skipped, not failed
    version = run_cropped_frames_version(context, catalog, row["id"])
    with recorded_stage(catalog, row["id"], "boundaries", done_status=None), scratch_dir() as work:
        keys = video_keys(row)
        try:
            result = compute.crop_and_infer_caption_frame_extents(
                storage,
                keys,
                row["storage_key"],
                version.zones,
                version.version,
                work,
                progress_logger(context),
                probe=stored_probe(context.instance, row),  # the `video` asset's probe: not probed again
            )
        except Exception:
            catalog.set_version_status(row["id"], version.version, "failed")
            raise
    context.instance.add_run_tags(context.run_id, {EXTENTS_KEY_TAG: join_extents_keys(result.extents_keys)})
    yield dg.MaterializeResult(
        asset_key="cropped_frames",
        metadata={
            "prefix": result.cropped_frames_prefix,
            "version": result.version,
            "frame_count": result.frame_count,
            "chunk_count": result.chunk_count,
            "zone_count": len(result.zones),
            "zones": zones_table(result.zones, "cropped_frames_prefix", "chunk_count"),
            "timings_s": seconds_table(result.timings),
        },
    )
    yield dg.MaterializeResult(
        asset_key="caption_frame_extents",
        metadata={
            "key": result.caption_frame_extents_key,
            "model_hash": result.model_hash,
            "pair_count": max(result.frame_count - 1, 0),
            "label_counts": counts_table(result.label_counts, "label"),
            "zone_count": len(result.zones),
            "zones": zones_table(result.zones, "caption_frame_extents_key"),
        },
    )
