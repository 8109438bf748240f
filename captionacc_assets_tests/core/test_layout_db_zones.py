"""layout.db schema 2: the proposed caption zones, read back by `read_proposed_zones` from
schema 2 files and from schema 1 files written before zones existed."""

import sqlite3

import pytest

from captionacc_assets.core.dbs.layout_db import (
    SCHEMA_SQL,
    match_person_labels,
    read_layout_config,
    read_person_labels,
    read_proposed_zones,
    write_layout_db,
)
from captionacc_assets.core.dbs.sqlite_artifact import (
    assert_not_null_columns_have_defaults,
    edit_gzip_db,
    open_gzip_db,
    write_gzip_db,
    write_metadata,
)
from captionacc_assets.core.layout import CaptionZone, LayoutProposal
from captionacc_assets.core.ocr.engine import OcrBox
from captionacc_assets.core.region import Region

FRAMES = [
    (0, [OcrBox("你好，世界", 0.97, 0.30, 0.85, 0.70, 0.92), OcrBox("Hello", 0.9, 0.4, 0.05, 0.6, 0.1)]),
    (100, [OcrBox("再见", 0.95, 0.40, 0.85, 0.60, 0.92)]),
]
BOTTOM = CaptionZone(
    region=Region(0.05, 0.8, 0.95, 0.97),
    anchor="center",
    anchor_position=0.5,
    confidence=0.93,
    vertical_center=0.885,
    box_height=0.07,
    line_count=1,
)
TOP = CaptionZone(
    region=Region(0.1, 0.02, 0.9, 0.14),
    anchor="left",
    anchor_position=0.12,
    confidence=0.71,
    vertical_center=0.075,
    box_height=0.05,
    line_count=2,
)
TWO = LayoutProposal(zones=(BOTTOM, TOP), box_labels={(0, 0): ("in", 0.9), (0, 1): ("in", 0.8), (100, 0): ("in", 0.9)})


def test_zone_placement_and_proposal_delegates_to_the_main_zone():
    assert BOTTOM.placement == "bottom" and TOP.placement == "top"
    assert TWO.region == BOTTOM.region and TWO.confidence == 0.93 and TWO.anchor == "center"
    assert TWO.line_count == 1 and TWO.box_height == 0.07
    summary = TWO.as_dict()
    assert summary["region"] == [0.05, 0.8, 0.95, 0.97] and summary["confidence"] == 0.93
    assert [z["placement"] for z in summary["zones"]] == ["bottom", "top"]
    assert summary["zones"][1]["region"] == [0.1, 0.02, 0.9, 0.14] and summary["zones"][1]["anchor"] == "left"
    assert summary["in_box_count"] == 3
    with pytest.raises(ValueError):
        LayoutProposal(zones=(BOTTOM, TOP, BOTTOM))
    with pytest.raises(ValueError):
        LayoutProposal(zones=())


def test_single_zone_construction_is_one_zone():
    one = LayoutProposal(
        region=BOTTOM.region,
        anchor="right",
        confidence=0.6,
        vertical_center=0.9,
        box_height=0.05,
        line_count=2,
        anchor_position=0.9,
    )
    assert len(one.zones) == 1
    assert one.zones[0] == CaptionZone(
        region=BOTTOM.region,
        anchor="right",
        anchor_position=0.9,
        confidence=0.6,
        vertical_center=0.9,
        box_height=0.05,
        line_count=2,
    )
    assert [z["placement"] for z in one.as_dict()["zones"]] == ["bottom"]


def test_two_zones_round_trip_and_layout_config_keeps_zone_0(tmp_path):
    path = tmp_path / "layout.db.gz"
    write_layout_db(path, FRAMES, TWO, frame_width=1280, frame_height=720, video_id="v1")
    zones = read_proposed_zones(path)
    assert zones == [BOTTOM, TOP]
    config = read_layout_config(path)  # what single-zone readers see: zone 0, as in schema 1
    assert Region.from_row(config) == BOTTOM.region
    assert config["confidence"] == pytest.approx(0.93) and config["anchor_type"] == "center"
    with open_gzip_db(path) as conn:
        assert conn.execute("SELECT schema_version FROM database_metadata").fetchone()[0] == 2
        assert [tuple(r) for r in conn.execute("SELECT zone, placement FROM caption_zones ORDER BY zone")] == [
            (0, "bottom"),
            (1, "top"),
        ]
        assert_not_null_columns_have_defaults(conn)
        with pytest.raises(sqlite3.IntegrityError):  # at most zones 0 and 1
            conn.execute("INSERT INTO caption_zones (zone) VALUES (2)")
        conn.execute("DELETE FROM caption_zones WHERE zone = 1")
        conn.execute("INSERT INTO caption_zones (zone) VALUES (1)")  # every other column has a default


