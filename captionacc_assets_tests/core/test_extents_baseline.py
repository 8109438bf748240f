"""The non-learned pair classifier on synthetic caption crops, decoded into caption spans.

Each sequence is rendered with Pillow (CJK and Latin fonts, outlined / yellow / boxed /
shadowed captions) over moving, cut, bright, busy or flat backgrounds and passed through
JPEG q70; the decoded spans must match the truth within one frame.
"""

import time

import numpy as np
import pytest

from captionacc_assets.core.errors import InputError
from captionacc_assets.core.extents.baseline import BaselinePairClassifier
from captionacc_assets.core.extents.decode import decode_captions
from captionacc_assets.core.extents.labels import (
    EMPTY_EMPTY,
    LABELS,
    REVERSE_PERMUTATION,
    PairClassifier,
    PairPredictions,
)
from captionacc_assets_tests.core.crop_factory import (
    BOXED_WHITE,
    LATIN_FONT,
    OUTLINED_WHITE,
    SHADOW_WHITE,
    YELLOW_OUTLINE,
    Background,
    CaptionStyle,
    CropSequence,
    Cue,
    back_to_back,
)

SCENARIOS = {
    # one-glyph change back to back (吧 -> 了), a scene cut inside a caption, 3-frame fades
    "cjk_outlined_textured_fades": CropSequence(
        n=80,
        cues=[
            Cue(5, 24, "你好，我们走吧"),
            Cue(25, 44, "你好，我们走了"),
            Cue(52, 70, "明天见", fade_in=3, fade_out=3),
        ],
        style=OUTLINED_WHITE,
        background=Background("textured", cuts=(33,)),
    ),
    # yellow text over a bright background with dark speckles; one glyph changes (一 -> 两);
    # a one-glyph caption runs to the last frame
    "cjk_yellow_bright": CropSequence(
        n=80,
        cues=[Cue(3, 20, "这是一个测试字幕"), Cue(21, 40, "这是两个测试字幕"), Cue(50, 79, "好")],
        style=YELLOW_OUTLINE,
        background=Background("bright"),
    ),
    # white on an opaque box over a fast, high-contrast background; caption from frame 0
    "latin_boxed_busy": CropSequence(
        n=70,
        cues=[Cue(0, 20, "Hello there, friend"), Cue(21, 40, "Hello there, friends"), Cue(45, 60, "OK", fade_in=3)],
        style=BOXED_WHITE,
        background=Background("busy"),
    ),
    "latin_flat": CropSequence(
        n=50,
        cues=[Cue(5, 25, "Where are you going?"), Cue(26, 40, "Where are you going!")],
        style=CaptionStyle(font_path=LATIN_FONT, font_size=30),
        background=Background("flat"),
    ),
    # a short crop with small text and a 0.6 s one-glyph cue
    "cjk_small_crop": CropSequence(
        n=60,
        width=700,
        height=60,
        cues=[Cue(2, 12, "我不知道"), Cue(13, 30, "我不知道啊"), Cue(31, 36, "嗯"), Cue(40, 59, "走吧", fade_in=2)],
        style=CaptionStyle(font_size=24, outline_width=1),
        background=Background("textured", speed=3),
    ),
    # back-to-back captions with nothing in common, scene cuts in both
    "cjk_yellow_back_to_back": CropSequence(
        n=55,
        cues=back_to_back(["第一句话在这里", "第二句话来了吗", "好的"], first=5, length=15),
        style=YELLOW_OUTLINE,
        background=Background("textured", cuts=(12, 27)),
    ),
    # drop shadow over a slowly moving bright scene (its texture persists between frames)
    "latin_shadow_slow_bright": CropSequence(
        n=60,
        cues=[Cue(8, 28, "I can't believe it."), Cue(29, 50, "I can't believe you.")],
        style=CaptionStyle(font_path=LATIN_FONT, font_size=34, outline_width=2, shadow_offset=3),
        background=Background("bright", speed=1),
    ),
}

NO_CAPTIONS = {
    "busy": CropSequence(n=50, cues=[], background=Background("busy")),
    "bright_slow": CropSequence(n=50, cues=[], background=Background("bright", speed=1)),
    "flat": CropSequence(n=40, cues=[], background=Background("flat")),
}


@pytest.fixture(scope="module")
def classifier() -> BaselinePairClassifier:
    return BaselinePairClassifier()


def predicted_spans(predictions: PairPredictions) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in decode_captions(predictions) if s.state == "predicted"]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_baseline_then_decode_matches_the_truth_within_one_frame(classifier, name):
    sequence = SCENARIOS[name]
    predictions = classifier.predict(sequence.frames())
    truth, got = sequence.truth(), predicted_spans(predictions)
    assert len(got) == len(truth), f"{name}: truth {truth}, decoded {got}"
    for (start, end), (true_start, true_end) in zip(got, truth):
        assert abs(start - true_start) <= 1 and abs(end - true_end) <= 1, f"{name}: truth {truth}, decoded {got}"


def test_one_glyph_change_is_a_different_pair_and_fades_are_not(classifier):
    sequence = SCENARIOS["cjk_outlined_textured_fades"]
    labels = classifier.predict(sequence.frames()).forward_labels()
    assert labels[24] == "different"  # 你好，我们走吧 -> 你好，我们走了
    assert labels[33] == "same"  # scene cut behind an unchanged caption
    assert labels.count("different") == 1  # not inside the fade-in (52..) or fade-out (..70)
    assert labels[:4] == ["empty_empty"] * 4 and labels[4] == "empty_valid" and labels[44] == "valid_empty"


@pytest.mark.parametrize("name", sorted(NO_CAPTIONS))
def test_no_caption_video_is_all_empty(classifier, name):
    predictions = classifier.predict(NO_CAPTIONS[name].frames())
    assert set(predictions.forward_labels()) == {"empty_empty"}
    assert predictions.forward[:, EMPTY_EMPTY].min() > 0.5
    assert predicted_spans(predictions) == []


def test_predictions_are_soft_consistent_probabilities(classifier):
    sequence = SCENARIOS["latin_boxed_busy"]
    predictions = classifier.predict(sequence.frames())
    assert isinstance(classifier, PairClassifier)
    assert predictions.n_frames == sequence.n
    assert predictions.forward.shape == predictions.backward.shape == (sequence.n - 1, len(LABELS))
    assert predictions.forward.dtype == np.float32
    np.testing.assert_allclose(predictions.forward.sum(axis=1), 1.0, atol=1e-5)
    assert (predictions.forward >= 0).all()
    np.testing.assert_allclose(predictions.backward, predictions.forward[:, list(REVERSE_PERMUTATION)])
    assert predictions.backward_labels()[4] == predictions.forward_labels()[4]
    # a caption start reads as a caption end backwards
    start = sequence.truth()[2][0] - 1
    assert predictions.forward_labels()[start] == "empty_valid"
    assert predictions.backward_labels()[start] == "valid_empty"
    # soft: not one-hot, and less sure near the fade than in the middle of a caption
    assert predictions.forward.max() < 1.0
    middle = predictions.forward[10].max()
    assert predictions.forward[start - 1 : start + 2].max(axis=1).min() < middle


def test_model_hash_is_stable_and_follows_the_parameters():
    a, b = BaselinePairClassifier(), BaselinePairClassifier()
    assert a.model_hash == b.model_hash and len(a.model_hash) >= 8
    int(a.model_hash, 16)
    assert BaselinePairClassifier(fill_threshold=200).model_hash != a.model_hash
    with pytest.raises(InputError, match="unknown baseline parameter"):
        BaselinePairClassifier(fill_treshold=200)


def test_bad_crops_are_refused_with_a_message(classifier):
    with pytest.raises(InputError, match="no crops"):
        classifier.predict(iter([]))
    frames = [np.zeros((60, 300, 3), np.uint8), np.zeros((60, 301, 3), np.uint8)]
    with pytest.raises(InputError, match="every crop of a video must be"):
        classifier.predict(frames)
    with pytest.raises(InputError, match="HxWx3 uint8"):
        classifier.predict([np.zeros((60, 300), np.uint8)])


def test_one_and_two_frame_videos(classifier):
    frame = next(SCENARIOS["latin_flat"].frames())
    one = classifier.predict([frame])
    assert one.n_frames == 1 and one.forward.shape == (0, 5)
    assert [s.state for s in decode_captions(one)] == ["gap"]
    two = classifier.predict([frame, frame])
    assert two.n_frames == 2 and two.forward_labels() == ["empty_empty"]


def test_features_stay_small_per_frame(classifier):
    sequence = SCENARIOS["cjk_small_crop"]
    features = classifier.features(sequence.frames())
    held = sum(getattr(features, name).nbytes for name in ("persist", "a", "b", "lost_a", "lost_b"))
    assert held / sequence.n < 4096  # a few KB per frame: a 1 h video (36k frames) fits easily


def test_throughput_on_1150x110_crops(classifier):
    """Printed, not asserted: the brief asks for >= 500 crops/s on one core."""
    import cv2

    sequence = CropSequence(
        n=24,
        width=1150,
        height=110,
        cues=[Cue(4, 20, "我们还会再见面的")],
        style=SHADOW_WHITE,
        background=Background("textured"),
    )
    distinct = sequence.frame_list()
    frames = [distinct[i % len(distinct)] for i in range(600)]
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        started = time.perf_counter()
        predictions = classifier.predict(frames)
        elapsed = time.perf_counter() - started
    finally:
        cv2.setNumThreads(threads)
    assert predictions.n_frames == 600
    print(f"\nbaseline throughput: {600 / elapsed:.0f} crops/s (1150x110, one OpenCV thread)")
