"""The five pair labels of the caption frame extents model, in their one fixed column order.

A pair is (A, B) = (frame i, frame i + 1) on the 10 Hz timeline. Every probability array
in the extents stage uses `LABELS` as its column order, so the order is a contract.
Reading a pair backwards, (B, A), swaps a caption start with a caption end and leaves
the other labels alone; `REVERSE_PERMUTATION` applies that swap to probability vectors.
"""

from __future__ import annotations

LABELS: tuple[str, ...] = ("same", "different", "empty_empty", "empty_valid", "valid_empty")

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
