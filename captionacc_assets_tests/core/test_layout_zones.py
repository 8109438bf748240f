"""A second caption zone: proposed where a second recurring, changing caption row is, and only there
(OCR box sets shaped like the sparse full-frame samples of a video)."""

import numpy as np

from captionacc_assets.core.layout import infer_layout
from captionacc_assets.core.ocr.engine import OcrBox
from captionacc_assets_tests.core.test_layout import CAPTIONS, caption_frames, line_box, with_extra

TOP_TEXTS = ["Chapter one: the city", "Police station", "Three days later", "Hospital", "The old bridge"]


def top_line(n: int, *, center_y: float = 0.08, every: int = 1, height: float = 0.045, x: float | None = None):
    """A top caption on every `every`-th sample, a different text each time."""
    if n % every:
        return []
    return [line_box(TOP_TEXTS[(n // every) % len(TOP_TEXTS)], center_y=center_y, height=height, char_width=0.018, x=x)]


def test_bilingual_captions_give_two_zones_the_main_one_unchanged():
    bottom_only = caption_frames()
    both = with_extra(bottom_only, lambda n: top_line(n) if n % 4 != 3 else [])
    one, two = infer_layout(bottom_only), infer_layout(both)
    assert len(one.zones) == 1
    assert len(two.zones) == 2
    main, second = two.zones
    assert (main.placement, second.placement) == ("bottom", "top")
    assert main == one.zones[0]  # the second zone is not a rival: the main zone's confidence stays
    assert second.confidence >= 0.8
    assert second.region.top <= 0.08 - 0.045 / 2 and second.region.bottom >= 0.08 + 0.045 / 2
    assert second.region.bottom < main.region.top  # never overlapping
    assert second.anchor == "center"
    labels = [two.box_labels[(index, i)][0] for index, boxes in both for i, box in enumerate(boxes)]
    assert labels == ["in"] * len(labels)  # "in": inside either zone


def test_a_few_top_cues_seen_in_two_samples_are_a_second_zone():
    """Netflix style: the top cues are rare, so the sparse samples see them only twice."""
    frames = with_extra(caption_frames(count=12, empty_every=0), lambda n: top_line(n) if n in (2, 8) else [])
    p = infer_layout(frames)
    assert [z.placement for z in p.zones] == ["bottom", "top"]
    assert 0.5 <= p.zones[1].confidence < p.zones[0].confidence


def test_the_main_zone_may_be_at_the_top_with_a_second_at_the_bottom():
    frames = [(i * 100, [line_box(CAPTIONS[i], center_y=0.1)] + top_line(i, center_y=0.9, every=2)) for i in range(10)]
    p = infer_layout(frames)
    assert [z.placement for z in p.zones] == ["top", "bottom"]


def test_a_static_logo_at_the_top_is_not_a_zone():
    frames = with_extra(caption_frames(), lambda n: [OcrBox("CCTV-8", 0.99, 0.4, 0.04, 0.6, 0.09)])
    p = infer_layout(frames)
    assert len(p.zones) == 1 and p.zones[0].placement == "bottom"


def test_a_logo_misread_now_and_then_is_not_a_zone():
    reads = ["CA TV", "CATV", "CA TV", "CAIV", "CA TV", "CA TV", "C4 TV", "CA TV", "CATV", "CA TV"]
    frames = with_extra(caption_frames(), lambda n: [OcrBox(reads[n], 0.93, 0.84, 0.05, 0.95, 0.1)])
    assert len(infer_layout(frames).zones) == 1


def test_a_logo_seen_twice_is_not_a_zone():
    frames = with_extra(
        caption_frames(), lambda n: [OcrBox("NEWS 24", 0.99, 0.8, 0.04, 0.95, 0.09)] if n in (2, 5) else []
    )
    assert len(infer_layout(frames).zones) == 1


def test_scattered_scene_text_is_not_a_zone():
    rng = np.random.default_rng(3)
    words = ["OPEN", "Cafe Roma", "SALE 50%", "Exit", "Bus 12", "Pharmacy", "Hotel", "Taxi", "Bank", "Books"]

    def scene(n):
        x, y = float(rng.uniform(0.05, 0.7)), float(rng.uniform(0.03, 0.3))
        return [OcrBox(words[n], 0.95, x, y, x + 0.02 * len(words[n]), y + 0.04)]

    p = infer_layout(with_extra(caption_frames(), scene))
    assert len(p.zones) == 1


def test_weakly_read_clutter_at_the_top_is_not_a_zone():
    clutter = ["ll1", "rn", "Il:", "oO", "1l", "ii", "Jl", "lI", "o1", "il"]
    frames = with_extra(caption_frames(), lambda n: [OcrBox(clutter[n], 0.55, 0.45, 0.05, 0.53, 0.1)])
    assert len(infer_layout(frames).zones) == 1


def test_a_second_line_of_the_same_captions_is_not_a_second_zone():
    frames = [
        (i * 100, [line_box(CAPTIONS[i], center_y=0.84), line_box(CAPTIONS[i + 1], center_y=0.91)]) for i in range(10)
    ]
    p = infer_layout(frames)
    assert len(p.zones) == 1 and p.line_count == 2


def test_top_text_in_one_sample_only_is_not_enough():
    frames = with_extra(caption_frames(), lambda n: top_line(n) if n == 4 else [])
    assert len(infer_layout(frames).zones) == 1
