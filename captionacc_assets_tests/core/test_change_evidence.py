"""Full-resolution evidence of one-character caption changes, on real rendered H.264 videos:
counters and CJK lines ticking over moving backgrounds, drawn by the generator and by libass."""

from pathlib import Path

import numpy as np
import pytest

from captionacc_assets.core.errors import InputError
from captionacc_assets.core.extents.change_evidence import ChangeEvidenceParams, apply_change_evidence, pair_change
from captionacc_assets.core.extents.decode import decode_captions
from captionacc_assets.core.extents.labels import DIFFERENT, SAME
from captionacc_assets.core.extents.model import ModelPairClassifier, with_change_evidence
from captionacc_assets.core.extents.pair_inference import CHANGE_EVIDENCE_KEY
from captionacc_assets.core.extents.weights import shipped_weights
from captionacc_assets.core.region import Region
from captionacc_assets.core.video import iter_frames_at, probe_video
from captionacc_assets.synthetic.generate import write_video
from captionacc_assets.synthetic.libass_render import write_libass_video
from captionacc_assets.synthetic.video_spec import CaptionStyle, Cue, VideoSpec


# Each: texts shown back to back for 1 s each, then one steady caption for 3 s. Last: how many
# of the six changes the evidence alone, and the model with it, must find (what the shipped
# rules find; small CJK digits are their weak case: docs/extents_model.md).
CASES = {
    "counter-generator-outline-moving": (
        "generator",
        [f"Round {k}/12" for k in range(1, 8)],
        "Well played",
        "latin_sans",
        "outline",
        "moving",
        (5, 6),
    ),
    "clock-libass-box-footage": (
        "libass",
        [f"00:{s}" for s in range(17, 24)],
        "Time is up",
        "latin_serif",
        "box",
        "footage",
        (5, 5),
    ),
    "cjk-libass-outline-moving": (
        "libass",
        [f"第{k}集" for k in range(1, 8)],
        "我们回家吧",
        "cjk_sans",
        "outline",
        "moving",
        (2, 4),
    ),
    "cjk-generator-box-cuts": (
        "generator",
        [f"还剩{k}秒" for k in range(9, 2, -1)],
        "我们回家吧",
        "cjk_serif",
        "box",
        "cuts",
        (1, 2),
    ),
}


def _spec(texts, steady, font, style, background) -> VideoSpec:
    cues = [Cue(0.5 + k, 1.5 + k, text) for k, text in enumerate(texts)]
    end = cues[-1].end_s
    cues.append(Cue(end + 0.5, end + 3.5, steady))
    return VideoSpec(
        width=854,
        height=480,
        fps=30.0,
        duration_s=end + 4.0,
        background=background,
        cues=tuple(cues),
        style=CaptionStyle(font=font, size_ratio=0.06, style=style, placement="bottom"),
        seed=7,
    )


@pytest.fixture(scope="module", params=sorted(CASES))
def video(request, tmp_path_factory):
    renderer, texts, steady, font, style, background, must_find = CASES[request.param]
    spec = _spec(texts, steady, font, style, background)
    path = Path(tmp_path_factory.mktemp("change-evidence")) / f"{request.param}.mp4"
    (write_video if renderer == "generator" else write_libass_video)(spec, path)
    probe = probe_video(path)
    crops = [
        crop
        for _, crop in iter_frames_at(path, range(probe.frame_count), region=Region(0.1, 0.78, 0.9, 0.98), probe=probe)
    ]
    # 10 Hz index of each change (cue k + 1 first shown) and the steady caption's inner pairs
    changes = [int(round(cue.start_s * 10)) for cue in spec.cues[1 : len(texts)]]
    steady_cue = spec.cues[-1]
    steady_pairs = range(int(steady_cue.start_s * 10) + 2, int(steady_cue.end_s * 10) - 3)
    return request.param, crops, changes, steady_pairs, must_find


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> tuple[Path, Path]:
    """The shipped network without and with change evidence."""
    network = shipped_weights()
    plain = ModelPairClassifier(network, device="cpu")
    if plain.change_evidence is not None:  # the shipped file has it: make the plain twin
        import torch

        payload = torch.load(network, map_location="cpu", weights_only=True)
        payload["meta"].pop(CHANGE_EVIDENCE_KEY)
        target = Path(tmp_path_factory.mktemp("plain")) / "plain.pt"
        torch.save(payload, target)
        return target, network
    return network, with_change_evidence(network, Path(tmp_path_factory.mktemp("evidence")))