def test_a_single_zone_proposal_writes_one_zone_row(tmp_path):
    path = tmp_path / "layout.db.gz"
    write_layout_db(path, FRAMES, LayoutProposal(zones=(TOP,)), frame_width=640, frame_height=360)
    assert read_proposed_zones(path) == [TOP]
    assert Region.from_row(read_layout_config(path)) == TOP.region


def _schema_1_sql() -> str:
    """The schema-1 layout.db, as published before zones: today's schema without `caption_zones`."""
    start = SCHEMA_SQL.index("CREATE TABLE caption_zones")
    end = SCHEMA_SQL.index("CREATE TABLE preferences")
    return SCHEMA_SQL[:start] + SCHEMA_SQL[end:]


def test_a_schema_1_file_reads_as_its_one_zone(tmp_path):
    path = tmp_path / "old.db.gz"

    def fill(conn):
        write_metadata(conn, 1, video_id="old")
        conn.execute(
            "INSERT INTO layout_config (id, frame_width, frame_height, crop_left, crop_top, crop_right, crop_bottom,"
            " anchor_type, anchor_position, vertical_center, box_height, line_count, confidence)"
            " VALUES (1, 1280, 720, 0.05, 0.78, 0.95, 0.98, 'center', 0.5, 0.885, 0.08, 1, 0.8)"
        )
        conn.execute(
            "INSERT INTO boxes (frame_index, box_index, left, top, right, bottom, text, label)"
            " VALUES (0, 0, 0.3, 0.85, 0.7, 0.92, '你好，世界', 'in')"
        )
        conn.execute("INSERT INTO preferences (id, layout_approved) VALUES (1, 0)")

    write_gzip_db(path, _schema_1_sql(), fill)
    with open_gzip_db(path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'caption_zones'").fetchone() is None
    assert read_proposed_zones(path) == [
        CaptionZone(
            region=Region(0.05, 0.78, 0.95, 0.98),
            anchor="center",
            anchor_position=0.5,
            confidence=0.8,
            vertical_center=0.885,
            box_height=0.08,
            line_count=1,
        )
    ]
    # A person's label in the old file still carries over to a new (schema 2) pass.
    carried = match_person_labels(read_person_labels(path), FRAMES)
    assert carried == {(0, 0): ("in", None)}
    new = tmp_path / "new.db.gz"
    write_layout_db(new, FRAMES, TWO, frame_width=1280, frame_height=720, person_labels=carried)
    assert [(b.frame_index, b.text, b.label) for b in read_person_labels(new)] == [(0, "你好，世界", "in")]
    assert len(read_proposed_zones(new)) == 2


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "layout.db.gz"
    write_layout_db(path, FRAMES, TWO, frame_width=1280, frame_height=720)
    edit_gzip_db(path, path, lambda c: c.execute("UPDATE database_metadata SET schema_version = 99"))
    with pytest.raises(ValueError, match="newer"):
        read_proposed_zones(path)


def test_a_crop_a_person_moved_in_the_editor_is_zone_0_and_wins_over_an_overlapping_proposal(tmp_path):
    path = tmp_path / "layout.db.gz"
    write_layout_db(path, FRAMES, TWO, frame_width=1280, frame_height=720, video_id="v1")
    moved = tmp_path / "moved.db.gz"
    edit_gzip_db(
        path,
        moved,
        lambda conn: conn.execute(  # the editor moves the crop lower and narrower
            "UPDATE layout_config SET crop_left = 0.2, crop_top = 0.85, crop_right = 0.8, crop_bottom = 0.99,"
            " crop_region_version = crop_region_version + 1 WHERE id = 1"
        ),
    )
    zones = read_proposed_zones(moved)
    assert [z.region for z in zones] == [Region(0.2, 0.85, 0.8, 0.99), TOP.region]
    grown = tmp_path / "grown.db.gz"
    edit_gzip_db(
        path,
        grown,
        lambda conn: conn.execute(  # a crop over the whole frame: no room for zone 1
            "UPDATE layout_config SET crop_left = 0, crop_top = 0, crop_right = 1, crop_bottom = 1,"
            " crop_region_version = 1 WHERE id = 1"
        ),
    )
    assert [z.region for z in read_proposed_zones(grown)] == [Region(0, 0, 1, 1)]
