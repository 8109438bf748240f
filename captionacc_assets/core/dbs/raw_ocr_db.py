"""`raw-ocr.db`: every box the OCR engine read on every full frame (SPEC §2, §3).

Frames where OCR found nothing are recorded too (`full_frames.box_count = 0`), so a
reader can tell "no text here" from "never OCR'd".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from captionacc_assets.core.dbs.sqlite_artifact import (
    database_metadata_sql,
    open_gzip_db,
    write_gzip_db,
    write_metadata,
)
from captionacc_assets.core.ocr.engine import OcrBox

SCHEMA_VERSION = 1

SCHEMA_SQL = (
    database_metadata_sql("""
    engine TEXT NOT NULL DEFAULT '',
    frame_width INTEGER NOT NULL DEFAULT 0,
    frame_height INTEGER NOT NULL DEFAULT 0
""")
    + """
CREATE TABLE full_frames (
    frame_index INTEGER PRIMARY KEY CHECK (frame_index >= 0),
    box_count INTEGER NOT NULL DEFAULT 0 CHECK (box_count >= 0),
    created_at TEXT NOT NULL DEFAULT (datetime('now'))
);

CREATE TABLE full_frame_ocr (
    id INTEGER PRIMARY KEY,
    frame_index INTEGER NOT NULL DEFAULT 0 REFERENCES full_frames (frame_index),
    box_index INTEGER NOT NULL DEFAULT 0 CHECK (box_index >= 0),
    text TEXT NOT NULL DEFAULT '',
    confidence REAL NOT NULL DEFAULT 0,
    left REAL NOT NULL DEFAULT 0 CHECK (left BETWEEN 0 AND 1),
    top REAL NOT NULL DEFAULT 0 CHECK (top BETWEEN 0 AND 1),
    right REAL NOT NULL DEFAULT 0 CHECK (right BETWEEN 0 AND 1),
    bottom REAL NOT NULL DEFAULT 0 CHECK (bottom BETWEEN 0 AND 1),
    created_at TEXT NOT NULL DEFAULT (datetime('now')),
    UNIQUE (frame_index, box_index)
);
"""
)


def write_raw_ocr_db(
    dest_gz: Path,
    frames: Sequence[tuple[int, Sequence[OcrBox]]],
    *,
    engine: str,
    frame_width: int,
    frame_height: int,
    video_id: str = "",
) -> dict:
    """Write every frame's boxes (box_index = position in the engine's list); returns counts."""

    def fill(conn: sqlite3.Connection) -> None:
        write_metadata(
            conn, SCHEMA_VERSION, video_id=video_id, engine=engine, frame_width=frame_width, frame_height=frame_height
        )
        conn.executemany(
            "INSERT INTO full_frames (frame_index, box_count) VALUES (?, ?)",
            ((int(index), len(boxes)) for index, boxes in frames),
        )
        conn.executemany(
            "INSERT INTO full_frame_ocr (frame_index, box_index, text, confidence, left, top, right, bottom)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    int(index),
                    box_index,
                    box.text,
                    float(box.confidence),
                    float(box.left),
                    float(box.top),
                    float(box.right),
                    float(box.bottom),
                )
                for index, boxes in frames
                for box_index, box in enumerate(boxes)
            ),
        )

    write_gzip_db(dest_gz, SCHEMA_SQL, fill)
    return {"frames": len(frames), "boxes": sum(len(boxes) for _, boxes in frames)}


def read_raw_ocr_db(src_gz: Path) -> list[tuple[int, list[OcrBox]]]:
    """Every OCR'd frame in index order with its boxes in box order (empty lists kept)."""
    with open_gzip_db(src_gz) as conn:
        frames: dict[int, list[OcrBox]] = {
            row["frame_index"]: [] for row in conn.execute("SELECT frame_index FROM full_frames ORDER BY frame_index")
        }
        for row in conn.execute(
            "SELECT frame_index, text, confidence, left, top, right, bottom"
            " FROM full_frame_ocr ORDER BY frame_index, box_index"
        ):
            frames.setdefault(row["frame_index"], []).append(
                OcrBox(row["text"], row["confidence"], row["left"], row["top"], row["right"], row["bottom"])
            )
    return sorted(frames.items())
