"""The OCR engine protocol: an RGB image in, text boxes out (normalized coordinates)."""

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np


@dataclass(frozen=True)
class OcrBox:
    """One detected text line. Coordinates are normalized to the image, top-left origin."""

    text: str
    confidence: float
    left: float
    top: float
    right: float
    bottom: float


class OcrEngine(Protocol):
    name: str

    def recognize(self, image: np.ndarray) -> list[OcrBox]:
        """OCR one HxWx3 uint8 RGB image."""
        ...

    def recognize_many(self, images: Sequence[np.ndarray]) -> list[list[OcrBox]]:
        """OCR several images; engines may batch (e.g. a Vision montage)."""
        ...
