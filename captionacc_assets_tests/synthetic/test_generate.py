"""The synthetic video generator: real H.264 files, exact caption timing, readable text."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import av
import numpy as np
import pytest
import srt

from captionacc_assets.core.errors import InputError
from captionacc_assets.synthetic import fonts, generate
from captionacc_assets.synthetic.backgrounds import Background
from captionacc_assets.synthetic.generate import (
    CaptionStyle,
    Cue,
    VideoSpec,
    demo_spec,
    render_frame,
    write_truth_srt,
    write_video,
)

SMALL = VideoSpec(
    width=320,
    height=240,
    fps=30.0,
    duration_s=3.0,
    cues=(Cue(0.5, 1.5, "你好，世界"), Cue(1.5, 2.4, "Where are you going?")),
    seed=7,
)


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _changed_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row indices where two frames differ."""
    return np.flatnonzero(np.any(a != b, axis=(1, 2)))


def _decode(path: Path) -> tuple[list[np.ndarray], dict]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        info = {
            "width": stream.codec_context.width,
            "height": stream.codec_context.height,
            "rate": stream.average_rate,
            "codec": stream.codec_context.name,
            "pix_fmt": stream.codec_context.pix_fmt,
            "duration_s": float(stream.duration * stream.time_base),
            "declared_frames": stream.frames,
        }
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    return frames, info


# --- files -------------------------------------------------------------------------------


def test_write_video_makes_an_h264_mp4_of_the_right_size_rate_and_length(tmp_path):
    path = write_video(SMALL, tmp_path / "out" / "small.mp4")
    assert path == tmp_path / "out" / "small.mp4" and path.stat().st_size > 0
    assert [p.name for p in path.parent.iterdir()] == ["small.mp4"]  # no partial file left
    frames, info = _decode(path)
    assert (info["width"], info["height"]) == (320, 240)
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert info["rate"] == 30
    assert len(frames) == SMALL.frame_count == 90
    assert info["declared_frames"] == 90
    assert abs(info["duration_s"] - 3.0) <= 1 / 30 + 1e-9

    # Frame k shows t = k / fps: each decoded frame is close to its render (lossy) and
    # farther from the render of a neighbouring time.
    def error(frame: np.ndarray, t: float) -> float:
        return float(np.abs(frame.astype(int) - render_frame(SMALL, t).astype(int)).mean())

    for k in (0, 45, 89):
        assert error(frames[k], k / 30) < 10, k
        assert error(frames[k], k / 30) < error(frames[k], (k + 15) % 90 / 30), k


def test_write_video_is_deterministic_and_fractional_rates_work(tmp_path):
    spec = dataclasses.replace(SMALL, fps=29.97, duration_s=1.0, cues=(Cue(0.2, 0.8, "我们明天见"),))
    a = write_video(spec, tmp_path / "a.mp4")
    b = write_video(spec, tmp_path / "b.mp4")
    frames_a, info = _decode(a)
    frames_b, _ = _decode(b)
    assert len(frames_a) == len(frames_b) == spec.frame_count == 30
    assert info["rate"] == pytest.approx(29.97, abs=1e-6)
    assert all(np.array_equal(x, y) for x, y in zip(frames_a, frames_b))


def test_truth_srt_round_trips_through_srt_parse(tmp_path):
    spec = demo_spec(0)
    path = write_truth_srt(spec, tmp_path / "truth.srt")
    parsed = list(srt.parse(path.read_text(encoding="utf-8")))
    assert [s.content for s in parsed] == [c.text for c in spec.cues]
    assert [s.start.total_seconds() for s in parsed] == pytest.approx([c.start_s for c in spec.cues])
    assert [s.end.total_seconds() for s in parsed] == pytest.approx([c.end_s for c in spec.cues])
    assert [s.index for s in parsed] == list(range(1, len(spec.cues) + 1))
    assert any("\n" in s.content for s in parsed)


# --- pixels ------------------------------------------------------------------------------


