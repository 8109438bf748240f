"""Layout inference on synthetic OCR box sets (fast), and once on real OCR of rendered frames."""

import numpy as np
import pytest

from captionacc_assets.core.layout import DEFAULT_REGION, LayoutProposal, infer_layout
from captionacc_assets.core.ocr.engine import OcrBox
from captionacc_assets.compute.engines import full_frame_ocr_engine
from captionacc_assets_tests.core.text_render import box_contains, caption_frame, gradient_background

CAPTIONS = [
    "我们明天去公园吧",
    "好的",
    "你今天怎么这么开心",
    "因为考试通过了",
    "太好了恭喜你",
    "谢谢大家的帮助",
    "走吧",
    "我们快要迟到了啊",
    "没关系慢慢来",
    "这是最后一次机会了",
    "我知道",
    "明天见",
]


@pytest.fixture(scope="module")
def rapid_engine():
    return full_frame_ocr_engine()  # what initial processing reads full frames with


def line_box(
    text: str,
    *,
    center_y: float,
    height: float = 0.05,
    anchor: str = "center",
    x: float | None = None,
    char_width: float = 0.028,
    jitter: float = 0.0,
    confidence: float = 0.98,
) -> OcrBox:
    """The box OCR would report for a caption line of `text` (one char ~ char_width)."""
    width = len(text) * char_width
    x = {"left": 0.08, "center": 0.5, "right": 0.92}[anchor] if x is None else x
    left = {"left": x, "center": x - width / 2, "right": x - width}[anchor] + jitter
    top = center_y - height / 2 + jitter
    return OcrBox(text, confidence, left, top, left + width, top + height)


def caption_frames(count=10, *, center_y=0.9, anchor="center", empty_every=4, seed=0, **kwargs):
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        boxes = []
        if empty_every and i % empty_every == empty_every - 1:
            pass  # no caption on screen in this sample
        else:
            boxes.append(
                line_box(
                    CAPTIONS[i % len(CAPTIONS)],
                    center_y=center_y,
                    anchor=anchor,
                    jitter=float(rng.normal(0, 0.002)),
                    **kwargs,
                )
            )
        frames.append((i * 100, boxes))
    return frames


def with_extra(frames, make_boxes):
    return [(index, [*boxes, *make_boxes(n)]) for n, (index, boxes) in enumerate(frames)]


def logo(_n):
    return [OcrBox("CCTV-8", 0.99, 0.86, 0.04, 0.96, 0.08)]


def caption_labels(proposal: LayoutProposal, frames, predicate):
    return [
        proposal.box_labels[(index, i)][0] for index, boxes in frames for i, box in enumerate(boxes) if predicate(box)
    ]


def test_bottom_centered_captions():
    frames = caption_frames()
    p = infer_layout(frames)
    assert p.anchor == "center"
    assert p.confidence >= 0.8
    assert p.line_count == 1
    assert p.vertical_center == pytest.approx(0.9, abs=0.01)
    assert p.box_height == pytest.approx(0.05, abs=0.005)
    r = p.region
    # Padded above and below, wide and centred horizontally.
    assert 0.82 <= r.top <= 0.865 and 0.935 <= r.bottom <= 0.98
    assert r.left <= 0.101 and r.right >= 0.899
    assert (r.left + r.right) / 2 == pytest.approx(0.5, abs=0.02)
    for _index, boxes in frames:
        for box in boxes:
            assert box_contains(r.as_tuple(), (box.left, box.top, box.right, box.bottom))
    assert set(caption_labels(p, frames, lambda b: True)) == {"in"}
    assert p.as_dict()["in_box_count"] == sum(len(b) for _, b in frames)


def test_top_captions():
    p = infer_layout(caption_frames(center_y=0.08))
    assert p.anchor == "center"
    assert p.confidence >= 0.8
    assert p.region.top <= 0.05 and 0.1 <= p.region.bottom <= 0.15
    assert p.vertical_center == pytest.approx(0.08, abs=0.01)


def test_two_line_captions_are_one_band():
    frames = []
    for i in range(10):
        boxes = [line_box(CAPTIONS[i], center_y=0.92)]
        if i % 2 == 0:  # every other caption has a second line above the first
            boxes.insert(0, line_box(CAPTIONS[(i + 5) % 12], center_y=0.86))
        frames.append((i * 100, boxes))
    p = infer_layout(frames)
    assert p.line_count == 2
    assert p.confidence >= 0.8
    assert p.region.top <= 0.835 - 0.02 and p.region.bottom >= 0.945 + 0.02
    assert set(caption_labels(p, frames, lambda b: True)) == {"in"}


def test_vertically_centred_caption_blocks_and_bilingual_lines_merge():
    """Single lines sit between the two rows of two-line captions; the English line is smaller."""
    frames = []
    for i in range(12):
        if i % 3 == 0:
            boxes = [
                line_box(CAPTIONS[i], center_y=0.86),
                line_box(f"English line {i}", center_y=0.92, height=0.035, char_width=0.014),
            ]
        else:
            boxes = [line_box(CAPTIONS[i], center_y=0.89)]
        frames.append((i * 100, boxes))
    p = infer_layout(frames)
    assert p.line_count == 2
    assert p.confidence >= 0.8
    assert p.region.top < 0.835 and p.region.bottom > 0.9375
    assert set(caption_labels(p, frames, lambda b: True)) == {"in"}


