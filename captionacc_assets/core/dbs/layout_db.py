"""`layout.db`: OCR boxes with predicted in/out-of-caption labels and the proposed
caption region, for the web editor's layout review (SPEC §2, §3).

The editor writes `boxes.label` (a person's label), may move the crop region
(`layout_config.crop_*`, bumping `crop_region_version`) and sets
`preferences.layout_approved`; the server writes the predictions.

Schema 2 adds `caption_zones`: one row per proposed caption zone (1 or 2; zone 0 is the main
one). `layout_config` still holds zone 0 exactly as schema 1 did, so a reader of schema 1 keeps
working. `read_proposed_zones` is the one reader of the proposed zones, for both schemas.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from captionacc_assets.core.dbs.sqlite_artifact import (
    database_metadata_sql,
    open_gzip_db,
    read_metadata,
    write_gzip_db,
    write_metadata,
)
from captionacc_assets.core.layout import CaptionZone
from captionacc_assets.core.ocr.engine import OcrBox
from captionacc_assets.core.region import Region
from captionacc_assets.core.zones import overlaps

SCHEMA_VERSION = 2

SCHEMA_SQL = (
    database_metadata_sql()
    + """
CREATE TABLE boxes (
    frame_index INTEGER NOT NULL DEFAULT 0 CHECK (frame_index >= 0),
    box_index INTEGER NOT NULL DEFAULT 0 CHECK (box_index >= 0),
    left REAL NOT NULL DEFAULT 0 CHECK (left BETWEEN 0 AND 1),
    top REAL NOT NULL DEFAULT 0 CHECK (top BETWEEN 0 AND 1),
    right REAL NOT NULL DEFAULT 0 CHECK (right BETWEEN 0 AND 1),
    bottom REAL NOT NULL DEFAULT 0 CHECK (bottom BETWEEN 0 AND 1),
    text TEXT NOT NULL DEFAULT '',
    label TEXT CHECK (label IN ('in', 'out')),
    label_updated_at TEXT,
    predicted_label TEXT CHECK (predicted_label IN ('in', 'out')),
    predicted_confidence REAL,
    PRIMARY KEY (frame_index, box_index)
);

CREATE TABLE layout_config (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    frame_width INTEGER NOT NULL DEFAULT 0,
    frame_height INTEGER NOT NULL DEFAULT 0,
    crop_left REAL NOT NULL DEFAULT 0 CHECK (crop_left BETWEEN 0 AND 1),
    crop_top REAL NOT NULL DEFAULT 0 CHECK (crop_top BETWEEN 0 AND 1),
    crop_right REAL NOT NULL DEFAULT 1 CHECK (crop_right BETWEEN 0 AND 1),
    crop_bottom REAL NOT NULL DEFAULT 1 CHECK (crop_bottom BETWEEN 0 AND 1),
    anchor_type TEXT NOT NULL DEFAULT 'center' CHECK (anchor_type IN ('left', 'center', 'right')),
    anchor_position REAL NOT NULL DEFAULT 0.5,
    vertical_center REAL NOT NULL DEFAULT 0.5,
    box_height REAL NOT NULL DEFAULT 0,
    line_count INTEGER NOT NULL DEFAULT 1,
    confidence REAL NOT NULL DEFAULT 0,
    crop_region_version INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL DEFAULT (datetime('now')),
    CHECK (crop_left < crop_right AND crop_top < crop_bottom)
);

CREATE TABLE caption_zones (
    zone INTEGER PRIMARY KEY CHECK (zone IN (0, 1)),
    crop_left REAL NOT NULL DEFAULT 0 CHECK (crop_left BETWEEN 0 AND 1),
    crop_top REAL NOT NULL DEFAULT 0 CHECK (crop_top BETWEEN 0 AND 1),
    crop_right REAL NOT NULL DEFAULT 1 CHECK (crop_right BETWEEN 0 AND 1),
    crop_bottom REAL NOT NULL DEFAULT 1 CHECK (crop_bottom BETWEEN 0 AND 1),
    anchor_type TEXT NOT NULL DEFAULT 'center' CHECK (anchor_type IN ('left', 'center', 'right')),
    anchor_position REAL NOT NULL DEFAULT 0.5,
    vertical_center REAL NOT NULL DEFAULT 0.5,
    box_height REAL NOT NULL DEFAULT 0,
    line_count INTEGER NOT NULL DEFAULT 1,
    confidence REAL NOT NULL DEFAULT 0,
    placement TEXT NOT NULL DEFAULT 'bottom' CHECK (placement IN ('top', 'bottom')),
    CHECK (crop_left < crop_right AND crop_top < crop_bottom)
);

