"""The Modal App: the three compute jobs of SPEC §2 as Modal functions, thin wrappers of `jobs/`.

Deploy with `modal deploy -m captionacc_assets.modal_app` (README, Production). Each function
is given storage keys and the bucket's location, never bytes: it reads the video and writes
its artifacts through the bucket itself, with the credentials of the Modal secret, and returns
its job's typed result as a plain dict (the caller rebuilds the dataclass). Retries are 0
because Dagster owns retries; a failure raises, and no partial result is published because the
jobs publish only at their end. Tests run each function in-process with `.local()`.

Importing this module needs no Modal account or network: images and secrets are lazy.
"""

import os
import tempfile
from pathlib import Path

import modal

APP_NAME = "captionacc"
# Modal secrets attached to every function. `captionacc-wasabi` holds AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY for the bucket; add `captionacc-google-vision` (its credentials) when
# CAPTIONACC_OCR_ENGINE=google_vision. Chosen at deploy time by CAPTIONACC_MODAL_SECRETS.
DEFAULT_SECRETS = "captionacc-wasabi"
STORAGE_SECRET_KEYS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]

_REPO = Path(__file__).resolve().parents[1]


def _image() -> modal.Image:
    """Debian with the project's own dependencies (pyproject.toml) and this package's source."""
    return (
        modal.Image.debian_slim(python_version="3.11")
        .apt_install("libgl1", "libglib2.0-0")  # OpenCV, under RapidOCR
        .pip_install_from_pyproject(str(_REPO / "pyproject.toml"))
        .add_local_python_source("captionacc_assets", ignore=lambda path: "__pycache__" in Path(path).parts)
    )


def _secrets() -> list[modal.Secret]:
    names = [n.strip() for n in os.environ.get("CAPTIONACC_MODAL_SECRETS", DEFAULT_SECRETS).split(",") if n.strip()]
    return [
        modal.Secret.from_name(name, required_keys=STORAGE_SECRET_KEYS if name == DEFAULT_SECRETS else [])
        for name in names
    ]


# GPU and timeout per function, as SPEC §2 sets them; retries are always 0.
FUNCTION_OPTIONS = {
    "extract_frames_and_ocr": {"gpu": "T4", "timeout": 30 * 60},
    "crop_and_infer_caption_frame_extents": {"gpu": "A10G", "timeout": 60 * 60},
    "caption_ocr": {"gpu": "T4", "timeout": 5 * 60},
}

app = modal.App(APP_NAME, include_source=False)  # the image carries the package, once
image = _image()
secrets = _secrets()


def _function(name: str):
    return app.function(image=image, secrets=secrets, retries=0, **FUNCTION_OPTIONS[name])


def _store(storage: dict):
    """The bucket named by the caller, with credentials from this container's environment."""
    from captionacc_assets.resources.s3_storage import S3StorageResource

    unknown = set(storage) - {"bucket", "endpoint_url", "region"}
    if unknown or not storage.get("bucket"):
        raise ValueError(f"storage location needs bucket (and optionally endpoint_url, region), got {sorted(storage)}")
    return S3StorageResource.from_env(**storage)


def _keys(tenant: str, video: str, *storage_keys: str):
    from captionacc_assets.core.keys import VideoKeys, validate_key

    keys = VideoKeys(tenant=tenant, video=video)
    for key in storage_keys:
        validate_key(key, tenant)  # a key from a DB row may not leave its tenant
    return keys


@_function("extract_frames_and_ocr")
def extract_frames_and_ocr(storage: dict, tenant: str, video: str, video_key: str, ocr_engine: str) -> dict:
    """Job 1: `full_frames`, `raw_ocr_db`, `layout_db` of one video."""
    from captionacc_assets.jobs import extract_frames_and_ocr as job
    from captionacc_assets.jobs.engines import FULL_FRAME_MAX_SIDE, ocr_engine as make_engine

    keys = _keys(tenant, video, video_key)
    with tempfile.TemporaryDirectory(prefix="captionacc-") as work:
        result = job.extract_frames_and_ocr(
            _store(storage), keys, video_key,
            engine=make_engine(ocr_engine, max_side=FULL_FRAME_MAX_SIDE), work_dir=Path(work),
        )
    return result.as_dict()


@_function("crop_and_infer_caption_frame_extents")
def crop_and_infer_caption_frame_extents(
    storage: dict, tenant: str, video: str, video_key: str, region: list[float], version: int,
    extents_model: str,
) -> dict:
    """Job 2: `cropped_frames` (chunk pyramid) and `caption_frame_extents` for one approved region."""
    from captionacc_assets.core.region import Region
    from captionacc_assets.jobs import crop_and_infer_caption_frame_extents as job
    from captionacc_assets.jobs.engines import pair_classifier

    keys = _keys(tenant, video, video_key)
    with tempfile.TemporaryDirectory(prefix="captionacc-") as work:
        result = job.crop_and_infer_caption_frame_extents(
            _store(storage), keys, video_key, region=Region(*region), version=int(version),
            classifier=pair_classifier(extents_model), work_dir=Path(work),
        )
    return result.as_dict()


@_function("caption_ocr")
def caption_ocr(
    storage: dict, tenant: str, video: str, version: int, extents_key: str = "", ocr_engine: str = "rapidocr",
    spans: list[list[int]] | None = None,
) -> dict:
    """Job 3: OCR of each caption's median frame, into `captions_db`.

    With `spans` (inclusive `[start, end]` frame indices, a person's request): it downloads the
    chunks that hold those spans' frames from `cropped_frames_v{version}`, takes each span's
    per-pixel median, OCRs it and returns the text and confidence per span; it writes nothing
    (the caller merges the answers into captions.db under the editor lock).
    """
    from captionacc_assets.jobs import caption_ocr as job
    from captionacc_assets.jobs import requested_caption_ocr as requested
    from captionacc_assets.jobs.engines import ocr_engine as make_engine

    keys = _keys(tenant, video, *([extents_key] if extents_key else []))
    with tempfile.TemporaryDirectory(prefix="captionacc-") as work:
        if spans is not None:
            return requested.read_spans(
                _store(storage), keys, version=int(version), spans=[(int(s), int(e)) for s, e in spans],
                engine=make_engine(ocr_engine), work_dir=Path(work),
            ).as_dict()
        result = job.caption_ocr(
            _store(storage), keys, version=int(version), extents_key=extents_key,
            engine=make_engine(ocr_engine), work_dir=Path(work), video_id=video,
        )
    return result.as_dict()
