"""Moving picture backgrounds that make caption change-detection non-trivial.

A caption detector that compares frames must not be fooled by the picture behind the
text, so the backgrounds have what real video has: multi-scale texture, colour
gradients, bright highlights near white, motion (panning plus moving shapes that pass
behind the caption band) and, for "cuts", hard scene changes while a caption stays up.

"footage" is real photography (the sample photos scikit-image ships) panned and cut
like filmed shots: natural edges, faces, fur and fine detail that no noise texture has.

Everything is drawn from a seeded `numpy.random.Generator`, so a seed is a picture.
The texture is made once (periodic 1/f noise from an FFT, so it tiles without seams)
and each frame is a crop of it: per-frame cost is a slice copy plus a few small sprites.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
from PIL import Image, ImageDraw

from captionacc_assets.core.errors import InputError

KINDS = ("moving", "cuts", "textured", "flat", "footage")

# Colour and grey photographs in scikit-image's bundled data with no legible text in them
# (not "motorcycle_left.png": it says YAMAHA, which would be scene text, not a caption).
FOOTAGE_PHOTOS = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "hubble_deep_field.jpg",
    "camera.png",
    "grass.png",
    "gravel.png",
)
# A shot shows this much more than the frame in each direction, so the camera can pan.
FOOTAGE_OVERSCAN = 1.25

# Sprite drawing is supersampled this much, then downsampled, for antialiased edges.
_SUPERSAMPLE = 3
_PERMUTATIONS = [list(p) for p in itertools.permutations(range(3))]


def periodic_noise(rng: np.random.Generator, height: int, width: int, beta: float) -> np.ndarray:
    """Noise with power spectrum ~ 1/f**beta, scaled to [0, 1] (float32).

    Made in the frequency domain, so it wraps around both edges seamlessly: crops that
    cross the texture's edge show no seam. beta ~ 2 looks like natural-image texture;
    larger beta gives smoother, larger blobs.
    """
    white = rng.standard_normal((height, width))
    spectrum = np.fft.rfft2(white)
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    freq = np.sqrt(fx * fx + fy * fy)
    freq[0, 0] = 1.0
    spectrum *= freq ** (-beta / 2.0)
    spectrum[0, 0] = 0.0
    field = np.fft.irfft2(spectrum, s=(height, width))
    low, high = np.percentile(field[::4, ::4], [1.0, 99.0])
    return np.clip((field - low) / max(high - low, 1e-9), 0.0, 1.0).astype(np.float32)


def textured_image(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A seamless colour texture: smooth palette regions, cloud-like luminance, fine
    grain, a periodic gradient and saturated highlights (bright areas close to white)."""
    hue = periodic_noise(rng, height, width, beta=3.6)
    lum = periodic_noise(rng, height, width, beta=2.4)
    glare = periodic_noise(rng, height, width, beta=3.2)
    grain = periodic_noise(rng, height, width, beta=0.8)
    palette = rng.uniform(20, 235, size=(4, 3))
    stops = np.linspace(0.0, 1.0, len(palette))
    base = np.stack([np.interp(hue, stops, palette[:, c]) for c in range(3)], axis=-1).astype(np.float32)
    ys = np.arange(height, dtype=np.float32)[:, None, None]
    xs = np.arange(width, dtype=np.float32)[None, :, None]
    gradient = 0.82 + 0.18 * np.sin(2 * np.pi * (xs / width + 2 * ys / height) + rng.uniform(0, 2 * np.pi))
    rgb = base * (0.4 + 0.95 * lum[..., None]) * gradient + 36.0 * (grain[..., None] - 0.5)
    highlight = np.clip((0.6 * glare + 0.4 * lum - 0.72) / 0.2, 0.0, 1.0)[..., None] ** 1.5
    rgb = rgb * (1.0 - highlight) + 248.0 * highlight
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Sprite:
    """A moving shape: premultiplied colour and inverse alpha (uint16) and a
    Lissajous path given as centre = size * (base + amp * sin(2 pi t / period + phase))."""

    premul: np.ndarray  # h x w x 3, round(colour * alpha), 0..255*255
    inverse_alpha: np.ndarray  # h x w x 1, 255 - alpha
    base: tuple[float, float]
    amp: tuple[float, float]
    period_s: tuple[float, float]
    phase: tuple[float, float]

    def top_left(self, t: float, width: int, height: int) -> tuple[int, int]:
        cx = width * (self.base[0] + self.amp[0] * np.sin(2 * np.pi * t / self.period_s[0] + self.phase[0]))
        cy = height * (self.base[1] + self.amp[1] * np.sin(2 * np.pi * t / self.period_s[1] + self.phase[1]))
        h, w = self.inverse_alpha.shape[:2]
        return int(np.floor(cx - w / 2)), int(np.floor(cy - h / 2))


