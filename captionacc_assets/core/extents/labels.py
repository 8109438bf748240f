"""The extents stage's shared types: the five pair labels in their one fixed column order,
the predictions made in that order, and what makes them.

A pair is (A, B) = (frame i, frame i + 1) on the 10 Hz timeline. Every probability array
in the extents stage (the classifiers, the decoder, extents.db, training) uses `LABELS` as
its column order, so the order is a contract; `SAME` ... `VALID_EMPTY` name its columns.
Reading a pair backwards, (B, A), swaps a caption start with a caption end and leaves
the other labels alone; `REVERSE_PERMUTATION` applies that swap to probability vectors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

LABELS: tuple[str, ...] = ("same", "different", "empty_empty", "empty_valid", "valid_empty")
SAME, DIFFERENT, EMPTY_EMPTY, EMPTY_VALID, VALID_EMPTY = range(len(LABELS))
"""The column of each label in `LABELS`."""

_REVERSED = {"empty_valid": "valid_empty", "valid_empty": "empty_valid"}


def reverse_label(label: str) -> str:
    """Label of the pair (B, A) given the label of (A, B)."""
    if label not in LABELS:
        raise ValueError(f"unknown pair label {label!r}; expected one of {LABELS}")
    return _REVERSED.get(label, label)


def label_between(a_has_caption: bool, b_has_caption: bool, changed: bool) -> str:
    """The label of the pair (A, B) from whether each frame shows a caption and, when both
    do, whether it changed between them."""
    if not a_has_caption:
        return "empty_valid" if b_has_caption else "empty_empty"
    if not b_has_caption:
        return "valid_empty"
    return "different" if changed else "same"


# probs_of_reversed_pair = probs[..., REVERSE_PERMUTATION]: column j of the result is the
# probability of LABELS[j] for (B, A), i.e. of reverse_label(LABELS[j]) for (A, B).
REVERSE_PERMUTATION: tuple[int, ...] = tuple(LABELS.index(reverse_label(label)) for label in LABELS)


@dataclass
class PairPredictions:
    """Probabilities for every consecutive pair of a video's 10 Hz frames.

    `forward[i]` is the pair (i, i + 1); `backward[i]` is the reversed pair (i + 1, i), its
    columns in `LABELS` order of that reversed pair (a caption start reads as `valid_empty`).
    """

    forward: np.ndarray
    backward: np.ndarray

    def __post_init__(self) -> None:
        self.forward = np.asarray(self.forward, dtype=np.float32).reshape(-1, len(LABELS))
        self.backward = np.asarray(self.backward, dtype=np.float32).reshape(-1, len(LABELS))
        if self.forward.shape != self.backward.shape:
            raise ValueError(f"forward {self.forward.shape} and backward {self.backward.shape} differ in shape")

    @property
    def n_frames(self) -> int:
        return self.forward.shape[0] + 1

    def forward_labels(self) -> list[str]:
        return [LABELS[k] for k in self.forward.argmax(axis=1)] if len(self.forward) else []

    def backward_labels(self) -> list[str]:
        return [LABELS[k] for k in self.backward.argmax(axis=1)] if len(self.backward) else []


@runtime_checkable
class PairClassifier(Protocol):
    """Anything that turns a stream of 10 Hz crops into pair predictions."""

    model_hash: str

    def predict(self, frames: Iterable[np.ndarray]) -> PairPredictions: ...
