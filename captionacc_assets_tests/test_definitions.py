import dagster as dg

from captionacc_assets.definitions import ALL_ASSETS, APPROVAL_SELECTION, INITIAL_SELECTION, defs


def test_definitions_are_loadable():
    dg.Definitions.validate_loadable(defs)


def test_every_spec_asset_exists_and_is_partitioned_by_video():
    specs = {key.to_user_string(): a for a in ALL_ASSETS for key in a.keys}
    expected = {
        "video", "full_frames", "raw_ocr_db", "layout_db", "layout_approval",
        "cropped_frames", "caption_frame_extents", "captions_db", "caption_exports",
    }
    assert set(specs) == expected
    assert set(INITIAL_SELECTION) | set(APPROVAL_SELECTION) == expected
    for asset in ALL_ASSETS:
        assert asset.partitions_def.name == "videos"


def test_lineage_runs_video_to_exports():
    graph = defs.resolve_asset_graph()
    upstream = lambda name: {k.to_user_string() for k in graph.get(dg.AssetKey(name)).parent_keys}
    assert upstream("full_frames") == {"video"}
    assert upstream("layout_approval") == {"layout_db"}
    assert upstream("cropped_frames") == {"layout_approval"}
    assert upstream("captions_db") == {"caption_frame_extents"}
    assert upstream("caption_exports") == {"captions_db"}


def test_instance_config_limits_one_run_per_video(tmp_path):
    import shutil
    from pathlib import Path

    shutil.copy(Path(__file__).resolve().parents[1] / "dagster.yaml", tmp_path / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
    instance.dispose()
    assert {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits
