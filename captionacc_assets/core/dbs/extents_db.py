"""`caption_frame_extents` database: the pair model's prediction for every consecutive
pair of 10 Hz frames, forward and backward (SPEC §2, §3).

Row `frame1 = i` describes the pair (i, i+1), so a video of `n` indices has `n - 1`
rows. A database is immutable, one per (cropped frames version, model hash): the
writer refuses to replace an existing file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from captionacc_assets.core.dbs.sqlite_artifact import (
    database_metadata_sql,
    open_gzip_db,
    read_metadata,
    write_gzip_db,
    write_metadata,
)
from captionacc_assets.core.extents.labels import LABELS

SCHEMA_VERSION = 1

_DIRECTIONS = ("forward", "backward")
_LABEL_CHECK = ", ".join(f"'{label}'" for label in LABELS)


def _direction_columns(direction: str) -> str:
    columns = [f"{direction}_label TEXT NOT NULL DEFAULT 'same' CHECK ({direction}_label IN ({_LABEL_CHECK}))"]
    columns += [
        f"{direction}_prob_{label} REAL NOT NULL DEFAULT 0 CHECK ({direction}_prob_{label} BETWEEN 0 AND 1)"
        for label in LABELS
    ]
    return ",\n    ".join(columns)


SCHEMA_SQL = (
    database_metadata_sql("""
    model_hash TEXT NOT NULL DEFAULT '',
    cropped_frames_version INTEGER NOT NULL DEFAULT 0,
    frame_count INTEGER NOT NULL DEFAULT 0,
    labels TEXT NOT NULL DEFAULT ''
""")
    + f"""
CREATE TABLE pair_results (
    frame1 INTEGER PRIMARY KEY CHECK (frame1 >= 0),
    frame2 INTEGER NOT NULL DEFAULT 0 CHECK (frame2 = frame1 + 1),
    {_direction_columns("forward")},
    {_direction_columns("backward")}
);
"""
)

_PROB_COLUMNS = [f"{d}_prob_{label}" for d in _DIRECTIONS for label in LABELS]
# Probabilities may carry float32 rounding; anything further off is a model bug.
_PROB_TOLERANCE = 1e-4


def _check_labels(labels: Sequence[str]) -> None:
    if sorted(labels) != sorted(LABELS):
        raise ValueError(f"labels must be a permutation of {LABELS}, got {tuple(labels)}")


def _canonical(probs: np.ndarray, labels: Sequence[str], name: str) -> np.ndarray:
    """`probs` with columns reordered from `labels` to LABELS, checked."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] != len(LABELS):
        raise ValueError(f"{name} must have shape (n - 1, {len(LABELS)}), got {probs.shape}")
    if not np.all(np.isfinite(probs)):
        raise ValueError(f"{name} has non-finite probabilities")
    if probs.size and (probs.min() < -_PROB_TOLERANCE or probs.max() > 1 + _PROB_TOLERANCE):
        raise ValueError(f"{name} has probabilities outside [0, 1]: {probs.min()}..{probs.max()}")
    order = [list(labels).index(label) for label in LABELS]
    return np.clip(probs[:, order], 0.0, 1.0)


def write_extents_db(
    dest_gz: Path,
    *,
    forward: np.ndarray,
    backward: np.ndarray,
    labels: Sequence[str],
    model_hash: str,
    cropped_frames_version: int,
    video_id: str = "",
) -> dict:
    """Write (n-1, 5) forward/backward probabilities; columns follow `labels`.

    The label of each row and direction is its most probable label. Raises
    FileExistsError if `dest_gz` exists. Returns counts: pairs, frame_count.
    """
    _check_labels(labels)
    forward = _canonical(forward, labels, "forward")
    backward = _canonical(backward, labels, "backward")
    if forward.shape != backward.shape:
        raise ValueError(f"forward {forward.shape} and backward {backward.shape} must have the same shape")
    pairs = forward.shape[0]
    frame_count = pairs + 1

    def rows():
        forward_labels = forward.argmax(axis=1) if pairs else []
        backward_labels = backward.argmax(axis=1) if pairs else []
        for i in range(pairs):
            yield (
                i,
                i + 1,
                LABELS[forward_labels[i]],
                *forward[i].tolist(),
                LABELS[backward_labels[i]],
                *backward[i].tolist(),
            )

    columns = ["frame1", "frame2", "forward_label", *_PROB_COLUMNS[:5], "backward_label", *_PROB_COLUMNS[5:]]

    def fill(conn: sqlite3.Connection) -> None:
        write_metadata(
            conn,
            SCHEMA_VERSION,
            video_id=video_id,
            model_hash=model_hash,
            cropped_frames_version=int(cropped_frames_version),
            frame_count=frame_count,
            labels=",".join(LABELS),
        )
        conn.executemany(
            f"INSERT INTO pair_results ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
            rows(),
        )

    write_gzip_db(dest_gz, SCHEMA_SQL, fill, overwrite=False)
    return {"pairs": pairs, "frame_count": frame_count}


def read_extents_db(src_gz: Path, *, labels: Sequence[str] = LABELS) -> tuple[np.ndarray, np.ndarray, dict]:
    """(forward, backward, metadata): (n-1, 5) float arrays, columns in `labels` order.

    Raises ValueError when the pairs are not exactly 0..n-2, each with frame2 = frame1 + 1.
    """
    with open_gzip_db(src_gz) as conn:
        meta = read_metadata(conn)
        rows = conn.execute(
            f"SELECT frame1, frame2, {', '.join(_PROB_COLUMNS)} FROM pair_results ORDER BY frame1"
        ).fetchall()
    table = np.array([tuple(r) for r in rows], dtype=np.float64).reshape(len(rows), 2 + len(_PROB_COLUMNS))
    frames = table[:, :2].astype(np.int64)
    if not (np.array_equal(frames[:, 0], np.arange(len(rows))) and np.array_equal(frames[:, 1], frames[:, 0] + 1)):
        raise ValueError(f"{src_gz}: pair_results must hold pairs (i, i+1) for i = 0..{len(rows) - 1}")
    _check_labels(labels)
    order = [LABELS.index(label) for label in labels]
    meta["labels"] = tuple(labels)
    return table[:, 2:7][:, order], table[:, 7:12][:, order], meta
