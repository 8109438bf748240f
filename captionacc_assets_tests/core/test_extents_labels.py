"""The pair labels' fixed column order and their reversal."""

import numpy as np
import pytest

from captionacc_assets.core.extents.labels import (
    DIFFERENT,
    EMPTY_EMPTY,
    EMPTY_VALID,
    LABELS,
    REVERSE_PERMUTATION,
    SAME,
    VALID_EMPTY,
    label_between,
    reverse_label,
)


def test_label_order_is_the_contract_order_and_the_constants_name_its_columns():
    assert LABELS == ("same", "different", "empty_empty", "empty_valid", "valid_empty")
    columns = {"same": SAME, "different": DIFFERENT, "empty_empty": EMPTY_EMPTY, "empty_valid": EMPTY_VALID}
    assert {**columns, "valid_empty": VALID_EMPTY} == {label: LABELS.index(label) for label in LABELS}


@pytest.mark.parametrize(
    "label, reversed_label",
    [
        ("same", "same"),
        ("different", "different"),
        ("empty_empty", "empty_empty"),
        ("empty_valid", "valid_empty"),
        ("valid_empty", "empty_valid"),
    ],
)
def test_reverse_label(label, reversed_label):
    assert reverse_label(label) == reversed_label
    assert reverse_label(reverse_label(label)) == label


def test_reverse_label_rejects_unknown_labels():
    with pytest.raises(ValueError, match="unknown pair label"):
        reverse_label("caption_start")


def test_reverse_permutation_is_an_involution_that_applies_reverse_label():
    perm = list(REVERSE_PERMUTATION)
    assert sorted(perm) == list(range(len(LABELS)))
    assert [perm[k] for k in perm] == list(range(len(LABELS)))
    for k, label in enumerate(LABELS):
        one_hot = np.eye(len(LABELS))[k]
        assert LABELS[int(one_hot[perm].argmax())] == reverse_label(label)
    probs = np.array([0.1, 0.2, 0.3, 0.15, 0.25])
    assert probs[perm][EMPTY_VALID] == probs[VALID_EMPTY]


@pytest.mark.parametrize(
    "a, b, changed, label",
    [
        (False, False, False, "empty_empty"),
        (False, True, False, "empty_valid"),
        (True, False, False, "valid_empty"),
        (True, True, False, "same"),
        (True, True, True, "different"),
    ],
)
def test_label_between_two_frames(a, b, changed, label):
    assert label_between(a, b, changed) == label
