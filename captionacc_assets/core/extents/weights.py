"""Where the pair model's weights (and their ONNX graph) are and what their hash is, without torch.

The model hash names the extents database (SPEC §2), so a run process that only needs the
key (in Modal mode, where the model runs elsewhere) reads it here and never imports torch.
"""

import hashlib
import os
from pathlib import Path

from captionacc_assets.core.errors import InputError

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
WEIGHTS_ENV = "CAPTIONACC_EXTENTS_WEIGHTS"  # a retrained extents_<hash>.pt to try instead of the shipped one
HASH_LENGTH = 16


def file_hash(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:HASH_LENGTH]


def onnx_path(weights: Path) -> Path:
    """Where the ONNX graph exported from a weights file lives: beside it, with the same stem."""
    return Path(weights).with_suffix(".onnx")


def shipped_weights() -> Path:
    """The one committed weights file (its name carries its hash)."""
    found = sorted(MODELS_DIR.glob("extents_*.pt"))
    if len(found) != 1:
        raise InputError(
            f"expected exactly one extents_<hash>.pt in {MODELS_DIR}, found {[p.name for p in found]}; "
            "run `captionacc train-extents` to make one"
        )
    return found[0]


def checked_weights(weights: Path | str | None) -> tuple[Path, str]:
    """The weights file to load (given, `CAPTIONACC_EXTENTS_WEIGHTS`, or the shipped one) and
    its model hash, refusing a file whose name no longer matches its content."""
    weights = weights or os.environ.get(WEIGHTS_ENV)
    path = Path(weights) if weights else shipped_weights()
    if not path.is_file():
        raise InputError(f"extents model weights {path} do not exist ({WEIGHTS_ENV} or the weights argument)")
    model_hash = file_hash(path)
    if path.stem.startswith("extents_") and path.stem != f"extents_{model_hash}":
        raise InputError(
            f"weights file {path.name} does not match its content hash {model_hash}; "
            "it was changed after training: retrain or restore it"
        )
    return path, model_hash
