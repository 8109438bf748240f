"""An approval run whose version was superseded stops before touching anything (the newest crop wins)."""

import dagster as dg

from captionacc_assets.core.region import Region
from captionacc_assets.definitions import ALL_ASSETS, APPROVAL_SELECTION
from captionacc_assets.defs.run_tags import VERSION_TAG


def test_a_run_for_a_superseded_version_fails_and_activates_nothing(platform, tmp_path):
    video = tmp_path / "v.mp4"
    video.write_bytes(b"never decoded: the run stops before")
    video_id = platform.upload(video, "tenant-a")
    platform.approve(video_id, Region(0.1, 0.8, 0.9, 0.95), requested_by="ann")
    platform.approve(video_id, Region(0.2, 0.7, 0.8, 0.9), requested_by="bob")
    result = dg.materialize(
        ALL_ASSETS,
        selection=APPROVAL_SELECTION,
        partition_key=video_id,
        instance=platform.instance,
        resources=platform.resources,
        tags={**platform.run_tags(video_id, "approval"), VERSION_TAG: "1"},
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "superseded by version 2 (requested by bob)" in failure.event_specific_data.user_failure_data.description
    assert not result.get_asset_materialization_events()
    # The superseded version is archived at once (it never stays `requested` or `processing`); v2 waits for its run.
    assert [platform.catalog.get_cropped_frames_version(video_id, v)["status"] for v in (1, 2)] == [
        "archived",
        "requested",
    ]
    assert platform.catalog.get_video(video_id)["current_cropped_frames_version"] is None


def test_a_run_launched_from_the_ui_or_a_backfill_tags_itself(platform, tmp_path):
    catalog = platform.catalog
    catalog.upsert_tenant("tenant-p", tier="premium")
    video = tmp_path / "v.mp4"
    video.write_bytes(b"never decoded: only layout_approval runs")
    video_id = platform.upload(video, "tenant-p")
    platform.approve(video_id, Region(0.1, 0.8, 0.9, 0.95), requested_by="ann")
    for launch_tags, trigger in (({}, "ui"), ({"dagster/backfill": "bf1"}, "backfill")):
        result = dg.materialize(
            ALL_ASSETS,
            selection=["layout_approval"],
            partition_key=video_id,
            instance=platform.instance,
            resources=platform.resources,
            tags=launch_tags,
        )
        tags = platform.instance.get_run_by_id(result.run_id).tags
        assert {k: tags.get(k) for k in ("tenant", "tier", "trigger", "priority", "dagster/priority")} == {
            "tenant": "tenant-p",
            "tier": "premium",
            "trigger": trigger,
            "priority": "70",
            "dagster/priority": "70",
        }
