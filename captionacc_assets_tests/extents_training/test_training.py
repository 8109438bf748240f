"""Training data, sampling and a tiny end-to-end run of `captionacc train-extents`."""

import json

import numpy as np
import torch

from captionacc_assets.core.extents.labels import DIFFERENT, EMPTY_EMPTY, EMPTY_VALID, LABELS, SAME, VALID_EMPTY
from captionacc_assets.core.extents.model import ModelPairClassifier
from captionacc_assets.core.extents.pair_inference import INPUT_HEIGHT, INPUT_WIDTH
from captionacc_assets.evaluation.eval_set import EvalItem, build_eval_set
from captionacc_assets.evaluation.one_char_set import build_one_char_set
from captionacc_assets.extents_training.data import (
    TRAIN_SEED,
    VALIDATION_SEED,
    VideoExamples,
    encoded_video_examples,
    pair_label,
    pair_labels,
    render_video_examples,
)
from captionacc_assets.extents_training.train import (
    BalancedSampler,
    augment,
    build_pair_pool,
    train,
    validation_groups,
)
from captionacc_assets.synthetic.video_spec import CaptionStyle, Cue, VideoSpec


def test_pair_labels_from_frame_states():
    assert pair_label(-1, -1) == EMPTY_EMPTY
    assert pair_label(-1, 0) == EMPTY_VALID
    assert pair_label(3, -1) == VALID_EMPTY
    assert pair_label(2, 2) == SAME
    assert pair_label(2, 3) == DIFFERENT
    states = np.array([-1, 0, 0, 1, -1])
    assert [LABELS[k] for k in pair_labels(states)] == ["empty_valid", "same", "different", "valid_empty"]


def test_rendered_examples_follow_the_cues_on_the_10hz_grid():
    spec = VideoSpec(
        width=640,
        height=360,
        fps=25.0,
        duration_s=3.0,
        background="moving",
        seed=5,
        cues=(Cue(0.5, 1.2, "Hello there"), Cue(1.2, 2.0, "Hello where"), Cue(2.3, 2.8, "OK")),
        style=CaptionStyle(font="latin_sans"),
    )
    examples = render_video_examples(EvalItem("t", spec, {}), seed=1)
    assert examples.frames.shape == (30, 3, INPUT_HEIGHT, INPUT_WIDTH) and examples.frames.dtype == np.uint8
    # index i shows video frame floor(2.5 i) (the last one at or before i / 10 s): index 5 shows
    # 0.48 s (before the first cue), index 23 shows 2.28 s (before the third)
    expected = [-1] * 6 + [0] * 6 + [1] * 8 + [-1] * 4 + [2] * 4 + [-1] * 2
    assert examples.states.tolist() == expected


def test_encoded_examples_are_a_real_libass_video_decoded_on_the_10hz_grid(tmp_path):
    spec = VideoSpec(
        width=640,
        height=360,
        fps=25.0,
        duration_s=3.0,
        background="footage",
        seed=5,
        cues=(Cue(0.5, 1.2, "Lap 1/12"), Cue(1.2, 2.0, "Lap 2/12")),
        style=CaptionStyle(font="latin_sans", style="shadow"),
        crf=23,
    )
    examples = encoded_video_examples(EvalItem("t", spec, {}, renderer="libass"), seed=1, video_dir=tmp_path)
    assert examples.frames.shape == (30, 3, INPUT_HEIGHT, INPUT_WIDTH) and examples.frames.dtype == np.uint8
    assert examples.states.tolist() == [-1] * 6 + [0] * 6 + [1] * 8 + [-1] * 10
    assert len(list(tmp_path.glob("t-*.mp4"))) == 1  # the video is kept (reused), nothing partial left
    assert not list(tmp_path.glob(".*"))
    # libass drew the caption inside the crop: frames with a caption differ from the picture alone
    # far more than two caption-less frames 0.1 s apart do
    frames = examples.frames.astype(np.int16)
    assert np.abs(frames[8] - frames[4]).mean() > 2 * np.abs(frames[4] - frames[3]).mean()


