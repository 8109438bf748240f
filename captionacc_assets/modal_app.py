"""The Modal App: the three compute jobs of SPEC §2 as Modal classes, thin wrappers of `compute/`.

Deploy with `modal deploy -m captionacc_assets.modal_app` (README, Production). Each method
is given storage keys and the bucket's location, never bytes: it reads the video and writes
its artifacts through the bucket itself (`objectstore.s3`, plain boto3), with the credentials of
the Modal secret, and returns its job's typed result as a plain dict (the caller rebuilds the
dataclass). Retries are 0 because Dagster owns retries; a failure raises, and no partial result
is published because the jobs publish only at their end.

Each job is a class (`@app.cls`) whose `@modal.enter()` loads its models once per container, so a
warm container reuses them. Each has its own image with only what its job imports, pinned to
the tested versions of `constraints.txt`; none carries Dagster, and this module imports none.
A GPU is asked for only where one is used: RapidOCR runs on CPU onnxruntime, so the two OCR
jobs run on CPU cores, and so does the extents model (onnxruntime): it is a small share of that
job, whose time is decoding the video and encoding the chunk pyramid (docs/benchmarks.md).
Tests run each method in-process with `JOBS[name]().<name>.local(...)` (`local_function`),
which runs `@modal.enter()` first, as a container would.

Importing this module needs no Modal account or network: images and secrets are lazy.
"""

import os
import tempfile
from pathlib import Path
from typing import Any

import modal

APP_NAME = "captionacc"
# Modal secrets attached to every function. `captionacc-wasabi` holds AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY for the bucket; add `captionacc-google-vision` (its credentials) when
# CAPTIONACC_OCR_ENGINE=google_vision. Chosen at deploy time by CAPTIONACC_MODAL_SECRETS.
DEFAULT_SECRETS = "captionacc-wasabi"
STORAGE_SECRET_KEYS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]

_REPO = Path(__file__).resolve().parents[1]
CONSTRAINTS = _REPO / "constraints.txt"

# What each image installs: the third-party distributions its job imports (checked by
# captionacc_assets_tests/test_modal_app.py against what the job really imports). No Dagster.
STORAGE_PACKAGES = ["boto3"]
OCR_PACKAGES = [
    "av",
    "numpy",
    "pillow",
    "opencv-python-headless",
    "rapidocr",
    "onnxruntime",
    "google-cloud-vision",
    "grpcio",
    *STORAGE_PACKAGES,
]
EXTENTS_PACKAGES = ["av", "numpy", "pillow", "opencv-python-headless", "onnxruntime", *STORAGE_PACKAGES]


def _image(packages: list[str]) -> modal.Image:
    """Debian with `packages` at the tested versions and this package's source (models included).

    Every distribution, dependencies included, is held to `constraints.txt`.
    """
    image = modal.Image.debian_slim(python_version="3.11").apt_install("libgl1", "libglib2.0-0")  # OpenCV
    if CONSTRAINTS.is_file():  # absent inside a container, where the image is already built
        image = image.add_local_file(CONSTRAINTS, "/constraints.txt", copy=True)
    return image.pip_install(
        *packages, extra_options="-c /constraints.txt" if CONSTRAINTS.is_file() else ""
    ).add_local_python_source("captionacc_assets", ignore=lambda path: "__pycache__" in Path(path).parts)


def _secrets() -> list[modal.Secret]:
    names = [n.strip() for n in os.environ.get("CAPTIONACC_MODAL_SECRETS", DEFAULT_SECRETS).split(",") if n.strip()]
    return [
        modal.Secret.from_name(name, required_keys=STORAGE_SECRET_KEYS if name == DEFAULT_SECRETS else [])
        for name in names
    ]


# Resources and timeout per job (SPEC §2 timeouts); retries are always 0. gpu=None: CPU only.
FUNCTION_OPTIONS: dict[str, dict[str, Any]] = {
    "extract_frames_and_ocr": {"gpu": None, "cpu": 4.0, "memory": 4096, "timeout": 30 * 60},
    "crop_and_infer_caption_frame_extents": {"gpu": None, "cpu": 4.0, "memory": 8192, "timeout": 60 * 60},
    "caption_ocr": {"gpu": None, "cpu": 2.0, "memory": 2048, "timeout": 5 * 60},
}

app = modal.App(APP_NAME, include_source=False)  # each image carries the package, once
ocr_image = _image(OCR_PACKAGES)
extents_image = _image(EXTENTS_PACKAGES)
secrets = _secrets()


def _cls(name: str, image: modal.Image):
    return app.cls(image=image, secrets=secrets, retries=0, **FUNCTION_OPTIONS[name])


def _store(storage: dict):
    """The bucket named by the caller, with credentials from this container's environment."""
    from captionacc_assets.objectstore.s3 import S3ObjectStore

    unknown = set(storage) - {"bucket", "endpoint_url", "region"}
    if unknown or not storage.get("bucket"):
        raise ValueError(f"storage location needs bucket (and optionally endpoint_url, region), got {sorted(storage)}")
    return S3ObjectStore.from_env(**storage)


def _keys(tenant: str, video: str, *storage_keys: str):
    from captionacc_assets.core.keys import VideoKeys, validate_key

    keys = VideoKeys(tenant=tenant, video=video)
    for key in storage_keys:
        validate_key(key, tenant)  # a key from a DB row may not leave its tenant
    return keys


def _probe(probe: dict | None):
    """The caller's `VideoProbe.as_dict()` rebuilt (the job re-probes a file it does not match)."""
    from captionacc_assets.core.video import VideoProbe

    return VideoProbe(**probe) if probe else None


