"""Small PNG pictures for people reviewing a video: the proposed caption region, and a caption timeline."""

import io

import numpy as np
from PIL import Image, ImageDraw

from captionacc_assets.core.region import Region

PICTURE_WIDTH = 480


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def region_on_frame(frame: np.ndarray, region: Region, width: int = PICTURE_WIDTH) -> bytes:
    """The frame, scaled to `width`, with the caption region outlined."""
    image = Image.fromarray(frame)
    image = image.resize((width, max(1, round(image.height * width / image.width))), Image.LANCZOS)
    x0, y0, x1, y1 = region.to_pixels(image.width, image.height)
    ImageDraw.Draw(image).rectangle((x0, y0, x1 - 1, y1 - 1), outline=(255, 64, 64), width=2)
    return _png(image)


def caption_timeline(spans: list[tuple[int, int]], frame_count: int, width: int = PICTURE_WIDTH) -> bytes:
    """One bar over the 10 Hz timeline: caption spans (inclusive ends) in blue, gaps in grey."""
    image = Image.new("RGB", (width, 24), (225, 225, 225))
    draw = ImageDraw.Draw(image)
    scale = width / max(frame_count, 1)
    for k, (start, end) in enumerate(spans):
        colour = (40, 90, 200) if k % 2 == 0 else (90, 150, 240)
        draw.rectangle((int(start * scale), 2, max(int(start * scale), int((end + 1) * scale) - 1), 21), fill=colour)
    return _png(image)


def markdown_image(png: bytes, alt: str) -> str:
    import base64

    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
