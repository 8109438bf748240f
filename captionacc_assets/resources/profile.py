"""Resources chosen by configuration: `CAPTIONACC_PROFILE` picks the backends, in one place."""

import os

from captionacc_assets.resources.catalog import CatalogResource
from captionacc_assets.resources.compute import ComputeResource
from captionacc_assets.resources.storage import LocalStorageResource
from captionacc_assets.settings import local_paths

PROFILES = ("local",)


def build_resources() -> dict:
    profile = os.environ.get("CAPTIONACC_PROFILE", "local")
    if profile != "local":
        raise ValueError(f"CAPTIONACC_PROFILE={profile!r} is not supported; choose one of {PROFILES}")
    paths = local_paths()
    paths.home.mkdir(parents=True, exist_ok=True)
    catalog = CatalogResource(url=paths.catalog_url)
    catalog.ensure_schema()
    return {
        "catalog": catalog,
        "storage": LocalStorageResource(root=str(paths.storage_root)),
        "compute": ComputeResource(
            ocr_engine=os.environ.get("CAPTIONACC_OCR_ENGINE", "rapidocr"),
            extents_model=os.environ.get("CAPTIONACC_EXTENTS_MODEL", "baseline"),
        ),
    }