def test_short_video_sampling_one_caption_several_times_is_still_confident():
    frames = [(i * 25, [line_box(CAPTIONS[i // 3], center_y=0.9)]) for i in range(12)]
    assert infer_layout(frames).confidence >= 0.8


def test_left_anchored_captions_extend_right():
    frames = caption_frames(anchor="left")
    p = infer_layout(frames)
    assert p.anchor == "left"
    assert p.anchor_position == pytest.approx(0.08, abs=0.005)
    assert p.confidence >= 0.8
    assert 0.0 <= p.region.left <= 0.08
    assert p.region.left >= 0.0 and p.region.right >= 0.95


def test_right_anchored_captions_extend_left():
    p = infer_layout(caption_frames(anchor="right"))
    assert p.anchor == "right"
    assert p.region.right >= 0.92 and p.region.left <= 0.051


def test_corner_logo_and_scene_sign_do_not_pull_the_region():
    rng = np.random.default_rng(3)

    def clutter(n):
        # Scene text: a shop sign at a random place with changing text, sometimes.
        boxes = logo(n)
        if n % 3 == 0:
            y, x = float(rng.uniform(0.2, 0.6)), float(rng.uniform(0.1, 0.7))
            boxes.append(OcrBox(f"超市{n}", 0.9, x, y, x + 0.12, y + 0.07))
        return boxes

    frames = with_extra(caption_frames(count=12), clutter)
    p = infer_layout(frames)
    assert p.anchor == "center"
    assert p.vertical_center == pytest.approx(0.9, abs=0.01)
    assert p.region.top > 0.8
    assert p.confidence >= 0.7
    assert set(caption_labels(p, frames, lambda b: b.text == "CCTV-8")) == {"out"}
    assert set(caption_labels(p, frames, lambda b: b.text.startswith("超市"))) == {"out"}
    assert set(caption_labels(p, frames, lambda b: b.text in CAPTIONS)) == {"in"}


def test_logo_at_the_bottom_is_not_a_caption():
    """A watermark in the bottom band with identical text everywhere loses to top captions."""
    watermark = lambda _n: [OcrBox("iQIYI 爱奇艺", 0.99, 0.4, 0.9, 0.6, 0.95)]
    frames = with_extra(caption_frames(center_y=0.1), watermark)
    p = infer_layout(frames)
    assert p.vertical_center == pytest.approx(0.1, abs=0.01)
    assert set(caption_labels(p, frames, lambda b: b.text.startswith("iQIYI"))) == {"out"}


def test_only_a_logo_gives_the_default_region():
    frames = [(i * 100, logo(i)) for i in range(8)]
    p = infer_layout(frames)
    assert p.region == DEFAULT_REGION
    assert p.confidence == 0.0
    assert {label for label, _ in p.box_labels.values()} == {"out"}


def test_a_logo_read_a_little_differently_each_time_is_still_a_logo():
    # From the benchmark: a translucent "CA TV" over moving video reads "CA TV" or "CATV".
    variants = ["CA TV", "CATV", "CA TV", "CA TV", "CATV", "CA TV", "ca tv", "CATV"]
    frames = [(i * 100, [OcrBox(text, 0.97, 0.87, 0.035, 0.967, 0.102)]) for i, text in enumerate(variants)]
    p = infer_layout(frames)
    assert p.region == DEFAULT_REGION and p.confidence == 0.0


def test_no_text_gives_the_default_region():
    p = infer_layout([(i * 100, []) for i in range(6)])
    assert p.region == DEFAULT_REGION
    assert (p.anchor, p.confidence, p.line_count) == ("center", 0.0, 1)
    assert p.box_labels == {}
    assert infer_layout([]).region == DEFAULT_REGION


def test_few_sightings_give_low_confidence():
    frames = [(0, [line_box("只有一次", center_y=0.9)])] + [(i * 100, []) for i in range(1, 10)]
    p = infer_layout(frames)
    assert p.region.top < 0.875 < p.region.bottom
    assert p.confidence <= 0.3
    two = infer_layout(caption_frames(count=2, empty_every=0))
    many = infer_layout(caption_frames(count=12, empty_every=0))
    assert two.confidence < many.confidence


def test_scattered_text_gives_low_confidence():
    rng = np.random.default_rng(7)
    frames = []
    for i in range(10):
        y, x = float(rng.uniform(0.1, 0.9)), float(rng.uniform(0.05, 0.7))
        frames.append((i * 100, [OcrBox(f"招牌{i}", 0.9, x, y, x + 0.15, y + float(rng.uniform(0.03, 0.09)))]))
    assert infer_layout(frames).confidence < 0.5


def test_as_dict_is_plain_data():
    d = infer_layout(caption_frames()).as_dict()
    assert set(d) >= {"region", "anchor", "confidence", "vertical_center", "box_height", "line_count"}
    assert isinstance(d["region"], list) and len(d["region"]) == 4
    assert all(isinstance(v, float) for v in d["region"])


def test_real_ocr_of_rendered_frames(rapid_engine):
    """Six 640x360 frames with bottom captions and a corner logo, through real RapidOCR."""
    texts = ["今天天气真好", "我们去公园散步吧", "好的", "Let's go now", "等我一下", "马上就来了"]
    frames, drawn = [], []
    for n, text in enumerate(texts):
        background = gradient_background(640, 360, phase=n / 6)
        image, (box,) = caption_frame(640, 360, [text], background=background, font_size=26, vertical_center=0.88)
        image, _ = caption_frame(
            640, 360, ["NEWS 24"], background=image, font_size=16, anchor="right", x=0.97, vertical_center=0.07
        )
        frames.append((n * 100, rapid_engine.recognize(image)))
        drawn.append(box)
    p = infer_layout(frames)
    assert p.anchor == "center"
    assert p.confidence >= 0.8
    for box in drawn:
        assert box_contains(p.region.as_tuple(), box, tolerance=0.005)
    assert p.region.top > 0.7
    logo_labels = [p.box_labels[(i, j)][0] for i, boxes in frames for j, b in enumerate(boxes) if "NEWS" in b.text]
    assert logo_labels and set(logo_labels) == {"out"}
