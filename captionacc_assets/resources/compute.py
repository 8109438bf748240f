"""Where the three compute jobs run: in this process (embedded default) or on Modal (production).

One interface, `ComputeResource`, with one resource class per place, chosen by configuration
(`resources/profile.py`, `CAPTIONACC_COMPUTE`), in the style of `HNClient` in Dagster's
project_fully_featured. Both run the same job code. On Modal a job gets storage keys and the
bucket's location, never bytes, and returns its typed result as a dict, rebuilt here.
`modal_call="local"` runs the Modal functions' own bodies in this process through `.local()`:
the production wiring, end to end, without a Modal account (tests, debugging).
"""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import dagster as dg

from captionacc_assets.core.dbs.captions_db import ZoneProvenance
from captionacc_assets.core.keys import VideoKeys
from captionacc_assets.core.region import Region
from captionacc_assets.core.video import VideoProbe
from captionacc_assets.compute.caption_ocr import CaptionOcrResult, caption_ocr
from captionacc_assets.compute.crop_and_infer_caption_frame_extents import (
    CropInferResult,
    crop_and_infer_caption_frame_extents,
)
from captionacc_assets.compute.engines import full_frame_ocr_engine, ocr_engine, pair_classifier, pair_model_hash
from captionacc_assets.compute.extract_frames_and_ocr import ExtractResult, extract_frames_and_ocr
from captionacc_assets.compute.object_store import ObjectStore
from captionacc_assets.compute.progress import Progress, no_progress
from captionacc_assets.compute.requested_caption_ocr import SpanOcrResult, read_spans

MODES = ("in_process", "modal")
MODAL_CALLS = ("remote", "local")


class ComputeResource(dg.ConfigurableResource, ABC):
    """The three compute jobs (and job 3 for a person's request), wherever they run."""

    ocr_engine: str = "rapidocr"
    extents_model: str = "model"  # trained pair model; "baseline" is the non-learned one (docs/extents_model.md)

    @property
    def model_hash(self) -> str:
        """The extents model's hash (the file's, no model loaded)."""
        return pair_model_hash(self.extents_model)

    @abstractmethod
    def extract_frames_and_ocr(
        self,
        store: ObjectStore,
        keys: VideoKeys,
        video_key: str,
        work_dir: Path,
        progress: Progress = no_progress,
        probe: VideoProbe | None = None,
    ) -> ExtractResult:
        """`probe`: the `video` asset's probe of the file, so the job need not probe it again."""

    @abstractmethod
    def crop_and_infer_caption_frame_extents(
        self,
        store: ObjectStore,
        keys: VideoKeys,
        video_key: str,
        zones: Sequence[Region],
        version: int,
        work_dir: Path,
        progress: Progress = no_progress,
        probe: VideoProbe | None = None,
    ) -> CropInferResult:
        """Every caption zone of the version in one call (one decode), never one call per zone or frame;
        `probe` as for `extract_frames_and_ocr`."""

    @abstractmethod
    def caption_ocr(
        self,
        store: ObjectStore,
        keys: VideoKeys,
        version: int,
        zones: Sequence[ZoneProvenance],
        work_dir: Path,
        progress: Progress = no_progress,
    ) -> CaptionOcrResult: ...

    @abstractmethod
    def caption_ocr_spans(
        self,
        store: ObjectStore,
        keys: VideoKeys,
        version: int,
        spans: list[tuple[int, int]],
        work_dir: Path,
        progress: Progress = no_progress,
        zone: int = 0,
    ) -> SpanOcrResult:
        """Job 3 for a person's request: text and confidence of each span's median frame in one
        caption zone's cropped frames (writes nothing)."""


