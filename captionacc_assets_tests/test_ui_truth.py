"""What the Dagster UI shows for ordinary use, read back from the real instance the UI reads:
expected conditions are skips, not failures; every run and materialization names the file;
pictures render inline; checks carry the video's partition."""

import base64
import io

import dagster as dg
import pytest
from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value
from PIL import Image

from captionacc_assets.core.pictures import INLINE_LIMIT
from captionacc_assets.definitions import ALL_ASSETS, APPROVAL_SELECTION, INITIAL_SELECTION
from captionacc_assets.defs.partitions import videos_partitions
from captionacc_assets.synthetic.generate import write_video
from captionacc_assets.synthetic.video_spec import Cue, VideoSpec

SPEC = VideoSpec(
    width=640,
    height=360,
    fps=25.0,
    duration_s=5.0,
    background="textured",
    seed=3,
    cues=(Cue(0.5, 2.0, "你好，世界"), Cue(2.6, 4.4, "Good night")),
)
# What a backfill "after a new model" selects in the UI (README).
BACKFILL = ["cropped_frames", "caption_frame_extents", "captions_db", "caption_exports"]
ALL = ["video", "full_frames", "raw_ocr_db", "layout_db", "layout_approval", *BACKFILL]


def failed_partitions(instance, asset: str) -> set[str]:
    """The partitions the UI marks failed for an asset (its partition status cache)."""
    value = get_and_update_asset_status_cache_value(instance, dg.AssetKey(asset), videos_partitions)
    return set(value.deserialize_failed_partition_subsets(videos_partitions).get_partition_keys()) if value else set()


def materialized(instance, asset: str, video_id: str) -> int:
    return len(
        instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[video_id]), limit=10
        ).records
    )


@pytest.fixture
def uploaded(platform, tmp_path):
    video = write_video(SPEC, tmp_path / "Episode 01.mp4")
    return platform, platform.upload(video, "acme")


def test_a_backfill_over_an_unapproved_video_skips_it_and_marks_nothing_failed(uploaded):
    platform, video_id = uploaded
    assert platform.initial_processing(video_id).success
    for selection in (BACKFILL, ["layout_approval", *BACKFILL]):
        run = platform.materialize(video_id, selection, "backfill")
        assert run.success and run.error is None, run.error
        assert run.metadata == {}  # nothing materialized: the video has no approved layout yet
    for asset in ALL:
        assert video_id not in failed_partitions(platform.instance, asset), asset
    assert materialized(platform.instance, "cropped_frames", video_id) == 0
    assert platform.catalog.get_video(video_id)["boundaries_status"] == "wait"


def test_a_deleted_video_is_skipped_by_every_stage_and_nothing_is_failed(uploaded):
    platform, video_id = uploaded
    tags = platform.run_tags(video_id, "upload")  # the run was launched (queued) before the deletion ...
    platform.catalog.soft_delete(video_id)  # ... which reached the catalog while the run was starting
    for selection in (INITIAL_SELECTION, APPROVAL_SELECTION):
        result = dg.materialize(
            ALL_ASSETS,
            selection=selection,
            partition_key=video_id,
            tags=tags,
            instance=platform.instance,
            resources=platform.resources,
        )
        assert result.success
        assert not [e for e in result.all_events if e.is_step_materialization]
    assert platform.catalog.get_video(video_id)["layout_status"] == "wait"  # untouched
    for asset in ALL:
        assert video_id not in failed_partitions(platform.instance, asset), asset
        assert materialized(platform.instance, asset, video_id) == 0


def test_runs_and_materializations_name_the_file_and_the_pictures_show_inline(uploaded):
    platform, video_id = uploaded
    initial = platform.initial_processing(video_id)
    assert initial.success, initial.error
    (run,) = platform.instance.get_runs(dg.RunsFilter(tags={"dagster/partition": video_id}))
    assert (run.tags["file_name"], run.tags["tenant"]) == ("Episode 01.mp4", "acme")
    # The Runs page filters by that tag: the same query the UI's `tag:file_name=...` filter makes.
    assert [r.run_id for r in platform.instance.get_runs(dg.RunsFilter(tags={"file_name": "Episode 01.mp4"}))] == [
        run.run_id
    ]

    video, layout = initial.metadata["video"], initial.metadata["layout_db"]
    assert (video["file_name"], video["tenant"], layout["file_name"]) == ("Episode 01.mp4", "acme", "Episode 01.mp4")
    assert "| file | Episode 01.mp4 |" in video["summary"] and len(video["summary"]) < INLINE_LIMIT
    assert f"/assets/captions_db?view=partitions&partition={video_id}" in video["lineage"]
    for name in ("proposed_region", "caption_region"):
        markdown = layout[name]
        assert len(markdown) < INLINE_LIMIT, (name, len(markdown))  # the UI renders it without a click
        assert markdown.startswith("![") and "(data:image/webp;base64," in markdown
        picture = Image.open(io.BytesIO(base64.b64decode(markdown.split(",", 1)[1].rstrip(")"))))
        assert picture.width >= 96 and picture.height >= 16
    # Drawn on a full frame that shows a caption: one taken while a cue is on screen.
    shown_at = float(layout["preview_frame"].removesuffix(" s"))
    assert any(cue.start_s <= shown_at < cue.end_s for cue in SPEC.cues), shown_at


def test_captions_metadata_reads_in_seconds_and_checks_carry_the_partition(uploaded):
    platform, video_id = uploaded
    assert platform.initial_processing(video_id).success
    platform.approve(video_id, None, requested_by="test")
    approved = platform.approved_processing(video_id)
    assert approved.success, approved.error
    captions = approved.metadata["captions_db"]
    assert len(captions["timeline"]) < INLINE_LIMIT and captions["timeline"].startswith(
        "![caption timeline](data:image/png"
    )
    # Times in seconds beside the 10 Hz frames; an inclusive end frame e ends at (e + 1) / 10 s.
    assert "| 2.6 s (26) | 4.4 s (43) | Good night |" in captions["captions"]
    assert "| 2.0 s (19) | 你好，世界 |" in captions["captions"]
    assert {r.data["part"] for r in captions["timings_s"].records} >= {"ocr", "publish"}
    assert approved.metadata["layout_approval"]["crop_region"] == [
        round(v, 3) for v in approved.metadata["layout_approval"]["crop_region"]
    ]
    assert "Good night" in approved.metadata["caption_exports"]["srt"]
    for asset, check in (("layout_db", "caption_region_has_text"), ("captions_db", "captions_cover_timeline")):
        (record,) = platform.instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey(asset), check), limit=5
        )
        evaluation = record.event.dagster_event.event_specific_data
        assert (evaluation.partition, evaluation.passed) == (video_id, True), check


def test_the_lineage_links_stay_inline_for_a_production_video_id():
    from captionacc_assets.defs.ui_metadata import video_lineage

    uuid_like = "123e4567-e89b-12d3-a456-426614174000"  # the web app's ids are longer than ours
    markdown = video_lineage(uuid_like).value
    assert len(markdown) < INLINE_LIMIT
    assert f"/assets/captions_db?view=partitions&partition={uuid_like}" in markdown
    assert "/runs?q%5B%5D=tag%3Adagster%2Fpartition%3D" + uuid_like in markdown
