"""Export a trained PairNet to ONNX, so inference on CPU needs onnxruntime and not torch.

The exported graph is the whole of one batch's inference, batch norms folded and the logit bias
added: N consecutive shrunk crops in, the N - 1 forward and backward pair probabilities out.
The file sits beside its weights as `extents_<hash>.onnx`, with the weights' hash and meta in
its metadata, so the model hash (and the extents key) stays the hash of the `.pt` it came from.
Exporting needs torch and the `onnx` package; running the result needs neither.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from torch import nn

from captionacc_assets.core.extents.model import ModelPairClassifier, PairNet
from captionacc_assets.core.extents.onnx_model import META_KEY, WEIGHTS_HASH_KEY
from captionacc_assets.core.extents.pair_inference import INPUT_HEIGHT, INPUT_WIDTH
from captionacc_assets.core.extents.weights import onnx_path

OPSET = 17


class _BatchPairs(nn.Module):
    """frames (N, 3, H, W) uint8 -> (forward, backward) probabilities, each (N - 1, labels)."""

    def __init__(self, net: PairNet, logit_bias: torch.Tensor) -> None:
        super().__init__()
        self.net = net
        self.logit_bias = logit_bias.view(1, -1)  # a constant of the traced graph

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats = self.net.encode(frames)
        fa, fb = feats[:-1], feats[1:]
        forward = torch.softmax(self.net.head(fa, fb) + self.logit_bias, dim=1)
        backward = torch.softmax(self.net.head(fb, fa) + self.logit_bias, dim=1)
        return forward, backward


def export_onnx(weights: Path) -> Path:
    """Write `onnx_path(weights)` (write, then rename) and return it."""
    import onnx

    classifier = ModelPairClassifier(weights, device="cpu")
    graph = _BatchPairs(classifier.net, classifier.logit_bias.cpu()).eval()
    final = onnx_path(classifier.weights_path)
    tmp = final.with_name(".extents_partial.onnx")
    example = torch.zeros((4, 3, INPUT_HEIGHT, INPUT_WIDTH), dtype=torch.uint8)
    torch.onnx.export(
        graph,
        (example,),
        str(tmp),
        dynamo=False,
        opset_version=OPSET,
        input_names=["frames"],
        output_names=["forward", "backward"],
        dynamic_axes={"frames": {0: "frames"}, "forward": {0: "pairs"}, "backward": {0: "pairs"}},
    )
    model = onnx.load(str(tmp))
    for key, value in ((WEIGHTS_HASH_KEY, classifier.model_hash), (META_KEY, json.dumps(classifier.meta))):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(tmp))
    os.replace(tmp, final)
    return final


if __name__ == "__main__":
    import sys

    from captionacc_assets.core.extents.weights import shipped_weights

    for weights in [Path(arg) for arg in sys.argv[1:]] or [shipped_weights()]:
        print(export_onnx(weights))