def _sprite_mask(kind: str, size: int) -> np.ndarray:
    """An antialiased alpha mask (uint8) for one shape kind."""
    big = size * _SUPERSAMPLE
    if kind == "glow":
        r = np.hypot(*np.meshgrid(np.linspace(-1, 1, size), np.linspace(-1, 1, size)))
        return (255 * np.clip(1.0 - r, 0.0, 1.0) ** 1.5).astype(np.uint8)
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)
    inset = big // 12
    if kind == "disc":
        draw.ellipse((inset, inset, big - inset, big - inset), fill=255)
    elif kind == "box":
        draw.rounded_rectangle((inset, big // 4, big - inset, big - big // 4), radius=big // 10, fill=255)
    elif kind == "triangle":
        draw.polygon([(big / 2, inset), (big - inset, big - inset), (inset, big - inset)], fill=255)
    elif kind == "ring":
        draw.ellipse((inset, inset, big - inset, big - inset), outline=255, width=big // 8)
    else:
        raise ValueError(kind)
    return np.asarray(mask.resize((size, size), Image.Resampling.LANCZOS))


def make_sprites(rng: np.random.Generator, width: int, height: int, count: int) -> list[Sprite]:
    """Shapes of several kinds and colours, at least one of them a bright glow, with
    paths that span the frame (so some cross the caption band at the bottom or top)."""
    kinds = ["glow", "disc", "box", "triangle", "ring", "disc", "box", "glow"][:count]
    sprites = []
    for i, kind in enumerate(kinds):
        size = max(4, int(height * (rng.uniform(0.35, 0.6) if kind == "glow" else rng.uniform(0.12, 0.32))))
        alpha = _sprite_mask(kind, size).astype(np.float32)
        if kind == "glow":
            colour = np.array([255.0, 250.0, rng.uniform(200, 255)])
        elif i % 3 == 0:
            colour = rng.uniform(200, 255, 3)  # bright
        else:
            colour = rng.uniform(0, 255, 3)
            colour[rng.integers(3)] = rng.uniform(0, 60)  # saturated
        alpha *= rng.uniform(0.8, 1.0) if kind != "glow" else 0.9
        alpha = np.round(alpha)[..., None]
        sprites.append(
            Sprite(
                premul=np.round(alpha * colour[None, None, :]).astype(np.uint16),
                inverse_alpha=(255 - alpha).astype(np.uint16),
                # Every other shape keeps to the lower part of the frame, through the caption band.
                base=(rng.uniform(0.3, 0.7), rng.uniform(0.72, 0.85) if i % 2 else rng.uniform(0.3, 0.6)),
                amp=(rng.uniform(0.25, 0.5), rng.uniform(0.05, 0.15) if i % 2 else rng.uniform(0.15, 0.35)),
                period_s=(rng.uniform(5.0, 18.0), rng.uniform(4.0, 14.0)),
                phase=(rng.uniform(0, 2 * np.pi), rng.uniform(0, 2 * np.pi)),
            )
        )
    return sprites


def paste_sprite(frame: np.ndarray, sprite: Sprite, left: int, top: int) -> None:
    """Alpha-blend a sprite onto a uint8 frame in place, clipped to the frame.

    Integer arithmetic in uint16: x = bg * (255 - a) + a * colour <= 255 * 255, and
    (x + 128 + ((x + 128) >> 8)) >> 8 is round(x / 255) without a division.
    """
    fh, fw = frame.shape[:2]
    h, w = sprite.inverse_alpha.shape[:2]
    x0, y0, x1, y1 = max(left, 0), max(top, 0), min(left + w, fw), min(top + h, fh)
    if x0 >= x1 or y0 >= y1:
        return
    sx, sy = x0 - left, y0 - top
    inverse = sprite.inverse_alpha[sy : sy + y1 - y0, sx : sx + x1 - x0]
    premul = sprite.premul[sy : sy + y1 - y0, sx : sx + x1 - x0]
    x = frame[y0:y1, x0:x1].astype(np.uint16)
    x *= inverse
    x += premul
    x += 128
    x += x >> 8
    x >>= 8
    frame[y0:y1, x0:x1] = x


@lru_cache(maxsize=16)
def footage_photo(name: str, width: int, height: int) -> np.ndarray:
    """A bundled photo as RGB, scaled (aspect kept, then centre-cropped) to exactly
    width x height. A clear error names the package when scikit-image is missing."""
    try:
        path = resources.files("skimage") / "data" / name
    except ModuleNotFoundError as error:
        raise InputError("the 'footage' background needs the scikit-image package: pip install scikit-image") from error
    with resources.as_file(path) as file, Image.open(file) as opened:
        image = opened.convert("RGB")
        scale = max(width / image.width, height / image.height)
        size = (max(width, round(image.width * scale)), max(height, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
        left, top = (size[0] - width) // 2, (size[1] - height) // 2
        return np.asarray(image.crop((left, top, left + width, top + height)))


class Background:
    """The background picture of a video at any time t, deterministic from the seed.

    - "moving": a textured colour scene panning at a steady, slightly wavering speed,
      with shapes (one a bright glow) moving over it;
    - "cuts": the same with a hard scene cut every 4-8 s (new place, new colours);
    - "textured": the texture, still;
    - "flat": one colour;
    - "footage": photographs, one per 3-7 s shot, each panned corner to corner.
    """

    def __init__(self, width: int, height: int, kind: str, seed: int):
        if kind not in KINDS:
            raise InputError(f"background {kind!r} is not one of {', '.join(KINDS)}")
        self.width, self.height, self.kind = width, height, kind
        rng = np.random.default_rng([seed, 0xB6])
        self.flat_colour = rng.integers(30, 200, 3).astype(np.uint8)
        self._tiled: np.ndarray | None = None  # the texture, for the moving kinds
        self._sprites: list[Sprite] = []
        if kind == "flat":
            return
        if kind == "footage":
            self._init_footage(rng)
            return
        # Texture twice the frame in each direction, tiled so any crop is one slice.
        self.tex_h, self.tex_w = 2 * height, 2 * width
        texture = textured_image(rng, self.tex_h, self.tex_w)
        self._tiled = np.pad(texture, ((0, height), (0, width), (0, 0)), mode="wrap")
        self.origin = rng.uniform(0, 1, 2) * (self.tex_w, self.tex_h)
        speed = width * rng.uniform(0.03, 0.07)  # px/s, about 1 px per frame at 30 fps
        angle = rng.uniform(-0.5, 0.5) + (np.pi if rng.random() < 0.5 else 0.0)
        self.velocity = speed * np.array([np.cos(angle), np.sin(angle)])
        self.wobble = height * rng.uniform(0.01, 0.04)
        self.wobble_period = rng.uniform(3.0, 8.0)
        if kind in ("moving", "cuts"):
            self._sprites = make_sprites(rng, width, height, count=6)
        self.cut_times = np.array([])
        if kind == "cuts":
            self.cut_times = np.cumsum(rng.uniform(4.0, 8.0, 64))
            self.shot_jumps = rng.uniform(0, 1, (65, 2)) * (self.tex_w, self.tex_h)
            self.shot_colours = [_PERMUTATIONS[0]] + [_PERMUTATIONS[i] for i in rng.integers(1, 6, 64)]

    def _init_footage(self, rng: np.random.Generator) -> None:
        self.cut_times = np.cumsum(rng.uniform(3.0, 7.0, 64))
        order = rng.permutation(len(FOOTAGE_PHOTOS))
        self.shot_photos = [FOOTAGE_PHOTOS[order[i % len(order)]] for i in range(65)]
        # Each shot pans from one point of the overscan margin to another.
        self.shot_paths = rng.uniform(0, 1, (65, 2, 2))
        self.shot_starts = np.concatenate([[0.0], self.cut_times])

    def _footage_frame(self, t: float) -> np.ndarray:
        shot = int(np.searchsorted(self.cut_times, t, side="right"))
        big_w, big_h = int(self.width * FOOTAGE_OVERSCAN) // 2 * 2, int(self.height * FOOTAGE_OVERSCAN) // 2 * 2
        photo = footage_photo(self.shot_photos[shot], big_w, big_h)
        start, end = self.shot_starts[shot], self.shot_starts[shot + 1]
        progress = (t - start) / (end - start)
        (x0, y0), (x1, y1) = self.shot_paths[shot]
        x = int(round((x0 + (x1 - x0) * progress) * (big_w - self.width)))
        y = int(round((y0 + (y1 - y0) * progress) * (big_h - self.height)))
        return photo[y : y + self.height, x : x + self.width].copy()

    def frame(self, t: float) -> np.ndarray:
        """A new (writable) H x W x 3 uint8 RGB array: the background at time t."""
        if self.kind == "footage":
            return self._footage_frame(t)
        if self.kind == "flat":
            out = np.empty((self.height, self.width, 3), np.uint8)
            out[:] = self.flat_colour
            return out
        if self.kind == "textured":
            ox, oy = self.origin
        else:
            ox, oy = self.origin + self.velocity * t
            oy += self.wobble * np.sin(2 * np.pi * t / self.wobble_period)
        shot = int(np.searchsorted(self.cut_times, t, side="right")) if self.kind == "cuts" else 0
        if shot:
            ox, oy = ox + self.shot_jumps[shot][0], oy + self.shot_jumps[shot][1]
        x, y = int(np.floor(ox)) % self.tex_w, int(np.floor(oy)) % self.tex_h
        assert self._tiled is not None
        crop = self._tiled[y : y + self.height, x : x + self.width]
        if shot:  # a new shot has its colour channels swapped: a different-looking place
            out = np.empty((self.height, self.width, 3), np.uint8)
            for channel, source in enumerate(self.shot_colours[shot]):
                out[..., channel] = crop[..., source]
        else:
            out = crop.copy()
        for sprite in self._sprites:
            paste_sprite(out, sprite, *sprite.top_left(t, self.width, self.height))
        return out