def test_render_frame_is_deterministic_by_seed():
    first = render_frame(SMALL, 0.0)
    generate._renderer.cache_clear()  # rebuild texture, sprites and layers from the seed
    again = render_frame(SMALL, 0.0)
    assert first.shape == (240, 320, 3) and first.dtype == np.uint8
    assert np.array_equal(first, again)
    other = render_frame(dataclasses.replace(SMALL, seed=8), 0.0)
    assert np.mean(first != other) > 0.5


def test_caption_pixels_appear_in_the_band_exactly_while_the_cue_is_up():
    spec = dataclasses.replace(SMALL, cues=(Cue(1.0, 2.0, "我们明天见"),))
    plain = dataclasses.replace(spec, cues=())
    h = spec.height
    for k in (30, 45, 59):  # t = 1.0 (start, inclusive) .. 1.9667
        t = k / spec.fps
        rows = _changed_rows(render_frame(spec, t), render_frame(plain, t))
        assert rows.size > 0.05 * h, t
        assert rows.min() > 0.78 * h and rows.max() < h, (t, rows.min(), rows.max())
        # the caption is centred horizontally
        cols = np.flatnonzero(np.any(render_frame(spec, t) != render_frame(plain, t), axis=(0, 2)))
        assert abs((cols.min() + cols.max()) / 2 - spec.width / 2) <= 3
    for k in (0, 29, 60, 89):  # before the start, and t = 2.0 (end, exclusive) onwards
        t = k / spec.fps
        assert np.array_equal(render_frame(spec, t), render_frame(plain, t)), t


def test_bottom_and_top_placement_and_two_line_text():
    one = dataclasses.replace(SMALL, width=640, height=360, cues=(Cue(0.0, 1.0, "今天天气很好"),))
    two = dataclasses.replace(one, cues=(Cue(0.0, 1.0, "今天天气很好\n我们去公园吧"),))
    top = dataclasses.replace(one, style=CaptionStyle(placement="top"))
    plain = dataclasses.replace(one, cues=())
    background = render_frame(plain, 0.5)
    rows_one = _changed_rows(render_frame(one, 0.5), background)
    rows_two = _changed_rows(render_frame(two, 0.5), background)
    rows_top = _changed_rows(render_frame(top, 0.5), background)
    # last line centred at ~90 % of the height; a second line goes above it
    assert 0.86 * 360 < (rows_one.min() + rows_one.max()) / 2 < 0.93 * 360
    assert abs(rows_two.max() - rows_one.max()) <= 2
    assert rows_two.min() < rows_one.min() - 0.05 * 360
    assert rows_top.max() < 0.2 * 360 and rows_top.min() >= 0


@pytest.mark.parametrize("style", ["outline", "shadow", "box"])
def test_each_caption_style_draws_the_text_colour_and_a_dark_edge(style):
    spec = dataclasses.replace(
        SMALL,
        width=640,
        height=360,
        background="flat",
        cues=(Cue(0.0, 1.0, "Hello"),),
        style=CaptionStyle(style=style, color=(255, 255, 0), size_ratio=0.1),
    )
    frame = render_frame(spec, 0.5)
    band = frame[int(0.75 * 360) :].reshape(-1, 3).astype(int)
    yellow = (band[:, 0] > 240) & (band[:, 1] > 240) & (band[:, 2] < 20)
    background = render_frame(dataclasses.replace(spec, cues=()), 0.5)[0, 0].astype(int)
    dark = band.sum(axis=1) < background.sum() - 90  # edge pixels well darker than the scene
    assert yellow.sum() > 150, style
    assert dark.sum() > 0.3 * yellow.sum(), style
    if style == "box":  # an opaque box: a solid dark rectangle wider than the text
        assert dark.sum() > 3 * yellow.sum()


