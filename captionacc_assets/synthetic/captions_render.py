"""Caption text drawn once into an RGBA layer, then alpha-composited onto frames.

Drawing text with Pillow costs milliseconds; a video shows the same caption for dozens
of frames, so each caption (and each constant distractor text) is rendered once into a
small premultiplied layer and every frame only blends that rectangle in. Outline,
shadow and box styles are built from coverage masks so antialiased edges composite
correctly over any background.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from captionacc_assets.core.errors import InputError
from captionacc_assets.synthetic.fonts import load_font
from captionacc_assets.synthetic.video_spec import CaptionStyle, Cue

# Where captions sit: centre of the last line (bottom) or the first line (top), as a
# fraction of the frame height.
BOTTOM_LAST_LINE_CENTRE = 0.90
TOP_FIRST_LINE_CENTRE = 0.08
LINE_PITCH = 1.3  # baseline-to-baseline distance in font sizes
OUTLINE_WIDTH = 0.09  # in font sizes
SHADOW_OFFSET = 0.07
BOX_PADDING = 0.3
BOX_COLOUR = (16, 16, 16)


@dataclass(frozen=True)
class TextLayer:
    """A rendered text rectangle placed at (left, top) on the frame: premultiplied RGB
    and alpha in float32, 0..255 scale. Read-only: layers are cached and shared."""

    left: int
    top: int
    premul: np.ndarray  # h x w x 3
    alpha: np.ndarray  # h x w x 1, 0..1

    @property
    def box(self) -> tuple[int, int, int, int]:
        """Pixel (left, top, right, bottom) the layer covers."""
        h, w = self.alpha.shape[:2]
        return self.left, self.top, self.left + w, self.top + h


def font_size_px(style: CaptionStyle, height: int) -> int:
    return max(8, int(round(style.size_ratio * height)))


def _contrast_colour(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black edges for light text, white for dark text."""
    r, g, b = colour
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b >= 110 else (255, 255, 255)


def line_centres(n_lines: int, size: int, height: int, placement: str) -> list[float]:
    """Vertical centre (px) of each line of a caption."""
    pitch = size * LINE_PITCH
    if placement == "bottom":
        last = min(height * BOTTOM_LAST_LINE_CENTRE, height - size * 0.8)
        return [last - pitch * (n_lines - 1 - i) for i in range(n_lines)]
    first = max(height * TOP_FIRST_LINE_CENTRE, size * 0.8)  # big text stays inside the frame
    return [first + pitch * i for i in range(n_lines)]


