"""OCR boxes into caption lines: grouping, clutter and strays."""

from captionacc_assets.core.caption_lines import drop_clutter, drop_strays, group_into_lines
from captionacc_assets.core.ocr.engine import OcrBox


def box(text, left, top, right, bottom, confidence=0.9):
    return OcrBox(text, confidence, left, top, right, bottom)


def test_boxes_group_into_lines_top_to_bottom_and_left_to_right():
    boxes = [box("世界", 0.55, 0.51, 0.7, 0.61), box("下一行", 0.4, 0.7, 0.6, 0.8), box("你好，", 0.3, 0.5, 0.5, 0.6)]
    lines = group_into_lines(boxes)
    assert [[b.text for b in line] for line in lines] == [["你好，", "世界"], ["下一行"]]


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


def test_stray_fragments_and_tiny_lines_are_dropped_but_caption_pieces_stay():
    # A counter on a sign beside a centred caption (seen: "我们回家吧1000"), and a lone "1" on the left.
    caption = box("我们回家吧", 0.36, 0.32, 0.64, 0.77)
    assert drop_strays([[caption, box("1000", 0.74, 0.08, 0.87, 0.57)]], aspect=6.5) == [[caption]]
    assert (
        drop_strays([[box("1", 0.13, 0.07, 0.28, 0.97), box("うん", 0.35, 0.09, 0.58, 0.97)]], aspect=8.6)[0][0].text
        == "うん"
    )
    # A lone small letter under two caption lines (seen: "...\nM").
    lines = [
        [box("先生に聞いてみよう", 0.36, 0.21, 0.64, 0.54)],
        [box("本当にありがとう", 0.37, 0.48, 0.62, 0.80)],
        [box("M", 0.51, 0.81, 0.54, 1.0)],
    ]
    assert [line[0].text for line in drop_strays(lines, aspect=8.1)] == ["先生に聞いてみよう", "本当にありがとう"]
    # A centred caption OCR split in two boxes stays whole; so does a short word close to the rest.
    split = [box("Where did you", 0.30, 0.3, 0.52, 0.7), box("put the keys?", 0.54, 0.3, 0.70, 0.7)]
    assert drop_strays([split], aspect=8.0) == [split]
    near = [box("I told you", 0.38, 0.3, 0.58, 0.7), box("so.", 0.60, 0.3, 0.64, 0.7)]
    assert drop_strays([near], aspect=8.0) == [near]
    # A one-character caption line as tall as the others is a line ("好" under a question).
    tall = [[box("你想喝点什么？", 0.35, 0.1, 0.65, 0.45)], [box("好", 0.48, 0.5, 0.52, 0.85)]]
    assert drop_strays(tall, aspect=8.0) == tall
