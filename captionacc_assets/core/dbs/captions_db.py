"""`captions.db`: the captions of a video and the gaps between them (SPEC §3).

The rows cover the 10 Hz timeline `[0, n)` exactly: in order, no overlaps, ends
inclusive. `text` is a person's text (NULL = not annotated); the server's reading
of the median frame goes to `caption_ocr`. The web editor edits this database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from captionacc_assets.core.dbs.sqlite_artifact import (
    database_metadata_sql,
    open_gzip_db,
    read_metadata,
    write_gzip_db,
    write_metadata,
)

# 2: database_metadata records the cropped frames version and extents database it was made from.
SCHEMA_VERSION = 2

STATES = ("predicted", "confirmed", "gap")
OCR_STATUSES = ("queued", "processing", "completed", "error")

SCHEMA_SQL = database_metadata_sql(
    "frame_count INTEGER NOT NULL DEFAULT 0, cropped_frames_version INTEGER NOT NULL DEFAULT 0, "
    "caption_frame_extents_key TEXT NOT NULL DEFAULT ''"
) + """
CREATE TABLE captions (
    id INTEGER PRIMARY KEY,
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


@dataclass(frozen=True)
class CaptionsProvenance:
    """What a captions.db was made from: version 0 and an empty key for one made before schema 2."""

    cropped_frames_version: int
    caption_frame_extents_key: str


def read_captions_provenance(src_gz: Path) -> CaptionsProvenance:
    with open_gzip_db(src_gz) as conn:
        meta = read_metadata(conn)
    return CaptionsProvenance(
        int(meta.get("cropped_frames_version") or 0), str(meta.get("caption_frame_extents_key") or "")
    )


def validate_partition(rows: Sequence[CaptionRow], n: int) -> None:
    """Raise ValueError unless `rows` cover `[0, n)` exactly: in order, no gaps or
    overlaps, each `start <= end` (inclusive), with known states."""
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
            raise ValueError(f"row {k} has caption_ocr_status {row.caption_ocr_status!r}; expected one of {OCR_STATUSES}")

    def fill(conn: sqlite3.Connection) -> None:
        made_from = provenance or CaptionsProvenance(0, "")
        write_metadata(conn, SCHEMA_VERSION, video_id=video_id, frame_count=int(frame_count),
                       cropped_frames_version=made_from.cropped_frames_version,
                       caption_frame_extents_key=made_from.caption_frame_extents_key)
        conn.executemany(
            "INSERT INTO captions (start_frame_index, end_frame_index, caption_frame_extents_state,"
            " caption_frame_extents_pending, caption_frame_extents_confidence, text, caption_ocr,"
            " caption_ocr_confidence, caption_ocr_status, caption_ocr_error, caption_ocr_processed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " CASE WHEN ? IN ('completed', 'error') THEN datetime('now') END)",
            (
                (int(r.start_frame_index), int(r.end_frame_index), r.state, 0 if r.state == "confirmed" else 1,
                 float(r.confidence), r.text, r.caption_ocr,
                 None if r.caption_ocr_confidence is None else float(r.caption_ocr_confidence),
                 r.caption_ocr_status, r.caption_ocr_error, r.caption_ocr_status)
                for r in rows
            ),
        )

    write_gzip_db(dest_gz, SCHEMA_SQL, fill)
    gaps = sum(1 for r in rows if r.state == "gap")
    return {"rows": len(rows), "captions": len(rows) - gaps, "gaps": gaps}


def read_captions_db(src_gz: Path) -> list[CaptionRow]:
    """All rows ordered by start frame."""
    with open_gzip_db(src_gz) as conn:
        rows = conn.execute(
            "SELECT start_frame_index, end_frame_index, caption_frame_extents_state,"
            " caption_frame_extents_confidence, caption_ocr, caption_ocr_confidence, caption_ocr_status,"
            " caption_ocr_error, text FROM captions ORDER BY start_frame_index, end_frame_index, id"
        ).fetchall()
    return [
        CaptionRow(
            start_frame_index=r["start_frame_index"],
            end_frame_index=r["end_frame_index"],
            state=r["caption_frame_extents_state"],
            confidence=r["caption_frame_extents_confidence"] or 0.0,
            caption_ocr=r["caption_ocr"],
            caption_ocr_confidence=r["caption_ocr_confidence"],
            caption_ocr_status=r["caption_ocr_status"],
            caption_ocr_error=r["caption_ocr_error"],
            text=r["text"],
        )
        for r in rows
    ]
