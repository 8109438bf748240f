"""Full frames and their thumbnails as JPEG bytes (SPEC §2 `full_frames`).

Full frames (q95) are what layout OCR and the editor see; thumbnails (320 px wide,
q85) keep the editor's frame strip light.
"""

import io

import numpy as np
from PIL import Image

THUMBNAIL_WIDTH = 320
THUMBNAIL_QUALITY = 85


def full_frame_name(index: int) -> str:
    """File name of the full frame at 10 Hz index `index`, as in the storage key."""
    return f"frame_{index:06d}.jpg"


def encode_jpeg(image: np.ndarray, quality: int = 95) -> bytes:
    """JPEG bytes of an HxWx3 uint8 RGB image."""
    return _jpeg(Image.fromarray(_rgb(image)), quality)


def make_thumbnail(image: np.ndarray, width: int = THUMBNAIL_WIDTH) -> bytes:
    """A `width`-px-wide JPEG (q85) of an RGB image, aspect ratio kept, Lanczos resampled."""
    picture = Image.fromarray(_rgb(image))
    height = max(1, round(picture.height * width / picture.width))
    return _jpeg(picture.resize((width, height), Image.Resampling.LANCZOS), THUMBNAIL_QUALITY)


def _rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 RGB image, got {image.shape} {image.dtype}")
    return np.ascontiguousarray(image)


def _jpeg(picture: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def decode_jpeg(data: bytes) -> np.ndarray:
    """RGB pixels of a stored full frame or thumbnail."""
    with Image.open(io.BytesIO(data)) as picture:
        return np.asarray(picture.convert("RGB"))
