"""Render caption-like text onto images with Pillow, for tests that run real OCR.

Tests need pictures whose text and position they know exactly: this draws lines of
text (font, size, colour, outline, anchor) and returns where each line landed as a
normalized `(left, top, right, bottom)` box, the same convention as the code under test.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
LATIN_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)

Box = tuple[float, float, float, float]


@lru_cache(maxsize=64)
def load_font(size: int, path: str = CJK_FONT) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def solid_background(width: int, height: int, color=(40, 60, 90)) -> np.ndarray:
    image = np.empty((height, width, 3), np.uint8)
    image[:] = color
    return image


def noise_background(width: int, height: int, rng: np.random.Generator, *, low: int = 0, high: int = 256) -> np.ndarray:
    """Uniform per-pixel colour noise: the worst case for reading text off a single frame."""
    return rng.integers(low, high, size=(height, width, 3), dtype=np.uint8)


def gradient_background(width: int, height: int, phase: float = 0.0) -> np.ndarray:
    """A smooth moving-scene stand-in: colour bands that shift with `phase` (0..1)."""
    x = np.linspace(0.0, 1.0, width)[None, :]
    y = np.linspace(0.0, 1.0, height)[:, None]
    r = 110 + 90 * np.sin(2 * np.pi * (x + phase))
    g = 100 + 80 * np.sin(2 * np.pi * (y * 1.5 + phase * 2))
    b = 120 + 70 * np.cos(2 * np.pi * (x + y + phase))
    return np.clip(np.stack(np.broadcast_arrays(r, g, b), axis=-1), 0, 255).astype(np.uint8)


def draw_lines(
    image: np.ndarray,
    lines: Sequence[str],
    *,
    font_size: int = 32,
    font_path: str = CJK_FONT,
    anchor: str = "center",
    x: float | None = None,
    vertical_center: float = 0.88,
    line_spacing: float = 1.25,
    color=WHITE,
    stroke_width: int = 2,
    stroke_color=BLACK,
) -> tuple[np.ndarray, list[Box]]:
    """Draw `lines` (top to bottom) onto a copy of an HxWx3 RGB image.

    `anchor` is "left" | "center" | "right": `x` (normalized, default 0.08 / 0.5 / 0.92)
    is then each line's left edge, centre or right edge. The block of lines is centred
    on `vertical_center`. Returns the new image and each line's ink box, normalized.
    """
    height, width = image.shape[:2]
    if x is None:
        x = {"left": 0.08, "center": 0.5, "right": 0.92}[anchor]
    pil = Image.fromarray(np.ascontiguousarray(image[..., :3]))
    draw = ImageDraw.Draw(pil)
    font = load_font(font_size, font_path)
    pitch = font_size * line_spacing
    block_top = vertical_center * height - pitch * len(lines) / 2
    pillow_anchor = {"left": "lm", "center": "mm", "right": "rm"}[anchor]
    boxes: list[Box] = []
    for i, line in enumerate(lines):
        xy = (x * width, block_top + pitch * (i + 0.5))
        draw.text(
            xy, line, font=font, fill=color, anchor=pillow_anchor, stroke_width=stroke_width, stroke_fill=stroke_color
        )
        l, t, r, b = draw.textbbox(xy, line, font=font, anchor=pillow_anchor, stroke_width=stroke_width)
        boxes.append((max(l, 0) / width, max(t, 0) / height, min(r, width) / width, min(b, height) / height))
    return np.asarray(pil), boxes


def caption_frame(
    width: int,
    height: int,
    lines: Sequence[str],
    *,
    background: np.ndarray | None = None,
    **draw_options,
) -> tuple[np.ndarray, list[Box]]:
    """A whole frame with burned-in caption lines (see `draw_lines` for the options)."""
    if background is None:
        background = solid_background(width, height)
    return draw_lines(background, lines, **draw_options)


def box_contains(outer: Box, inner: Box, tolerance: float = 0.0) -> bool:
    """True if `outer` encloses `inner`, allowing `tolerance` (normalized) slack each side."""
    return (
        outer[0] <= inner[0] + tolerance
        and outer[1] <= inner[1] + tolerance
        and outer[2] >= inner[2] - tolerance
        and outer[3] >= inner[3] - tolerance
    )