CREATE TABLE preferences (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    layout_approved INTEGER NOT NULL DEFAULT 0 CHECK (layout_approved IN (0, 1))
);
"""
)


def _anchor_position(proposal: Any) -> float:
    """The anchored edge's x: the proposal's own value if it has one, else from the region."""
    position = getattr(proposal, "anchor_position", None)
    if position is not None:
        return float(position)
    region = proposal.region
    return {"left": region.left, "right": region.right}.get(proposal.anchor, (region.left + region.right) / 2)


def _zones_of(proposal: Any) -> list[CaptionZone]:
    """The proposal's zones, or its single zone when it only has zone 0's fields."""
    zones = getattr(proposal, "zones", None)
    if zones:
        return list(zones)
    return [
        CaptionZone(
            region=proposal.region,
            anchor=proposal.anchor,
            anchor_position=_anchor_position(proposal),
            confidence=float(proposal.confidence),
            vertical_center=float(proposal.vertical_center),
            box_height=float(proposal.box_height),
            line_count=int(proposal.line_count),
        )
    ]


def write_layout_db(
    dest_gz: Path,
    frames: Sequence[tuple[int, Sequence[OcrBox]]],
    proposal: Any,
    *,
    frame_width: int,
    frame_height: int,
    video_id: str = "",
    person_labels: dict[tuple[int, int], tuple[str, str | None]] | None = None,
) -> dict:
    """Write boxes with their predicted labels and the proposed layout.

    `proposal` is a `core.layout.LayoutProposal` (or anything with its fields);
    `proposal.box_labels` maps (frame_index, box_index) to (label, confidence).
    `person_labels` maps (frame_index, box_index) to a person's (label, label_updated_at),
    carried over from the layout.db they edited. Returns counts: boxes, in, out.
    """
    labels = proposal.box_labels or {}
    person_labels = person_labels or {}
    region = proposal.region
    zones = _zones_of(proposal)
    if not 1 <= len(zones) <= 2:
        raise ValueError(f"a layout has 1 or 2 caption zones, not {len(zones)}")
    rows = []
    for frame_index, boxes in frames:
        for box_index, box in enumerate(boxes):
            label, confidence = labels.get((int(frame_index), box_index), (None, None))
            mine, mine_at = person_labels.get((int(frame_index), box_index), (None, None))
            rows.append(
                (
                    int(frame_index),
                    box_index,
                    float(box.left),
                    float(box.top),
                    float(box.right),
                    float(box.bottom),
                    box.text,
                    label,
                    None if confidence is None else float(confidence),
                    mine,
                    mine_at,
                )
            )

    def fill(conn: sqlite3.Connection) -> None:
        write_metadata(conn, SCHEMA_VERSION, video_id=video_id)
        conn.executemany(
            "INSERT INTO boxes (frame_index, box_index, left, top, right, bottom, text,"
            " predicted_label, predicted_confidence, label, label_updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute(
            "INSERT INTO layout_config (id, frame_width, frame_height, crop_left, crop_top, crop_right,"
            " crop_bottom, anchor_type, anchor_position, vertical_center, box_height, line_count,"
            " confidence) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                int(frame_width),
                int(frame_height),
                region.left,
                region.top,
                region.right,
                region.bottom,
                proposal.anchor,
                _anchor_position(proposal),
                float(proposal.vertical_center),
                float(proposal.box_height),
                int(proposal.line_count),
                float(proposal.confidence),
            ),
        )
        conn.executemany(
            "INSERT INTO caption_zones (zone, crop_left, crop_top, crop_right, crop_bottom, anchor_type,"
            " anchor_position, vertical_center, box_height, line_count, confidence, placement)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    number,
                    *zone.region.as_tuple(),
                    zone.anchor,
                    float(zone.anchor_position),
                    float(zone.vertical_center),
                    float(zone.box_height),
                    int(zone.line_count),
                    float(zone.confidence),
                    zone.placement,
                )
                for number, zone in enumerate(zones)
            ],
        )
        conn.execute("INSERT INTO preferences (id, layout_approved) VALUES (1, 0)")

    write_gzip_db(dest_gz, SCHEMA_SQL, fill)
    predicted = [row[7] for row in rows]
    return {"boxes": len(rows), "in": predicted.count("in"), "out": predicted.count("out")}


def read_layout_config(src_gz: Path) -> dict:
    """The `layout_config` row (without `id`) plus `layout_approved` from `preferences`."""
    with open_gzip_db(src_gz) as conn:
        row = conn.execute("SELECT * FROM layout_config WHERE id = 1").fetchone()
        if row is None:
            raise ValueError(f"{src_gz} has no layout_config row")
        config = {key: row[key] for key in row.keys() if key != "id"}
        approved = conn.execute("SELECT layout_approved FROM preferences WHERE id = 1").fetchone()
        config["layout_approved"] = bool(approved[0]) if approved else False
    return config


def _zone_from_row(row: sqlite3.Row) -> CaptionZone:
    return CaptionZone(
        region=Region.from_row(row),
        anchor=row["anchor_type"],
        anchor_position=float(row["anchor_position"]),
        confidence=float(row["confidence"]),
        vertical_center=float(row["vertical_center"]),
        box_height=float(row["box_height"]),
        line_count=int(row["line_count"]),
    )


def read_proposed_zones(src_gz: Path) -> list[CaptionZone]:
    """The proposed caption zones of a layout.db.gz, the main one first: from `caption_zones`
    (schema 2), or the one zone of `layout_config` (schema 1, written before zones existed).
    A crop a person moved in the editor (`layout_config`, `crop_region_version` > 0) is zone 0,
    and a proposed second zone it now overlaps is dropped: a person's edit wins.
    A newer schema than this platform writes is refused rather than misread."""
    with open_gzip_db(src_gz) as conn:
        version = int(read_metadata(conn).get("schema_version") or 1)
        if version > SCHEMA_VERSION:
            raise ValueError(
                f"{src_gz} has layout.db schema_version {version}, newer than this platform's {SCHEMA_VERSION}"
            )
        config = conn.execute("SELECT * FROM layout_config WHERE id = 1").fetchone()
        if config is None:
            raise ValueError(f"{src_gz} has no layout_config row")
        has_zones = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'caption_zones'"
        ).fetchone()
        rows = conn.execute("SELECT * FROM caption_zones ORDER BY zone").fetchall() if has_zones else []
    zones = [_zone_from_row(row) for row in rows or [config]]
    if int(config["crop_region_version"] or 0) > 0:
        mine = _zone_from_row(config)
        zones = [mine, *(z for z in zones[1:] if not overlaps(z.region, mine.region))]
    return zones


@dataclass(frozen=True)
class LabeledBox:
    """A box a person labelled in the editor (`boxes.label`), where it was and what it read."""

    frame_index: int
    left: float
    top: float
    right: float
    bottom: float
    text: str
    label: str
    label_updated_at: str | None


def read_person_labels(src_gz: Path) -> list[LabeledBox]:
    """Every box of a layout.db that carries a person's label."""
    with open_gzip_db(src_gz) as conn:
        rows = conn.execute(
            "SELECT frame_index, left, top, right, bottom, text, label, label_updated_at FROM boxes"
            " WHERE label IS NOT NULL ORDER BY frame_index, box_index"
        ).fetchall()
    return [LabeledBox(*tuple(r)) for r in rows]


