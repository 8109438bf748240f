"""The benchmark set: deterministic, covers every condition value, renderable, cached on disk."""

import dataclasses
import json

import pytest
import srt

from captionacc_assets.core.errors import InputError
from captionacc_assets.evaluation import eval_set
from captionacc_assets.evaluation.eval_set import (
    EvalItem,
    build_eval_set,
    font_covers,
    font_has_glyph,
    usable_fonts,
    write_eval_set,
)
from captionacc_assets.evaluation.scorer import edit_distance
from captionacc_assets.synthetic.captions_render import caption_layer


@pytest.fixture(scope="module")
def full():
    return build_eval_set("full", seed=0)


def _captioned(items):
    return [i for i in items if i.conditions["captions"] == "yes"]


def test_same_seed_same_set_other_seed_other_set(full):
    assert build_eval_set("full", seed=0) == full
    other = build_eval_set("full", seed=1)
    assert [i.spec for i in other] != [i.spec for i in full]
    assert build_eval_set("ci", 3) == build_eval_set("ci", 3)
    assert build_eval_set(5, 0) == build_eval_set("5", 0)


def test_full_set_size_length_and_durations(full):
    assert len(full) >= 30
    assert len({i.name for i in full}) == len(full)
    assert sum(i.spec.duration_s for i in full) >= 600
    assert all(10 <= i.spec.duration_s <= 30 for i in full)


def test_full_set_covers_every_condition_value(full):
    captioned = _captioned(full)
    seen = {}
    for item in captioned:
        for key, value in item.conditions.items():
            seen.setdefault(key, set()).add(value)
    assert seen["language"] == {"zh", "ja", "en", "es"}
    assert seen["background"] == {"moving", "textured", "flat", "cuts", "footage"}
    assert seen["resolution"] == {"854x480", "960x540", "1280x720", "1920x1080"}
    assert seen["fps"] == {"24", "25", "30", "60"}
    assert seen["font"] == {"cjk_sans", "cjk_serif", "cjk_brush", "latin_sans", "latin_serif", "latin_brush"}
    assert seen["size"] == {"small", "medium", "large"}
    assert seen["colour"] == {"white", "yellow"}
    assert seen["style"] == {"outline", "shadow", "box"}
    assert seen["placement"] == {"bottom", "top"}
    assert seen["lines"] == {"1", "2"}
    assert seen["fade"] == {"none", "fade"}
    assert seen["timing"] == {"normal", "short", "back_to_back", "one_char"}
    assert {"logo", "sign", "none"} <= seen["distractors"]
    # Chinese and Japanese both appear in serif and brush fonts, not only the sans.
    for language in ("zh", "ja"):
        assert {i.conditions["font"] for i in captioned if i.conditions["language"] == language} >= {
            "cjk_serif",
            "cjk_brush",
        }


def test_videos_whose_answer_is_no_captions(full):
    empty = [i for i in full if i.conditions["captions"] == "none"]
    assert all(i.spec.cues == () for i in empty)
    assert any(i.spec.distractors == () for i in empty)
    assert any(set(i.spec.distractors) == {"logo", "sign"} for i in empty)
    assert all(i.spec.cues for i in _captioned(full))


def test_cues_on_the_grid_and_timing_cases_present(full):
    for item in full:
        for cue in item.spec.cues:
            assert round(cue.start_s * 10) == pytest.approx(cue.start_s * 10, abs=1e-9)
            assert round(cue.end_s * 10) == pytest.approx(cue.end_s * 10, abs=1e-9)

    def cues_of(timing):
        return [i.spec.cues for i in full if i.conditions.get("timing") == timing]

    shorts = [c for cues in cues_of("short") for c in cues if len(c.text) <= 3]
    assert shorts and all(c.end_s - c.start_s == pytest.approx(0.5) for c in shorts)
    assert all(1 <= len(c.text) <= 3 for c in shorts)
    for cues in cues_of("back_to_back"):
        assert any(b.start_s == a.end_s for a, b in zip(cues, cues[1:]))
    for cues in cues_of("one_char"):
        pairs = [(a, b) for a, b in zip(cues, cues[1:]) if b.start_s == a.end_s]
        assert pairs and all(edit_distance(a.text, b.text) == 1 for a, b in pairs)
    two_line = [
        c
        for i in full
        if i.conditions.get("lines") == "2" and i.conditions["timing"] in ("normal", "back_to_back")
        for c in i.spec.cues
    ]
    assert two_line and all(c.text.count("\n") == 1 for c in two_line)
    spanish = "".join(c.text for i in full if i.conditions.get("language") == "es" for c in i.spec.cues)
    assert set("¿¡ñ") <= set(spanish)


