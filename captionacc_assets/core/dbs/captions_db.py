"""`captions.db`: the captions of a video and the gaps between them (SPEC §3).

Each caption zone's rows (`zone` 0, and 1 for a second zone such as signs at the top)
cover the 10 Hz timeline `[0, n)` exactly: in order, no overlaps, ends inclusive.
`text` is a person's text (NULL = not annotated); the server's reading of the median
frame goes to `caption_ocr`. The web editor edits this database.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from captionacc_assets.core.dbs.sqlite_artifact import (
    database_metadata_sql,
    open_gzip_db,
    read_metadata,
    write_gzip_db,
    write_metadata,
)

# 2: database_metadata records the cropped frames version and extents database it was made from.
# 3: captions.zone (NOT NULL DEFAULT 0) and database_metadata.zones (JSON: each zone's placement,
#    region and extents database); a schema 2 file reads as one zone 0.
SCHEMA_VERSION = 3

STATES = ("predicted", "confirmed", "gap")
ZONES = (0, 1)
OCR_STATUSES = ("queued", "processing", "completed", "error")

SCHEMA_SQL = (
    database_metadata_sql(
        "frame_count INTEGER NOT NULL DEFAULT 0, cropped_frames_version INTEGER NOT NULL DEFAULT 0, "
        "caption_frame_extents_key TEXT NOT NULL DEFAULT '', zones TEXT NOT NULL DEFAULT '[]'"
    )
    + """
CREATE TABLE captions (
    id INTEGER PRIMARY KEY,
    zone INTEGER NOT NULL DEFAULT 0 CHECK (zone IN (0, 1)),
    start_frame_index INTEGER NOT NULL DEFAULT 0 CHECK (start_frame_index >= 0),
    end_frame_index INTEGER NOT NULL DEFAULT 0 CHECK (end_frame_index >= start_frame_index),
    caption_frame_extents_state TEXT NOT NULL DEFAULT 'predicted'
        CHECK (caption_frame_extents_state IN ('predicted', 'confirmed', 'gap')),
    caption_frame_extents_pending INTEGER NOT NULL DEFAULT 1 CHECK (caption_frame_extents_pending IN (0, 1)),
    caption_frame_extents_confidence REAL NOT NULL DEFAULT 0,
    caption_frame_extents_updated_at TEXT,
    text TEXT,
    caption_ocr TEXT,
    caption_ocr_confidence REAL,
    caption_ocr_status TEXT NOT NULL DEFAULT 'queued'
        CHECK (caption_ocr_status IN ('queued', 'processing', 'completed', 'error')),
    caption_ocr_error TEXT,
    caption_ocr_processed_at TEXT,
    created_at TEXT NOT NULL DEFAULT (datetime('now')),
    updated_at TEXT NOT NULL DEFAULT (datetime('now'))
);

CREATE INDEX captions_frame_range ON captions (start_frame_index, end_frame_index);
"""
)


@dataclass
class CaptionRow:
    """One row of `captions`: a caption (`predicted`/`confirmed`) or a `gap`; ends inclusive."""

    start_frame_index: int
    end_frame_index: int
    state: str
    confidence: float = 0.0
    caption_ocr: str | None = None
    caption_ocr_confidence: float | None = None
    caption_ocr_status: str = "queued"
    caption_ocr_error: str | None = None
    text: str | None = None  # a person's text; None = not annotated
    zone: int = 0  # the caption zone whose timeline the row is part of


@dataclass(frozen=True)
class ZoneProvenance:
    """One zone of a captions.db: where it sits and the extents database its rows came from."""

    zone: int
    placement: str  # top | bottom
    region: tuple[float, ...]  # (left, top, right, bottom)
    caption_frame_extents_key: str


@dataclass(frozen=True)
class CaptionsProvenance:
    """What a captions.db was made from: version 0 and an empty key for one made before schema 2.

    `caption_frame_extents_key` is zone 0's; `zones` lists every zone (empty before schema 3)."""

    cropped_frames_version: int
    caption_frame_extents_key: str
    zones: tuple[ZoneProvenance, ...] = ()

    def placements(self) -> dict[int, str]:
        """zone -> top|bottom; a file from before zones is one bottom zone 0."""
        return {z.zone: z.placement for z in self.zones} or {0: "bottom"}


def read_captions_provenance(src_gz: Path) -> CaptionsProvenance:
    with open_gzip_db(src_gz) as conn:
        meta = read_metadata(conn)
    zones = tuple(
        ZoneProvenance(
            int(z["zone"]),
            str(z["placement"]),
            tuple(float(v) for v in z["region"]),
            str(z["caption_frame_extents_key"]),
        )
        for z in json.loads(meta.get("zones") or "[]")
    )
    return CaptionsProvenance(
        int(meta.get("cropped_frames_version") or 0),
        str(meta.get("caption_frame_extents_key") or ""),
        zones,
    )


def rows_by_zone(rows: Sequence[CaptionRow]) -> dict[int, list[CaptionRow]]:
    """Each zone's rows in their given order, zones ascending."""
    zones: dict[int, list[CaptionRow]] = {}
    for row in rows:
        zones.setdefault(row.zone, []).append(row)
    return dict(sorted(zones.items()))


