"""The pair model on onnxruntime: the CPU default, with no torch in the process.

torch costs a run process about 1.2 s to import and 200 MB to hold, for a network of a few
thousand weights; onnxruntime is already loaded for OCR. The graph (`onnx_export.py`) takes a
batch of consecutive shrunk crops and returns their pair probabilities, so batches overlap by one
crop: the last crop of a batch is read again as the first of the next (one crop in 65 more).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import onnxruntime as ort

from captionacc_assets.core.errors import InputError
from captionacc_assets.core.extents.labels import PairPredictions
from captionacc_assets.core.extents.pair_inference import LearnedPairClassifier, joined_predictions
from captionacc_assets.core.extents.weights import checked_weights, onnx_path

WEIGHTS_HASH_KEY = "weights_hash"  # metadata: the model hash of the .pt the graph was exported from
META_KEY = "meta"  # metadata: the .pt's meta (calibration, change evidence parameters), as JSON


class OnnxPairClassifier(LearnedPairClassifier):
    """`PairClassifier` running the exported graph of a weights file on CPU onnxruntime."""

    def __init__(self, weights: Path | str | None = None, *, batch_size: int = 64) -> None:
        self.weights_path, self.model_hash = checked_weights(weights)
        graph = onnx_path(self.weights_path)
        if not graph.is_file():
            raise InputError(
                f"{graph.name} is missing beside {self.weights_path.name}; export it with "
                f"`python -m captionacc_assets.core.extents.onnx_export {self.weights_path}`"
            )
        options = ort.SessionOptions()
        options.log_severity_level = 3
        # One thread: a batch of 64 crops takes ~30 ms of CPU on it, while a pool of two spends
        # twice that (its threads spin between runs) and takes the core the decoder and the VP9
        # encoders of the same job need (docs/benchmarks.md).
        options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        props = self.session.get_modelmeta().custom_metadata_map
        if props.get(WEIGHTS_HASH_KEY) != self.model_hash:
            raise InputError(
                f"{graph.name} was exported from weights {props.get(WEIGHTS_HASH_KEY)!r}, not from "
                f"{self.weights_path.name}; export it again"
            )
        self._use_meta(json.loads(props.get(META_KEY, "{}")), batch_size)

    def predict_preprocessed(self, batches: Iterable[np.ndarray]) -> PairPredictions:
        forward: list[np.ndarray] = []
        backward: list[np.ndarray] = []
        last = None
        for batch in batches:
            frames = np.ascontiguousarray(batch if last is None else np.concatenate([last, batch]))
            if len(frames) >= 2:
                fwd, bwd = self.session.run(None, {"frames": frames})
                forward.append(fwd)
                backward.append(bwd)
            last = frames[-1:]
        return joined_predictions(forward, backward, any_crop=last is not None)
