"""Small pictures for people reviewing a video in the Dagster UI: the proposed caption region on a
frame that shows a caption (each zone labelled when a video has two), a close-up of that region,
and a caption timeline with a time axis.

The UI renders a markdown metadata value inline only when it is under 1,000 characters
(longer ones hide behind "[Show Markdown]"), and every materialization event carries its
metadata into the asset's Events tab. So each picture is encoded, smallest format first, until
its markdown (a data URI) fits `INLINE_LIMIT`: it shows at once and weighs under 1 KB.
"""

import base64
import io
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from captionacc_assets.core.ocr.engine import OcrBox
from captionacc_assets.core.region import Region

INLINE_LIMIT = 990  # the UI's inline limit is < 1,000 characters of markdown
REGION_COLOUR = (255, 40, 40)
# Zone 0 red (as a single region always was), zone 1 blue.
ZONE_COLOURS = (REGION_COLOUR, (40, 150, 255))
# Encodings tried in order, per width: WebP is about half the size of JPEG at the same look.
_QUALITIES = (60, 45, 32, 22, 14, 8)
_FRAME_WIDTHS = (224, 200, 176, 160, 144, 128, 112, 96, 80, 64)
_CLOSEUP_WIDTHS = (320, 288, 256, 224, 192, 160, 128)


def markdown_image(data: bytes, alt: str, mime: str = "image/png") -> str:
    return f"![{alt}](data:{mime};base64,{base64.b64encode(data).decode('ascii')})"


def _webp(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=quality, method=6)
    return buffer.getvalue()


def _png_4_colours(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True, bits=2)
    return buffer.getvalue()


def fit_inline(render, widths: Sequence[int], alt: str, limit: int = INLINE_LIMIT) -> str:
    """Markdown of `render(width)` (a PIL image) as WebP, at the largest width and quality whose
    markdown is under `limit`; the smallest try if none fits (it then shows behind a click)."""
    smallest = ""
    for width in widths:
        image = render(width)
        # A width whose lowest quality does not fit is skipped after one encoding (a higher
        # quality is never smaller), instead of trying every quality first.
        lowest = markdown_image(_webp(image, _QUALITIES[-1]), alt, "image/webp")
        smallest = lowest if not smallest or len(lowest) < len(smallest) else smallest
        if len(lowest) >= limit:
            continue
        for quality in _QUALITIES[:-1]:
            markdown = markdown_image(_webp(image, quality), alt, "image/webp")
            if len(markdown) < limit:
                return markdown
        return lowest
    return smallest


def _scaled(frame: np.ndarray, width: int) -> Image.Image:
    image = Image.fromarray(frame).convert("RGB")
    return image.resize((width, max(1, round(image.height * width / image.width))), Image.Resampling.LANCZOS)


def region_on_frame(frame: np.ndarray, region: Region, alt: str = "proposed caption region") -> str:
    """Inline markdown: the whole frame, scaled down, with the caption region outlined."""

    def render(width: int) -> Image.Image:
        image = _scaled(frame, width)
        x0, y0, x1, y1 = region.to_pixels(image.width, image.height)
        ImageDraw.Draw(image).rectangle((x0, y0, x1 - 1, y1 - 1), outline=REGION_COLOUR, width=2)
        return image

    return fit_inline(render, _FRAME_WIDTHS, alt)


def zone_label(number: int, placement: str, confidence: float) -> str:
    """What a zone is called under the picture: "zone 0 bottom 0.93" (numbered as in captions.db,
    the keys and the CLI: zone 0 is the main one)."""
    return f"zone {number} {placement} {confidence:.2f}"


ZONE_COLOUR_NAMES = ("red", "blue")


def zones_on_frame(frame: np.ndarray, zones: Sequence, alt: str = "proposed caption zones") -> str:
    """Inline markdown: the whole frame, scaled down, with each zone's region outlined in its own
    colour (zone 0 red, zone 1 blue) and tagged with its number, then one line naming each zone:
    "zone 0 bottom 0.93 (red) · zone 1 top 0.71 (blue)". `zones` are `CaptionZone`s (anything with
    `region`, `placement` and `confidence`), the main one first.

    The full labels are text beside the picture rather than drawn into it: at the few hundred
    bytes an inline picture may weigh, drawn words take a third of them and are still unreadable,
    while the number in each outline stays legible."""
    legend = " · ".join(
        f"{zone_label(number, zone.placement, zone.confidence)} ({ZONE_COLOUR_NAMES[number % 2]})"
        for number, zone in enumerate(zones)
    )

    def render(width: int) -> Image.Image:
        image = _scaled(frame, width)
        draw = ImageDraw.Draw(image)
        for number, zone in enumerate(zones):
            colour = ZONE_COLOURS[number % len(ZONE_COLOURS)]
            x0, y0, x1, y1 = zone.region.to_pixels(image.width, image.height)
            draw.rectangle((x0, y0, x1 - 1, y1 - 1), outline=colour, width=2)
            left, top, right, bottom = draw.textbbox((0, 0), str(number), font=_font())
            tx, ty = x0 + 3, y0 + 3 if y1 - y0 >= bottom - top + 6 else max(0, y0 - (bottom - top) - 4)
            draw.rectangle((tx - 1, ty - 1, tx + right - left + 1, ty + bottom - top + 1), fill=colour)
            draw.text((tx - left, ty - top), str(number), fill=(255, 255, 255), font=_font())
        return image

    text = f"\n\n{legend}"
    return fit_inline(render, _FRAME_WIDTHS, alt, limit=INLINE_LIMIT - len(text)) + text


