"""The production launcher's instance configuration (deploy/docker/) is one Dagster accepts, keeps
the production queue's limits, and passes every variable a run needs by name, never a value.
Docker does not run here: the run launcher is built from its config, not started."""

import shutil
from pathlib import Path

import pytest
import yaml
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.instance.config import dagster_instance_config
from dagster._serdes import ConfigurableClassData
from dagster_docker import DockerRunLauncher

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy" / "docker"
# What production_resources() and dagster.yaml need from the environment (resources/profile.py).
REQUIRED = {
    "CAPTIONACC_PROFILE",
    "CAPTIONACC_CATALOG_URL",
    "DAGSTER_PG_URL",
    "CAPTIONACC_S3_BUCKET",
    "CAPTIONACC_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "MODAL_TOKEN_ID",
    "MODAL_TOKEN_SECRET",
}


@pytest.fixture
def environment(monkeypatch):
    monkeypatch.setenv("DAGSTER_PG_URL", "postgresql+psycopg2://user:pw@db:5432/dagster")
    monkeypatch.setenv("CAPTIONACC_IMAGE", "captionacc:test")


def test_dagster_accepts_the_instance_and_builds_the_docker_run_launcher(environment):
    config, _ = dagster_instance_config(str(DEPLOY))
    launcher_config = config["run_launcher"]
    launcher = ConfigurableClassData(
        launcher_config["module"], launcher_config["class"], yaml.safe_dump(launcher_config["config"])
    ).rehydrate(as_type=DockerRunLauncher)
    assert isinstance(launcher, DockerRunLauncher) and launcher.image == "captionacc:test"
    assert launcher.supports_check_run_worker_health  # run monitoring can fail a dead container's run
    assert REQUIRED <= set(launcher.env_vars)
    assert all("=" not in name for name in launcher.env_vars)  # names only: values stay in the environment
    assert config["run_monitoring"]["enabled"] is True


def test_it_keeps_the_production_queue_s_limits():
    docker = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    production = yaml.safe_load((REPO / "dagster_production.yaml").read_text())
    for key in ("storage", "run_coordinator"):
        assert docker[key] == production[key]
    assert (
        docker["concurrency"]["runs"]["tag_concurrency_limits"]
        == production["concurrency"]["runs"]["tag_concurrency_limits"]
    )


def test_a_misspelled_setting_is_refused(environment, tmp_path):
    shutil.copy(DEPLOY / "dagster.yaml", tmp_path / "dagster.yaml")
    text = (tmp_path / "dagster.yaml").read_text().replace("run_monitoring:", "run_monitorin:")
    (tmp_path / "dagster.yaml").write_text(text)
    with pytest.raises(DagsterInvalidConfigError):
        dagster_instance_config(str(tmp_path))


def test_the_stack_names_the_same_image_workspace_and_code_location():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert set(compose["services"]) == {"code", "webserver", "daemon"}
    assert "-m captionacc_assets.definitions -a defs" in compose["services"]["code"]["command"]
    workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["grpc_server"]["host"] == "code"
    assert "/var/run/docker.sock:/var/run/docker.sock" in compose["services"]["daemon"]["volumes"]
