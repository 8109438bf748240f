"""A published captions.db read with its ids, and OCR answers written into exactly the rows named."""

import gzip
import sqlite3

import pytest

from captionacc_assets.core.dbs.captions_db import SCHEMA_VERSION, CaptionRow, write_captions_db
from captionacc_assets.core.dbs.sqlite_artifact import edit_gzip_db, open_gzip_db
from captionacc_assets.core.dbs.stored_captions import CaptionOcr, read_stored_captions, write_caption_ocr
from captionacc_assets.core.errors import InputError

ROWS = [
    CaptionRow(0, 9, "gap"),
    CaptionRow(10, 29, "predicted", 0.8, "Good night", 0.9, "completed"),
    CaptionRow(30, 49, "confirmed", 0.7, "Hel1o", 0.5, "completed", text="Hello"),
]


@pytest.fixture
def published(tmp_path):
    path = tmp_path / "captions.db.gz"
    write_captions_db(path, ROWS, frame_count=50, video_id="vid")
    return path


def dump(path):
    with open_gzip_db(path) as conn:
        return (
            [tuple(r) for r in conn.execute("SELECT * FROM captions ORDER BY id")],
            [tuple(r) for r in conn.execute("SELECT * FROM database_metadata")],
            [tuple(r) for r in conn.execute("SELECT * FROM sqlite_master ORDER BY name")],
        )


def test_rows_come_back_with_ids_metadata_and_a_content_hash(published):
    stored = read_stored_captions(published)
    assert stored.rows == ROWS
    assert [c.id for c in stored.captions] == [1, 2, 3] and stored.captions[2].span == (30, 49)
    assert (stored.frame_count, stored.metadata["schema_version"], stored.metadata["video_id"]) == (
        50,
        SCHEMA_VERSION,
        "vid",
    )
    assert len(stored.sha256) == 64 and stored.sha256 == read_stored_captions(published).sha256


def test_an_ocr_answer_changes_only_the_ocr_columns_of_its_row(published, tmp_path):
    before_rows, before_meta, before_schema = dump(published)
    out = tmp_path / "out.db.gz"
    write_caption_ocr(published, out, {2: CaptionOcr("Good night!", 0.97)})
    after_rows, after_meta, after_schema = dump(out)
    assert (after_meta, after_schema) == (before_meta, before_schema)
    assert after_rows[0] == before_rows[0] and after_rows[2] == before_rows[2]
    with open_gzip_db(out) as conn:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(captions)")]
    changed = {columns[i] for i, (a, b) in enumerate(zip(before_rows[1], after_rows[1])) if a != b}
    assert (
        changed
        <= {
            "caption_ocr",
            "caption_ocr_confidence",
            "caption_ocr_status",
            "caption_ocr_error",
            "caption_ocr_processed_at",
        }
        and "caption_ocr" in changed
    )
    assert read_stored_captions(out).rows[1].caption_ocr == "Good night!"


def test_an_answer_for_a_missing_row_changes_nothing(published, tmp_path):
    out = tmp_path / "out.db.gz"
    with pytest.raises(ValueError, match="no row with id 9"):
        write_caption_ocr(published, out, {2: CaptionOcr("x", 1.0), 9: CaptionOcr("y", 1.0)})
    assert not out.exists() and not list(tmp_path.glob(".out*"))


def test_corrupt_and_newer_databases_are_refused_with_a_reason(published, tmp_path):
    garbage = tmp_path / "garbage.db.gz"
    garbage.write_bytes(gzip.compress(b"not sqlite at all" * 100))
    truncated = tmp_path / "truncated.db.gz"
    truncated.write_bytes(published.read_bytes()[:200])
    for path in (garbage, truncated):
        with pytest.raises(InputError, match="corrupt.*nothing was changed"):
            read_stored_captions(path)
    newer = tmp_path / "newer.db.gz"
    edit_gzip_db(
        published, newer, lambda c: c.execute("UPDATE database_metadata SET schema_version = ?", (SCHEMA_VERSION + 1,))
    )
    with pytest.raises(InputError, match=f"schema_version {SCHEMA_VERSION + 1}, newer.*upgrade the platform"):
        read_stored_captions(newer)
    other = tmp_path / "other.db.gz"
    plain = tmp_path / "other.sqlite"
    sqlite3.connect(plain).execute("CREATE TABLE boxes (x)").connection.commit()
    other.write_bytes(gzip.compress(plain.read_bytes()))
    with pytest.raises(InputError, match="not a captions.db"):
        read_stored_captions(other)
