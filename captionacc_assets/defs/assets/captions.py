"""Captions from the pair predictions and median-frame OCR, then their exports."""

import dagster as dg

from captionacc_assets.core.pictures import caption_timeline
from captionacc_assets.core.errors import InputError
from captionacc_assets.core.fault_points import reach
from captionacc_assets.core.dbs.captions_db import ZoneProvenance
from captionacc_assets.core.keys import validate_key
from captionacc_assets.core.zones import CroppedFramesVersion, placement
from captionacc_assets.defs.assets.approval import current_run_tags, run_cropped_frames_version
from captionacc_assets.defs.assets.captions_check import COVERAGE_CHECK, captions_cover_timeline
from captionacc_assets.defs.assets.requested_ocr import materialize_requested_ocr
from captionacc_assets.defs.editor_locks import editor_lock, wait_for_person_outside_pool
from captionacc_assets.defs.partitions import video_check_spec, videos_partitions
from captionacc_assets.defs.run_tags import EXTENTS_KEY_TAG, requested_ocr_ids, run_version, split_extents_keys
from captionacc_assets.defs.stage import (
    approved_video_to_process,
    progress_logger,
    recorded_stage,
    scratch_dir,
    video_identity,
    video_keys,
)
from captionacc_assets.defs.ui_metadata import captions_preview, seconds_table, text_preview, zones_table
from captionacc_assets.compute.caption_exports import export_captions
from captionacc_assets.compute.object_store import ObjectStore
from captionacc_assets.resources.catalog import CatalogResource
from captionacc_assets.resources.compute import ComputeResource


@dg.asset(
    partitions_def=videos_partitions,
    group_name="captions",
    deps=["caption_frame_extents"],
    pool="modal_compute",
    kinds={"sqlite"},
    output_required=False,
    check_specs=[
        video_check_spec(
            COVERAGE_CHECK,
            asset="captions_db",
            description="The published captions cover [0, n) in order, with inclusive ends and no overlaps",
        )
    ],
)
def captions_db(
    context: dg.AssetExecutionContext,
    catalog: CatalogResource,
    storage: dg.ResourceParam[ObjectStore],
    compute: ComputeResource,
):
    """Captions with inclusive start/end frames and median-frame OCR text, gaps included."""
    if requested_ocr_ids(context.run.tags):  # a person asked for some captions' OCR again
        yield materialize_requested_ocr(context, catalog, storage, compute)
        return
    wait_for_person_outside_pool(context, catalog, context.partition_key, "captions")
    row = approved_video_to_process(context, catalog)
    if row is None:
        return  # deleted, or no approved layout yet: skipped, not failed
    approved = run_cropped_frames_version(context, catalog, row["id"])
    version = approved.version
    with recorded_stage(catalog, row["id"], "text"), scratch_dir() as work:
        keys = video_keys(row)
        zones = pinned_zones(context, keys, approved, compute)
        with editor_lock(catalog, row["id"], "captions", progress_logger(context)):
            result = compute.caption_ocr(storage, keys, version, zones, work, progress_logger(context))
        coverage = captions_cover_timeline(storage, keys, result.frame_count, work)
        reach("captions.before_commit")
        catalog.activate_version(row["id"], version, require_newest=True)  # the commit point, unless superseded
        catalog.set_stage_status(row["id"], "boundaries", "annotate")
    timeline = caption_timeline(
        [(c["start_frame_index"], c["end_frame_index"]) for c in result.captions], result.frame_count
    )
    yield dg.MaterializeResult(
        check_results=[coverage],
        metadata={
            **video_identity(row),
            "timeline": dg.MetadataValue.md(timeline),
            "captions": captions_preview(result.captions),
            "key": result.captions_db_key,
            "caption_count": result.caption_count,
            "gap_count": result.gap_count,
            "frame_count": result.frame_count,
            "confirmed_captions_kept": result.kept_confirmed,
            "typed_captions_kept": result.kept_typed,
            "cropped_frames_version": version,
            "zone_count": len(zones),
            "zones": zones_table(zones, "caption_frame_extents_key"),
            "timings_s": seconds_table(result.timings),
            **per_zone_counts(result.captions, len(zones)),
        },
    )


def per_zone_counts(captions: list[dict], zone_count: int) -> dict:
    """`zone_1_caption_count` ... for a video of two zones (a single-zone video's metadata is as before)."""
    if zone_count < 2:
        return {}
    return {
        f"zone_{zone}_caption_count": sum(1 for c in captions if c.get("zone", 0) == zone) for zone in range(zone_count)
    }


def pinned_zones(
    context: dg.AssetExecutionContext, keys, approved: CroppedFramesVersion, compute: ComputeResource
) -> list[ZoneProvenance]:
    """Each zone of the version with the extents database the crop step of this run wrote for it;
    for a captions-only run, the model's."""
    regions, number = approved.zones, approved.version
    tagged = split_extents_keys(current_run_tags(context).get(EXTENTS_KEY_TAG) or "")
    if not tagged:
        tagged = [keys.caption_frame_extents_db(number, compute.model_hash, zone=z) for z in range(len(regions))]
    if len(tagged) != len(regions):
        raise InputError(
            f"run tag {EXTENTS_KEY_TAG} names {len(tagged)} extents databases but version {number} "
            f"has {len(regions)} caption zones"
        )
    for zone, key in enumerate(tagged):
        validate_key(key, keys.tenant)
        expected = keys.caption_frame_extents_prefix + f"v{number}" + (f"_zone{zone}_" if zone else "_model-")
        if not key.startswith(expected):
            raise InputError(
                f"run tag {EXTENTS_KEY_TAG}={key!r} is not an extents database of version {number}, zone {zone}"
            )
    return [
        ZoneProvenance(zone, placement(region), region.as_tuple(), key)
        for zone, (region, key) in enumerate(zip(regions, tagged))
    ]


@dg.asset(
    partitions_def=videos_partitions, group_name="captions", deps=[captions_db], kinds={"srt"}, output_required=False
)
def caption_exports(
    context: dg.AssetExecutionContext, catalog: CatalogResource, storage: dg.ResourceParam[ObjectStore]
):
    """SRT, WebVTT and JSON, with captions running from start/10 to (end+1)/10 seconds."""
    row = approved_video_to_process(context, catalog)
    if row is None:
        return  # deleted, or no approved layout yet: skipped, not failed
    keys = video_keys(row)
    reach("captions.before_exports")
    pinned = run_version(current_run_tags(context))
    with scratch_dir() as work:
        written = export_captions(
            storage,
            keys,
            work_dir=work,
            expected_version=pinned if pinned is not None else row["current_cropped_frames_version"],
        )
    yield dg.MaterializeResult(
        metadata={
            **video_identity(row),
            "srt": text_preview(storage.get_bytes(written["srt"]).decode("utf-8")),
            **{f"{fmt}_key": key for fmt, key in written.items()},
        }
    )
