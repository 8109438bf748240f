"""The layout_db picture of a two-zone video: both regions outlined in their own colours, each
tagged with its number, and a legend naming each zone; still inline."""

import base64
import io

import numpy as np
from PIL import Image

from captionacc_assets.core.layout import CaptionZone
from captionacc_assets.core.pictures import INLINE_LIMIT, ZONE_COLOURS, zones_on_frame
from captionacc_assets.core.region import Region
from captionacc_assets.synthetic.generate import render_frame
from captionacc_assets.synthetic.video_spec import CaptionStyle, Cue, VideoSpec

BOTTOM = CaptionZone(Region(0.1, 0.78, 0.9, 0.98), confidence=0.93)
TOP = CaptionZone(Region(0.1, 0.02, 0.9, 0.16), confidence=0.71)


def _colour_share(pixels: np.ndarray, colour) -> float:
    return float(np.mean(np.all(np.abs(pixels - np.array(colour)) < 60, axis=-1)))


def test_two_zones_are_drawn_labelled_and_fit_inline():
    spec = VideoSpec(
        width=1280,
        height=720,
        fps=10.0,
        duration_s=2.0,
        background="textured",
        seed=2,
        cues=(Cue(0.2, 1.8, "我们回家吧"),),
        second_cues=(Cue(0.2, 1.8, "Let's go home"),),
        second_style=CaptionStyle(font="latin_serif", size_ratio=0.045, placement="top"),
    )
    markdown = zones_on_frame(render_frame(spec, 1.0), [BOTTOM, TOP])
    assert len(markdown) < INLINE_LIMIT
    assert markdown.endswith("zone 0 bottom 0.93 (red) · zone 1 top 0.71 (blue)")
    data = markdown.split(",", 1)[1].split(")", 1)[0]
    image = np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")).astype(int)
    h = image.shape[0]
    top_band, bottom_band = image[: int(0.2 * h)], image[int(0.75 * h) :]
    # Zone 1's blue is drawn at the top, zone 0's red at the bottom, not the other way round.
    assert _colour_share(top_band, ZONE_COLOURS[1]) > 5 * _colour_share(bottom_band, ZONE_COLOURS[1])
    assert _colour_share(bottom_band, ZONE_COLOURS[0]) > 5 * _colour_share(top_band, ZONE_COLOURS[0])
