"""The table-lookup detection input is RapidOCR's own, bit for bit, and the engine reads the same boxes."""

import numpy as np
import pytest
from rapidocr.ch_ppocr_det.utils import DetPreProcess

from captionacc_assets.core.ocr import detection_input
from captionacc_assets.core.ocr.rapid import RapidOcrEngine
from captionacc_assets_tests.core.text_render import caption_frame, gradient_background


@pytest.fixture(scope="module")
def original_call():
    detection_input.use_table_lookup()
    detection_input.use_table_lookup()  # once per process, however often asked
    assert DetPreProcess.__call__ is detection_input._looked_up
    return detection_input._ORIGINAL_CALL[0]


@pytest.mark.parametrize(
    "height, width, limit, mean, std",
    [
        (544, 960, 960, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]),  # a full frame at the full-frame size
        (720, 1280, 960, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]),  # resized down by RapidOCR first
        (284, 1168, 1280, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]),  # a padded caption band
        (37, 101, 1280, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),  # odd sizes, other statistics
    ],
)
def test_the_lookup_gives_rapidocrs_own_floats(original_call, height, width, limit, mean, std):
    image = np.random.default_rng(height).integers(0, 256, (height, width, 3), dtype=np.uint8)
    preprocess = DetPreProcess(limit, "max", mean, std)
    expected = original_call(preprocess, image)
    got = preprocess(image)
    assert got.dtype == expected.dtype == np.float32
    assert got.shape == expected.shape
    assert got.tobytes() == expected.tobytes()


def test_an_image_that_is_not_uint8_rgb_goes_through_rapidocrs_code(original_call):
    image = np.random.default_rng(1).random((64, 96, 3)).astype(np.float32) * 255
    preprocess = DetPreProcess(960, "max", [0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
    assert preprocess(image).tobytes() == original_call(preprocess, image).tobytes()


def test_the_engine_reads_the_same_boxes_with_either_input(original_call):
    image, _ = caption_frame(
        640,
        360,
        ["你好，世界", "Where are you going?"],
        font_size=26,
        vertical_center=0.8,
        background=gradient_background(640, 360, 0.3),
    )
    engine = RapidOcrEngine(max_side=960)
    with_lookup = engine.recognize(image)
    try:
        DetPreProcess.__call__ = original_call
        without = engine.recognize(image)
    finally:
        DetPreProcess.__call__ = detection_input._looked_up
    assert [b.text for b in with_lookup] == ["你好，世界", "Where are you going?"]
    assert with_lookup == without
