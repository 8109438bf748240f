"""Real RapidOCR on Pillow-rendered text: the right text, in the right place, in reading order."""

from pathlib import Path

import numpy as np
import pytest

from captionacc_assets.core.ocr.engine import OcrBox
from captionacc_assets.core.ocr.rapid import OcrModels, RapidOcrEngine
from captionacc_assets_tests.core.text_render import (
    LATIN_FONT,
    box_contains,
    caption_frame,
    draw_lines,
    gradient_background,
    solid_background,
)


@pytest.fixture(scope="module")
def engine():
    return RapidOcrEngine()


def as_tuple(box: OcrBox):
    return (box.left, box.top, box.right, box.bottom)


def assert_located(box: OcrBox, drawn, tolerance=0.02):
    """The OCR box encloses the drawn ink (give or take `tolerance`) and is not much bigger."""
    assert box_contains(as_tuple(box), drawn, tolerance), (as_tuple(box), drawn)
    assert box_contains(drawn, as_tuple(box), 0.04), (as_tuple(box), drawn)


@pytest.mark.parametrize("text, font_path", [("你好，世界", None), ("Hello world", LATIN_FONT)])
def test_reads_rendered_text_where_it_was_drawn(engine, text, font_path):
    options = {"font_path": font_path} if font_path else {}
    image, (drawn,) = caption_frame(
        640, 360, [text], font_size=28, vertical_center=0.85, background=gradient_background(640, 360, 0.3), **options
    )
    boxes = engine.recognize(image)
    assert [b.text for b in boxes] == [text]
    assert 0.5 <= boxes[0].confidence <= 1.0
    assert_located(boxes[0], drawn)


def test_reading_order_is_top_to_bottom_then_left_to_right(engine):
    image = solid_background(640, 360, (20, 20, 20))
    image, (right,) = draw_lines(image, ["右边"], anchor="right", x=0.9, vertical_center=0.3, font_size=30)
    image, (left,) = draw_lines(image, ["左边"], anchor="left", x=0.1, vertical_center=0.3, font_size=30)
    image, (below,) = draw_lines(image, ["下面一行"], vertical_center=0.7, font_size=30)
    boxes = engine.recognize(image)
    assert [b.text for b in boxes] == ["左边", "右边", "下面一行"]
    for box, drawn in zip(boxes, [left, right, below]):
        assert_located(box, drawn)


def test_large_frames_are_downscaled_but_coordinates_stay_normalized(engine):
    image, drawn = caption_frame(2560, 1440, ["第一行字幕", "Second line"], font_size=96, vertical_center=0.85)
    boxes = engine.recognize(image)
    assert [b.text for b in boxes] == ["第一行字幕", "Second line"]
    for box, ink in zip(boxes, drawn):
        assert_located(box, ink)


def test_tight_caption_strip_is_read(engine):
    """A ~100 px caption crop whose text nearly touches its edges (the border padding's job)."""
    frame, (drawn,) = caption_frame(
        1280, 720, ["今天天气很好，我们去公园散步吧"], font_size=44, background=gradient_background(1280, 720, 0.6)
    )
    top, bottom = int(drawn[1] * 720) - 1, int(drawn[3] * 720) + 2
    strip = frame[top:bottom, 64:1216]
    assert strip.shape[0] < 60
    boxes = engine.recognize(strip)
    assert "".join(b.text for b in boxes) == "今天天气很好，我们去公园散步吧"
    for box in boxes:
        assert 0.0 <= box.left < box.right <= 1.0 and 0.0 <= box.top < box.bottom <= 1.0
    assert boxes[0].top < 0.3 and boxes[-1].bottom > 0.7  # the strip is nearly all text


def test_short_word_cropped_to_its_ink_is_one_line(engine):
    """Without a border, the detector splits this clipped crop into '好' and '的'."""
    frame, (drawn,) = caption_frame(640, 360, ["好的"], font_size=40, background=gradient_background(640, 360, 0.6))
    x0, y0, x1, y1 = (
        int(drawn[0] * 640) + 2,
        int(drawn[1] * 360) + 2,
        int(drawn[2] * 640) - 2,
        int(drawn[3] * 360) - 2,
    )
    boxes = engine.recognize(frame[y0:y1, x0:x1])
    assert [b.text for b in boxes] == ["好的"]


