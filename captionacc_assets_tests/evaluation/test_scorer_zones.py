"""The scorer's zones: `{\\an8}` (and other ASS alignment tags, WebVTT `line:`) name a cue's zone,
the tags leave the text, cues match within their zone, and one-zone videos score as before."""

from captionacc_assets.evaluation.scorer import ScoredCue as C
from captionacc_assets.evaluation.scorer import parse_captions, score, score_zones, split_zone_tags

TWO_ZONE_SRT = (
    "1\n00:00:01,000 --> 00:00:03,000\n你好\n\n"
    "2\n00:00:01,000 --> 00:00:03,000\n{\\an8}Hello\n\n"
    "3\n00:00:04,000 --> 00:00:05,000\n{\\an8}{\\i1}Police station{\\i0}\n\n"
    "4\n00:00:05,000 --> 00:00:06,000\n{\\an2}再见\n"
)


def test_alignment_tags_name_the_zone_and_leave_the_text():
    assert split_zone_tags("{\\an8}Hello") == ("Hello", "top")
    assert split_zone_tags("{\\an7}a") == ("a", "top") and split_zone_tags("{\\an9}a") == ("a", "top")
    assert split_zone_tags("{\\an2}a") == ("a", "bottom") and split_zone_tags("{\\an5}a") == ("a", "bottom")
    assert split_zone_tags("{\\a6}legacy top") == ("legacy top", "top")
    assert split_zone_tags("{\\a2}legacy bottom") == ("legacy bottom", "bottom")
    assert split_zone_tags("{\\i1}no zone{\\i0}") == ("no zone", None)
    assert split_zone_tags("plain {braces} stay") == ("plain {braces} stay", None)
    cues = parse_captions(TWO_ZONE_SRT)
    assert [(c.text, c.zone) for c in cues] == [
        ("你好", None),
        ("Hello", "top"),
        ("Police station", "top"),
        ("再见", "bottom"),
    ]


def test_webvtt_line_settings_name_the_zone():
    vtt = (
        "WEBVTT\n\n00:01.000 --> 00:02.000 line:0\ntop one\n\n00:02.000 --> 00:03.000 line:10%\ntop two\n\n"
        "00:03.000 --> 00:04.000 line:-1\nbottom one\n\n00:04.000 --> 00:05.000\nplain\n"
    )
    assert [c.zone for c in parse_captions(vtt)] == ["top", "top", "bottom", None]


def test_two_zone_truth_is_matched_within_each_zone():
    truth = parse_captions(TWO_ZONE_SRT)
    # The pipeline's bottom caption overlaps the true top one in time too; only the bottom one may match it.
    predicted = [C(1.0, 3.0, "你好"), C(4.0, 5.0, "Police station", "top"), C(5.0, 6.0, "再见")]
    pooled, zones = score_zones(truth, predicted)
    assert set(zones) == {"bottom", "top"}
    assert (zones["bottom"].true_cues, zones["bottom"].matched, zones["bottom"].cer) == (2, 2, 0.0)
    assert (zones["top"].true_cues, zones["top"].matched, zones["top"].missed) == (2, 1, 1)
    assert (pooled.true_cues, pooled.matched, pooled.phantom, pooled.recall) == (4, 3, 0, 0.75)

    # A top caption reported in the bottom zone is a miss there and a phantom here, not a match.
    wrong_zone = [C(1.0, 3.0, "你好"), C(4.0, 5.0, "Police station"), C(5.0, 6.0, "再见")]
    pooled, zones = score_zones(truth, wrong_zone)
    assert zones["top"].matched == 0 and zones["bottom"].phantom == 1

    # A pipeline that captioned only the top zone exports no tags: its cues are that zone's.
    top_only = [C(1.0, 3.0, "Hello"), C(4.0, 5.0, "Police station")]
    pooled, zones = score_zones(truth, top_only, untagged_zone="top")
    assert zones["top"].recall == 1.0 and zones["bottom"].recall == 0.0 and pooled.precision == 1.0


def test_one_zone_truth_scores_as_before_whatever_its_placement():
    truth = [C(1.0, 2.0, "a caption"), C(2.5, 3.5, "another")]
    predicted = [C(1.0, 2.0, "a caption"), C(2.5, 3.5, "anothor", "top")]  # a tag does not split a one-zone truth
    pooled, zones = score_zones(truth, predicted)
    assert pooled == score(truth, predicted)
    assert list(zones) == ["bottom"] and pooled.matched == 2