def test_training_validation_and_benchmark_videos_are_disjoint():
    seeds = lambda items: {item.spec.seed for item in items}  # noqa: E731
    for renderer in ("generator", "libass"):
        train_set, val_set, bench = (
            build_eval_set(48, TRAIN_SEED, renderer=renderer),
            build_eval_set(12, VALIDATION_SEED, renderer=renderer),
            build_eval_set("full", 0, renderer=renderer),
        )
        assert not seeds(train_set) & seeds(val_set)
        assert not (seeds(train_set) | seeds(val_set)) & seeds(bench)
    # the one-character set: other pictures and other texts than the benchmark's seed 0
    train_set, val_set, bench = (build_one_char_set(8, seed) for seed in (TRAIN_SEED, VALIDATION_SEED, 0))
    assert not seeds(train_set) & seeds(val_set) and not (seeds(train_set) | seeds(val_set)) & seeds(bench)
    texts = lambda items: {tuple(c.text for c in item.spec.cues) for item in items}  # noqa: E731
    assert not (texts(train_set) | texts(val_set)) & texts(bench)


def test_validation_groups_by_renderer_and_the_held_out_background():
    def video(renderer, background):
        return VideoExamples(
            "v", np.zeros((2, 3, 1, 1), np.uint8), np.array([-1, -1]), {"renderer": renderer, "background": background}
        )

    videos = [video("generator", "footage"), video("libass", "moving"), video("libass", "footage")]
    groups = validation_groups(videos, "footage")
    assert {name: len(v) for name, v in groups.items()} == {
        "generator": 1,
        "libass": 2,
        "background=footage (held out)": 2,
    }
    assert set(validation_groups(videos, None)) == {"generator", "libass"}


def _fake_video(states) -> VideoExamples:
    states = np.array(states)
    return VideoExamples("v", np.zeros((len(states), 3, INPUT_HEIGHT, INPUT_WIDTH), np.uint8), states, {})


def test_pair_pool_and_balanced_sampler():
    videos = [_fake_video([-1] * 20 + [0] * 30 + [1] * 30 + [-1] * 20)]
    pool = build_pair_pool(videos, np.random.default_rng(0))
    consecutive = pool[pool[:, 4] == 1]
    assert len(consecutive) == 99
    for _, a, b, label, _ in pool:
        assert label == pair_label(videos[0].states[a], videos[0].states[b]) and b > a
    rows = BalancedSampler(pool, np.random.default_rng(1)).batch(5000)
    shares = np.bincount(rows[:, 3], minlength=len(LABELS)) / len(rows)
    assert np.all(np.abs(shares - 0.2) < 0.03), shares  # rare labels (2 starts, 1 change) as common as any


def test_augment_keeps_shapes_and_range_and_is_seeded():
    a = torch.full((8, 3, INPUT_HEIGHT, INPUT_WIDTH), 128.0)
    b = torch.full((8, 3, INPUT_HEIGHT, INPUT_WIDTH), 30.0)
    x1, y1 = augment(a.clone(), b.clone(), torch.Generator().manual_seed(3))
    x2, y2 = augment(a.clone(), b.clone(), torch.Generator().manual_seed(3))
    assert x1.shape == a.shape and y1.shape == b.shape
    assert float(x1.min()) >= 0 and float(x1.max()) <= 255
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, a)


def test_a_tiny_training_run_writes_loadable_weights_and_a_report(tmp_path):
    logs = []
    report = train(
        train_videos=2,
        val_videos=1,
        libass_train_videos=0,
        libass_val_videos=0,
        one_char_train_videos=0,
        one_char_val_videos=0,
        hold_out_background="textured",  # one of the two training videos
        steps=3,
        batch=8,
        cache_dir=tmp_path / "cache",
        out_dir=tmp_path / "out",
        threads=1,
        workers=1,
        log=logs.append,
    )
    weights = tmp_path / "out" / report["weights"]
    classifier = ModelPairClassifier(weights, device="cpu")
    assert weights.name == f"extents_{classifier.model_hash}.pt"
    saved = json.loads((tmp_path / "out" / f"train_report_{classifier.model_hash}.json").read_text())
    assert set(saved["forward"]["per_class"]) == set(LABELS)
    assert 0.0 <= saved["forward"]["macro_f1"] <= 1.0
    assert any("macro-F1" in line for line in logs)
    assert saved["meta"]["hold_out_background"] == "textured" and "generator" in saved["groups"]
    assert classifier.change_evidence is not None  # new weights weigh full-resolution change evidence too