def test_fade_ramps_opacity_without_hiding_the_first_or_last_frame():
    spec = dataclasses.replace(SMALL, cues=(Cue(1.0, 2.0, "Fade"),), style=CaptionStyle(fade_s=0.5))
    plain = dataclasses.replace(spec, cues=())

    def strength(k: int) -> float:
        t = k / spec.fps
        return float(np.abs(render_frame(spec, t).astype(int) - render_frame(plain, t).astype(int)).sum())

    first, early, middle, last = strength(30), strength(37), strength(45), strength(59)
    assert 0 < first < early < middle
    assert 0 < last < middle
    assert strength(60) == 0 and strength(29) == 0


# --- backgrounds and distractors ---------------------------------------------------------


def test_backgrounds_move_stay_still_or_cut_as_named():
    w, h = 320, 240
    moving = Background(w, h, "moving", seed=3)
    a, b = moving.frame(1.0), moving.frame(1.0 + 1 / 30)
    assert 0.2 < np.mean(np.any(a != b, axis=2))  # panning changes most pixels each frame
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 40  # ...but smoothly
    assert a.std() > 25  # textured, with contrast
    brightest = max(Background(w, h, "moving", seed=s).frame(0.0).min(axis=2).max() for s in range(3))
    assert brightest > 230  # highlights close to white behind white captions

    still = Background(w, h, "textured", seed=3)
    assert np.array_equal(still.frame(0.0), still.frame(5.0)) and still.frame(0.0).std() > 25
    flat = Background(w, h, "flat", seed=3).frame(2.0)
    assert np.all(flat == flat[0, 0])

    cuts = Background(w, h, "cuts", seed=3)
    cut = float(cuts.cut_times[0])
    before, after = cuts.frame(cut - 1 / 30), cuts.frame(cut + 1e-3)
    just_before = cuts.frame(cut - 2 / 30)
    jump = np.abs(before.astype(int) - after.astype(int)).mean()
    step = np.abs(before.astype(int) - just_before.astype(int)).mean()
    assert jump > 2 * step and jump > 20

    with pytest.raises(InputError, match="background"):
        Background(w, h, "starfield", seed=0)


def test_footage_background_pans_real_photos_and_cuts_between_them():
    w, h = 320, 240
    footage = Background(w, h, "footage", seed=3)
    a, b = footage.frame(1.0), footage.frame(1.5)
    assert not np.array_equal(a, b)  # the camera pans
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 40  # ...smoothly
    # A photograph: many distinct colours and natural contrast, unlike noise or a flat fill.
    assert len(np.unique(a.reshape(-1, 3), axis=0)) > 2000 and a.std() > 20
    cut = float(footage.cut_times[0])
    assert footage.shot_photos[0] != footage.shot_photos[1]  # a cut is a new photo
    jump = np.abs(footage.frame(cut - 1e-3).astype(int) - footage.frame(cut + 1e-3).astype(int)).mean()
    assert jump > 20
    assert np.array_equal(footage.frame(2.0), Background(w, h, "footage", seed=3).frame(2.0))


def test_distractors_are_constant_and_outside_the_caption_band():
    spec = dataclasses.replace(SMALL, width=640, height=360, distractors=("logo", "sign"), cues=())
    plain = dataclasses.replace(spec, distractors=())
    masks = [np.any(render_frame(spec, t) != render_frame(plain, t), axis=2) for t in (0.0, 1.3, 2.9)]
    assert masks[0].sum() > 500
    rows = np.flatnonzero(masks[0].any(axis=1))
    assert rows.max() < 0.8 * 360  # clear of the bottom caption band
    # The same pixels are drawn at every time; the sign (opaque) looks exactly the same.
    for mask in masks[1:]:
        assert np.mean(mask == masks[0]) > 0.995
    sign = masks[0].copy()
    sign[:, 320:] = False
    assert sign.sum() > 300
    a, b = render_frame(spec, 0.0), render_frame(spec, 2.9)
    assert np.mean(np.all(a[sign] == b[sign], axis=1)) > 0.9


# --- the demo and validation -------------------------------------------------------------


