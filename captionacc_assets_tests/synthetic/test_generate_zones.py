"""Two-zone synthetic videos: captions in both places, drawn where they belong, and a truth SRT that
marks the top-zone cues with `{\\an8}`; single-zone specs are unchanged."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import srt

from captionacc_assets.core.errors import InputError
from captionacc_assets.evaluation.eval_set import ZONES_SIZE, build_eval_set, sampled_cue_count
from captionacc_assets.synthetic.generate import (
    TOP_ZONE_TAG,
    CaptionStyle,
    Cue,
    VideoSpec,
    render_frame,
    write_truth_srt,
)
from captionacc_assets.synthetic.libass_render import ass_script

BOTTOM = (Cue(0.2, 1.0, "你好"), Cue(1.2, 2.0, "再见"))
TOP = (Cue(0.5, 1.5, "Hello"), Cue(1.6, 2.2, "Bye"))
TWO = VideoSpec(
    width=320,
    height=240,
    fps=10.0,
    duration_s=2.5,
    background="flat",
    cues=BOTTOM,
    second_cues=TOP,
    second_style=CaptionStyle(font="latin_sans", size_ratio=0.05, placement="top"),
    seed=3,
)


def _changed_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.any(a != b, axis=(1, 2)))


def test_both_zones_are_drawn_in_their_half_at_their_times():
    blank = render_frame(dataclasses.replace(TWO, cues=(), second_cues=()), 0.7)
    both = _changed_rows(blank, render_frame(TWO, 0.7))  # "你好" and "Hello" at once
    assert both.min() < 240 * 0.2 and both.max() > 240 * 0.8
    only_top = _changed_rows(blank, render_frame(TWO, 1.1))  # "Hello" alone
    assert only_top.size and only_top.max() < 240 * 0.3
    only_bottom = _changed_rows(blank, render_frame(TWO, 0.3))  # "你好" alone
    assert only_bottom.size and only_bottom.min() > 240 * 0.7


def test_truth_marks_top_zone_cues_and_single_zone_truth_is_unmarked(tmp_path):
    subtitles = list(srt.parse(write_truth_srt(TWO, tmp_path / "two.srt").read_text(encoding="utf-8")))
    assert [s.content for s in subtitles] == ["你好", TOP_ZONE_TAG + "Hello", "再见", TOP_ZONE_TAG + "Bye"]
    assert TOP_ZONE_TAG == "{\\an8}"
    one = dataclasses.replace(TWO, second_cues=())
    assert [s.content for s in srt.parse(write_truth_srt(one, tmp_path / "one.srt").read_text())] == ["你好", "再见"]
    top_only = dataclasses.replace(one, style=CaptionStyle(placement="top"))
    assert "an8" not in write_truth_srt(top_only, tmp_path / "top.srt").read_text()  # one zone: no marks


def test_a_single_zone_spec_has_the_repr_it_always_had():
    spec = VideoSpec(cues=BOTTOM, duration_s=3.0)
    assert "second" not in repr(spec)
    assert spec.zone_count == 1 and TWO.zone_count == 2
    assert TWO.second_zone_style.placement == "top"
    assert dataclasses.replace(TWO, second_style=None).second_zone_style == CaptionStyle(placement="top")


def test_bad_second_zones_are_refused():
    with pytest.raises(InputError, match="other placement"):
        dataclasses.replace(TWO, second_style=CaptionStyle(placement="bottom"))
    with pytest.raises(InputError, match="second_cues overlap"):
        dataclasses.replace(TWO, second_cues=(Cue(0.5, 1.5, "a b"), Cue(1.0, 2.0, "c d")))
    with pytest.raises(InputError, match="after the video"):
        dataclasses.replace(TWO, second_cues=(Cue(0.5, 3.5, "late"),))


def test_libass_script_has_a_top_style_for_the_second_zone():
    subs = ass_script(TWO)
    assert set(subs.styles) == {"Default", "Second"}
    assert subs.styles["Second"].alignment.value == 8 and subs.styles["Default"].alignment.value == 2
    assert [(e.text, e.style) for e in subs] == [
        ("你好", "Default"),
        ("再见", "Default"),
        ("Hello", "Second"),
        ("Bye", "Second"),
    ]


def test_the_zones_eval_set_covers_the_three_cases():
    items = build_eval_set("zones")
    assert len(items) == ZONES_SIZE
    kinds = {item.conditions["zones"] for item in items}
    assert kinds == {"netflix", "bilingual", "title"}
    for item in items:
        spec = item.spec
        if item.conditions["zones"] == "netflix":  # a few top cues, never at the same time as bottom ones
            assert 0.25 <= len(spec.second_cues) / (len(spec.cues) + len(spec.second_cues)) <= 0.4
            assert not any(a.start_s < b.end_s and b.start_s < a.end_s for a in spec.cues for b in spec.second_cues)
            assert sampled_cue_count(spec.second_cues, spec.duration_s) >= 2
        elif item.conditions["zones"] == "bilingual":  # two languages at once, other font and size
            assert [(c.start_s, c.end_s) for c in spec.cues] == [(c.start_s, c.end_s) for c in spec.second_cues]
            assert spec.second_zone_style.font != spec.style.font
            assert spec.second_zone_style.size_ratio != spec.style.size_ratio
        else:
            assert spec.zone_count == 1 and "title" in spec.distractors
    assert build_eval_set("zones") == items  # deterministic
    assert len({item.spec_hash for item in items}) == len(items)
