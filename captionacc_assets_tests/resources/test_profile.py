"""Configuration: CAPTIONACC_PROFILE picks the backends; a missing setting fails at start, named."""

from pathlib import Path

import dagster as dg
import pytest

from captionacc_assets.resources.catalog import CatalogResource
from captionacc_assets.resources.compute import ComputeResource, InProcessCompute, ModalCompute
from captionacc_assets.resources.profile import build_resources
from captionacc_assets.resources.s3_storage import S3StorageResource
from captionacc_assets.resources.storage import LocalStorageResource
from captionacc_assets.settings import MissingSettingError

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "CAPTIONACC_PROFILE": "production",
    "CAPTIONACC_CATALOG_URL": "postgresql+psycopg://svc:pg-secret-4Jd9@127.0.0.1:1/postgres",
    "CAPTIONACC_S3_BUCKET": "captionacc-prod",
    "AWS_ACCESS_KEY_ID": "AKIAFAKEKEY000000001",
    "AWS_SECRET_ACCESS_KEY": "fake-secret-access-key-0001",
    "MODAL_TOKEN_ID": "ak-fake-modal-id",
    "MODAL_TOKEN_SECRET": "as-fake-modal-secret",
}
SECRETS = ("pg-secret-4Jd9", "fake-secret-access-key-0001", "AKIAFAKEKEY000000001", "as-fake-modal-secret")


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in [
        *PRODUCTION,
        "CAPTIONACC_COMPUTE",
        "CAPTIONACC_MODAL_CALL",
        "CAPTIONACC_OCR_ENGINE",
        "CAPTIONACC_S3_ENDPOINT_URL",
        "CAPTIONACC_GOOGLE_VISION_ENDPOINT",
        "CAPTIONACC_GOOGLE_VISION_CREDENTIALS_JSON",
        "GOOGLE_APPLICATION_CREDENTIALS",
    ]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CAPTIONACC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.modal.toml
    return monkeypatch


def test_local_is_the_default(clean_env, tmp_path):
    resources = build_resources()
    assert isinstance(resources["catalog"], CatalogResource) and resources["catalog"].url.startswith("sqlite:///")
    assert isinstance(resources["storage"], LocalStorageResource)
    assert isinstance(resources["compute"], InProcessCompute)


def test_an_unknown_profile_is_refused(clean_env):
    clean_env.setenv("CAPTIONACC_PROFILE", "staging")
    with pytest.raises(MissingSettingError, match="CAPTIONACC_PROFILE='staging' is not a profile"):
        build_resources()


@pytest.mark.parametrize(
    "missing",
    [
        "CAPTIONACC_CATALOG_URL",
        "CAPTIONACC_S3_BUCKET",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "MODAL_TOKEN_ID",
        "MODAL_TOKEN_SECRET",
    ],
)
def test_production_names_the_missing_variable(clean_env, missing):
    for name, value in PRODUCTION.items():
        if name != missing:
            clean_env.setenv(name, value)
    with pytest.raises(MissingSettingError, match=f"^{missing} is not set"):
        build_resources()


def test_google_vision_needs_credentials_when_it_runs_here(clean_env):
    for name, value in PRODUCTION.items():
        clean_env.setenv(name, value)
    clean_env.setenv("CAPTIONACC_COMPUTE", "in_process")
    clean_env.setenv("CAPTIONACC_OCR_ENGINE", "google_vision")
    with pytest.raises(MissingSettingError, match="CAPTIONACC_GOOGLE_VISION_CREDENTIALS_JSON"):
        build_resources()


def test_production_resources_hold_secrets_by_name_only(clean_env):
    for name, value in PRODUCTION.items():
        clean_env.setenv(name, value)
    # Stop before the catalog is reached (nothing listens on port 1): the resources are what we check.
    from captionacc_assets.resources import profile

    clean_env.setattr(CatalogResource, "check_schema", lambda self: None)
    resources = profile.build_resources()
    catalog, storage, compute = resources["catalog"], resources["storage"], resources["compute"]
    assert isinstance(storage, S3StorageResource) and isinstance(compute, ComputeResource)
    assert isinstance(compute, ModalCompute)
    assert (compute.modal_call, storage.bucket) == ("remote", "captionacc-prod")
    assert catalog.url.env_var_name == "CAPTIONACC_CATALOG_URL"
    assert storage.secret_access_key.env_var_name == "AWS_SECRET_ACCESS_KEY"
    shown = repr(resources) + str(resources) + repr(storage.location) + repr(catalog)
    for secret in SECRETS:
        assert secret not in shown


def test_env_example_lists_every_variable_the_backends_read():
    example = (REPO / ".env.example").read_text()
    package = REPO / "captionacc_assets"
    sources = [
        package / "settings.py",
        package / "modal_app.py",
        package / "core/ocr/google_vision.py",
        *(package / "resources").glob("*.py"),
        *(package / "objectstore").glob("*.py"),
    ]
    code = "".join(p.read_text() for p in sources)
    import re

    read = set(re.findall(r'"((?:CAPTIONACC|AWS|MODAL|DAGSTER|GOOGLE)_[A-Z0-9_]+)"', code))
    read |= {"DAGSTER_PG_URL"}  # read by dagster_production.yaml
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, flags=re.M))
    assert read - listed == set()


def test_resolved_reads_an_env_var_field_and_leaves_anything_else(monkeypatch):
    from captionacc_assets.settings import resolved

    monkeypatch.setenv("CAPTIONACC_TEST_SECRET", "s3cret")
    assert resolved(dg.EnvVar("CAPTIONACC_TEST_SECRET")) == "s3cret"

    class LooksLikeOne:  # has get_value, but is not Dagster's EnvVar: left as it is
        def get_value(self):
            return "not read"

    thing = LooksLikeOne()
    assert resolved(thing) is thing and resolved("plain") == "plain"
