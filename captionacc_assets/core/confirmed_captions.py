"""Reprocessing keeps people's captions: a new prediction only fills the spans between them.

A person's caption is a row they confirmed (`caption_frame_extents_state = 'confirmed'`) or
one they typed a `text` for. When a run writes a new `captions.db` over one people have edited
(a re-approval with another crop, a backfill after a new extents model, a UI re-run), each such
row keeps its boundaries, its state and its text. The new prediction fills the spans between
them: a predicted caption that overlaps a person's caption is clipped to the free span, or
becomes a gap when less than half of it is left there (it was mostly the same caption); holes
are gaps, and touching gaps are merged. The result still partitions `[0, n)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from captionacc_assets.core.dbs.captions_db import CaptionRow, rows_by_zone, validate_partition


def is_peoples(row: CaptionRow) -> bool:
    """A row a person made theirs: confirmed, or given a text (`''` too: "no caption here")."""
    return row.state == "confirmed" or row.text is not None


@dataclass(frozen=True)
class MergedCaptions:
    rows: list[CaptionRow]
    kept_confirmed: int  # confirmed rows kept with their boundaries and text
    kept_typed: int  # unconfirmed rows kept because a person typed their text
    clipped_predictions: int  # predicted captions cut back to the span next to a person's
    dropped_predictions: int  # predicted captions that became gaps (mostly under a person's)


def _fill(predicted: Sequence[CaptionRow], lo: int, hi: int, counts: dict) -> list[CaptionRow]:
    """The predicted rows cut to `[lo, hi]` (inclusive); they cover it since they partition [0, n)."""
    out = []
    for row in predicted:
        start, end = max(row.start_frame_index, lo), min(row.end_frame_index, hi)
        if start > end:
            continue
        if row.state != "gap" and (start, end) != (row.start_frame_index, row.end_frame_index):
            whole = row.end_frame_index - row.start_frame_index + 1
            if 2 * (end - start + 1) < whole:
                counts["dropped"] += 1
                out.append(CaptionRow(start, end, "gap", confidence=row.confidence))
                continue
            counts["clipped"] += 1
        out.append(replace(row, start_frame_index=start, end_frame_index=end))
    return out


def _merge_gaps(rows: list[tuple[CaptionRow, bool]]) -> list[CaptionRow]:
    merged: list[tuple[CaptionRow, bool]] = []
    for row, kept in rows:
        if merged and not kept and not merged[-1][1] and row.state == merged[-1][0].state == "gap":
            previous = merged[-1][0]
            merged[-1] = (
                replace(
                    previous, end_frame_index=row.end_frame_index, confidence=min(previous.confidence, row.confidence)
                ),
                False,
            )
        else:
            merged.append((row, kept))
    return [row for row, _ in merged]


def keep_peoples_captions(previous: Sequence[CaptionRow], predicted: Sequence[CaptionRow], n: int) -> MergedCaptions:
    """`predicted` (each zone a partition of [0, n)) with every person's row of `previous` laid
    over it, zone by zone. A zone the new prediction lacks keeps its people's rows, with gaps around."""
    validate_partition(predicted, n)
    new_zones, old_zones = rows_by_zone(predicted), rows_by_zone(previous)
    rows: list[CaptionRow] = []
    totals = [0, 0, 0, 0]
    for zone in sorted(set(new_zones) | {z for z, old in old_zones.items() if any(map(is_peoples, old))}):
        zone_predicted = new_zones.get(zone) or [CaptionRow(0, n - 1, "gap", zone=zone)]
        merged = _keep_in_zone(old_zones.get(zone, []), zone_predicted, n)
        rows += [replace(row, zone=zone) for row in merged.rows]
        totals = [
            a + b
            for a, b in zip(
                totals,
                (merged.kept_confirmed, merged.kept_typed, merged.clipped_predictions, merged.dropped_predictions),
            )
        ]
    validate_partition(rows, n)
    return MergedCaptions(rows, *totals)


def _keep_in_zone(previous: Sequence[CaptionRow], predicted: Sequence[CaptionRow], n: int) -> MergedCaptions:
    people = [
        replace(row, end_frame_index=min(row.end_frame_index, n - 1))
        for row in sorted(previous, key=lambda r: r.start_frame_index)
        if is_peoples(row) and row.start_frame_index < n
    ]
    counts = {"clipped": 0, "dropped": 0}
    rows: list[tuple[CaptionRow, bool]] = []
    cursor = 0
    for person in people:
        rows += [(r, False) for r in _fill(predicted, cursor, person.start_frame_index - 1, counts)]
        rows.append((replace(person), True))
        cursor = person.end_frame_index + 1
    rows += [(r, False) for r in _fill(predicted, cursor, n - 1, counts)]
    result = _merge_gaps(rows)
    confirmed = sum(1 for row in people if row.state == "confirmed")
    return MergedCaptions(result, confirmed, len(people) - confirmed, counts["clipped"], counts["dropped"])
