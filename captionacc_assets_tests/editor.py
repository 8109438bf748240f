"""A stand-in for the web editor, as far as captions.db and the catalog go.

It does what the editor does, in the same order and through the same parts: it takes the
`captions` lock in the catalog as a client (one conditional UPDATE; it waits while the server
holds it), downloads `captions.db.gz` from storage, edits rows with SQL the way the editor's
caption repository does (moving a boundary trims, deletes or fills the neighbour rows so the
rows still partition the timeline; a confirmed row is no longer pending), uploads the file,
inserts a `caption_ocr_requests` row, and releases the lock.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from captionacc_assets.core.dbs.sqlite_artifact import edit_gzip_db, open_gzip_db
from captionacc_assets.core.keys import VideoKeys
from captionacc_assets.compute.object_store import GZIP

NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"


class CaptionsEdit:
    """SQL edits of one open captions.db, as the editor's caption repository makes them."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.conn.row_factory = sqlite3.Row

    def rows(self, zone: int = 0) -> list[sqlite3.Row]:
        """One caption zone's rows (each zone is its own timeline), by start."""
        return self.conn.execute("SELECT * FROM captions WHERE zone = ? ORDER BY start_frame_index", (zone,)).fetchall()

    def row(self, caption_id: int) -> sqlite3.Row:
        found = self.conn.execute("SELECT * FROM captions WHERE id = ?", (caption_id,)).fetchone()
        if found is None:
            raise KeyError(f"no caption {caption_id}")
        return found

    def _touch(self, caption_id: int, **values) -> None:
        sets = ", ".join(f"{k} = ?" for k in values)
        self.conn.execute(
            f"UPDATE captions SET {sets}, updated_at = {NOW} WHERE id = ?", (*values.values(), caption_id)
        )

    def move_end(self, caption_id: int, new_end: int) -> None:
        """Move the inclusive end of a caption; the rows after it in its zone give way or a gap fills the hole."""
        row = self.row(caption_id)
        start, end = row["start_frame_index"], row["end_frame_index"]
        if new_end < start:
            raise ValueError(f"caption {caption_id} would end at {new_end}, before its start {start}")
        after = [r for r in self.rows(row["zone"]) if r["start_frame_index"] > end]
        if new_end > end:
            for other in after:
                if other["end_frame_index"] <= new_end:  # wholly covered: deleted
                    self.conn.execute("DELETE FROM captions WHERE id = ?", (other["id"],))
                elif other["start_frame_index"] <= new_end:  # partly covered: trimmed, pending again
                    self._touch(
                        other["id"],
                        start_frame_index=new_end + 1,
                        caption_frame_extents_pending=int(other["caption_frame_extents_state"] != "confirmed"),
                    )
        elif new_end < end:
            following = after[0] if after else None
            if following is not None and following["caption_frame_extents_state"] == "gap":
                self._touch(following["id"], start_frame_index=new_end + 1)
            else:
                self.conn.execute(
                    "INSERT INTO captions (zone, start_frame_index, end_frame_index, caption_frame_extents_state)"
                    " VALUES (?, ?, ?, 'gap')",
                    (row["zone"], new_end + 1, end),
                )
        self._touch(caption_id, end_frame_index=new_end)
        self.conn.execute(f"UPDATE captions SET caption_frame_extents_updated_at = {NOW} WHERE id = ?", (caption_id,))

    def confirm(self, caption_id: int) -> None:
        self._touch(caption_id, caption_frame_extents_state="confirmed", caption_frame_extents_pending=0)

    def type_text(self, caption_id: int, text: str) -> None:
        self._touch(caption_id, text=text)


@dataclass
class EditorStandIn:
    catalog: object
    storage: object
    user: str = "editor-alice"
    lock_timeout_s: float = 120.0

    def take_lock(self, video_id: str) -> None:
        deadline = time.monotonic() + self.lock_timeout_s
        while not self.catalog.acquire_lock(video_id, "captions", self.user, lock_type="client"):
            if time.monotonic() > deadline:
                holder = self.catalog.lock_holder(video_id, "captions")
                raise TimeoutError(f"{self.user} could not take the captions lock of {video_id} from {holder!r}")
            time.sleep(0.02)

    def edit(
        self, video_id: str, change: Callable[[CaptionsEdit], None], *, request_ocr: list[int] | None = None
    ) -> dict | None:
        """Lock, download, `change(edit)`, upload, request the OCR of `request_ocr`, release.

        Returns the request row, if one was made.
        """
        key = VideoKeys(tenant=self.catalog.require_video(video_id)["tenant_id"], video=video_id).captions_db
        self.take_lock(video_id)
        try:
            with tempfile.TemporaryDirectory(prefix="editor-") as work:
                downloaded = self.storage.get_file(key, Path(work) / "captions.db.gz")
                edited = edit_gzip_db(downloaded, Path(work) / "edited.db.gz", lambda conn: change(CaptionsEdit(conn)))
                self.catalog.touch_lock(video_id, "captions", self.user)
                self.storage.put_file(key, edited, GZIP)
            if not request_ocr:
                return None
            return self.catalog.request_caption_ocr(video_id, caption_ids=request_ocr, requested_by=self.user)
        finally:
            self.catalog.release_lock(video_id, "captions", self.user)

    def confirm_new_end(self, video_id: str, caption_id: int, new_end: int, text: str | None = None) -> dict:
        """The "Generate OCR" flow: move a caption's end, confirm it, type its text, ask for its OCR."""

        def change(edit: CaptionsEdit) -> None:
            edit.move_end(caption_id, new_end)
            edit.confirm(caption_id)
            if text is not None:
                edit.type_text(caption_id, text)

        return self.edit(video_id, change, request_ocr=[caption_id])


def stored_captions_table(storage, key: str) -> tuple[list[dict], dict]:
    """Every captions row (all columns, by id) and the metadata row of a stored captions.db."""
    with tempfile.TemporaryDirectory(prefix="editor-") as work:
        path = storage.get_file(key, Path(work) / "captions.db.gz")
        with open_gzip_db(path) as conn:
            rows = [dict(r) for r in conn.execute("SELECT * FROM captions ORDER BY id")]
            metadata = dict(conn.execute("SELECT * FROM database_metadata").fetchone())
    return rows, metadata
