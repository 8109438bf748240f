"""A published `captions.db` as people left it: rows with their ids, and row-level OCR updates.

The web editor edits `captions.db` in place (its rows keep their ids), so a server job that
answers an editor's request must change exactly what it was asked to and nothing else:
`write_caption_ocr` updates five columns of the named rows in a copy of the stored database,
leaving every other row, column and the `database_metadata` row byte for byte as they were.
`read_stored_captions` refuses what it cannot safely rewrite (a corrupt file, a schema newer
than this code knows) with a message that says so, so nothing stored is lost.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from captionacc_assets.core.dbs.captions_db import (
    SCHEMA_VERSION,
    CaptionRow,
    row_from_record,
    select_rows_sql,
    validate_partition,
)
from captionacc_assets.core.dbs.sqlite_artifact import edit_gzip_db, open_gzip_db, read_metadata
from captionacc_assets.core.errors import InputError

# The columns a caption OCR answer writes; nothing else in a row changes.
OCR_COLUMNS = (
    "caption_ocr",
    "caption_ocr_confidence",
    "caption_ocr_status",
    "caption_ocr_error",
    "caption_ocr_processed_at",
)


@dataclass(frozen=True)
class StoredCaption:
    id: int
    row: CaptionRow

    @property
    def span(self) -> tuple[int, int]:
        return (self.row.start_frame_index, self.row.end_frame_index)


@dataclass(frozen=True)
class StoredCaptions:
    captions: list[StoredCaption]  # by zone, then start frame
    metadata: dict
    frame_count: int
    sha256: str  # of the stored .db.gz bytes: what "unchanged since read" means

    @property
    def rows(self) -> list[CaptionRow]:
        return [c.row for c in self.captions]

    def by_id(self) -> dict[int, StoredCaption]:
        return {c.id: c for c in self.captions}


@dataclass(frozen=True)
class CaptionOcr:
    """One row's new OCR: text and confidence, or an error."""

    caption_ocr: str | None
    caption_ocr_confidence: float | None
    caption_ocr_status: str = "completed"
    caption_ocr_error: str | None = None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_stored_captions(src_gz: Path, what: str = "captions.db") -> StoredCaptions:
    """Every row with its id, the metadata and the content hash; `InputError` when the file is
    not a captions.db this code can rewrite without losing anything."""
    try:
        with open_gzip_db(src_gz) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"captions", "database_metadata"} <= tables:
                raise InputError(
                    f"{what} has no captions or database_metadata table: it is not a captions.db; "
                    f"restore it from a backup or re-run captions_db, nothing was changed"
                )
            metadata = read_metadata(conn)
            version = int(metadata.get("schema_version") or 0)
            if version > SCHEMA_VERSION:
                raise InputError(
                    f"{what} has schema_version {version}, newer than the {SCHEMA_VERSION} this platform "
                    f"writes: upgrade the platform (a newer editor wrote it); nothing was changed"
                )
            records = conn.execute(select_rows_sql(conn)).fetchall()
            captions = [StoredCaption(r["id"], row_from_record(r)) for r in records]
    except sqlite3.DatabaseError as error:
        raise InputError(f"{what} is corrupt ({error}): restore it from a backup; nothing was changed") from None
    except ValueError as error:
        if isinstance(error, InputError):
            raise
        raise InputError(f"{what} is corrupt ({error}): restore it from a backup; nothing was changed") from None

    frame_count = int(metadata.get("frame_count") or 0)
    try:
        validate_partition([c.row for c in captions], frame_count)
    except ValueError as error:
        raise InputError(f"{what} does not cover its {frame_count} frames: {error}; nothing was changed") from None
    return StoredCaptions(captions, metadata, frame_count, file_sha256(src_gz))


def write_caption_ocr(src_gz: Path, dest_gz: Path, answers: dict[int, CaptionOcr]) -> None:
    """`dest_gz`: `src_gz` with the OCR columns of the rows `answers` names (by id) replaced."""

    def edit(conn: sqlite3.Connection) -> None:
        for caption_id, answer in sorted(answers.items()):
            updated = conn.execute(
                "UPDATE captions SET caption_ocr = ?, caption_ocr_confidence = ?, caption_ocr_status = ?,"
                " caption_ocr_error = ?, caption_ocr_processed_at = datetime('now') WHERE id = ?",
                (
                    answer.caption_ocr,
                    None if answer.caption_ocr_confidence is None else float(answer.caption_ocr_confidence),
                    answer.caption_ocr_status,
                    answer.caption_ocr_error,
                    int(caption_id),
                ),
            ).rowcount
            if updated != 1:
                raise ValueError(f"captions.db has no row with id {caption_id}")

    edit_gzip_db(src_gz, dest_gz, edit)
