"""The UI's pictures: small enough to render inline, drawn on a frame that shows a caption."""

import base64
import io

import numpy as np
import pytest
from PIL import Image

from captionacc_assets.core.ocr.engine import OcrBox
from captionacc_assets.core.pictures import (
    INLINE_LIMIT,
    caption_timeline,
    preview_frame_index,
    region_closeup,
    region_on_frame,
)
from captionacc_assets.core.region import Region
from captionacc_assets.synthetic.generate import render_frame
from captionacc_assets.synthetic.video_spec import Cue, VideoSpec

REGION = Region(0.1, 0.8, 0.9, 0.95)


def picture(markdown: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(markdown.split(",", 1)[1].rstrip(")"))))


def box(text: str, left: float, right: float, confidence: float = 0.9) -> OcrBox:
    return OcrBox(text, confidence, left, 0.84, right, 0.9)


def test_the_preview_is_the_frame_with_a_caption_not_two_stray_shapes():
    # Frame 0: two shapes that OCR reads as "A" and "O" inside the region (what picked frame 0 before).
    frames = [(0, [box("A", 0.2, 0.22), box("O", 0.6, 0.62)]), (100, [box("你好世界", 0.35, 0.65)]), (200, [])]
    inside = [[True, True], [True], []]
    assert preview_frame_index(frames, inside) == 100
    # Text outside the region does not count, however long.
    assert (
        preview_frame_index([(0, [box("a long sign outside", 0, 1)]), (100, [box("Hi", 0.4, 0.5)])], [[False], [True]])
        == 100
    )


@pytest.mark.parametrize("background", ["textured", "footage", "moving"])
@pytest.mark.parametrize("size", [(1920, 1080), (640, 360)])
def test_the_region_pictures_fit_the_inline_limit_and_show_the_region(background, size):
    spec = VideoSpec(
        width=size[0],
        height=size[1],
        fps=10.0,
        duration_s=3.0,
        background=background,
        seed=1,
        cues=(Cue(0.5, 2.5, "你好世界 Hello world"),),
    )
    frame = render_frame(spec, 1.0)
    whole, closeup = region_on_frame(frame, REGION), region_closeup(frame, REGION)
    assert len(whole) < INLINE_LIMIT and len(closeup) < INLINE_LIMIT
    image = picture(whole).convert("RGB")
    assert image.width >= 64 and abs(image.width / image.height - size[0] / size[1]) < 0.05
    # The outline is drawn where the region is: reddest along its top edge, left of centre.
    pixels = np.asarray(image).astype(int)
    x0, y0, x1, _ = REGION.to_pixels(image.width, image.height)
    edge = pixels[y0, x0 + 2 : x1 - 2]
    assert (edge[:, 0] - edge[:, 1]).mean() > 60
    assert picture(closeup).width > picture(whole).width  # the caption is shown larger in the close-up


def test_the_timeline_has_a_time_axis_in_seconds_and_fits_inline_for_many_captions():
    few = caption_timeline([(5, 24), (30, 49)], 200)
    many = caption_timeline([(i * 30, i * 30 + 20) for i in range(400)], 12000)
    for markdown in (few, many):
        assert len(markdown) < INLINE_LIMIT and markdown.startswith("![caption timeline](data:image/png")
    image = np.asarray(picture(few).convert("RGB")).astype(int)
    assert image.shape[1] == 480
    bar = image[8]  # the bar row: caption spans blue, gaps grey
    blue = lambda x: bar[x][2] > 150 and bar[x][0] < 100
    assert blue(int(10 * 480 / 200)) and not blue(int(27 * 480 / 200))  # frame 10 in a caption, 27 in a gap
    axis = image[19:]  # tick labels under the bar: dark text pixels
    assert (axis.sum(axis=2) < 300).sum() > 30
