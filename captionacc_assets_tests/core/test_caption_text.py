"""Caption text: median frames, line joining and normalization (real RapidOCR where it reads)."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from captionacc_assets.core.caption_text import (
    _read_once,
    drop_clutter,
    group_into_lines,
    join_line,
    median_frame,
    clean_ocr_text,
    normalize_caption_text,
    read_caption_text,
    restore_inverted_exclamation,
)
from captionacc_assets.core.ocr.engine import OcrBox
from captionacc_assets.core.ocr.rapid import RapidOcrEngine
from captionacc_assets_tests.core.text_render import (
    LATIN_FONT,
    caption_frame,
    draw_lines,
    noise_background,
    solid_background,
)


@pytest.fixture(scope="module")
def engine():
    return RapidOcrEngine()


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


def test_median_subsamples_sequences_evenly_and_streams_in_bounded_memory():
    frames = [np.full((4, 4, 3), i, np.uint8) for i in range(101)]
    # Evenly spaced over the whole span: 3 picks are 0, 50, 100.
    assert median_frame(frames, max_frames=3)[0, 0, 0] == 50
    assert median_frame(frames, max_frames=31)[0, 0, 0] == 50

    held = []

    def stream():
        for f in frames:
            held.append(f)
            yield f

    result = median_frame(stream(), max_frames=31)
    assert len(held) == 101  # the whole stream was read
    assert 40 <= result[0, 0, 0] <= 60


def test_median_of_one_frame_and_bad_input():
    frame = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    assert np.array_equal(median_frame([frame]), frame)
    with pytest.raises(ValueError, match="at least one frame"):
        median_frame([])
    with pytest.raises(ValueError, match="one shape"):
        median_frame([frame, np.zeros((5, 4, 3), np.uint8)])


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


def test_no_text_reads_empty(engine):
    assert read_caption_text(engine, solid_background(400, 80)) == ("", 0.0)


def box(text, left, top, right, bottom, confidence=0.9):
    return OcrBox(text, confidence, left, top, right, bottom)


def test_grouping_and_joining_rules():
    boxes = [box("世界", 0.55, 0.51, 0.7, 0.61), box("下一行", 0.4, 0.7, 0.6, 0.8), box("你好，", 0.3, 0.5, 0.5, 0.6)]
    lines = group_into_lines(boxes)
    assert [[b.text for b in line] for line in lines] == [["你好，", "世界"], ["下一行"]]
    assert join_line(["你好，", "世界"]) == "你好，世界"
    assert join_line(["Hello,", "world"]) == "Hello, world"
    assert join_line(["第3集", "Episode"]) == "第3集Episode"
    assert join_line(["안녕하세요", "여러분"]) == "안녕하세요 여러분"  # Korean keeps its spaces


def test_a_tall_box_does_not_chain_two_lines_into_one():
    # Seen on a photo background: an edge read as "V" spans both caption lines. Compared
    # with the union of a line, it would pull the second line into the first.
    first, second = box("Keep your voice down.", 0.34, 0.23, 0.67, 0.54), box("I told you.", 0.29, 0.47, 0.71, 0.82)
    tall = box("V", 0.02, 0.24, 0.09, 0.81, confidence=0.69)
    lines = group_into_lines([second, tall, first])
    assert [[b.text for b in line] for line in lines] == [["Keep your voice down."], ["V", "I told you."]]


def test_doubtful_boxes_unlike_the_caption_size_are_clutter():
    first, second = (
        box("Keep your voice down.", 0.34, 0.23, 0.67, 0.54, 0.99),
        box("I told you.", 0.29, 0.47, 0.71, 0.82, 0.99),
    )
    tall = box("V", 0.02, 0.24, 0.09, 0.81, confidence=0.69)
    assert drop_clutter([first, tall, second]) == [first, second]
    # A doubtful box of the caption's size stays (it may be a hard-to-read word), and so
    # does a confident one of any size; with nothing confident there is no yardstick.
    small_word = box("Oh", 0.45, 0.25, 0.5, 0.55, confidence=0.6)
    big_sure = box("BIG", 0.1, 0.0, 0.3, 0.9, confidence=0.95)
    assert drop_clutter([first, second, small_word, big_sure]) == [first, second, small_word, big_sure]
    assert drop_clutter([tall]) == [tall]


def test_normalize_keeps_cjk_punctuation_and_collapses_whitespace():
    assert normalize_caption_text("  你好，\u3000世界！ ") == "你好， 世界！"
    assert normalize_caption_text("ＡＢＣ　１２３") == "ABC 123"
    assert normalize_caption_text("第一行 \n\n  second\t line \r\n") == "第一行\nsecond line"
    assert normalize_caption_text("   ") == ""


def test_spanish_exclamations_get_back_their_opening_mark():
    # RapidOCR's alphabet has "¿" but no "¡": the opening mark is always lost.
    assert (
        restore_inverted_exclamation("Vámonos ahora mismo!\nNo sé qué decir.")
        == "¡Vámonos ahora mismo!\nNo sé qué decir."
    )
    assert restore_inverted_exclamation("Cuidado con el perro!") == "¡Cuidado con el perro!"
    assert restore_inverted_exclamation("Hola! ¿Qué tal?") == "¡Hola! ¿Qué tal?"
    assert restore_inverted_exclamation("Sí, claro. Vamos!") == "Sí, claro. ¡Vamos!"
    # ... or it is read as a "j" glued to the capital that follows it.
    assert restore_inverted_exclamation("Me encanta este lugar.\njFeliz cumpleaños, mamá!") == (
        "Me encanta este lugar.\n¡Feliz cumpleaños, mamá!"
    )
    assert restore_inverted_exclamation("jCuidado con el perro!") == "¡Cuidado con el perro!"
    assert restore_inverted_exclamation("jamás, mi amor!") == "¡jamás, mi amor!"  # a real "j" stays
    for unchanged in ("¡Feliz cumpleaños, mamá!", "Follow me, quickly!", "Turn left now!", "¿Y?", "快点！", "Olé"):
        assert restore_inverted_exclamation(unchanged) == unchanged


def test_clean_ocr_text_fixes_shadowed_periods_but_keeps_ellipses():
    assert clean_ocr_text("He never came back..") == "He never came back."
    assert clean_ocr_text("Wait... what?") == "Wait... what?"
    assert clean_ocr_text("Vamos ahora..\nNo sé.") == "Vamos ahora.\nNo sé."
    assert clean_ocr_text("Cuidado con el perro!") == "¡Cuidado con el perro!"


def _box(text, left, top, right, bottom, confidence=0.99):
    return OcrBox(text, confidence, left, top, right, bottom)


def test_stray_fragments_and_tiny_lines_are_dropped_but_caption_pieces_stay():
    from captionacc_assets.core.caption_text import drop_strays

    # A counter on a sign beside a centred caption (seen: "我们回家吧1000"), and a lone "1" on the left.
    caption = _box("我们回家吧", 0.36, 0.32, 0.64, 0.77)
    assert drop_strays([[caption, _box("1000", 0.74, 0.08, 0.87, 0.57)]], aspect=6.5) == [[caption]]
    assert (
        drop_strays([[_box("1", 0.13, 0.07, 0.28, 0.97), _box("うん", 0.35, 0.09, 0.58, 0.97)]], aspect=8.6)[0][0].text
        == "うん"
    )
    # A lone small letter under two caption lines (seen: "...\nM").
    lines = [
        [_box("先生に聞いてみよう", 0.36, 0.21, 0.64, 0.54)],
        [_box("本当にありがとう", 0.37, 0.48, 0.62, 0.80)],
        [_box("M", 0.51, 0.81, 0.54, 1.0)],
    ]
    assert [line[0].text for line in drop_strays(lines, aspect=8.1)] == ["先生に聞いてみよう", "本当にありがとう"]
    # A centred caption OCR split in two boxes stays whole; so does a short word close to the rest.
    split = [_box("Where did you", 0.30, 0.3, 0.52, 0.7), _box("put the keys?", 0.54, 0.3, 0.70, 0.7)]
    assert drop_strays([split], aspect=8.0) == [split]
    near = [_box("I told you", 0.38, 0.3, 0.58, 0.7), _box("so.", 0.60, 0.3, 0.64, 0.7)]
    assert drop_strays([near], aspect=8.0) == [near]
    # A one-character caption line as tall as the others is a line ("好" under a question).
    tall = [[_box("你想喝点什么？", 0.35, 0.1, 0.65, 0.45)], [_box("好", 0.48, 0.5, 0.52, 0.85)]]
    assert drop_strays(tall, aspect=8.0) == tall