def test_every_cue_is_drawable_in_its_font(full):
    # The missing-glyph check itself: DejaVu has no CJK, AR PL UKai lacks the Japanese 帰.
    assert not font_has_glyph("latin_sans", "你") and font_has_glyph("latin_sans", "ñ")
    assert not font_has_glyph("cjk_brush", "帰") and font_has_glyph("cjk_sans", "帰")
    assert usable_fonts("ja") == ("cjk_sans", "cjk_serif", "cjk_brush")
    for item in _captioned(full):
        for cue in item.spec.cues:
            assert font_covers(item.spec.style.font, cue.text), (item.name, cue.text)


def test_every_caption_of_a_set_renders_inside_the_frame():
    # The renderer raises InputError for a line that leaves the frame; render them all.
    for item in build_eval_set(12, seed=2) + build_eval_set("ci", 0):
        for cue in item.spec.cues:
            layer = caption_layer(cue.text, item.spec.style, item.spec.width, item.spec.height)
            left, top, right, bottom = layer.box
            assert 0 <= left < right <= item.spec.width and 0 <= top < bottom <= item.spec.height


def test_ci_set_is_small():
    ci = build_eval_set("ci", 0)
    assert len(ci) == 3
    assert all(i.spec.duration_s <= 10 and i.spec.width <= 854 for i in ci)
    assert sum(len(i.spec.cues) for i in ci) >= 5
    assert [i.conditions["captions"] for i in ci].count("none") == 1


def test_bad_sizes_are_refused():
    with pytest.raises(InputError, match="ci, full, zones or a number"):
        build_eval_set("huge", 0)
    with pytest.raises(InputError, match="1..500"):
        build_eval_set(0, 0)


def _tiny(item: EvalItem) -> EvalItem:
    """The same item cut to 3 s at 320x180, 10 fps (cheap to encode)."""
    cues = tuple(c for c in item.spec.cues if c.end_s <= 3.0)
    style = dataclasses.replace(item.spec.style, size_ratio=0.1)
    spec = dataclasses.replace(item.spec, width=320, height=180, duration_s=3.0, cues=cues, style=style, fps=10.0)
    return EvalItem(item.name, spec, item.conditions)


def test_write_eval_set_writes_truth_and_reuses_unchanged_videos(tmp_path):
    items = [_tiny(i) for i in build_eval_set("ci", 0)]
    assert items[0].spec.cues  # the first ci video has a cue in its first 3 s
    paths = write_eval_set(items, tmp_path)
    assert [p.name for p in paths] == [f"{i.name}.mp4" for i in items]
    truth = list(srt.parse((tmp_path / f"{items[0].name}.srt").read_text(encoding="utf-8")))
    assert [(s.start.total_seconds(), s.end.total_seconds(), s.content) for s in truth] == [
        (c.start_s, c.end_s, c.text) for c in items[0].spec.cues
    ]
    manifest = json.loads((tmp_path / "conditions.json").read_text(encoding="utf-8"))
    assert manifest[items[0].name]["conditions"] == items[0].conditions
    assert manifest[items[2].name]["cues"] == 0

    stamps = [p.stat().st_mtime_ns for p in paths]
    assert write_eval_set(items, tmp_path) == paths
    assert [p.stat().st_mtime_ns for p in paths] == stamps  # reused, not re-encoded

    changed = [dataclasses.replace(items[0], spec=dataclasses.replace(items[0].spec, seed=99))] + items[1:]
    write_eval_set(changed, tmp_path)
    assert paths[0].stat().st_mtime_ns != stamps[0]  # spec changed: remade
    assert [p.stat().st_mtime_ns for p in paths[1:]] == stamps[1:]


def test_phrases_are_realistic_per_language():
    import unicodedata

    kana = lambda t: any("\u3040" <= ch <= "\u30ff" for ch in t)
    kanji = lambda t: any("\u4e00" <= ch <= "\u9fff" for ch in t)
    assert all(kana(p) for p in eval_set.PHRASES["ja"]) and sum(kanji(p) for p in eval_set.PHRASES["ja"]) >= 15
    assert all(kanji(p) and not kana(p) for p in eval_set.PHRASES["zh"])
    for language in ("en", "es"):
        assert all(
            unicodedata.name(ch).startswith(
                ("LATIN", "SPACE", "DIGIT", "COMMA", "FULL", "QUESTION", "EXCLAMATION", "APOSTROPHE", "INVERTED")
            )
            for p in eval_set.PHRASES[language]
            for ch in p
        )
