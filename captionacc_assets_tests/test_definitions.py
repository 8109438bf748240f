import json
import subprocess
import sys

import dagster as dg

from captionacc_assets import definitions
from captionacc_assets.definitions import ALL_ASSETS, APPROVAL_SELECTION, INITIAL_SELECTION

defs = definitions.defs()  # the factory Dagster calls when it loads the code location


def test_definitions_are_loadable():
    dg.Definitions.validate_loadable(defs)


IMPORT_AND_LOAD = """
import json, os, sys
from pathlib import Path
home = Path(os.environ["CAPTIONACC_HOME"])
import captionacc_assets.definitions as definitions
from dagster._core.workspace.autodiscovery import loadable_targets_from_loaded_module
imported = home.exists()
target, = loadable_targets_from_loaded_module(definitions)  # how `dagster dev -m` finds the location
loaded = definitions.defs()
print(json.dumps({"after_import": imported, "target": target.attribute, "after_load": home.exists(),
                  "catalog": (home / "catalog.sqlite").is_file(), "assets": len(loaded.assets)}))
"""


def test_importing_the_definitions_does_no_io(tmp_path):
    home = tmp_path / "not-yet"
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("CAPTIONACC_")}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_AND_LOAD],
        capture_output=True,
        text=True,
        timeout=300,
        env={**env, "CAPTIONACC_HOME": str(home)},
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {
        "after_import": False,
        "target": "defs",
        "after_load": True,
        "catalog": True,
        "assets": len(ALL_ASSETS),
    }


def test_every_spec_asset_exists_and_is_partitioned_by_video():
    specs = {key.to_user_string(): a for a in ALL_ASSETS for key in a.keys}
    expected = {
        "video",
        "full_frames",
        "raw_ocr_db",
        "layout_db",
        "layout_approval",
        "cropped_frames",
        "caption_frame_extents",
        "captions_db",
        "caption_exports",
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


def test_jobs_cover_the_two_stages_of_the_state_machine():
    graph = defs.resolve_asset_graph()
    for name, selection in (
        ("initial_processing", INITIAL_SELECTION),
        ("approved_processing", APPROVAL_SELECTION),
        ("requested_caption_ocr", ["captions_db", "caption_exports"]),
    ):
        job = defs.resolve_job_def(name)
        assert job.partitions_def.name == "videos"
        assert {k.to_user_string() for k in job.asset_layer.selected_asset_keys} == set(selection), name
    assert graph.get(dg.AssetKey("captions_db"))


def test_sensors_run_by_default_and_target_the_stage_jobs():
    sensors = {s.name: s for s in defs.sensors}
    assert {
        "new_uploads",
        "layout_approvals",
        "auto_approvals",
        "caption_ocr_requests",
        "deleted_videos",
        "run_queue",
        "dead_runs",
    } <= set(sensors)
    assert all(s.default_status == dg.DefaultSensorStatus.RUNNING for s in sensors.values())
    assert sensors["new_uploads"].job_name == "initial_processing"
    assert sensors["layout_approvals"].job_name == "approved_processing"
    assert sensors["caption_ocr_requests"].job_name == "requested_caption_ocr"
    assert {job.name for job in sensors["dead_runs"].jobs} == {
        "initial_processing",
        "approved_processing",
        "requested_caption_ocr",
    }


def test_only_the_modal_calling_assets_take_a_gpu_pool_slot():
    pools = {a.node_def.name: a.op.pool for a in ALL_ASSETS}
    assert {name for name, pool in pools.items() if pool == "modal_compute"} == {
        "extract_frames_and_ocr",
        "crop_and_infer_caption_frame_extents",
        "captions_db",
    }
    assert {pool for name, pool in pools.items() if pool != "modal_compute"} == {None}


def test_instance_config_queues_runs_by_priority_and_frees_slots_of_ended_runs(tmp_path):
    import shutil
    from pathlib import Path

    shutil.copy(Path(__file__).resolve().parents[1] / "dagster.yaml", tmp_path / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    try:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] > 0
    finally:
        instance.dispose()