def region_closeup(frame: np.ndarray, region: Region, alt: str = "caption region close-up") -> str:
    """Inline markdown: the caption region itself with a margin of half its height, outlined,
    large enough that the caption in it can be read."""
    margin = (region.bottom - region.top) / 2
    view = Region(
        max(0.0, region.left - margin / 4),
        max(0.0, region.top - margin),
        min(1.0, region.right + margin / 4),
        min(1.0, region.bottom + margin),
    )
    part = view.crop(frame)

    def render(width: int) -> Image.Image:
        image = _scaled(part, width)
        sx, sy = image.width / (view.right - view.left), image.height / (view.bottom - view.top)
        box = (
            round((region.left - view.left) * sx),
            round((region.top - view.top) * sy),
            round((region.right - view.left) * sx) - 1,
            round((region.bottom - view.top) * sy) - 1,
        )
        ImageDraw.Draw(image).rectangle(box, outline=REGION_COLOUR, width=1)
        return image

    return fit_inline(render, _CLOSEUP_WIDTHS, alt)


def caption_text_score(boxes: Sequence[OcrBox], in_region: Sequence[bool]) -> float:
    """How much caption text a frame shows: the confidence-weighted characters of its boxes
    inside the caption region, each box counted by its visible characters (so two stray
    one-letter shapes, read as "A" and "O", weigh less than one line of caption)."""
    return sum(len("".join(box.text.split())) * box.confidence for box, inside in zip(boxes, in_region) if inside)


def preview_frame_index(frames: Sequence[tuple[int, Sequence[OcrBox]]], in_region: Sequence[Sequence[bool]]) -> int:
    """The full frame that shows the most caption text in the region (the earliest on a tie)."""
    scores = [caption_text_score(boxes, inside) for (_, boxes), inside in zip(frames, in_region)]
    return frames[int(np.argmax(scores))][0] if frames else 0


def _font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default()


def _tick_step(duration_s: float, max_ticks: int) -> float:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if duration_s / step <= max_ticks:
            return step
    return 7200


def _seconds_label(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def caption_timeline(spans: list[tuple[int, int]], frame_count: int, alt: str = "caption timeline") -> str:
    """Inline markdown: one bar over the 10 Hz timeline, caption spans (inclusive ends) in blue,
    gaps in grey, with a time axis in seconds (frame i is at i / 10 s)."""
    duration_s = max(frame_count, 1) / 10

    def render(width: int) -> Image.Image:
        # A 4-colour palette picture: it compresses to a few hundred bytes.
        image = Image.new("P", (width, 30), 0)
        image.putpalette([255, 255, 255, 210, 210, 210, 40, 90, 200, 60, 60, 60])
        draw = ImageDraw.Draw(image)
        scale = width / max(frame_count, 1)
        draw.rectangle((0, 2, width - 1, 15), fill=1)
        for start, end in spans:
            draw.rectangle((int(start * scale), 2, max(int(start * scale), int((end + 1) * scale) - 1), 15), fill=2)
        step, tick, free_x = _tick_step(duration_s, max(2, width // 60)), 0.0, 0.0
        while tick <= duration_s + 1e-9:
            x = min(width - 1, int(tick * 10 * scale))
            draw.line((x, 16, x, 19), fill=3)
            label = _seconds_label(tick)
            text_width = draw.textlength(label, font=_font())
            left = min(max(0, x - text_width / 2), width - text_width)
            if left >= free_x:  # a label that would touch the previous one is left out, its tick kept
                draw.text((left, 19), label, fill=3, font=_font())
                free_x = left + text_width + 4
            tick += step
        return image

    for width in (480, 400, 320, 240, 160):
        png = markdown_image(_png_4_colours(render(width)), alt)
        if len(png) < INLINE_LIMIT:
            return png
    return fit_inline(lambda w: render(w).convert("RGB"), (160, 120), alt)
