"""Engines chosen by name, so configuration (not code) picks OCR and the pair model."""

from captionacc_assets.core.extents.baseline import BaselinePairClassifier, PairClassifier
from captionacc_assets.core.ocr.engine import OcrEngine

OCR_ENGINES = ("rapidocr",)
PAIR_CLASSIFIERS = ("baseline",)


def ocr_engine(name: str = "rapidocr") -> OcrEngine:
    if name == "rapidocr":
        from captionacc_assets.core.ocr.rapid import RapidOcrEngine

        return RapidOcrEngine()
    raise ValueError(f"unknown OCR engine {name!r}; choose one of {OCR_ENGINES}")


def pair_classifier(name: str = "baseline") -> PairClassifier:
    if name == "baseline":
        return BaselinePairClassifier()
    raise ValueError(f"unknown caption frame extents model {name!r}; choose one of {PAIR_CLASSIFIERS}")