def test_every_one_character_change_peaks_and_a_steady_caption_does_not(video):
    name, crops, changes, steady_pairs, must_find = video
    strength = pair_change(crops).strength
    assert strength.shape == (len(crops) - 1,)
    found = [i for i in changes if strength[i - 2 : i + 1].max() > 0.5]  # pair (i - 1, i), within one index
    assert len(found) >= must_find[0], f"{name}: changes at {changes}, strong pairs {np.nonzero(strength > 0.5)[0]}"
    assert strength[list(steady_pairs)].max() < 0.5, f"{name}: a steady caption looked changed"


def test_the_model_with_change_evidence_splits_every_change_and_not_the_steady_caption(video, weights):
    name, crops, changes, steady_pairs, must_find = video
    spans = [
        s
        for s in decode_captions(ModelPairClassifier(weights[1], device="cpu").predict(iter(crops)))
        if s.state == "predicted"
    ]
    starts = [s.start for s in spans]
    found = [i for i in changes if any(abs(s - i) <= 1 for s in starts)]
    assert len(found) >= must_find[1], f"{name}: changes at {changes}, spans {[(s.start, s.end) for s in spans]}"
    inside = [s for s in starts if steady_pairs.start <= s <= steady_pairs.stop]
    assert not inside, f"{name}: the steady caption was split at {inside}"


def test_weights_without_change_evidence_predict_exactly_as_the_network_alone(video, weights):
    _, crops, _, _, _ = video
    plain = ModelPairClassifier(weights[0], device="cpu")
    assert plain.change_evidence is None
    direct = plain.predict(iter(crops))
    network_only = plain.predict_preprocessed(plain._batches(iter(crops)))
    assert np.array_equal(direct.forward, network_only.forward)
    assert np.array_equal(direct.backward, network_only.backward)


def test_change_evidence_lives_in_the_weights_file_and_changes_the_model_hash(weights, tmp_path):
    plain, evidence = (ModelPairClassifier(w, device="cpu") for w in weights)
    assert plain.model_hash != evidence.model_hash
    assert evidence.change_evidence == ChangeEvidenceParams()
    other = with_change_evidence(weights[0], tmp_path, ChangeEvidenceParams(threshold=0.5))
    assert ModelPairClassifier(other, device="cpu").model_hash not in (plain.model_hash, evidence.model_hash)
    with pytest.raises(InputError, match="unknown change evidence parameters"):
        ChangeEvidenceParams.from_dict({"threshold": 0.3, "no_such_knob": 1})


def test_applying_evidence_moves_caption_mass_to_different_and_keeps_rows_normalized():
    probs = np.array([[0.9, 0.05, 0.0, 0.05, 0.0], [0.1, 0.8, 0.05, 0.05, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0]], np.float32)
    out = apply_change_evidence(probs, np.array([0.8, 0.1, 1.0]), DIFFERENT, SAME)
    np.testing.assert_allclose(out.sum(axis=1), 1, atol=1e-6)
    np.testing.assert_allclose(out[0, [SAME, DIFFERENT]], [0.19, 0.76], atol=1e-6)  # 0.8 of 0.95
    np.testing.assert_allclose(out[1], probs[1], atol=1e-7)  # never less than the model
    np.testing.assert_allclose(out[2], probs[2], atol=1e-7)  # no caption: nothing moves


def test_bad_crops_are_refused():
    with pytest.raises(InputError, match="uint8 RGB"):
        pair_change([np.zeros((40, 300), np.uint8)])
    with pytest.raises(InputError, match="every crop"):
        pair_change([np.zeros((40, 300, 3), np.uint8), np.zeros((41, 300, 3), np.uint8)])
    with pytest.raises(InputError, match="no crops"):
        pair_change([])
