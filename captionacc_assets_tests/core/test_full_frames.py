"""Full-frame JPEGs and thumbnails."""

import io

import numpy as np
import pytest
from PIL import Image

from captionacc_assets.core.full_frames import encode_jpeg, full_frame_name, make_thumbnail
from captionacc_assets_tests.core.video_factory import render_caption


def decode(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "JPEG"
    return picture


@pytest.mark.parametrize(
    ("index", "name"), [(0, "frame_000000.jpg"), (100, "frame_000100.jpg"), (123456, "frame_123456.jpg")]
)
def test_full_frame_name(index, name):
    assert full_frame_name(index) == name


def test_encode_jpeg_keeps_size_and_pixels():
    image = np.zeros((90, 160, 3), np.uint8)
    image[:, :80] = (200, 30, 30)
    image[:, 80:] = (30, 30, 200)
    picture = decode(encode_jpeg(image))
    assert picture.size == (160, 90)
    decoded = np.asarray(picture.convert("RGB")).astype(int)
    assert np.abs(decoded - image).mean() < 3
    assert decoded[45, 20, 0] > 150 and decoded[45, 140, 2] > 150


def test_jpeg_quality_trades_size_for_fidelity():
    image = render_caption("字幕 caption", 400, 80)
    assert len(encode_jpeg(image, 95)) > len(encode_jpeg(image, 40))


@pytest.mark.parametrize(
    ("size", "expected"), [((1280, 720), (320, 180)), ((1080, 1920), (320, 569)), ((200, 50), (320, 80))]
)
def test_thumbnail_is_320_wide_with_aspect_kept(size, expected):
    width, height = size
    image = np.full((height, width, 3), 128, np.uint8)
    image[: height // 2] = 255
    picture = decode(make_thumbnail(image))
    assert picture.size == expected
    pixels = np.asarray(picture.convert("L")).astype(int)
    assert pixels[: expected[1] // 2 - 3].mean() > 245 and abs(pixels[expected[1] // 2 + 3 :].mean() - 128) < 4


def test_thumbnail_width_is_a_parameter():
    assert decode(make_thumbnail(np.zeros((100, 400, 3), np.uint8), width=100)).size == (100, 25)


def test_non_rgb_input_is_refused():
    with pytest.raises(ValueError, match="RGB"):
        encode_jpeg(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="RGB"):
        make_thumbnail(np.zeros((10, 10, 3), np.float32))
