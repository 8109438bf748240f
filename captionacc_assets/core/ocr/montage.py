"""Montage batching for OCR services priced and limited per image (Google Cloud Vision).

Many frames are stacked vertically into one image, with a blank gap between them so no text
line spans two frames, and each box found in the montage is mapped back to its frame by the
vertical centre of the box. A montage stays within the service's limits: height, pixel count
and encoded size (a montage whose JPEG is too big is split in two and encoded again).
"""

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from captionacc_assets.core.full_frames import encode_jpeg
from captionacc_assets.core.ocr.engine import OcrBox

# Google Cloud Vision's limits on one image.
MAX_HEIGHT = 50_000
MAX_PIXELS = 50_000_000
MAX_BYTES = 15 * 1024 * 1024
GAP = 48  # blank rows between frames; wider than a text detector's line merging reach
JPEG_QUALITY = 95


@dataclass(frozen=True)
class Tile:
    """Where frame `index` sits in its montage."""

    index: int
    top: int
    height: int
    width: int


@dataclass(frozen=True)
class Montage:
    tiles: tuple[Tile, ...]
    gap: int = GAP

    @property
    def width(self) -> int:
        return max(t.width for t in self.tiles)

    @property
    def height(self) -> int:
        last = self.tiles[-1]
        return last.top + last.height

    def render(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """The montage image: each tile's frame at its place, black elsewhere."""
        canvas = np.zeros((self.height, self.width, 3), np.uint8)
        for tile in self.tiles:
            canvas[tile.top : tile.top + tile.height, : tile.width] = images[tile.index][:, :, :3]
        return canvas

    def split(self) -> tuple["Montage", "Montage"]:
        """Two montages of half the tiles each (for one whose encoding is too big)."""
        half = len(self.tiles) // 2
        if half == 0:
            raise ValueError("a montage of one frame cannot be split")
        return _stack(self.tiles[:half], self.gap), _stack(self.tiles[half:], self.gap)

    def boxes_per_frame(self, boxes: Sequence[OcrBox]) -> dict[int, list[OcrBox]]:
        """Montage boxes (normalized to the montage) back to their frames (normalized to each frame).

        A box belongs to the tile holding its vertical centre; a box whose centre falls in a gap
        belongs to no frame and is dropped. Boxes are clipped to their frame.
        """
        width, height = self.width, self.height
        out: dict[int, list[OcrBox]] = {t.index: [] for t in self.tiles}
        for box in boxes:
            centre = (box.top + box.bottom) / 2 * height
            tile = next((t for t in self.tiles if t.top <= centre < t.top + t.height), None)
            if tile is None:
                continue
            left = min(max(box.left * width / tile.width, 0.0), 1.0)
            right = min(max(box.right * width / tile.width, 0.0), 1.0)
            top = min(max((box.top * height - tile.top) / tile.height, 0.0), 1.0)
            bottom = min(max((box.bottom * height - tile.top) / tile.height, 0.0), 1.0)
            if right > left and bottom > top:
                out[tile.index].append(OcrBox(box.text, box.confidence, left, top, right, bottom))
        return out


def _stack(tiles: Sequence[Tile], gap: int = GAP) -> Montage:
    top, placed = 0, []
    for tile in tiles:
        placed.append(Tile(tile.index, top, tile.height, tile.width))
        top += tile.height + gap
    return Montage(tuple(placed), gap)


def plan_montages(
    shapes: Sequence[tuple[int, int]],
    *,
    max_height: int = MAX_HEIGHT,
    max_pixels: int = MAX_PIXELS,
    gap: int = GAP,
) -> list[Montage]:
    """Group frames of `(height, width)`, in order, into montages within the height and pixel limits."""
    montages: list[Montage] = []
    current: list[Tile] = []
    height = width = 0
    for index, (h, w) in enumerate(shapes):
        if h < 1 or w < 1:
            raise ValueError(f"frame {index} has no pixels ({h}x{w})")
        if h > max_height or h * w > max_pixels:
            raise ValueError(
                f"frame {index} ({w}x{h}) alone exceeds the montage limits "
                f"(height {max_height}, {max_pixels} pixels): downscale it first"
            )
        new_height = height + (gap if current else 0) + h
        new_width = max(width, w)
        if current and (new_height > max_height or new_height * new_width > max_pixels):
            montages.append(_stack(current, gap))
            current, new_height, new_width = [], h, w
        current.append(Tile(index, 0, h, w))
        height, width = new_height, new_width
    if current:
        montages.append(_stack(current, gap))
    return montages


def encoded_montages(
    images: Sequence[np.ndarray],
    *,
    max_height: int = MAX_HEIGHT,
    max_pixels: int = MAX_PIXELS,
    max_bytes: int = MAX_BYTES,
    gap: int = GAP,
) -> list[tuple[Montage, bytes]]:
    """Every frame in exactly one montage, each encoded as JPEG within all three limits."""
    pending = plan_montages([img.shape[:2] for img in images], max_height=max_height, max_pixels=max_pixels, gap=gap)
    done: list[tuple[Montage, bytes]] = []
    while pending:
        montage = pending.pop(0)
        data = encode_jpeg(montage.render(images), JPEG_QUALITY)
        if len(data) <= max_bytes:
            done.append((montage, data))
        elif len(montage.tiles) == 1:
            raise ValueError(f"frame {montage.tiles[0].index} encodes to {len(data)} bytes, over {max_bytes}")
        else:
            pending[:0] = montage.split()
    return done
