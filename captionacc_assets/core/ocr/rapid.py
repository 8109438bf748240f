"""RapidOCR behind the `OcrEngine` protocol: the offline default (SPEC §6).

RapidOCR runs PaddleOCR's ONNX models on CPU; the models ship inside the wheel, so
we point it at those files explicitly and it never tries to download anything.
We tune three things for caption work:
- detection resizes down to `max_side` only (RapidOCR's default scales the *short*
  side up to 736 px, which makes a 100 px caption strip an 8000 px image);
- small or flat images (caption crops) get a border of their own edge colour, because
  the text detector misses text that touches the image edge;
- the angle classifier is off: burned-in captions are never upside down.

`OcrModels` names other det/rec ONNX files (benchmarks/bench_ocr_models.py compares
PP-OCR versions with it); the default is the wheel's bundled PP-OCRv6 small pair.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from captionacc_assets.core.caption_lines import in_reading_order
from captionacc_assets.core.malloc_release import release_free_memory
from captionacc_assets.core.ocr.detection_input import use_table_lookup
from captionacc_assets.core.ocr.engine import OcrBox, as_rgb

# Images whose shorter side is below this get a padded border before detection.
_PAD_BELOW_SIDE = 160
# A lower box threshold than RapidOCR's 0.5 keeps small caption text; the
# recognizer's confidence (`min_confidence`) is what filters junk.
_DET_BOX_THRESH = 0.3
# The cores this process may use (up to 4: these small convolutions scale no further), with the
# pool's threads asleep between runs (`_sleeping_pool`). RapidOCR's default pool spins between
# runs and takes the cores the decoder beside it needs: reading 15 full 720p frames and 20 caption
# crops took 6.0-6.2 s of CPU on one thread against 12.8-13.6 s on the spinning pool. Without
# spinning, two threads detect a 960 px frame in 0.41 s against 0.73 s on one, with bit-identical
# output (docs/benchmarks.md).
_ORT_THREADS = max(1, min(len(os.sched_getaffinity(0)), 4))


@dataclass(frozen=True)
class OcrModels:
    """The detection and recognition ONNX files RapidOCR runs; None is the bundled file.

    `rec_keys` is the recognizer's character list (one per line), needed only by a rec
    model without one embedded in its ONNX metadata (RapidOCR prefers the embedded list)."""

    det: str | None = None
    rec: str | None = None
    rec_keys: str | None = None


BUNDLED_MODELS = OcrModels()

_ENGINES: dict[tuple[int, OcrModels], object] = {}
_WARMED: set[tuple[int, OcrModels]] = set()
# One lock per engine (re-entrant: `warm` holds it around `_rapidocr`), so warming one engine
# never holds up reads with another.
_ENGINE_LOCKS: dict[tuple[int, OcrModels], threading.RLock] = {}
_ENGINE_LOCKS_LOCK = threading.Lock()


def _engine_lock(key: tuple[int, OcrModels]) -> threading.RLock:
    with _ENGINE_LOCKS_LOCK:
        return _ENGINE_LOCKS.setdefault(key, threading.RLock())


def _bundled_model(name: str) -> str:
    import rapidocr

    path = Path(rapidocr.__file__).parent / "models" / name
    if not path.exists():
        raise RuntimeError(
            f"RapidOCR's bundled model {path} is missing: reinstall the `rapidocr` wheel "
            "(the platform runs OCR offline and never downloads models)"
        )
    return str(path)


def _given_model(path: str) -> str:
    if not Path(path).is_file():
        raise RuntimeError(f"OCR model file {path} is missing (the platform runs OCR offline)")
    return str(path)


def _embeds_keys(rec_model: str) -> bool:
    """Whether a rec ONNX carries its character list (RapidOCR's "character" metadata)."""
    import onnxruntime

    session = onnxruntime.InferenceSession(rec_model, providers=["CPUExecutionProvider"])
    return "character" in session.get_modelmeta().custom_metadata_map


def _model_params(models: OcrModels) -> dict[str, str]:
    """RapidOCR's model settings. Every file is checked here: RapidOCR would otherwise
    download a missing model or character list."""
    params = {
        "Det.model_path": _given_model(models.det) if models.det else _bundled_model("PP-OCRv6_det_small.onnx"),
        "Rec.model_path": _given_model(models.rec) if models.rec else _bundled_model("PP-OCRv6_rec_small.onnx"),
    }
    if models.rec_keys:
        params["Rec.rec_keys_path"] = _given_model(models.rec_keys)
    elif models.rec and not _embeds_keys(params["Rec.model_path"]):
        raise RuntimeError(f"OCR rec model {params['Rec.model_path']} has no character list inside: give rec_keys")
    return params


def _sleeping_pool() -> None:
    """Turn off spinning in the onnxruntime sessions RapidOCR builds, and hand their pool's work
    out in smaller blocks: RapidOCR has no setting for either, so its options builder is wrapped,
    once per process. With `dynamic_block_base` 4 the two threads finish a convolution closer
    together: 16 full frames and 16 caption crops read in 8-10 % less CPU and time alone, the
    same boxes; within a whole run, whose cores other threads share, the gain is in the noise
    (docs/benchmarks.md, 2026-12-04)."""
    from rapidocr.inference_engine.onnxruntime.main import OrtInferSession

    build = OrtInferSession._init_sess_opts
    if getattr(build, "sleeping_pool", False):
        return

    def options(cfg):
        built = build(cfg)
        built.add_session_config_entry("session.intra_op.allow_spinning", "0")
        built.add_session_config_entry("session.dynamic_block_base", "4")
        return built

    options.sleeping_pool = True  # type: ignore[attr-defined]
    OrtInferSession._init_sess_opts = staticmethod(options)  # type: ignore[method-assign]


def _rapidocr(max_side: int, models: OcrModels = BUNDLED_MODELS):
    """One RapidOCR per process (per detection size and models): loading the models takes ~1 s."""
    with _engine_lock((max_side, models)):
        engine = _ENGINES.get((max_side, models))
        if engine is None:
            from rapidocr import RapidOCR

            _sleeping_pool()
            use_table_lookup()
            engine = RapidOCR(
                params={
                    "Global.log_level": "error",
                    "Global.use_cls": False,
                    "Global.text_score": 0.0,  # we filter on min_confidence ourselves
                    "Global.max_side_len": max(max_side, 2000),
                    "Det.limit_type": "max",
                    "Det.limit_side_len": max_side,
                    "Det.box_thresh": _DET_BOX_THRESH,
                    "EngineConfig.onnxruntime.intra_op_num_threads": _ORT_THREADS,
                    **_model_params(models),
                }
            )
            _ENGINES[(max_side, models)] = engine
        return engine


def warm(max_side: int, models: OcrModels = BUNDLED_MODELS) -> None:
    """Build the engine, load both models (RapidOCR loads them on first use) and run each once:
    ~1.5 s that a caller with an idle core (the CLI while Dagster starts) takes off the first
    read. A read with this engine that comes meanwhile waits on its lock: nothing is loaded twice."""
    with _engine_lock((max_side, models)):
        engine = _rapidocr(max_side, models)
        if (max_side, models) in _WARMED:
            return
        try:
            engine(np.zeros((64, 64, 3), np.uint8))  # loads and runs detection; finds nothing
            load_rec = getattr(engine, "_load_rec_model", None)  # RapidOCR 3.x; else loaded on first text
            if load_rec is not None:
                from rapidocr.ch_ppocr_rec.typings import TextRecInput

                load_rec()(TextRecInput(img=np.full((48, 160, 3), 128, np.uint8)))
        finally:
            release_free_memory()
        _WARMED.add((max_side, models))


def _downscale(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    height, width = image.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1.0:
        return image, 1.0
    import cv2  # a RapidOCR dependency

    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def _pad_with_edge_colour(image: np.ndarray) -> tuple[np.ndarray, int]:
    """Border small images with the mean colour of their edge pixels, so text that
    touches the edge of a tight caption crop is still detected."""
    height, width = image.shape[:2]
    if min(height, width) >= _PAD_BELOW_SIDE:
        return image, 0
    pad = max(16, min(height, width) // 2)
    edges = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]]).astype(np.float32)
    padded = np.empty((height + 2 * pad, width + 2 * pad, 3), np.uint8)
    padded[:] = edges.mean(axis=0).round().astype(np.uint8)
    padded[pad : pad + height, pad : pad + width] = image
    return padded, pad


