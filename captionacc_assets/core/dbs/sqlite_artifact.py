"""Gzip'd SQLite files, written atomically and read through a temporary copy.

Every artifact is built in a temp file next to its destination, gzip'd to a second
temp name and moved into place with one `os.replace` (or `os.link` when the
destination must never be overwritten), so a reader never sees a half-written file
and a failed job leaves the previous artifact untouched.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

PRODUCER = "captionacc_assets"


def database_metadata_sql(extra_columns: str = "") -> str:
    """The `database_metadata` table every artifact has: one row (id = 1).

    `extra_columns` are further column definitions (each with a DEFAULT when NOT NULL),
    e.g. "frame_count INTEGER NOT NULL DEFAULT 0".
    """
    extra = f",\n    {extra_columns.strip().rstrip(',')}" if extra_columns.strip() else ""
    return f"""
CREATE TABLE database_metadata (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    schema_version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL DEFAULT (datetime('now')),
    producer TEXT NOT NULL DEFAULT '',
    video_id TEXT NOT NULL DEFAULT ''{extra}
);
"""


def write_metadata(conn: sqlite3.Connection, schema_version: int, **values) -> None:
    """Insert the single `database_metadata` row."""
    columns = {"id": 1, "schema_version": schema_version, "producer": PRODUCER, **values}
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    conn.execute(f"INSERT INTO database_metadata ({names}) VALUES ({marks})", tuple(columns.values()))


def read_metadata(conn: sqlite3.Connection) -> dict:
    """The `database_metadata` row as a dict (empty when the row is missing)."""
    cursor = conn.execute("SELECT * FROM database_metadata WHERE id = 1")
    row = cursor.fetchone()
    if row is None:
        return {}
    return dict(zip([d[0] for d in cursor.description], tuple(row)))


def assert_not_null_columns_have_defaults(conn: sqlite3.Connection) -> None:
    """Raise AssertionError naming every NOT NULL column without a DEFAULT.

    CR-SQLite (the web editor's sync) refuses such columns, so the writers check their
    schema with this before filling it.
    """
    offending = []
    tables = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    for (table,) in tables:
        for column in conn.execute(f'PRAGMA table_info("{table}")').fetchall():
            _cid, name, _type, notnull, default, _pk = tuple(column)
            if notnull and default is None:
                offending.append(f"{table}.{name}")
    if offending:
        raise AssertionError("NOT NULL columns without a DEFAULT (CR-SQLite cannot sync them): " + ", ".join(offending))


def _temp_beside(dest: Path, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=suffix)
    os.close(fd)
    return Path(name)


def write_gzip_db(
    dest_gz: Path,
    schema_sql: str,
    fill: Callable[[sqlite3.Connection], None],
    *,
    overwrite: bool = True,
) -> Path:
    """Create the schema, let `fill` insert rows (one transaction), gzip, move into place.

    With `overwrite=False` an existing `dest_gz` is never replaced: FileExistsError is
    raised, also when another writer wins the race (the final step is `os.link`).
    On any error the previous `dest_gz` is unchanged and no temp file remains.
    """
    dest_gz = Path(dest_gz)
    dest_gz.parent.mkdir(parents=True, exist_ok=True)
    if not overwrite and dest_gz.exists():
        raise FileExistsError(f"{dest_gz} already exists and is immutable; write a new version instead")
    db_tmp = _temp_beside(dest_gz, ".sqlite.tmp")
    gz_tmp = _temp_beside(dest_gz, ".gz.tmp")
    try:
        conn = sqlite3.connect(db_tmp)
        try:
            # The temp file is thrown away on failure: no journal file, no fsync per commit.
            conn.execute("PRAGMA journal_mode = MEMORY")
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.executescript(schema_sql)
            assert_not_null_columns_have_defaults(conn)
            with conn:
                fill(conn)
        finally:
            conn.close()
        _gzip_to(db_tmp, gz_tmp)
        if overwrite:
            os.replace(gz_tmp, dest_gz)
        else:
            _move_without_clobbering(gz_tmp, dest_gz)
    finally:
        db_tmp.unlink(missing_ok=True)
        gz_tmp.unlink(missing_ok=True)
    return dest_gz


def _gzip_to(db_path: Path, gz_path: Path) -> None:
    """Gzip a finished database file, durably; mtime=0 and no file name, so the same database
    gzips to the same bytes."""
    with open(db_path, "rb") as src, open(gz_path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as gz:
            shutil.copyfileobj(src, gz, 1 << 20)
        raw.flush()
        os.fsync(raw.fileno())


def edit_gzip_db(src_gz: Path, dest_gz: Path, edit: Callable[[sqlite3.Connection], None]) -> Path:
    """Copy a gzip'd database to `dest_gz` with `edit` applied (one transaction), atomically.

    Everything `edit` does not touch stays as it was: other tables, rows, columns and the
    `database_metadata` row. `src_gz` may be `dest_gz`. On any error `dest_gz` is unchanged.
    """
    dest_gz = Path(dest_gz)
    dest_gz.parent.mkdir(parents=True, exist_ok=True)
    db_tmp = _temp_beside(dest_gz, ".sqlite.tmp")
    gz_tmp = _temp_beside(dest_gz, ".gz.tmp")
    try:
        with gzip.open(src_gz, "rb") as gz, open(db_tmp, "wb") as out:
            shutil.copyfileobj(gz, out, 1 << 20)
        conn = sqlite3.connect(db_tmp)
        try:
            conn.execute("PRAGMA journal_mode = MEMORY")
            with conn:
                edit(conn)
        finally:
            conn.close()
        _gzip_to(db_tmp, gz_tmp)
        os.replace(gz_tmp, dest_gz)
    finally:
        db_tmp.unlink(missing_ok=True)
        gz_tmp.unlink(missing_ok=True)
    return dest_gz


def _move_without_clobbering(src: Path, dest: Path) -> None:
    """`os.link` fails with FileExistsError if `dest` appeared meanwhile: an atomic
    no-clobber move. Filesystems without hard links get check-then-replace."""
    try:
        os.link(src, dest)
    except FileExistsError:
        raise FileExistsError(f"{dest} already exists and is immutable; write a new version instead") from None
    except OSError:
        if dest.exists():
            raise FileExistsError(f"{dest} already exists and is immutable; write a new version instead") from None
        os.replace(src, dest)


@contextmanager
def open_gzip_db(src_gz: Path) -> Iterator[sqlite3.Connection]:
    """Gunzip `src_gz` to a temp file and yield a read-write connection to it.

    Rows come back as `sqlite3.Row` (index or name access). Changes are made to the
    temp copy only; it is deleted on exit. Raises ValueError when the file is not a
    gzip'd SQLite database.
    """
    src_gz = Path(src_gz)
    # Named like a run's scratch folders (`captionacc-{pid}-`), so one left by a killed run is swept.
    fd, name = tempfile.mkstemp(prefix=f"captionacc-{os.getpid()}-{src_gz.name}.", suffix=".sqlite")
    os.close(fd)
    tmp = Path(name)
    conn = None
    try:
        try:
            with gzip.open(src_gz, "rb") as gz, open(tmp, "wb") as out:
                shutil.copyfileobj(gz, out, 1 << 20)
        except (gzip.BadGzipFile, EOFError, OSError) as error:
            if isinstance(error, FileNotFoundError):
                raise
            raise ValueError(f"{src_gz} is not a gzip'd SQLite database ({error})") from None
        conn = sqlite3.connect(tmp)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as error:
            raise ValueError(f"{src_gz} is not a gzip'd SQLite database ({error})") from None
        yield conn
    finally:
        if conn is not None:
            conn.close()
        tmp.unlink(missing_ok=True)
