"""Resources chosen by configuration: `CAPTIONACC_PROFILE` picks the backends, in one place.

- `local` (default): SQLite catalog, a storage directory and in-process compute under CAPTIONACC_HOME.
- `production`: Supabase Postgres, Wasabi (S3), Modal, and RapidOCR or Google Cloud Vision.

Every required variable is checked here, at start, and a missing one is named. Secrets (the
catalog URL with its password, the S3 keys) are given to resources as `dg.EnvVar`, so Dagster
records and shows only the variable's name, never its value. `.env.example` lists every variable.
"""

import os

import dagster as dg

from captionacc_assets.resources.catalog import CatalogResource
from captionacc_assets.resources.compute import ModalCompute, compute_resource
from captionacc_assets.resources.s3_storage import S3StorageResource
from captionacc_assets.resources.storage import LocalStorageResource
from captionacc_assets.settings import engine_settings, local_paths, optional_env, profile, require_env

CATALOG_URL_VAR = "CAPTIONACC_CATALOG_URL"
CATALOG_SCHEMA_VAR = "CAPTIONACC_CATALOG_SCHEMA"
COMPUTE_VAR = "CAPTIONACC_COMPUTE"
MODAL_APP_VAR = "CAPTIONACC_MODAL_APP"
MODAL_CALL_VAR = "CAPTIONACC_MODAL_CALL"


def build_resources() -> dict:
    return production_resources() if profile() == "production" else local_resources()


def local_resources() -> dict:
    paths = local_paths()
    paths.home.mkdir(parents=True, exist_ok=True)
    catalog = CatalogResource(url=paths.catalog_url)
    catalog.ensure_schema()
    return {
        "catalog": catalog,
        "storage": LocalStorageResource(root=str(paths.storage_root)),
        "compute": compute_resource("in_process", **engine_settings()),
    }


def production_resources() -> dict:
    """Supabase catalog (migration applied with psql beforehand), S3 bucket, Modal compute."""
    require_env(CATALOG_URL_VAR, "the catalog's Postgres URL, postgresql+psycopg://USER:PASSWORD@HOST:5432/postgres")
    catalog = CatalogResource(url=dg.EnvVar(CATALOG_URL_VAR), db_schema=optional_env(CATALOG_SCHEMA_VAR, "captionacc"))
    storage = S3StorageResource.from_env()
    compute = compute_resource(
        optional_env(COMPUTE_VAR, "modal"),
        modal_app=optional_env(MODAL_APP_VAR, "captionacc"),
        modal_call=optional_env(MODAL_CALL_VAR, "remote"),
        **engine_settings(),
    )
    if (
        isinstance(compute, ModalCompute)
        and compute.modal_call == "remote"
        and not os.path.exists(os.path.expanduser("~/.modal.toml"))
    ):
        require_env("MODAL_TOKEN_ID", "the Modal token id (or run `modal token new`)")
        require_env("MODAL_TOKEN_SECRET", "the Modal token secret (or run `modal token new`)")
    if compute.ocr_engine == "google_vision" and not isinstance(compute, ModalCompute):
        from captionacc_assets.core.ocr.google_vision import check_credentials

        check_credentials()
    catalog.check_schema()
    return {"catalog": catalog, "storage": storage, "compute": compute}