class InProcessCompute(ComputeResource):
    """The embedded default: the jobs run in the run's own process, models loaded once per process."""

    def extract_frames_and_ocr(self, store, keys, video_key, work_dir, progress=no_progress, probe=None):
        return extract_frames_and_ocr(
            store,
            keys,
            video_key,
            engine=full_frame_ocr_engine(self.ocr_engine),
            work_dir=work_dir,
            progress=progress,
            probe=probe,
        )

    def crop_and_infer_caption_frame_extents(
        self, store, keys, video_key, zones, version, work_dir, progress=no_progress, probe=None
    ):
        return crop_and_infer_caption_frame_extents(
            store,
            keys,
            video_key,
            zones=zones,
            version=version,
            classifier=pair_classifier(self.extents_model),
            work_dir=work_dir,
            progress=progress,
            probe=probe,
        )

    def caption_ocr(self, store, keys, version, zones, work_dir, progress=no_progress):
        return caption_ocr(
            store,
            keys,
            version=version,
            zones=zones,
            engine=ocr_engine(self.ocr_engine),
            work_dir=work_dir,
            video_id=keys.video,
            progress=progress,
        )

    def caption_ocr_spans(self, store, keys, version, spans, work_dir, progress=no_progress, zone=0):
        return read_spans(
            store,
            keys,
            version=version,
            spans=spans,
            engine=ocr_engine(self.ocr_engine),
            work_dir=work_dir,
            progress=progress,
            zone=zone,
        )


class ModalCompute(ComputeResource):
    """Production: each job is one call of a function of the deployed Modal App `modal_app`."""

    modal_app: str = "captionacc"
    modal_call: str = "remote"

    def check(self) -> "ModalCompute":
        """Fail at start on a call kind that does not exist."""
        if self.modal_call not in MODAL_CALLS:
            raise ValueError(
                f"Modal call {self.modal_call!r} is not one of {', '.join(MODAL_CALLS)} (CAPTIONACC_MODAL_CALL)"
            )
        return self

    def _modal(self, name: str, store: ObjectStore, progress: Progress, **kwargs) -> dict:
        location = getattr(store, "location", None)
        if not isinstance(location, dict):
            raise ValueError(
                f"Modal compute reads and writes the bucket itself, so storage must be S3 "
                f"(CAPTIONACC_PROFILE=production), not {type(store).__name__}"
            )
        progress(f"{name}: calling Modal function {self.modal_app}.{name} ({self.modal_call})")
        from captionacc_assets import modal_app

        if self.modal_call == "local":
            result = modal_app.local_function(name).local(storage=location, **kwargs)
        else:
            import modal

            deployed = modal.Cls.from_name(self.modal_app, modal_app.CLASS_NAMES[name])
            result = getattr(deployed(), name).remote(storage=location, **kwargs)
        progress(f"{name}: Modal function finished")
        return result

    def extract_frames_and_ocr(self, store, keys, video_key, work_dir, progress=no_progress, probe=None):
        return ExtractResult(
            **self._modal(
                "extract_frames_and_ocr",
                store,
                progress,
                tenant=keys.tenant,
                video=keys.video,
                video_key=video_key,
                ocr_engine=self.ocr_engine,
                probe=probe.as_dict() if probe else None,
            )
        )

    def crop_and_infer_caption_frame_extents(
        self, store, keys, video_key, zones, version, work_dir, progress=no_progress, probe=None
    ):
        return CropInferResult(
            **self._modal(
                "crop_and_infer_caption_frame_extents",
                store,
                progress,
                tenant=keys.tenant,
                video=keys.video,
                video_key=video_key,
                zones=[list(region.as_tuple()) for region in zones],
                version=version,
                extents_model=self.extents_model,
                probe=probe.as_dict() if probe else None,
            )
        )

    def caption_ocr(self, store, keys, version, zones, work_dir, progress=no_progress):
        return CaptionOcrResult(
            **self._modal(
                "caption_ocr",
                store,
                progress,
                tenant=keys.tenant,
                video=keys.video,
                version=version,
                zones=[asdict(zone) for zone in zones],
                ocr_engine=self.ocr_engine,
            )
        )

    def caption_ocr_spans(self, store, keys, version, spans, work_dir, progress=no_progress, zone=0):
        return SpanOcrResult(
            **self._modal(
                "caption_ocr",
                store,
                progress,
                tenant=keys.tenant,
                video=keys.video,
                version=version,
                ocr_engine=self.ocr_engine,
                spans=[[int(s), int(e)] for s, e in spans],
                zone=zone,
            )
        )


def compute_resource(mode: str, **config) -> ComputeResource:
    """The compute resource for `mode` (CAPTIONACC_COMPUTE): `in_process` or `modal`."""
    if mode == "in_process":
        return InProcessCompute(**{k: v for k, v in config.items() if k in ("ocr_engine", "extents_model")})
    if mode == "modal":
        return ModalCompute(**config).check()
    raise ValueError(f"compute mode {mode!r} is not one of {', '.join(MODES)} (CAPTIONACC_COMPUTE)")