def test_demo_spec_mixes_languages_two_lines_gaps_and_back_to_back():
    spec = demo_spec(0)
    assert (spec.width, spec.height, spec.fps) == (1280, 720, 30.0)
    assert 18 <= spec.duration_s <= 22 and spec.background == "moving"
    assert spec.style.style == "outline" and spec.style.placement == "bottom" and spec.style.color == (255, 255, 255)
    cues = spec.cues
    assert 7 <= len(cues) <= 10
    assert sum(_is_cjk(c.text) for c in cues) >= 3
    assert sum(not _is_cjk(c.text) for c in cues) >= 3
    assert sum("\n" in c.text for c in cues) == 1
    for c in cues:  # on the 10 Hz index grid, so the truth is exact there
        assert round(c.start_s * 10) == pytest.approx(c.start_s * 10, abs=1e-9)
        assert round(c.end_s * 10) == pytest.approx(c.end_s * 10, abs=1e-9)
        assert c.end_s <= spec.duration_s
    joins = [round(b.start_s - a.end_s, 6) for a, b in zip(cues, cues[1:])]
    assert 0.0 in joins and any(gap > 0 for gap in joins) and min(joins) >= 0
    assert demo_spec(1).cues == cues and demo_spec(1).seed == 1


def test_bad_specs_say_what_to_fix(monkeypatch):
    with pytest.raises(InputError, match="overlap"):
        VideoSpec(cues=(Cue(1.0, 3.0, "a"), Cue(2.0, 4.0, "b")))
    with pytest.raises(InputError, match="after the video"):
        VideoSpec(duration_s=2.0, cues=(Cue(1.0, 3.0, "a"),))
    with pytest.raises(InputError, match="start_s < end_s"):
        Cue(2.0, 2.0, "a")
    with pytest.raises(InputError, match="unknown caption font"):
        CaptionStyle(font="comic")
    with pytest.raises(InputError, match="even"):
        VideoSpec(width=321)
    with pytest.raises(InputError, match="does not fit"):
        render_frame(
            VideoSpec(width=160, height=120, duration_s=1.0, cues=(Cue(0, 1, "a very long caption " * 3),)), 0.5
        )
    monkeypatch.setitem(fonts.FONT_FILES, "cjk_sans", ("/nonexistent/wqy-microhei.ttc", "fonts-wqy-microhei"))
    with pytest.raises(fonts.FontMissingError, match="apt-get install fonts-wqy-microhei"):
        fonts.font_path("cjk_sans")


# --- real OCR on real rendered text -----------------------------------------------------


@pytest.fixture(scope="module")
def rapidocr():
    import rapidocr as package
    from rapidocr import RapidOCR

    models = Path(package.__file__).parent / "models"
    return RapidOCR(
        params={
            "Global.log_level": "error",
            "Global.use_cls": False,
            "Det.limit_type": "max",  # the default scales a short strip's height up to 736 px
            "Det.limit_side_len": 960,
            "Det.model_path": str(models / "PP-OCRv6_det_small.onnx"),
            "Rec.model_path": str(models / "PP-OCRv6_rec_small.onnx"),
        }
    )


@pytest.mark.parametrize("text", ["我们明天见", "Where are you going?"])
def test_rapidocr_reads_a_rendered_caption(rapidocr, text):
    spec = VideoSpec(
        width=640,
        height=360,
        duration_s=2.0,
        background="textured",
        seed=5,
        cues=(Cue(0.5, 1.5, text),),
        style=CaptionStyle(size_ratio=0.08),
    )
    frame = render_frame(spec, 1.0)
    band = frame[int(0.75 * 360) :]
    joiner = "" if _is_cjk(text) else " "  # the detector may split a line into words

    def read(image: np.ndarray) -> str:
        return joiner.join(t.strip() for t in (rapidocr(image).txts or ()))

    assert read(band) == text
    # The caption is not there outside its cue.
    assert text not in read(render_frame(spec, 1.6)[int(0.75 * 360) :])
