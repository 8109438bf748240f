"""Engines chosen by name, so configuration (not code) picks OCR and the pair model."""

import os
from functools import lru_cache

from captionacc_assets.core.extents.weights import checked_weights, onnx_path
from captionacc_assets.core.extents.baseline import BaselinePairClassifier
from captionacc_assets.core.extents.labels import PairClassifier
from captionacc_assets.core.ocr.engine import OcrEngine

OCR_ENGINES = ("rapidocr", "google_vision")
PAIR_CLASSIFIERS = ("baseline", "model")


# Full frames are OCR'd only to find the caption band, so a smaller detection size is enough.
# (Not smaller than 960: with text found at 640 px the proposed regions moved slightly and the
# full eval changed 7 of its 32 generated videos, periods and word spaces lost; docs/benchmarks.md.)
FULL_FRAME_MAX_SIDE = 960


CAPTION_MAX_SIDE = 1280  # caption crops: text detection at their full size


def ocr_engine(name: str = "rapidocr", *, max_side: int = CAPTION_MAX_SIDE) -> OcrEngine:
    if name == "rapidocr":
        from captionacc_assets.core.ocr.rapid import RapidOcrEngine

        return RapidOcrEngine(max_side=max_side)
    if name == "google_vision":  # credentials and endpoint from the environment (core/ocr/google_vision.py)
        from captionacc_assets.core.ocr.google_vision import GoogleVisionOcrEngine

        return GoogleVisionOcrEngine()
    raise ValueError(f"unknown OCR engine {name!r}; choose one of {OCR_ENGINES}")


def full_frame_ocr_engine(name: str = "rapidocr") -> OcrEngine:
    """The engine initial processing reads full frames with (the sizes above)."""
    if name == "rapidocr":
        return ocr_engine(name, max_side=FULL_FRAME_MAX_SIDE)
    return ocr_engine(name)


def warm_engines(ocr_name: str = "rapidocr", extents_model: str = "model") -> None:
    """Load the full-frame OCR engine and the pair model before the first read needs them.

    Not the caption-crop engine: held from the start, its ~40 MB would sit beside the crop job's
    decoder and encoders, the run's memory peak; `captions_db` builds it after that job."""
    if ocr_name == "rapidocr":
        from captionacc_assets.core.ocr.rapid import warm

        warm(FULL_FRAME_MAX_SIDE)
    pair_classifier(extents_model)


@lru_cache(maxsize=1)
def _shipped_model() -> PairClassifier:
    """Loaded once per process (a warm worker reuses it). onnxruntime on CPU, with no torch in
    the process, unless CAPTIONACC_EXTENTS_DEVICE asks for CUDA or the weights (a retrained file
    in CAPTIONACC_EXTENTS_WEIGHTS) have no exported graph beside them: then torch runs them."""
    from captionacc_assets.core.extents.pair_inference import DEVICE_ENV

    path, _ = checked_weights(None)
    device = os.environ.get(DEVICE_ENV) or "cpu"
    if device == "cpu" and onnx_path(path).is_file():
        from captionacc_assets.core.extents.onnx_model import OnnxPairClassifier

        return OnnxPairClassifier(path)
    from captionacc_assets.core.extents.model import ModelPairClassifier

    return ModelPairClassifier(path, device=device)


def pair_classifier(name: str = "baseline") -> PairClassifier:
    if name == "baseline":
        return BaselinePairClassifier()
    if name == "model":
        return _shipped_model()
    raise ValueError(f"unknown caption frame extents model {name!r}; choose one of {PAIR_CLASSIFIERS}")


def pair_model_hash(name: str = "baseline") -> str:
    """The hash an extents key carries, without loading the model: the loaders' own check of the
    weights file needs neither torch nor onnxruntime, so a run process in Modal mode imports none."""
    if name != "model":
        return pair_classifier(name).model_hash
    return checked_weights(None)[1]
