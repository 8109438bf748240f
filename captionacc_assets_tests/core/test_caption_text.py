"""Reading a caption image: lines top to bottom, pieces joined, a doubtful read retried (real RapidOCR)."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from captionacc_assets.core.caption_text import _enlarged, _read_once, read_caption_text
from captionacc_assets.core.median_frame import median_frame
from captionacc_assets.compute.engines import ocr_engine
from captionacc_assets_tests.core.text_render import (
    LATIN_FONT,
    caption_frame,
    draw_lines,
    noise_background,
    solid_background,
)


@pytest.fixture(scope="module")
def engine():
    return ocr_engine()  # what caption OCR reads with


def test_median_recovers_static_caption_over_moving_noise(engine):
    text = "今天天气很好，我们去散步"
    rng = np.random.default_rng(1)
    frames = [
        draw_lines(noise_background(640, 100, rng), [text], font_size=22, vertical_center=0.5, stroke_width=0)[0]
        for _ in range(9)
    ]
    median = median_frame(frames)
    assert median.shape == frames[0].shape and median.dtype == np.uint8
    # The background noise is averaged away: far flatter than any single frame's.
    background = np.s_[:15, :]
    assert median[background].std() < 0.65 * frames[0][background].std()
    read, confidence = read_caption_text(engine, median)
    assert read == text
    assert confidence > 0.9
    # Single noisy frames read worse on average (here most are missed outright).
    singles = [read_caption_text(engine, f) for f in frames]
    exact = [c if t == text else 0.0 for t, c in singles]
    assert np.mean(exact) < confidence


def test_two_line_caption_reads_top_to_bottom(engine):
    image, _ = caption_frame(800, 140, ["第一行字幕", "Second line"], font_size=40, vertical_center=0.5)
    assert read_caption_text(engine, image)[0] == "第一行字幕\nSecond line"


def test_pieces_of_one_line_join_with_or_without_spaces(engine):
    # Far-apart pieces on one line: OCR reports separate boxes, we join them.
    image = solid_background(900, 80, (30, 30, 30))
    image, _ = draw_lines(image, ["你好，"], anchor="left", x=0.05, vertical_center=0.5, font_size=36)
    image, _ = draw_lines(image, ["世界"], anchor="right", x=0.95, vertical_center=0.5, font_size=36)
    assert len(engine.recognize(image)) == 2
    assert read_caption_text(engine, image)[0] == "你好，世界"

    image = solid_background(900, 80, (30, 30, 30))
    image, _ = draw_lines(
        image, ["Hello"], anchor="left", x=0.05, vertical_center=0.5, font_size=36, font_path=LATIN_FONT
    )
    image, _ = draw_lines(
        image, ["world"], anchor="right", x=0.95, vertical_center=0.5, font_size=36, font_path=LATIN_FONT
    )
    assert read_caption_text(engine, image)[0] == "Hello world"


def test_a_doubtful_read_is_retried_enlarged(engine):
    # The median frame of a 0.5 s "Why" over a photo of a face (scikit-image's public
    # domain astronaut), from the benchmark: at its own size the detector merges the
    # word with the mouth and the chin into one box that reads as junk.
    image = np.asarray(Image.open(Path(__file__).parent / "data" / "short_caption_over_photo.jpg").convert("RGB"))
    first_text, first_confidence = _read_once(engine, image)
    assert first_text != "Why" and first_confidence < 0.9
    text, confidence = read_caption_text(engine, image)
    assert text == "Why" and confidence > 0.9


def test_a_short_line_the_detector_misses_in_a_thin_strip_is_found_with_room_around_it(engine):
    # The median frame of a clock "01:02" drawn with a drop shadow over a photo of an
    # astronaut (scikit-image's, public domain), from the one-character benchmark: in the
    # 1110 x 118 caption strip the detector finds no text at all, even enlarged.
    image = np.asarray(Image.open(Path(__file__).parent / "data" / "short_clock_over_photo.jpg").convert("RGB"))
    assert _read_once(engine, image) == ("", 0.0)
    assert _read_once(engine, _enlarged(image, 2))[0] != "01:02"
    text, confidence = read_caption_text(engine, image)
    assert text == "01:02" and confidence > 0.9


def test_no_text_reads_empty(engine):
    assert read_caption_text(engine, solid_background(400, 80)) == ("", 0.0)
