"""Engines chosen by name, so configuration (not code) picks OCR and the pair model."""

from captionacc_assets.core.extents.baseline import BaselinePairClassifier, PairClassifier
from captionacc_assets.core.ocr.engine import OcrEngine

OCR_ENGINES = ("rapidocr",)
PAIR_CLASSIFIERS = ("baseline",)


# Full frames are OCR'd only to find the caption band, so a smaller detection size is enough.
FULL_FRAME_MAX_SIDE = 960


def ocr_engine(name: str = "rapidocr", *, max_side: int = 1280) -> OcrEngine:
    if name == "rapidocr":
        from captionacc_assets.core.ocr.rapid import RapidOcrEngine

        return RapidOcrEngine(max_side=max_side)
    raise ValueError(f"unknown OCR engine {name!r}; choose one of {OCR_ENGINES}")


def pair_classifier(name: str = "baseline") -> PairClassifier:
    if name == "baseline":
        return BaselinePairClassifier()
    raise ValueError(f"unknown caption frame extents model {name!r}; choose one of {PAIR_CLASSIFIERS}")
