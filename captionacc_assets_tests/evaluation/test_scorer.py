"""The scorer against hand-checked numbers: matching, recall/precision, CER, timing, parsing."""

import pytest

from captionacc_assets.core.export import TimedCaption, to_srt, to_vtt
from captionacc_assets.evaluation.scorer import (
    ScoredCue,
    cer,
    combine,
    edit_distance,
    match,
    normalize_text,
    parse_captions,
    score,
)

C = ScoredCue

# Truth: three 2 s cues of 5 characters each.
TRUTH = [C(1.0, 3.0, "hello"), C(4.0, 6.0, "world"), C(7.0, 9.0, "again")]
# Predicted: "hello" read as "hallo" (1 edit) starting 100 ms late; "world" exact, ending
# 200 ms late; "again" not found; a phantom "ghost" where there is no caption.
PREDICTED = [C(1.1, 3.0, "hallo"), C(4.0, 6.2, "world"), C(10.0, 11.0, "ghost")]


def test_hand_checked_score():
    s = score(TRUTH, PREDICTED)
    assert (s.true_cues, s.predicted_cues, s.matched, s.missed, s.phantom) == (3, 3, 2, 1, 1)
    assert s.recall == pytest.approx(2 / 3)
    assert s.precision == pytest.approx(2 / 3)
    assert s.f1 == pytest.approx(2 / 3)
    # 1 edit over the 10 reference characters of the two matched cues.
    assert s.cer == pytest.approx(0.1)
    assert s.exact_text_rate == pytest.approx(0.5)
    # start errors [100, 0] ms: median 50, p95 (linear) 0 + 0.95 * 100 = 95.
    assert (s.start_error_ms_median, s.start_error_ms_p95) == (50.0, 95.0)
    # end errors [0, 200] ms: median 100, p95 190.
    assert (s.end_error_ms_median, s.end_error_ms_p95) == (100.0, 190.0)
    d = s.as_dict()
    assert d["recall"] == s.recall and d["missed"] == 1 and "start_errors_ms" not in d


def test_combine_pools_counts_edits_and_errors():
    # Second video: one 10-character cue found exactly, starting 300 ms late.
    other = score([C(0.0, 2.0, "abcdefghij")], [C(0.3, 2.0, "abcdefghij")])
    pooled = combine([score(TRUTH, PREDICTED), other])
    assert (pooled.true_cues, pooled.predicted_cues, pooled.matched, pooled.missed, pooled.phantom) == (4, 4, 3, 1, 1)
    assert pooled.recall == pytest.approx(3 / 4) and pooled.precision == pytest.approx(3 / 4)
    assert pooled.cer == pytest.approx(1 / 20)  # 1 edit over 5 + 5 + 10 characters
    assert pooled.exact_text_rate == pytest.approx(2 / 3)
    assert pooled.start_error_ms_median == 100.0  # median of [100, 0, 300]
    assert combine([]).recall == 1.0 and combine([]).cer is None


def test_maximum_overlap_matching_beats_greedy():
    # P0 overlaps T0 by 1.0 s and T1 by 1.5 s; P1 overlaps only T1, by 1.0 s. Greedy
    # (largest overlap first) pairs P0-T1 and leaves T0 and P1 unmatched: 1 match, 1.5 s.
    # The optimum pairs P0-T0 and P1-T1: 2 matches, 2.0 s.
    truth = [C(0.0, 2.0, "first"), C(2.0, 4.0, "second")]
    predicted = [C(1.0, 3.5, "first"), C(3.0, 4.0, "second")]
    assert match(truth, predicted) == [(0, 0), (1, 1)]
    assert score(truth, predicted).recall == 1.0


def test_equal_overlap_is_broken_by_text_similarity():
    # "dog" overlaps "cat" and "dog" by 1.0 s each: it is the "dog" cue.
    truth = [C(0.0, 2.0, "cat"), C(2.0, 4.0, "dog")]
    assert match(truth, [C(1.0, 3.0, "dog")]) == [(1, 0)]
    assert match(truth, [C(1.0, 3.0, "cat")]) == [(0, 0)]


def test_touching_cues_do_not_match():
    # [0, 2) and [2, 3) share no time: no match, so one miss and one phantom.
    s = score([C(0.0, 2.0, "a")], [C(2.0, 3.0, "a")])
    assert (s.matched, s.missed, s.phantom, s.cer, s.start_error_ms_p95) == (0, 1, 1, None, None)


def test_one_long_prediction_matches_only_one_truth():
    # One predicted cue spanning three true cues takes the one it overlaps most.
    truth = [C(0.0, 1.0, "a"), C(1.0, 3.0, "b"), C(3.0, 4.0, "c")]
    s = score(truth, [C(0.0, 4.0, "b")])
    assert match(truth, [C(0.0, 4.0, "b")]) == [(1, 0)]
    assert (s.matched, s.missed, s.phantom, s.recall, s.precision) == (1, 2, 0, pytest.approx(1 / 3), 1.0)


