"""What running the learned pair model needs besides the network itself, without torch.

The same network runs on two engines: onnxruntime on CPU (the default: it loads in a tenth of
the time and memory torch takes, and the OCR stages already carry it) and torch on CUDA. Both
shrink each crop the same way, read their crops in batches of the same shape, and add the
full-resolution change evidence their weights ask for (both check the weights file against its
hash with `weights.checked_weights`); that shared part lives here, so an engine only turns
batches of shrunk crops into pair probabilities.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from captionacc_assets.core.background import BackgroundSink
from captionacc_assets.core.errors import InputError
from captionacc_assets.core.extents.change_evidence import (
    ChangeEvidenceParams,
    ChangeEvidenceStream,
    apply_change_evidence,
)
from captionacc_assets.core.extents.labels import DIFFERENT, LABELS, SAME, PairPredictions

INPUT_HEIGHT = 40
INPUT_WIDTH = 320
CHANGE_EVIDENCE_KEY = "change_evidence"
DEVICE_ENV = "CAPTIONACC_EXTENTS_DEVICE"  # "cpu" (onnxruntime, the default) or "cuda" (torch)


def preprocess(crop: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 RGB crop -> 3 x INPUT_HEIGHT x INPUT_WIDTH uint8 (area-averaged, so
    thin strokes survive the shrink)."""
    crop = np.asarray(crop)
    if crop.ndim != 3 or crop.shape[2] != 3 or crop.dtype != np.uint8:
        raise InputError(f"crops must be HxWx3 uint8 RGB arrays; got shape {crop.shape}, dtype {crop.dtype}")
    if crop.shape[0] < 8 or crop.shape[1] < 8:
        raise InputError(
            f"crop {crop.shape[1]}x{crop.shape[0]} px is too small to hold a caption; check the crop region"
        )
    small = cv2.resize(crop, (INPUT_WIDTH, INPUT_HEIGHT), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(small.transpose(2, 0, 1))


class LearnedPairClassifier(ABC):
    """`PairClassifier` over a learned network: subclasses load the network and implement
    `predict_preprocessed`; this class batches the crops and applies the change evidence."""

    weights_path: Path
    model_hash: str
    meta: dict
    batch_size: int

    def _use_meta(self, meta: dict, batch_size: int) -> None:
        self.meta = meta
        self.batch_size = max(2, int(batch_size))
        # Weights saved with change evidence parameters also look for one-character changes at
        # full crop resolution (`change_evidence`); older files behave exactly as they did.
        evidence = meta.get(CHANGE_EVIDENCE_KEY)
        self.change_evidence = ChangeEvidenceParams.from_dict(evidence) if evidence is not None else None

    @abstractmethod
    def predict_preprocessed(self, batches: Iterable[np.ndarray]) -> PairPredictions:
        """Pair probabilities from batches of preprocessed frames (consecutive, in order)."""

    def _batches(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        buffer, shape = [], None
        for i, crop in enumerate(frames):
            crop = np.asarray(crop)
            if shape is None:
                shape = crop.shape
            elif crop.shape != shape:
                raise InputError(
                    f"crop {i} has shape {crop.shape}; every crop of a video must be {shape} "
                    "(one approved crop region per cropped frames version)"
                )
            buffer.append(preprocess(crop))
            if len(buffer) == self.batch_size:
                yield np.stack(buffer)
                buffer = []
        if buffer:
            yield np.stack(buffer)

    def predict(self, frames: Iterable[np.ndarray]) -> PairPredictions:
        if self.change_evidence is None:
            return self.predict_preprocessed(self._batches(frames))
        stream = ChangeEvidenceStream(self.change_evidence)
        # The evidence is mostly small numpy steps that hold the GIL, the network and the decoder
        # feeding it mostly native code that does not: on a thread of its own it runs beside them.
        evidence = BackgroundSink(stream.push, max_pending=16)

        def seen(frames):
            for crop in frames:
                evidence.put(np.asarray(crop))
                yield crop

        try:
            predictions = self.predict_preprocessed(self._batches(seen(frames)))
        except BaseException:
            evidence.abandon()
            raise
        evidence.close()
        strength = stream.finish().strength
        return PairPredictions(
            forward=apply_change_evidence(predictions.forward, strength, DIFFERENT, SAME),
            backward=apply_change_evidence(predictions.backward, strength, DIFFERENT, SAME),
        )


def joined_predictions(forward: list[np.ndarray], backward: list[np.ndarray], *, any_crop: bool) -> PairPredictions:
    """The batches' pair probabilities as one `PairPredictions`; no crop at all is an input error."""
    if not any_crop:
        raise InputError("no crops were given: a video needs at least one 10 Hz crop to classify")
    empty = np.zeros((0, len(LABELS)), np.float32)
    return PairPredictions(
        forward=np.concatenate(forward) if forward else empty,
        backward=np.concatenate(backward) if backward else empty,
    )