def validate_partition(rows: Sequence[CaptionRow], n: int) -> None:
    """Raise ValueError unless each zone's `rows` cover `[0, n)` exactly: in order, no gaps
    or overlaps, each `start <= end` (inclusive), with known states. Zone 0 is always there."""
    zones = {0: [], **rows_by_zone(rows)}
    for zone, zone_rows in zones.items():
        if zone not in ZONES:
            raise ValueError(f"zone {zone!r} is not one of {ZONES}")
        try:
            _validate_zone_partition(zone_rows, n)
        except ValueError as error:
            raise ValueError(f"zone {zone}: {error}" if len(zones) > 1 else str(error)) from None


def _validate_zone_partition(rows: Sequence[CaptionRow], n: int) -> None:
    expected = 0
    for k, row in enumerate(rows):
        start, end = row.start_frame_index, row.end_frame_index
        if row.state not in STATES:
            raise ValueError(f"row {k} has state {row.state!r}; expected one of {STATES}")
        if start > end:
            raise ValueError(f"row {k} [{start}, {end}] starts after it ends")
        if start < expected:
            raise ValueError(f"row {k} [{start}, {end}] overlaps the previous row, which ends at {expected - 1}")
        if start > expected:
            raise ValueError(f"indices [{expected}, {start - 1}] are not covered (before row {k}); add a gap row")
        expected = end + 1
    if expected > n:
        raise ValueError(f"rows end at index {expected - 1}, past the last index {n - 1} of {n}")
    if expected < n:
        raise ValueError(f"indices [{expected}, {n - 1}] are not covered at the end; add a gap row")


def write_captions_db(
    dest_gz: Path,
    rows: Sequence[CaptionRow],
    *,
    frame_count: int,
    video_id: str = "",
    provenance: "CaptionsProvenance | None" = None,
) -> dict:
    """Validate the partition and write it; returns counts: rows, captions, gaps.

    `provenance` names the cropped frames version and extents database the rows came from,
    so a reader (the exports, the editor) can tell which approval they belong to.

    `text` is written as given (None, i.e. NULL, for predictions nobody has read);
    `caption_frame_extents_pending` is 0 only for confirmed rows.
    """
    validate_partition(rows, frame_count)
    for k, row in enumerate(rows):
        if row.caption_ocr_status not in OCR_STATUSES:
            raise ValueError(
                f"row {k} has caption_ocr_status {row.caption_ocr_status!r}; expected one of {OCR_STATUSES}"
            )

    def fill(conn: sqlite3.Connection) -> None:
        made_from = provenance or CaptionsProvenance(0, "")
        write_metadata(
            conn,
            SCHEMA_VERSION,
            video_id=video_id,
            frame_count=int(frame_count),
            cropped_frames_version=made_from.cropped_frames_version,
            caption_frame_extents_key=made_from.caption_frame_extents_key,
            zones=json.dumps([asdict(z) for z in made_from.zones]),
        )
        conn.executemany(
            "INSERT INTO captions (zone, start_frame_index, end_frame_index, caption_frame_extents_state,"
            " caption_frame_extents_pending, caption_frame_extents_confidence, text, caption_ocr,"
            " caption_ocr_confidence, caption_ocr_status, caption_ocr_error, caption_ocr_processed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " CASE WHEN ? IN ('completed', 'error') THEN datetime('now') END)",
            (
                (
                    int(r.zone),
                    int(r.start_frame_index),
                    int(r.end_frame_index),
                    r.state,
                    0 if r.state == "confirmed" else 1,
                    float(r.confidence),
                    r.text,
                    r.caption_ocr,
                    None if r.caption_ocr_confidence is None else float(r.caption_ocr_confidence),
                    r.caption_ocr_status,
                    r.caption_ocr_error,
                    r.caption_ocr_status,
                )
                for r in rows
            ),
        )

    write_gzip_db(dest_gz, SCHEMA_SQL, fill)
    gaps = sum(1 for r in rows if r.state == "gap")
    return {"rows": len(rows), "captions": len(rows) - gaps, "gaps": gaps}


def select_rows_sql(conn: sqlite3.Connection) -> str:
    """The SELECT of every row with its id, by zone then start; a file from before schema 3 is zone 0."""
    columns = {r[1] for r in conn.execute("PRAGMA table_info(captions)")}
    zone = "zone" if "zone" in columns else "0 AS zone"
    return (
        f"SELECT id, {zone}, start_frame_index, end_frame_index, caption_frame_extents_state,"
        " caption_frame_extents_confidence, caption_ocr, caption_ocr_confidence, caption_ocr_status,"
        " caption_ocr_error, text FROM captions ORDER BY zone, start_frame_index, end_frame_index, id"
    )


def row_from_record(r) -> CaptionRow:
    return CaptionRow(
        start_frame_index=r["start_frame_index"],
        end_frame_index=r["end_frame_index"],
        state=r["caption_frame_extents_state"],
        confidence=r["caption_frame_extents_confidence"] or 0.0,
        caption_ocr=r["caption_ocr"],
        caption_ocr_confidence=r["caption_ocr_confidence"],
        caption_ocr_status=r["caption_ocr_status"],
        caption_ocr_error=r["caption_ocr_error"],
        text=r["text"],
        zone=int(r["zone"]),
    )


def read_captions_db(src_gz: Path) -> list[CaptionRow]:
    """All rows, by zone then start frame."""
    with open_gzip_db(src_gz) as conn:
        return [row_from_record(r) for r in conn.execute(select_rows_sql(conn)).fetchall()]
