"""The layout approval: a person's (or the auto-approval policy's) chosen crop region.

An approval is a `cropped_frames_versions` row with status `requested`. Materializing
this asset takes the newest version for the video, so the newest crop always wins,
and records who approved which region in the lineage.
"""

import dagster as dg

from captionacc_assets.core.errors import InputError
from captionacc_assets.core.zones import CroppedFramesVersion
from captionacc_assets.defs.partitions import videos_partitions
from captionacc_assets.defs.run_tags import VERSION_TAG, run_version
from captionacc_assets.defs.stage import approved_video_to_process, recorded_stage, stand_down, video_identity
from captionacc_assets.resources.catalog import CatalogResource


def approved_version(catalog: CatalogResource, video_id: str) -> CroppedFramesVersion:
    """The newest cropped frames version of a video; an actionable error when none exists."""
    version = catalog.latest_cropped_frames_version(video_id)
    if version is None:
        raise InputError(
            f"video {video_id!r} has no approved layout yet: approve one with "
            f"`captionacc approve {video_id}` (optionally --crop l,t,r,b)"
        )
    return CroppedFramesVersion.from_row(version)


def current_run_tags(context: dg.AssetExecutionContext) -> dict[str, str]:
    """The run's tags as stored now: an earlier step of this run may have added some."""
    run = context.instance.get_run_by_id(context.run_id)
    return dict(run.tags if run else context.run.tags)


def run_cropped_frames_version(
    context: dg.AssetExecutionContext, catalog: CatalogResource, video_id: str
) -> CroppedFramesVersion:
    """The version this run works on, the same in every step: the run pins it (SPEC §3).

    An approval run carries its version from its launch. Any other run (UI, backfill) pins
    the newest version at its first step, as the same run tag, so a later step never picks
    up an approval that arrived meanwhile. Once a newer approval exists, the run stops
    before it publishes anything: the newest crop wins, and that version's run publishes.
    """
    newest = approved_version(catalog, video_id)
    pinned = run_version(current_run_tags(context))
    if pinned is None:
        context.instance.add_run_tags(context.run_id, {VERSION_TAG: str(newest.version)})
        return newest
    if pinned != newest.version:
        catalog.supersede_versions(video_id, newest.version)
        stand_down(catalog, video_id)
        raise dg.Failure(
            description=f"cropped frames version {pinned} of video {video_id!r} was superseded by version "
            f"{newest.version} (requested by {newest.requested_by or 'unknown'}); "
            f"that version's run publishes instead",
            allow_retries=False,
        )
    return newest


@dg.asset(
    partitions_def=videos_partitions,
    group_name="approval",
    deps=["layout_db"],
    kinds={"catalog"},
    output_required=False,
)
def layout_approval(context: dg.AssetExecutionContext, catalog: CatalogResource):
    """Who approved which crop region, as version N of the cropped frames."""
    video_id = context.partition_key
    row = approved_video_to_process(context, catalog)
    if row is None:
        return  # deleted, or no approved layout yet: skipped, not failed
    version = run_cropped_frames_version(context, catalog, video_id)  # a superseded run stops here, stages untouched
    with recorded_stage(catalog, video_id, "layout", done_status="done"):
        if version.status == "requested":
            catalog.set_version_status(video_id, version.version, "processing")
    yield dg.MaterializeResult(
        metadata={
            **video_identity(row),
            "version": version.version,
            "crop_region": [round(v, 3) for v in version.zones[0].as_tuple()],
            "zone_count": len(version.zones),
            **{
                f"zone_{zone}_crop_region": [round(v, 3) for v in region.as_tuple()]
                for zone, region in enumerate(version.zones)
                if zone
            },
            "requested_by": version.requested_by or "",
            "requested_at": str(version.requested_at),
        }
    )
