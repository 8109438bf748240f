"""The learned caption pair classifier: a small Siamese CNN over consecutive 10 Hz crops.

Each crop is shrunk once to `INPUT_HEIGHT x INPUT_WIDTH` and encoded once into a feature
map; a pair head then reads (A, B) and, for the backward direction, (B, A) from the same
two maps. So a frame costs one encoding and two cheap head passes, however it is paired,
which keeps the model fast enough for CPU (see docs/benchmarks.md) while its head still
compares the two crops position by position (one changed character is a local change).

Inference streams: crops are buffered `batch_size` at a time and only the last frame's
features are kept across batches, so memory is bounded whatever the video length.
Weights ship in `captionacc_assets/models/extents_<hash>.pt`; the model hash is the
sha256 of that file, so a retrained model gets a new extents database key (SPEC §2).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from captionacc_assets.core.errors import InputError
from captionacc_assets.core.extents.change_evidence import ChangeEvidenceParams
from captionacc_assets.core.extents.labels import LABELS, PairPredictions
from captionacc_assets.core.extents.pair_inference import (
    CHANGE_EVIDENCE_KEY,
    DEVICE_ENV,
    LearnedPairClassifier,
    joined_predictions,
)
from captionacc_assets.core.extents.weights import checked_weights, file_hash


def _conv(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class PairNet(nn.Module):
    """encode(frames) -> feature maps; head(fa, fb) -> logits over `LABELS` for the pair (A, B)."""

    def __init__(self, width: int = 24) -> None:
        super().__init__()
        self.encoder = nn.Sequential(_conv(3, 16, 2), _conv(16, width, 2))
        self.compare = nn.Sequential(_conv(3 * width, 32, 2), _conv(32, 48, 2))
        self.classify = nn.Sequential(nn.Linear(96, 64), nn.ReLU(inplace=True), nn.Linear(64, len(LABELS)))
        self.register_buffer("mean", torch.tensor([0.45, 0.45, 0.45]).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor([1 / (255 * 0.25)] * 3).view(1, 3, 1, 1))

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) uint8 -> (N, C, H/4, W/4)."""
        x = frames.float() * self.scale - self.mean / 0.25
        return self.encoder(x)

    def head(self, fa: torch.Tensor, fb: torch.Tensor) -> torch.Tensor:
        h = self.compare(torch.cat([fa, fb, (fa - fb).abs()], dim=1))
        pooled = torch.cat([h.amax(dim=(2, 3)), h.mean(dim=(2, 3))], dim=1)
        return self.classify(pooled)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.head(self.encode(a), self.encode(b))


def _fold_batch_norm(block: nn.Sequential) -> nn.Sequential:
    """Conv + BatchNorm + ReLU -> Conv (with bias) + ReLU, the same function in eval mode
    with one pass less over every feature map."""
    conv, bn = block[0], block[1]
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=True)
    with torch.no_grad():
        fused.weight.copy_(conv.weight * scale.view(-1, 1, 1, 1))
        fused.bias.copy_(bn.bias - bn.running_mean * scale)
    return nn.Sequential(fused, nn.ReLU(inplace=True))


def for_inference(net: PairNet) -> PairNet:
    """An eval-mode copy of `net` with its batch norms folded into the convolutions."""
    net = net.eval()
    folded = PairNet(width=net.encoder[1][0].out_channels)
    folded.load_state_dict(net.state_dict())
    folded.encoder = nn.Sequential(*(_fold_batch_norm(b) for b in net.encoder))
    folded.compare = nn.Sequential(*(_fold_batch_norm(b) for b in net.compare))
    return folded.eval()


def save_weights(
    model: PairNet, out_dir: Path, *, meta: dict | None = None, logit_bias: np.ndarray | None = None
) -> Path:
    """Write the weights as extents_<hash>.pt (hash of the written bytes) and return the path.

    `logit_bias` is added to the logits before the softmax: training balances the labels,
    and this bias brings the probabilities back towards how often each label really occurs.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / ".extents_partial.pt"
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    bias = torch.zeros(len(LABELS)) if logit_bias is None else torch.as_tensor(logit_bias, dtype=torch.float32)
    torch.save(
        {"state_dict": state, "width": model.encoder[1][0].out_channels, "meta": meta or {}, "logit_bias": bias}, tmp
    )
    final = out_dir / f"extents_{file_hash(tmp)}.pt"
    os.replace(tmp, final)
    return final


def with_change_evidence(weights: Path, out_dir: Path, params: ChangeEvidenceParams | None = None) -> Path:
    """A copy of a weights file whose classifier also uses full-resolution change evidence with
    `params` (stored in the file's meta, so the new file has its own model hash)."""
    payload = torch.load(Path(weights), map_location="cpu", weights_only=True)
    payload["meta"] = {
        **payload.get("meta", {}),
        CHANGE_EVIDENCE_KEY: (params or ChangeEvidenceParams()).as_dict(),
        "network_from": Path(weights).name,
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / ".extents_partial.pt"
    torch.save(payload, tmp)
    final = out_dir / f"extents_{file_hash(tmp)}.pt"
    os.replace(tmp, final)
    return final


def pick_device(requested: str | None = None) -> torch.device:
    requested = requested or os.environ.get(DEVICE_ENV) or ("cuda" if torch.cuda.is_available() else "cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"{DEVICE_ENV}={requested} but no CUDA device is available; use cpu")
    return torch.device(requested)


class ModelPairClassifier(LearnedPairClassifier):
    """`PairClassifier` backed by the shipped (or a given) PairNet weights, run by torch (on CUDA
    when asked for or present; `OnnxPairClassifier` is the CPU default)."""

    def __init__(self, weights: Path | str | None = None, *, device: str | None = None, batch_size: int = 64) -> None:
        self.weights_path, self.model_hash = checked_weights(weights)
        payload = torch.load(self.weights_path, map_location="cpu", weights_only=True)
        self._use_meta(payload.get("meta", {}), batch_size)
        self.device = pick_device(device)
        net = PairNet(width=int(payload.get("width", 24)))
        net.load_state_dict(payload["state_dict"])
        self.net = for_inference(net).to(self.device)
        self.logit_bias = torch.as_tensor(payload.get("logit_bias", torch.zeros(len(LABELS))), dtype=torch.float32).to(
            self.device
        )

    @torch.inference_mode()
    def predict_preprocessed(self, batches: Iterable[np.ndarray]) -> PairPredictions:
        forward: list[np.ndarray] = []
        backward: list[np.ndarray] = []
        last = None
        for batch in batches:
            frames = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device)
            feats = self.net.encode(frames)
            if last is not None:
                feats_all = torch.cat([last, feats])
            else:
                feats_all = feats
            if len(feats_all) >= 2:
                fa, fb = feats_all[:-1], feats_all[1:]
                for out, (x, y) in ((forward, (fa, fb)), (backward, (fb, fa))):
                    logits = self.net.head(x, y).float() + self.logit_bias
                    out.append(torch.softmax(logits, dim=1).cpu().numpy())
            last = feats_all[-1:]
        return joined_predictions(forward, backward, any_crop=last is not None)