def _overlap(a, b) -> float:
    """Intersection over union of two (left, top, right, bottom) boxes."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match_person_labels(
    labeled: Sequence[LabeledBox],
    frames: Sequence[tuple[int, Sequence[OcrBox]]],
    min_overlap: float = 0.5,
) -> dict[tuple[int, int], tuple[str, str | None]]:
    """A person's labels for the boxes of a new OCR pass: each labelled box goes to the new box of
    the same frame it overlaps most (IoU >= `min_overlap`, the same text first), at most once."""
    by_frame: dict[int, list[LabeledBox]] = {}
    for box in labeled:
        by_frame.setdefault(int(box.frame_index), []).append(box)
    carried: dict[tuple[int, int], tuple[str, str | None]] = {}
    for frame_index, boxes in frames:
        old = by_frame.get(int(frame_index), [])
        pairs = sorted(
            (
                (
                    box.text != mine.text,
                    -_overlap(
                        (box.left, box.top, box.right, box.bottom), (mine.left, mine.top, mine.right, mine.bottom)
                    ),
                    b,
                    m,
                )
                for b, box in enumerate(boxes)
                for m, mine in enumerate(old)
            ),
        )
        used_new: set[int] = set()
        used_old: set[int] = set()
        for _, negative_overlap, b, m in pairs:
            if -negative_overlap < min_overlap or b in used_new or m in used_old:
                continue
            used_new.add(b)
            used_old.add(m)
            carried[(int(frame_index), b)] = (old[m].label, old[m].label_updated_at)
    return carried
