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


def as_rgb(image: np.ndarray) -> np.ndarray:
    """The HxWx3 uint8 RGB image every engine reads: grey is widened, alpha dropped, other
    dtypes clipped; anything else is refused with its shape."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"OCR needs an HxWx3 RGB image, got an array of shape {image.shape}")
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image[:, :, :3])


class OcrEngine(Protocol):
    name: str

    def recognize(self, image: np.ndarray) -> list[OcrBox]:
        """OCR one HxWx3 uint8 RGB image."""
        ...

    def recognize_many(self, images: Sequence[np.ndarray]) -> list[list[OcrBox]]:
        """OCR several images; engines may batch (e.g. a Vision montage)."""
        ...