class _OcrEngines:
    """OCR engines by name, built once per container (the configured one at `@modal.enter()`)."""

    full_frames = False  # full frames are OCR'd at smaller sizes (`full_frame_ocr_engine`)

    @modal.enter()
    def load_models(self):
        from captionacc_assets.settings import OCR_ENGINE_VAR  # the engine loaded at container start

        self.engine(os.environ.get(OCR_ENGINE_VAR, "rapidocr"))

    def engine(self, name: str):
        from captionacc_assets.compute.engines import full_frame_ocr_engine, ocr_engine

        engines = self.__dict__.setdefault("_engines", {})
        if name not in engines:
            engines[name] = full_frame_ocr_engine(name) if self.full_frames else ocr_engine(name)
        return engines[name]


@_cls("extract_frames_and_ocr", ocr_image)
class FrameOcr(_OcrEngines):
    full_frames = True

    @modal.method()
    def extract_frames_and_ocr(
        self, storage: dict, tenant: str, video: str, video_key: str, ocr_engine: str, probe: dict | None = None
    ) -> dict:
        """Job 1: `full_frames`, `raw_ocr_db`, `layout_db` of one video (`probe`: `VideoProbe.as_dict()` of it)."""
        from captionacc_assets.compute import extract_frames_and_ocr as job

        keys = _keys(tenant, video, video_key)
        with tempfile.TemporaryDirectory(prefix="captionacc-") as work:
            result = job.extract_frames_and_ocr(
                _store(storage),
                keys,
                video_key,
                engine=self.engine(ocr_engine),
                work_dir=Path(work),
                probe=_probe(probe),
            )
        return result.as_dict()


@_cls("crop_and_infer_caption_frame_extents", extents_image)
class CaptionFrameExtents:
    @modal.enter()
    def load_models(self):
        from captionacc_assets.compute.engines import pair_classifier
        from captionacc_assets.settings import EXTENTS_MODEL_VAR  # the pair model loaded at container start

        pair_classifier(os.environ.get(EXTENTS_MODEL_VAR, "model"))  # the trained model is cached per process

    @modal.method()
    def crop_and_infer_caption_frame_extents(
        self,
        storage: dict,
        tenant: str,
        video: str,
        video_key: str,
        zones: list[list[float]],
        version: int,
        extents_model: str,
        probe: dict | None = None,
    ) -> dict:
        """Job 2: `cropped_frames` (chunk pyramid) and `caption_frame_extents` of every caption zone of
        one approval (`zones`: one or two `[l, t, r, b]`), from one decode (`probe` as for job 1)."""
        from captionacc_assets.core.region import Region
        from captionacc_assets.compute import crop_and_infer_caption_frame_extents as job
        from captionacc_assets.compute.engines import pair_classifier

        keys = _keys(tenant, video, video_key)
        with tempfile.TemporaryDirectory(prefix="captionacc-") as work:
            result = job.crop_and_infer_caption_frame_extents(
                _store(storage),
                keys,
                video_key,
                zones=[Region(*zone) for zone in zones],
                version=int(version),
                classifier=pair_classifier(extents_model),
                work_dir=Path(work),
                probe=_probe(probe),
            )
        return result.as_dict()


@_cls("caption_ocr", ocr_image)
class CaptionOcr(_OcrEngines):
    @modal.method()
    def caption_ocr(
        self,
        storage: dict,
        tenant: str,
        video: str,
        version: int,
        zones: list[dict] | None = None,
        ocr_engine: str = "rapidocr",
        spans: list[list[int]] | None = None,
        zone: int = 0,
    ) -> dict:
        """Job 3: OCR of each caption's median frame, into `captions_db`, for every caption zone
        (`zones`: each zone's index, placement, region and extents database key).

        With `spans` (inclusive `[start, end]` frame indices, a person's request): it downloads the
        chunks that hold those spans' frames from `cropped_frames_v{version}` of `zone`, takes each span's
        per-pixel median, OCRs it and returns the text and confidence per span; it writes nothing
        (the caller merges the answers into captions.db under the editor lock).
        """
        from captionacc_assets.compute import caption_ocr as job
        from captionacc_assets.compute import requested_caption_ocr as requested

        keys = _keys(tenant, video, *(z["caption_frame_extents_key"] for z in zones or []))
        with tempfile.TemporaryDirectory(prefix="captionacc-") as work:
            if spans is not None:
                return requested.read_spans(
                    _store(storage),
                    keys,
                    version=int(version),
                    spans=[(int(s), int(e)) for s, e in spans],
                    engine=self.engine(ocr_engine),
                    work_dir=Path(work),
                    zone=int(zone),
                ).as_dict()
            result = job.caption_ocr(
                _store(storage),
                keys,
                version=int(version),
                zones=zones or [],
                engine=self.engine(ocr_engine),
                work_dir=Path(work),
                video_id=video,
            )
        return result.as_dict()


# Each job's class: the deployed name `modal.Cls.from_name(APP_NAME, ...)` looks up.
JOBS = {
    "extract_frames_and_ocr": FrameOcr,
    "crop_and_infer_caption_frame_extents": CaptionFrameExtents,
    "caption_ocr": CaptionOcr,
}
CLASS_NAMES = {name: cls.__name__ for name, cls in JOBS.items()}


def local_function(name: str):
    """The job's method on a fresh instance, to call with `.local()` (runs `@modal.enter()` first)."""
    return getattr(JOBS[name](), name)
