"""The stage table names real things: every asset once, its compute job on both compute
resources and on the Modal App, and its catalog columns."""

import dagster as dg

from captionacc_assets import modal_app
from captionacc_assets.core.stages import STAGE_OF_DATABASE, STAGE_TABLE, STAGES
from captionacc_assets.definitions import ALL_ASSETS
from captionacc_assets.resources.catalog import DATABASE_NAMES, catalog_tables
from captionacc_assets.resources.compute import ComputeResource, InProcessCompute, ModalCompute


def test_every_asset_belongs_to_exactly_one_stage():
    keys = sorted(
        key.to_user_string()
        for asset in ALL_ASSETS
        for key in (asset.keys if isinstance(asset, dg.AssetsDefinition) else [asset.key])
    )
    assert sorted(name for stage in STAGE_TABLE for name in stage.assets) == keys


def test_each_stage_s_compute_job_exists_in_process_and_on_modal():
    for stage in STAGE_TABLE:
        assert stage.compute_function in ComputeResource.__abstractmethods__
        for resource in (InProcessCompute, ModalCompute):
            assert stage.compute_function in vars(resource), (resource, stage)
        assert modal_app.CLASS_NAMES[stage.compute_function] == stage.modal_class
        assert hasattr(modal_app.local_function(stage.compute_function), "local")  # a Modal method


def test_each_stage_has_its_catalog_columns_and_each_locked_database_its_stage():
    columns = set(catalog_tables(None).videos.c.keys())
    for stage in STAGE_TABLE:
        assert {stage.status_column, stage.error_column} <= columns
    assert STAGES == ("layout", "boundaries", "text")
    assert set(STAGE_OF_DATABASE) == set(DATABASE_NAMES) and STAGE_OF_DATABASE["captions"] == "text"
