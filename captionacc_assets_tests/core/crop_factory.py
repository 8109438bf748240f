"""Render synthetic 10 Hz caption-region crop sequences with Pillow, with known truth.

The extents stage sees only the approved caption region, cropped at 10 Hz. These helpers
draw caption cues (white with a dark outline, yellow, a drop shadow, or white on an opaque
box) over backgrounds that move like video (scrolling texture, scene cuts, sensor noise),
optionally fade cues in and out, and pass every crop through JPEG to mimic compression.
The truth is each cue's inclusive (start, end) 10 Hz index span.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
LATIN_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

WHITE = (255, 255, 255)
YELLOW = (255, 225, 40)
BLACK = (0, 0, 0)


@lru_cache(maxsize=32)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


@dataclass(frozen=True)
class CaptionStyle:
    """How a caption is drawn: fill colour plus an outline, a drop shadow, or an opaque box."""

    font_path: str = CJK_FONT
    font_size: int = 40
    fill: tuple[int, int, int] = WHITE
    outline_width: int = 2  # 0 = no outline
    outline: tuple[int, int, int] = BLACK
    shadow_offset: int = 0  # > 0 draws a dark drop shadow offset down-right
    box: tuple[int, int, int] | None = None  # opaque box colour behind the text


OUTLINED_WHITE = CaptionStyle()
YELLOW_OUTLINE = CaptionStyle(fill=YELLOW, outline_width=2)
BOXED_WHITE = CaptionStyle(outline_width=0, box=(20, 20, 24))
SHADOW_WHITE = CaptionStyle(outline_width=1, shadow_offset=3)


@dataclass(frozen=True)
class Cue:
    """One caption on screen for 10 Hz indices [start, end], inclusive.

    `fade_in` / `fade_out` frames of partial opacity lie inside [start, end]: the cue's
    alpha ramps (k+1)/(fade+1) over them. The truth span of a faded cue starts at its first
    frame of alpha >= 0.5 and ends at its last (see `truth_span`).
    """

    start: int
    end: int
    text: str
    fade_in: int = 0
    fade_out: int = 0

    def alpha(self, index: int) -> float:
        if not self.start <= index <= self.end:
            return 0.0
        a = 1.0
        if self.fade_in and index < self.start + self.fade_in:
            a = min(a, (index - self.start + 1) / (self.fade_in + 1))
        if self.fade_out and index > self.end - self.fade_out:
            a = min(a, (self.end - index + 1) / (self.fade_out + 1))
        return a

    def truth_span(self) -> tuple[int, int]:
        visible = [i for i in range(self.start, self.end + 1) if self.alpha(i) >= 0.5]
        return visible[0], visible[-1]


@dataclass
class Background:
    """A moving scene behind the caption.

    kind: "flat" (one colour, slowly drifting brightness), "textured" (scrolling smooth
    texture, mid brightness), "bright" (scrolling bright texture with dark detail), or
    "busy" (fast, high-contrast texture). `cuts` are indices where the scene changes.
    """

    kind: str = "textured"
    speed: int = 6  # pixels per frame the texture scrolls
    cuts: Sequence[int] = ()
    sensor_noise: float = 3.0  # per-pixel Gaussian sigma each frame
    seed: int = 0
    _textures: dict = field(default_factory=dict, repr=False)

    def _texture(self, scene: int, width: int, height: int, n: int) -> np.ndarray:
        key = (scene, width, height)
        if key not in self._textures:
            rng = np.random.default_rng([self.seed, scene])
            long_width = width + self.speed * n + 8
            if self.kind == "flat":
                colour = rng.integers(30, 200, size=3)
                tex = np.broadcast_to(colour, (height, long_width, 3)).astype(np.float32)
            else:
                grain = {"textured": 10, "bright": 7, "busy": 4}[self.kind]
                small = rng.random((max(2, height // grain), max(2, long_width // grain), 3)) * 255
                img = Image.fromarray(small.astype(np.uint8)).resize((long_width, height), Image.BICUBIC)
                tex = np.asarray(img, np.float32)
                if self.kind == "bright":
                    tex = 140 + tex * 0.45
                    # dark speckles: the worst case for a bright-next-to-dark text detector
                    spots = rng.random((height, long_width)) < 0.004
                    spot_img = Image.fromarray((spots * 255).astype(np.uint8)).filter(ImageFilter.MaxFilter(3))
                    tex[np.asarray(spot_img) > 0] *= 0.25
                elif self.kind == "busy":
                    tex = (tex - 128) * 1.6 + 128
            self._textures[key] = np.clip(tex, 0, 255)
        return self._textures[key]

    def frame(self, index: int, width: int, height: int, n: int, rng: np.random.Generator) -> np.ndarray:
        scene = sum(1 for c in self.cuts if index >= c)
        tex = self._texture(scene, width, height, n)
        x0 = self.speed * index
        img = tex[:, x0 : x0 + width].copy()
        if self.kind == "flat":
            img *= 1.0 + 0.05 * np.sin(index / 7.0)
        if self.sensor_noise:
            img += rng.normal(0.0, self.sensor_noise, img.shape).astype(np.float32)
        return img


def _cue_layer(text: str, style: CaptionStyle, width: int, height: int) -> np.ndarray:
    """The cue drawn once as an HxWx4 float RGBA layer (alpha 0..1), centred in the crop."""
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    font = _font(style.font_path, style.font_size)
    xy = (width / 2, height / 2)
    if style.box is not None:
        left, top, right, bottom = draw.textbbox(xy, text, font=font, anchor="mm")
        pad = max(4, style.font_size // 5)
        draw.rectangle((left - pad, top - pad, right + pad, bottom + pad), fill=(*style.box, 255))
    if style.shadow_offset:
        o = style.shadow_offset
        draw.text(
            (xy[0] + o, xy[1] + o),
            text,
            font=font,
            anchor="mm",
            fill=(0, 0, 0, 255),
            stroke_width=style.outline_width,
            stroke_fill=(0, 0, 0, 255),
        )
    draw.text(
        xy,
        text,
        font=font,
        anchor="mm",
        fill=(*style.fill, 255),
        stroke_width=style.outline_width,
        stroke_fill=(*style.outline, 255),
    )
    return np.asarray(layer, np.float32) / np.float32(255.0)


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


@dataclass
class CropSequence:
    """A synthetic 10 Hz crop sequence: iterate `frames()` (a fresh stream each call)."""

    n: int
    cues: Sequence[Cue]
    style: CaptionStyle = OUTLINED_WHITE
    background: Background = field(default_factory=Background)
    width: int = 900
    height: int = 100
    jpeg_quality: int | None = 70
    seed: int = 0

    def truth(self) -> list[tuple[int, int]]:
        """Inclusive (start, end) of every cue, in order."""
        return [cue.truth_span() for cue in sorted(self.cues, key=lambda c: c.start)]

    def frames(self) -> Iterator[np.ndarray]:
        rng = np.random.default_rng(self.seed)
        layers = {cue.text: _cue_layer(cue.text, self.style, self.width, self.height) for cue in self.cues}
        for i in range(self.n):
            img = self.background.frame(i, self.width, self.height, self.n, rng)
            for cue in self.cues:
                a = cue.alpha(i)
                if a > 0:
                    layer = layers[cue.text]
                    alpha = layer[..., 3:4] * np.float32(a)
                    img = img * (1 - alpha) + layer[..., :3] * 255 * alpha
            frame = np.clip(img + 0.5, 0, 255).astype(np.uint8)
            if self.jpeg_quality is not None:
                frame = _jpeg(frame, self.jpeg_quality)
            yield frame

    def frame_list(self) -> list[np.ndarray]:
        return list(self.frames())


def back_to_back(texts: Sequence[str], *, first: int, length: int, gap: int = 0) -> list[Cue]:
    """Cues of `length` frames each, starting at `first`, separated by `gap` empty frames."""
    return [Cue(first + k * (length + gap), first + k * (length + gap) + length - 1, t) for k, t in enumerate(texts)]