def test_empty_conventions():
    both = score([], [])
    assert (both.recall, both.precision, both.f1, both.phantom, both.cer) == (1.0, 1.0, 1.0, 0, None)
    only_predicted = score([], [C(0.0, 1.0, "x"), C(2.0, 3.0, "y")])
    assert (only_predicted.recall, only_predicted.precision, only_predicted.phantom) == (1.0, 0.0, 2)
    assert only_predicted.f1 == 0.0
    only_truth = score([C(0.0, 1.0, "x")], [])
    assert (only_truth.recall, only_truth.precision, only_truth.missed, only_truth.f1) == (0.0, 1.0, 1, 0.0)


def test_edit_distance_and_cer():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("flaw", "lawn") == 2
    assert edit_distance("", "abc") == edit_distance("abc", "") == 3
    assert edit_distance("我们明天见", "我们后天见") == 1
    assert edit_distance("你吃饭了吗", "你吃饭了吗？") == 1
    assert cer("hello", "hallo") == pytest.approx(0.2)
    assert cer("hello", "") == 1.0
    assert cer("", "") == 0.0 and cer("", "x") == 1.0
    # Normalization: a line break is a space, full-width forms are their ASCII selves.
    assert cer("今天天气很好\n我们去公园吧", "今天天气很好 我们去公园吧") == 0.0
    assert cer("快点，火车要开了！", "快点,火车要开了!") == 0.0
    assert normalize_text("  ＡＢＣ \n\t def ") == "ABC def"


def test_edit_distance_matches_the_textbook_recurrence():
    import random

    def textbook(a, b):
        row = list(range(len(b) + 1))
        for i, x in enumerate(a, 1):
            new = [i]
            for j, y in enumerate(b, 1):
                new.append(min(row[j] + 1, new[j - 1] + 1, row[j - 1] + (x != y)))
            row = new
        return row[-1]

    rng = random.Random(7)
    for _ in range(300):
        a = "".join(rng.choice("ab你¿") for _ in range(rng.randint(0, 12)))
        b = "".join(rng.choice("ab你¿") for _ in range(rng.randint(0, 12)))
        assert edit_distance(a, b) == textbook(a, b), (a, b)


SRT_TEXT = """1
00:00:01,000 --> 00:00:03,000
你好，世界

2
00:00:03,600 --> 00:00:05,650
Two lines
of text
"""

VTT_TEXT = (
    "\ufeffWEBVTT - a title\r\n\r\n"
    "NOTE a comment\r\nthat spans lines\r\n\r\n"
    "STYLE\r\n::cue { color: yellow }\r\n\r\n"
    "intro\r\n00:01.000 --> 00:03.000 align:center line:90%\r\n<v Speaker>你好，世界</v>\r\n\r\n"
    "00:00:03.600 --> 00:00:05.650\r\nTom &amp; Jerry &lt;3\r\n<i>second</i> line\r\n"
)


def test_parse_srt_and_vtt():
    srt_cues = parse_captions(SRT_TEXT)
    assert srt_cues == [C(1.0, 3.0, "你好，世界"), C(3.6, 5.65, "Two lines\nof text")]
    vtt_cues = parse_captions(VTT_TEXT)
    assert vtt_cues == [C(1.0, 3.0, "你好，世界"), C(3.6, 5.65, "Tom & Jerry <3\nsecond line")]


def test_parse_the_pipelines_own_exports():
    captions = [TimedCaption(10, 29, "你好，世界"), TimedCaption(36, 55, "Where are you going?\nHome.")]
    expected = [C(1.0, 3.0, "你好，世界"), C(3.6, 5.6, "Where are you going?\nHome.")]
    assert parse_captions(to_srt(captions)) == expected
    assert parse_captions(to_vtt(captions)) == expected
    assert score(expected, parse_captions(to_vtt(captions))).exact_text_rate == 1.0


def test_cer_without_punctuation_and_one_character_changes_are_scored_apart():
    truth = [C(0, 1, "时，有些人"), C(1, 2, "我们明天见"), C(2, 3, "我们后天见"), C(4, 5, "Il est là.")]
    merged = [C(0, 1, "时 有些人"), C(1, 3, "我们明天见"), C(4, 5, "l est là")]
    s = score(truth, merged)
    assert s.cer == pytest.approx(3 / 20)  # "，"->" ", then "I" and "." missing: 3 edits in 20
    assert s.cer_no_punct == pytest.approx(1 / 16)  # only the lost "I" counts, in 16
    assert (s.one_char_changes, s.one_char_changes_found) == (1, 0)  # 明天 -> 后天 was merged
    apart = score(truth, [C(1, 2, "我们明天见"), C(2, 3, "我们后天见")])
    assert (apart.one_char_changes, apart.one_char_changes_found, apart.one_char_change_rate) == (1, 1, 1.0)
    assert combine([s, apart]).one_char_change_rate == 0.5