def test_blank_image_has_no_boxes_and_bad_shapes_are_refused(engine):
    assert engine.recognize(solid_background(320, 180)) == []
    with pytest.raises(ValueError, match="HxWx3"):
        engine.recognize(np.zeros((10, 10, 5), np.uint8))


def test_recognize_many_and_grayscale_and_confidence_floor(engine):
    image, _ = caption_frame(480, 120, ["Hello"], font_size=40, vertical_center=0.5, font_path=LATIN_FONT)
    gray = image.mean(axis=2).astype(np.uint8)
    blank = solid_background(480, 120)
    results = engine.recognize_many([image, blank, gray])
    assert [[b.text for b in r] for r in results] == [["Hello"], [], ["Hello"]]
    assert RapidOcrEngine(min_confidence=1.01).recognize(image) == []
    assert engine.name == "rapidocr"


def test_other_model_files_are_used_and_checked(engine, tmp_path):
    """`OcrModels` paths are what RapidOCR loads: a missing file is refused by name (never
    downloaded), and the bundled files named explicitly read exactly as the default does."""
    import rapidocr

    bundled = Path(rapidocr.__file__).parent / "models"
    image, _ = caption_frame(480, 120, ["Hello"], font_size=40, vertical_center=0.5, font_path=LATIN_FONT)
    missing = str(tmp_path / "absent_det.onnx")
    with pytest.raises(RuntimeError, match="absent_det.onnx"):
        RapidOcrEngine(models=OcrModels(det=missing)).recognize(image)
    with pytest.raises(RuntimeError, match="absent_rec.onnx"):
        RapidOcrEngine(models=OcrModels(rec=str(tmp_path / "absent_rec.onnx"))).recognize(image)
    keyless = tmp_path / "keyless_rec.onnx"
    keyless.write_bytes((bundled / "ch_ppocr_mobile_v2.0_cls_mobile.onnx").read_bytes())  # no "character" metadata
    with pytest.raises(RuntimeError, match="rec_keys"):
        RapidOcrEngine(models=OcrModels(rec=str(keyless))).recognize(image)
    explicit = OcrModels(det=str(bundled / "PP-OCRv6_det_small.onnx"), rec=str(bundled / "PP-OCRv6_rec_small.onnx"))
    assert RapidOcrEngine(models=explicit).recognize(image) == engine.recognize(image)


def test_warming_on_a_thread_loads_the_models_once_and_reads_the_same():
    """`warm` (the CLI runs it beside Dagster's start) leaves the engine loaded, and a read that
    comes while it runs waits for it instead of loading the models a second time."""
    import threading

    from captionacc_assets.core.ocr import rapid

    side = 1184  # a detection size no other test uses: this engine is built here
    image, _ = caption_frame(
        640,
        360,
        ["Hello world"],
        font_size=28,
        vertical_center=0.85,
        font_path=LATIN_FONT,
        background=gradient_background(640, 360, 0.3),
    )
    warmer = threading.Thread(target=rapid.warm, args=(side,))
    warmer.start()
    during = RapidOcrEngine(max_side=side).recognize(image)
    warmer.join()
    engine = rapid._ENGINES[(side, rapid.BUNDLED_MODELS)]
    assert engine.text_det is not None and engine.text_rec is not None
    rapid.warm(side)  # a second warm does nothing
    assert rapid._ENGINES[(side, rapid.BUNDLED_MODELS)] is engine
    assert [b.text for b in during] == ["Hello world"]
    assert RapidOcrEngine(max_side=side).recognize(image) == during


def test_onnxruntime_threads_sleep_between_runs(engine):
    from captionacc_assets.core.ocr import rapid

    engine.recognize(np.full((64, 64, 3), 255, np.uint8))
    options = rapid._rapidocr(engine.max_side).text_det.session.session.get_session_options()
    assert options.intra_op_num_threads == rapid._ORT_THREADS >= 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
