"""Reprocessing keeps people's captions: confirmed rows and typed text survive a new prediction."""

import random

import pytest

from captionacc_assets.core.confirmed_captions import keep_peoples_captions
from captionacc_assets.core.dbs.captions_db import CaptionRow, validate_partition


def predicted(*spans):
    """Rows from (start, end, text-or-None); None is a gap."""
    return [
        CaptionRow(s, e, "gap")
        if t is None
        else CaptionRow(s, e, "predicted", caption_ocr=t, caption_ocr_confidence=0.9, caption_ocr_status="completed")
        for s, e, t in spans
    ]


def confirmed(start, end, text):
    return CaptionRow(start, end, "confirmed", caption_ocr="old", caption_ocr_status="completed", text=text)


NEW = predicted((0, 9, None), (10, 29, "Good night"), (30, 39, None), (40, 59, "Hello"), (60, 99, None))


def test_without_people_rows_the_new_prediction_is_taken_whole():
    old = predicted((0, 49, "stale"), (50, 99, None))
    merged = keep_peoples_captions(old, NEW, 100)
    assert merged.rows == NEW
    assert (merged.kept_confirmed, merged.kept_typed, merged.clipped_predictions, merged.dropped_predictions) == (
        0,
        0,
        0,
        0,
    )


def test_confirmed_captions_keep_boundaries_and_text_and_predictions_fill_between():
    mine = confirmed(12, 33, "Good night!")
    old = predicted((0, 11, None)) + [mine] + predicted((34, 99, None))
    merged = keep_peoples_captions(old, NEW, 100)
    assert merged.rows == [
        CaptionRow(0, 11, "gap"),
        mine,
        CaptionRow(34, 39, "gap"),  # the gap after the prediction of the same caption, cut back
        NEW[3],  # a prediction nobody touched stays as predicted
        CaptionRow(60, 99, "gap"),
    ]
    # 10..29 "Good night" has only 10..11 outside the confirmed caption: it was that caption.
    assert (merged.kept_confirmed, merged.dropped_predictions) == (1, 1)


def test_a_prediction_mostly_outside_a_confirmed_caption_is_clipped_not_dropped():
    old = predicted((0, 54, None)) + [confirmed(55, 62, "Hello world")] + predicted((63, 99, None))
    merged = keep_peoples_captions(old, NEW, 100)
    assert [(r.start_frame_index, r.end_frame_index, r.state, r.caption_ocr) for r in merged.rows] == [
        (0, 9, "gap", None),
        (10, 29, "predicted", "Good night"),
        (30, 39, "gap", None),
        (40, 54, "predicted", "Hello"),
        (55, 62, "confirmed", "old"),
        (63, 99, "gap", None),
    ]
    assert (merged.clipped_predictions, merged.dropped_predictions) == (1, 0)


def test_a_prediction_split_by_a_confirmed_caption_into_small_pieces_becomes_gaps():
    old = predicted((0, 44, None)) + [confirmed(45, 50, "Hel")] + predicted((51, 99, None))
    merged = keep_peoples_captions(old, NEW, 100)
    assert [(r.start_frame_index, r.end_frame_index, r.state) for r in merged.rows] == [
        (0, 9, "gap"),
        (10, 29, "predicted"),
        (30, 44, "gap"),
        (45, 50, "confirmed"),
        (51, 99, "gap"),
    ]
    assert merged.dropped_predictions == 2


def test_typed_text_on_an_unconfirmed_row_is_kept_too_and_touching_people_rows_stay_apart():
    typed = CaptionRow(40, 59, "predicted", caption_ocr="Hel1o", text="Hello")
    old = (
        predicted((0, 9, None))
        + [confirmed(10, 29, "晚安"), CaptionRow(30, 39, "gap", text="")]
        + [typed]
        + predicted((60, 99, None))
    )
    merged = keep_peoples_captions(old, predicted((0, 99, None)), 100)
    assert merged.rows == [CaptionRow(0, 9, "gap"), old[1], old[2], typed, CaptionRow(60, 99, "gap")]
    assert (merged.kept_confirmed, merged.kept_typed) == (1, 2)


def test_people_rows_past_the_end_are_clipped_to_the_timeline():
    old = predicted((0, 89, None)) + [confirmed(90, 119, "end")]
    rows = keep_peoples_captions(old, NEW, 100).rows
    assert rows[-1].end_frame_index == 99 and rows[-1].text == "end"
    validate_partition(rows, 100)


def test_a_broken_prediction_is_refused():
    with pytest.raises(ValueError, match="not covered"):
        keep_peoples_captions([], predicted((0, 49, None)), 100)


def test_random_edits_always_keep_every_person_row_and_partition_the_timeline():
    rng = random.Random(7)
    for _ in range(300):
        n = rng.randint(1, 200)

        def random_partition(state_of):
            cuts = sorted(rng.sample(range(1, n), min(n - 1, rng.randint(0, 12)))) if n > 1 else []
            bounds = [0, *cuts, n]
            return [state_of(CaptionRow(a, b - 1, "gap")) for a, b in zip(bounds, bounds[1:])]

        def person_or_not(row):
            pick = rng.random()
            if pick < 0.3:
                return CaptionRow(
                    row.start_frame_index, row.end_frame_index, "confirmed", text=f"t{row.start_frame_index}"
                )
            if pick < 0.4:
                return CaptionRow(
                    row.start_frame_index, row.end_frame_index, "predicted", caption_ocr="x", text="typed"
                )
            return row

        def prediction(row):
            return (
                row
                if rng.random() < 0.5
                else CaptionRow(row.start_frame_index, row.end_frame_index, "predicted", caption_ocr="p")
            )

        old, new = random_partition(person_or_not), random_partition(prediction)
        merged = keep_peoples_captions(old, new, n)
        validate_partition(merged.rows, n)
        people = [r for r in old if r.state == "confirmed" or r.text is not None]
        assert [r for r in merged.rows if r.state == "confirmed" or r.text is not None] == people
