"""Caption rows from decoded spans and their OCR: phantoms dropped, false boundaries healed."""

from captionacc_assets.core.caption_assembly import SpanText, assemble_caption_rows
from captionacc_assets.core.dbs.captions_db import validate_partition
from captionacc_assets.core.extents.decode import CaptionSpan


def spans_and_texts(*parts):
    """(start, end, text or None for a gap) -> spans and the OCR map."""
    spans, texts = [], {}
    for start, end, text in parts:
        spans.append(CaptionSpan(start, end, "gap" if text is None else "predicted", 0.9))
        if text is not None:
            texts[start] = SpanText(text, 0.95)
    return spans, texts


def rows_of(parts, n):
    spans, texts = spans_and_texts(*parts)
    rows = assemble_caption_rows(spans, texts, n)
    validate_partition(rows, n)
    return [(r.start_frame_index, r.end_frame_index, r.state, r.caption_ocr) for r in rows]


def test_unreadable_spans_are_gaps_and_same_text_neighbours_join():
    assert rows_of([(0, 4, None), (5, 20, "你好"), (21, 30, "你好"), (31, 35, ""), (36, 39, None)], 40) == [
        (0, 4, "gap", None),
        (5, 30, "predicted", "你好"),
        (31, 39, "gap", None),
    ]


def test_a_misread_sliver_inside_a_caption_is_healed():
    # Seen in the benchmark: a false boundary cut one caption into 15 + 5 + 10 indices,
    # and the 5-index middle read one character short.
    parts = [
        (0, 114, None),
        (115, 129, "部屋の鍵をなくした\nちょっと待ってください"),
        (130, 134, "部屋の鍵をなした\nちょっと待ってください"),
        (135, 144, "部屋の鍵をなくした\nちょっと待ってください"),
        (145, 150, None),
    ]
    assert rows_of(parts, 151) == [(0, 114, "gap", None), (115, 144, "predicted", parts[1][2]), (145, 150, "gap", None)]


def test_one_index_slivers_at_either_end_join_their_caption():
    parts = [
        (0, 106, None),
        (107, 131, "That's not what I meant."),
        (132, 132, "That's not whatI meant."),
        (133, 149, None),
        (150, 150, "I told you this would happen"),
        (151, 179, "I told you this would happen."),
    ]
    assert rows_of(parts, 180) == [
        (0, 106, "gap", None),
        (107, 132, "predicted", "That's not what I meant."),
        (133, 149, "gap", None),
        (150, 179, "predicted", "I told you this would happen."),
    ]


def test_back_to_back_captions_that_differ_by_one_character_stay_apart():
    # Each is up for a reading time, so the one-character difference is real.
    parts = [(0, 9, None), (10, 29, "Hola, amigo."), (30, 49, "Hola, amigos."), (50, 59, None)]
    assert rows_of(parts, 60) == [
        (0, 9, "gap", None),
        (10, 29, "predicted", "Hola, amigo."),
        (30, 49, "predicted", "Hola, amigos."),
        (50, 59, "gap", None),
    ]


def test_a_short_caption_unlike_its_neighbours_stays():
    parts = [(0, 20, "Where are you going?"), (21, 25, "OK"), (26, 45, "Where are you going now?")]
    assert [r[3] for r in rows_of(parts, 46)] == ["Where are you going?", "OK", "Where are you going now?"]


def test_a_one_index_partial_read_joins_the_caption_that_contains_it():
    parts = [(0, 187, None), (188, 188, "は美味"), (189, 209, "この店は美味しい"), (210, 220, None)]
    assert rows_of(parts, 221)[1] == (188, 209, "predicted", "この店は美味しい")
    # A 0.5 s cue is long enough to be real, even when its letters are in the next caption.
    parts = [(0, 9, None), (10, 14, "No"), (15, 40, "No sé qué decir.")]
    assert [r[3] for r in rows_of(parts, 41)] == [None, "No", "No sé qué decir."]


def test_a_caption_cut_short_by_a_misplaced_boundary_keeps_its_own_text():
    # From the benchmark: the boundary between two captions one letter apart was placed
    # 1.6 s early, leaving 0.6 s of the first; it is still that caption, not a sliver.
    parts = [(0, 177, None), (178, 183, "El año pasado."), (184, 219, "El año pesado."), (220, 230, None)]
    assert [r[3] for r in rows_of(parts, 231)] == [None, "El año pasado.", "El año pesado.", None]


def test_a_lone_latin_letter_is_not_a_caption_but_a_lone_cjk_word_is():
    parts = [(0, 199, "また来週会いましょう"), (200, 203, "A"), (204, 220, None), (221, 225, "好"), (226, 230, None)]
    assert rows_of(parts, 231) == [
        (0, 199, "predicted", "また来週会いましょう"),
        (200, 220, "gap", None),
        (221, 225, "predicted", "好"),
        (226, 230, "gap", None),
    ]


def test_weak_reads_are_not_captions_and_brief_ones_need_more_evidence():
    spans = [
        CaptionSpan(0, 30, "predicted", 0.9),
        CaptionSpan(31, 40, "predicted", 0.4),
        CaptionSpan(41, 45, "predicted", 0.9),
        CaptionSpan(46, 70, "predicted", 0.9),
        CaptionSpan(71, 75, "predicted", 0.9),
    ]
    texts = {
        0: SpanText("我们明天见", 0.72),  # long and read well enough: a caption
        31: SpanText("O A一", 0.61),  # scene texture at a cut (seen on real footage)
        41: SpanText("三", 0.72),  # a brief one-character read below the brief bar
        46: SpanText("Good night", 0.66),  # too weak even for a long caption
        71: SpanText("好", 0.93),
    }  # a brief caption read confidently stays
    rows = assemble_caption_rows(spans, texts, 76)
    validate_partition(rows, 76)
    assert [(r.start_frame_index, r.end_frame_index, r.state, r.caption_ocr) for r in rows] == [
        (0, 30, "predicted", "我们明天见"),
        (31, 70, "gap", None),
        (71, 75, "predicted", "好"),
    ]


def test_a_counter_cut_into_pieces_is_whole_again_before_slivers_are_judged():
    # From the one-character benchmark (libass, shadow over photo footage): false boundaries
    # cut each 1 s counter into pieces of 3-7 indices; joined piece by piece, "Level 3/12"
    # and "Level 4/12" were taken for slivers of the caption before them.
    parts = [
        (0, 107, None),
        (108, 117, "Level 1/12"),
        (118, 124, "Level 2/12"),
        (125, 127, "Level 2/12"),
        (128, 131, "Level 3/12"),
        (132, 137, "Level 3/12"),
        (138, 142, "Level 4/12"),
        (143, 147, "Level 4/12"),
        (148, 151, None),
    ]
    assert rows_of(parts, 152) == [
        (0, 107, "gap", None),
        (108, 117, "predicted", "Level 1/12"),
        (118, 127, "predicted", "Level 2/12"),
        (128, 137, "predicted", "Level 3/12"),
        (138, 147, "predicted", "Level 4/12"),
        (148, 151, "gap", None),
    ]


def test_a_sliver_between_two_captions_joins_the_one_it_reads_like():
    # The first 0.4 s of "Mañana hablamos." misread by a letter, right after "Mañana hablamas.":
    # it reads more like the caption after it, so the boundary stays where the change is.
    parts = [(0, 17, "Mañana hablamas."), (18, 21, "Manana hablamos."), (22, 31, "Mañana hablamos.")]
    assert rows_of(parts, 32) == [(0, 17, "predicted", "Mañana hablamas."), (18, 31, "predicted", "Mañana hablamos.")]
