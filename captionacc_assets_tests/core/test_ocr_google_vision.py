"""The Google Cloud Vision engine: the real `google-cloud-vision` client over gRPC, against a local
ImageAnnotator whose answers come from real RapidOCR on the montage it receives.
"""

import numpy as np
import pytest

from captionacc_assets.core.ocr.engine import OcrBox
from captionacc_assets.core.ocr.google_vision import GoogleVisionOcrEngine, VisionOcrError, client_from_env
from captionacc_assets.core.ocr.montage import GAP, encoded_montages, plan_montages
from captionacc_assets.compute.engines import ocr_engine
from captionacc_assets_tests.core.text_render import LATIN_FONT, box_contains, caption_frame, solid_background
from captionacc_assets_tests.vision_server import vision_server

LINES = ["Good night", "你好，世界", "See you tomorrow", "晚安"]


@pytest.fixture(scope="module")
def server():
    with vision_server() as served:
        yield served


@pytest.fixture
def vision(server, monkeypatch):
    address, fake = server
    for collected in (fake.images, fake.image_bytes, fake.script):
        collected.clear()
    fake.calls = 0
    monkeypatch.setenv("CAPTIONACC_GOOGLE_VISION_ENDPOINT", address)
    return fake


def frame_with(text: str, width: int = 480, height: int = 270):
    font = {"font_path": LATIN_FONT} if text.isascii() else {}
    image, boxes = caption_frame(width, height, [text], font_size=30, **font)
    return image, boxes[0]


def as_tuple(box: OcrBox):
    return (box.left, box.top, box.right, box.bottom)


def test_frames_in_montages_come_back_to_their_own_frames(vision):
    frames = [frame_with(text) for text in LINES]
    blank = solid_background(480, 270)
    images = [frames[0][0], blank, frames[1][0], frames[2][0], blank, frames[3][0]]
    # A height limit that fits two frames per montage: three requests for six frames.
    engine = GoogleVisionOcrEngine(client_from_env(), max_height=2 * 270 + GAP, backoff_s=0)
    results = engine.recognize_many(images)

    assert vision.images == [(2 * 270 + GAP, 480)] * 3
    assert [" ".join(b.text for b in r) for r in results] == [LINES[0], "", LINES[1], LINES[2], "", LINES[3]]
    for result, (_, drawn) in zip([results[0], results[2], results[3], results[5]], frames):
        (box,) = result
        assert box_contains(as_tuple(box), drawn, 0.03), (as_tuple(box), drawn)  # in its own frame's coordinates
        assert box_contains(drawn, as_tuple(box), 0.05), (as_tuple(box), drawn)
        assert 0.5 <= box.confidence <= 1.0


def test_the_engine_by_name_reads_one_frame(vision):
    image, drawn = frame_with("Good night")
    engine = ocr_engine("google_vision")
    assert engine.name == "google_vision"
    (box,) = engine.recognize(image)
    assert box.text == "Good night" and box_contains(as_tuple(box), drawn, 0.03)
    assert vision.calls == 1


def test_failed_requests_are_retried(vision):
    vision.script = ["unavailable", "image_error"]
    engine = GoogleVisionOcrEngine(client_from_env(), backoff_s=0)
    (box,) = engine.recognize(frame_with("晚安")[0])
    assert box.text == "晚安"
    assert vision.calls == 3 and engine.requests_sent == 3


def test_a_failure_is_never_no_text(vision):
    vision.script = ["unavailable", "image_error", "unavailable"]
    engine = GoogleVisionOcrEngine(client_from_env(), max_attempts=3, backoff_s=0)
    with pytest.raises(VisionOcrError, match="after 3 attempt"):
        engine.recognize_many([frame_with("Good night")[0], solid_background(480, 270)])
    assert vision.calls == 3


def test_montages_keep_within_the_limits():
    shapes = [(1080, 1920)] * 30 + [(100, 4000)]
    montages = plan_montages(shapes, max_height=50_000, max_pixels=50_000_000)
    assert sorted(t.index for m in montages for t in m.tiles) == list(range(31))  # every frame once, in order
    for montage in montages:
        assert montage.height <= 50_000 and montage.height * montage.width <= 50_000_000
    assert len(montages) == 2  # 50 MP at 1920 wide holds 23 full-HD frames with their gaps
    with pytest.raises(ValueError, match="alone exceeds"):
        plan_montages([(60_000, 10)])


def test_a_montage_over_the_byte_limit_is_split():
    rng = np.random.default_rng(0)
    noise = [rng.integers(0, 256, (200, 300, 3), dtype=np.uint8) for _ in range(4)]  # JPEG cannot shrink noise
    single = len(encoded_montages(noise[:1])[0][1])
    encoded = encoded_montages(noise, max_bytes=int(single * 2.5))
    assert all(len(data) <= single * 2.5 for _, data in encoded)
    assert [[t.index for t in m.tiles] for m, _ in encoded] == [[0, 1], [2, 3]]


def test_boxes_in_gaps_or_across_frames_map_to_one_frame():
    (montage,) = plan_montages([(100, 200), (100, 100)], gap=20)
    height = montage.height  # 220
    in_gap = OcrBox("x", 1.0, 0.1, 101 / height, 0.2, 118 / height)
    second = OcrBox("y", 1.0, 0.1, 130 / height, 0.6, 150 / height)  # 120 px: past the 100 px frame
    mapped = montage.boxes_per_frame([in_gap, second])
    assert mapped[0] == []
    (box,) = mapped[1]
    assert box.text == "y" and box.right == 1.0 and abs(box.top - 0.1) < 1e-9 and abs(box.left - 0.2) < 1e-9