def render_text_layer(
    lines: tuple[str, ...],
    *,
    font: str,
    size: int,
    colour: tuple[int, int, int],
    style: str,
    centres: tuple[tuple[float, float], ...],
    frame_size: tuple[int, int],
    box_colour: tuple[int, int, int] = BOX_COLOUR,
    opacity: float = 1.0,
) -> TextLayer:
    """Render lines of text, each centred on its (x, y) in `centres`, on a transparent
    canvas the size of the frame, and crop to what was drawn.

    style: "outline" (contrasting stroke), "shadow" (offset, softened dark copy), "box"
    (opaque rounded rectangle behind all lines), or "plain".
    """
    width, height = frame_size
    pil_font = load_font(font, size)
    edge = _contrast_colour(colour)
    stroke = max(1, int(round(size * OUTLINE_WIDTH))) if style == "outline" else 0
    fill_mask = Image.new("L", (width, height), 0)
    edge_mask = Image.new("L", (width, height), 0)
    fill_draw, edge_draw = ImageDraw.Draw(fill_mask), ImageDraw.Draw(edge_mask)
    text_boxes = []
    for line, (cx, cy) in zip(lines, centres):
        left, top, right, bottom = fill_draw.textbbox((cx, cy), line, font=pil_font, anchor="mm", stroke_width=stroke)
        if left < 0 or right > width or top < 0 or bottom > height:
            raise InputError(
                f"caption line {line!r} does not fit in a {width}x{height} frame at {size} px: "
                "shorten the line, split it with \\n, or lower size_ratio"
            )
        text_boxes.append((left, top, right, bottom))
        fill_draw.text((cx, cy), line, font=pil_font, fill=255, anchor="mm")
        if style == "outline":
            edge_draw.text((cx, cy), line, font=pil_font, fill=255, anchor="mm", stroke_width=stroke, stroke_fill=255)
    if style == "shadow":
        offset = max(1, int(round(size * SHADOW_OFFSET)))
        edge_mask.paste(fill_mask, (offset, offset))
        edge_mask = edge_mask.filter(ImageFilter.GaussianBlur(max(0.5, offset / 2)))
    elif style == "box":
        pad = max(2, int(round(size * BOX_PADDING)))
        left = max(0, min(b[0] for b in text_boxes) - pad)
        top = max(0, min(b[1] for b in text_boxes) - pad)
        right = min(width - 1, max(b[2] for b in text_boxes) + pad)
        bottom = min(height - 1, max(b[3] for b in text_boxes) + pad)
        edge_draw.rounded_rectangle((left, top, right, bottom), radius=pad, fill=255)
        edge = box_colour
    elif style not in ("outline", "plain"):
        raise InputError(f"caption style {style!r} is not one of outline, shadow, box")

    bbox = edge_mask.getbbox() or fill_mask.getbbox()
    union = fill_mask.getbbox()
    if bbox is None or union is None:
        raise InputError(f"caption {lines!r} rendered no visible pixels with font {font!r}")
    bbox = (min(bbox[0], union[0]), min(bbox[1], union[1]), max(bbox[2], union[2]), max(bbox[3], union[3]))
    f = np.asarray(fill_mask.crop(bbox), np.float32)[..., None] / 255.0
    e = np.asarray(edge_mask.crop(bbox), np.float32)[..., None] / 255.0
    if style == "shadow":
        e = e * 0.85
    # Text fill "over" its edge (stroke, shadow or box).
    alpha = (f + e * (1.0 - f)) * opacity
    premul = (np.asarray(colour, np.float32) * f + np.asarray(edge, np.float32) * e * (1.0 - f)) * opacity
    alpha.setflags(write=False)
    premul.setflags(write=False)
    return TextLayer(left=bbox[0], top=bbox[1], premul=premul, alpha=alpha)


@lru_cache(maxsize=256)
def caption_layer(text: str, style: CaptionStyle, width: int, height: int) -> TextLayer:
    """The rendered layer of one caption (cached: one per cue text, style and frame size)."""
    lines = tuple(text.split("\n"))
    size = font_size_px(style, height)
    ys = line_centres(len(lines), size, height, style.placement)
    return render_text_layer(
        lines,
        font=style.font,
        size=size,
        colour=(int(style.color[0]), int(style.color[1]), int(style.color[2])),
        style=style.style,
        centres=tuple((width / 2, y) for y in ys),
        frame_size=(width, height),
    )


def cue_opacity(cue: Cue, t: float, fade_s: float, fps: float) -> float:
    """1 while a cue is fully shown; a linear ramp over fade_s at each end.

    The ramp counts whole frames so the first and last visible frames are faint but
    never empty: a cue is visible on exactly the frames with start_s <= t < end_s.
    """
    if not cue.visible_at(t):
        return 0.0
    if fade_s <= 0:
        return 1.0
    frame = 1.0 / fps
    fade_in = (t - cue.start_s + frame) / fade_s
    fade_out = (cue.end_s - t) / fade_s
    return float(np.clip(min(fade_in, fade_out), 1e-3, 1.0))


def composite(frame: np.ndarray, layer: TextLayer, opacity: float = 1.0) -> None:
    """Blend a layer onto a uint8 RGB frame in place (clipped to the frame)."""
    if opacity <= 0:
        return
    fh, fw = frame.shape[:2]
    left, top, right, bottom = layer.box
    x0, y0, x1, y1 = max(left, 0), max(top, 0), min(right, fw), min(bottom, fh)
    if x0 >= x1 or y0 >= y1:
        return
    sl = (slice(y0 - top, y1 - top), slice(x0 - left, x1 - left))
    alpha, premul = layer.alpha[sl], layer.premul[sl]
    if opacity < 1.0:
        alpha, premul = alpha * opacity, premul * opacity
    region = frame[y0:y1, x0:x1].astype(np.float32)
    region *= 1.0 - alpha
    region += premul
    region += 0.5
    np.clip(region, 0, 255, out=region)
    frame[y0:y1, x0:x1] = region.astype(np.uint8)
