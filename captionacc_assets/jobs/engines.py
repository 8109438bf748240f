"""Engines chosen by name, so configuration (not code) picks OCR and the pair model."""

from functools import lru_cache

from captionacc_assets.core.extents.baseline import BaselinePairClassifier, PairClassifier
from captionacc_assets.core.ocr.engine import OcrEngine

OCR_ENGINES = ("rapidocr", "google_vision")
PAIR_CLASSIFIERS = ("baseline", "model")


# Full frames are OCR'd only to find the caption band, so a smaller detection size is enough.
FULL_FRAME_MAX_SIDE = 960


def ocr_engine(name: str = "rapidocr", *, max_side: int = 1280) -> OcrEngine:
    if name == "rapidocr":
        from captionacc_assets.core.ocr.rapid import RapidOcrEngine

        return RapidOcrEngine(max_side=max_side)
    if name == "google_vision":  # credentials and endpoint from the environment (core/ocr/google_vision.py)
        from captionacc_assets.core.ocr.google_vision import GoogleVisionOcrEngine

        return GoogleVisionOcrEngine()
    raise ValueError(f"unknown OCR engine {name!r}; choose one of {OCR_ENGINES}")


@lru_cache(maxsize=1)
def _shipped_model() -> PairClassifier:
    """Loaded once per process (a warm worker reuses it); torch is imported only when chosen."""
    from captionacc_assets.core.extents.model import ModelPairClassifier

    return ModelPairClassifier()


def pair_classifier(name: str = "baseline") -> PairClassifier:
    if name == "baseline":
        return BaselinePairClassifier()
    if name == "model":
        return _shipped_model()
    raise ValueError(f"unknown caption frame extents model {name!r}; choose one of {PAIR_CLASSIFIERS}")