class RapidOcrEngine:
    """RapidOCR text lines as `OcrBox`es, normalized to the image given."""

    name = "rapidocr"
    frames_per_call = 1  # `recognize_many` reads one image after another: nothing gained by holding more

    def __init__(self, max_side: int = 1280, min_confidence: float = 0.5, models: OcrModels = BUNDLED_MODELS):
        if max_side < 64:
            raise ValueError(f"max_side must be at least 64 pixels, got {max_side}")
        self.max_side = int(max_side)
        self.min_confidence = float(min_confidence)
        self.models = models

    def recognize(self, image: np.ndarray) -> list[OcrBox]:
        rgb = as_rgb(image)
        height, width = rgb.shape[:2]
        small, scale = _downscale(rgb, self.max_side)
        padded, pad = _pad_with_edge_colour(small)
        bgr = np.ascontiguousarray(padded[:, :, ::-1])  # RapidOCR, like OpenCV, reads BGR
        try:
            result = _rapidocr(self.max_side, self.models)(bgr)
        finally:
            # onnxruntime (no arena, as RapidOCR sets it) freed this read's activations, ~150 MB
            # for a 960 px frame; glibc would keep the pages and the run's peak grows by them
            release_free_memory()
        if result.boxes is None or result.txts is None or len(result.txts) == 0:
            return []
        boxes = []
        for polygon, text, score in zip(result.boxes, result.txts, result.scores):
            text = text.strip()
            if not text or float(score) < self.min_confidence:
                continue
            points = (np.asarray(polygon, dtype=np.float64) - pad) / scale
            xs = np.clip(points[:, 0] / width, 0.0, 1.0)
            ys = np.clip(points[:, 1] / height, 0.0, 1.0)
            if xs.max() <= xs.min() or ys.max() <= ys.min():
                continue
            boxes.append(
                OcrBox(
                    text=text,
                    confidence=float(score),
                    left=float(xs.min()),
                    top=float(ys.min()),
                    right=float(xs.max()),
                    bottom=float(ys.max()),
                )
            )
        return in_reading_order(boxes)

    def recognize_many(self, images: Sequence[np.ndarray]) -> list[list[OcrBox]]:
        return [self.recognize(image) for image in images]
