"""Where the three compute jobs run: in this process (embedded default) or on Modal."""

from pathlib import Path

import dagster as dg

from captionacc_assets.core.keys import VideoKeys
from captionacc_assets.core.region import Region
from captionacc_assets.jobs.caption_ocr import CaptionOcrResult, caption_ocr
from captionacc_assets.jobs.crop_and_infer_caption_frame_extents import (
    CropInferResult,
    crop_and_infer_caption_frame_extents,
)
from captionacc_assets.jobs.engines import FULL_FRAME_MAX_SIDE, ocr_engine, pair_classifier
from captionacc_assets.jobs.extract_frames_and_ocr import ExtractResult, extract_frames_and_ocr
from captionacc_assets.jobs.object_store import ObjectStore
from captionacc_assets.jobs.progress import Progress, no_progress


class ComputeResource(dg.ConfigurableResource):
    """Runs the compute jobs. `mode="in_process"` calls them directly with the same code Modal runs."""

    mode: str = "in_process"
    ocr_engine: str = "rapidocr"
    extents_model: str = "baseline"

    def _require_in_process(self) -> None:
        if self.mode != "in_process":
            raise ValueError(f"compute mode {self.mode!r} is not available; use 'in_process'")

    @property
    def model_hash(self) -> str:
        return pair_classifier(self.extents_model).model_hash

    def extract_frames_and_ocr(
        self, store: ObjectStore, keys: VideoKeys, video_key: str, work_dir: Path,
        progress: Progress = no_progress,
    ) -> ExtractResult:
        self._require_in_process()
        return extract_frames_and_ocr(
            store, keys, video_key, engine=ocr_engine(self.ocr_engine, max_side=FULL_FRAME_MAX_SIDE),
            work_dir=work_dir, progress=progress,
        )

    def crop_and_infer_caption_frame_extents(
        self, store: ObjectStore, keys: VideoKeys, video_key: str, region: Region,
        version: int, work_dir: Path, progress: Progress = no_progress,
    ) -> CropInferResult:
        self._require_in_process()
        return crop_and_infer_caption_frame_extents(
            store, keys, video_key, region=region, version=version,
            classifier=pair_classifier(self.extents_model), work_dir=work_dir, progress=progress,
        )

    def caption_ocr(
        self, store: ObjectStore, keys: VideoKeys, version: int, extents_key: str,
        work_dir: Path, progress: Progress = no_progress,
    ) -> CaptionOcrResult:
        self._require_in_process()
        return caption_ocr(
            store, keys, version=version, extents_key=extents_key,
            engine=ocr_engine(self.ocr_engine), work_dir=work_dir,
            video_id=keys.video, progress=progress,
        )
