"""The pair model on onnxruntime (the CPU default) against the same weights on torch."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from captionacc_assets.core.errors import InputError
from captionacc_assets.core.extents.decode import decode_captions
from captionacc_assets.core.extents.model import ModelPairClassifier, with_change_evidence
from captionacc_assets.core.extents.onnx_export import export_onnx
from captionacc_assets.core.extents.onnx_model import OnnxPairClassifier
from captionacc_assets.core.extents.weights import WEIGHTS_ENV, onnx_path, shipped_weights
from captionacc_assets_tests.core.test_extents_baseline import NO_CAPTIONS, SCENARIOS


@pytest.fixture(scope="module")
def both() -> tuple[OnnxPairClassifier, ModelPairClassifier]:
    return OnnxPairClassifier(), ModelPairClassifier(device="cpu")


def _spans(predictions) -> list[tuple[int, int, str]]:
    return [(s.start, s.end, s.state) for s in decode_captions(predictions)]


@pytest.mark.parametrize("name", sorted(SCENARIOS) + sorted(NO_CAPTIONS))
def test_the_committed_graph_gives_the_torch_model_s_probabilities_and_captions(both, name):
    """Every crop sequence of the suite's own renderer: the same probabilities to float rounding,
    and the same decoded captions (so the extents, and the captions, do not change)."""
    sequence = SCENARIOS.get(name) or NO_CAPTIONS[name]
    frames = list(sequence.frames())
    on_onnx, on_torch = (classifier.predict(frames) for classifier in both)
    np.testing.assert_allclose(on_onnx.forward, on_torch.forward, atol=1e-5)
    np.testing.assert_allclose(on_onnx.backward, on_torch.backward, atol=1e-5)
    assert _spans(on_onnx) == _spans(on_torch)


def test_the_graph_carries_its_weights_hash_and_meta(both):
    on_onnx, on_torch = both
    assert on_onnx.model_hash == on_torch.model_hash  # the extents key does not depend on the engine
    assert on_onnx.meta == on_torch.meta and on_onnx.change_evidence == on_torch.change_evidence
    assert onnx_path(shipped_weights()).stat().st_size < 1_000_000


def test_batches_overlap_by_one_crop_whatever_their_size(both):
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 256, (60, 500, 3), dtype=np.uint8) for _ in range(130)]
    whole = both[0].predict(frames)
    for batch_size in (2, 7, 64, 200):
        split = OnnxPairClassifier(batch_size=batch_size).predict(frames)
        assert split.forward.shape == (129, 5)
        np.testing.assert_allclose(split.forward, whole.forward, atol=1e-5)
        np.testing.assert_allclose(split.backward, whole.backward, atol=1e-5)
    with pytest.raises(InputError, match="no crops"):
        both[0].predict([])


def test_a_graph_exported_from_other_weights_is_refused(tmp_path):
    other = with_change_evidence(shipped_weights(), tmp_path)  # other meta, so another hash
    shutil.copyfile(onnx_path(shipped_weights()), onnx_path(other))
    with pytest.raises(InputError, match="was exported from weights"):
        OnnxPairClassifier(other)
    os.unlink(onnx_path(other))
    with pytest.raises(InputError, match="is missing beside"):
        OnnxPairClassifier(other)
    assert export_onnx(other) == onnx_path(other)  # what training does for a new weights file
    assert OnnxPairClassifier(other).model_hash == ModelPairClassifier(other, device="cpu").model_hash


CHOSEN = (
    "import sys\n"
    "from captionacc_assets.compute.engines import pair_classifier\n"
    "print(type(pair_classifier('model')).__name__, 'torch' in sys.modules)\n"
)


def _chosen(env: dict) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", CHOSEN], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_default_engine_is_onnxruntime_without_torch_and_torch_runs_weights_without_a_graph(tmp_path):
    assert _chosen({}) == ["OnnxPairClassifier", "False"]
    retrained = tmp_path / shipped_weights().name
    shutil.copyfile(shipped_weights(), retrained)  # a retrained file with no exported graph beside it
    assert _chosen({WEIGHTS_ENV: str(retrained)}) == ["ModelPairClassifier", "True"]
