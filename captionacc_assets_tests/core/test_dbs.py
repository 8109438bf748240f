"""The gzip'd SQLite artifacts of SPEC §3: format, CR-SQLite-safe schemas, round trips, atomicity."""

import gzip
import sqlite3

import numpy as np
import pytest

from captionacc_assets.core.dbs import captions_db, extents_db, layout_db, raw_ocr_db
from captionacc_assets.core.dbs.captions_db import (
    CaptionRow,
    read_captions_db,
    validate_partition,
    write_captions_db,
)
from captionacc_assets.core.dbs.extents_db import read_extents_db, write_extents_db
from captionacc_assets.core.dbs.layout_db import read_layout_config, write_layout_db
from captionacc_assets.core.dbs.raw_ocr_db import read_raw_ocr_db, write_raw_ocr_db
from captionacc_assets.core.dbs.stored_captions import read_stored_captions
from captionacc_assets.core.dbs.sqlite_artifact import (
    assert_not_null_columns_have_defaults,
    open_gzip_db,
    write_gzip_db,
)
from captionacc_assets.core.extents.labels import LABELS
from captionacc_assets.core.layout import LayoutProposal
from captionacc_assets.core.ocr.engine import OcrBox
from captionacc_assets.core.region import Region

SCHEMA_MODULES = [raw_ocr_db, layout_db, extents_db, captions_db]

FRAMES = [
    (0, [OcrBox("你好，世界", 0.97, 0.30, 0.85, 0.70, 0.92), OcrBox("LOGO", 0.9, 0.02, 0.02, 0.1, 0.06)]),
    (100, []),  # OCR found nothing: still recorded
    (200, [OcrBox("Hello there", 0.88, 0.25, 0.84, 0.75, 0.93)]),
]


def _proposal():
    return LayoutProposal(
        region=Region(0.05, 0.78, 0.95, 0.98),
        anchor="center",
        confidence=0.8,
        vertical_center=0.885,
        box_height=0.08,
        line_count=1,
        box_labels={(0, 0): ("in", 0.93), (0, 1): ("out", 0.99), (200, 0): ("in", 0.9)},
    )


def _probs(rng, m):
    p = rng.random((m, 5)) + 1e-3
    return p / p.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """One file of each kind, written by the real writers."""
    d = tmp_path_factory.mktemp("dbs")
    rng = np.random.default_rng(0)
    write_raw_ocr_db(d / "raw-ocr.db.gz", FRAMES, engine="rapidocr", frame_width=1280, frame_height=720)
    write_layout_db(d / "layout.db.gz", FRAMES, _proposal(), frame_width=1280, frame_height=720)
    write_extents_db(
        d / "extents.db.gz",
        forward=_probs(rng, 9),
        backward=_probs(rng, 9),
        labels=LABELS,
        model_hash="abcdef12",
        cropped_frames_version=1,
    )
    write_captions_db(d / "captions.db.gz", [CaptionRow(0, 9, "gap")], frame_count=10, video_id="v1")
    return {
        raw_ocr_db: d / "raw-ocr.db.gz",
        layout_db: d / "layout.db.gz",
        extents_db: d / "extents.db.gz",
        captions_db: d / "captions.db.gz",
    }


@pytest.mark.parametrize("module", SCHEMA_MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_artifact_is_gzip_of_sqlite_with_metadata_and_defaults(artifacts, module):
    path = artifacts[module]
    assert path.name.endswith(".db.gz")
    raw = path.read_bytes()
    assert raw[:2] == b"\x1f\x8b"
    assert gzip.decompress(raw)[:16] == b"SQLite format 3\x00"
    with open_gzip_db(path) as conn:
        assert_not_null_columns_have_defaults(conn)
        meta = conn.execute("SELECT schema_version, created_at, producer FROM database_metadata").fetchall()
        assert len(meta) == 1
        assert meta[0]["schema_version"] == module.SCHEMA_VERSION
        assert meta[0]["created_at"] and meta[0]["producer"] == "captionacc_assets"


@pytest.mark.parametrize("module", SCHEMA_MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_every_not_null_column_has_a_default_in_every_schema(module):
    conn = sqlite3.connect(":memory:")
    conn.executescript(module.SCHEMA_SQL)
    assert_not_null_columns_have_defaults(conn)
    # The default row of database_metadata is a valid row: CR-SQLite may insert columns by default.
    conn.execute("INSERT INTO database_metadata (id) VALUES (1)")
    assert conn.execute("SELECT schema_version FROM database_metadata").fetchone() == (1,)


def test_the_default_check_names_the_offending_columns():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL, b TEXT NOT NULL DEFAULT '', c TEXT)")
    with pytest.raises(AssertionError, match=r"t\.a") as error:
        assert_not_null_columns_have_defaults(conn)
    assert "t.b" not in str(error.value) and "t.c" not in str(error.value)


def test_raw_ocr_keeps_frames_without_text_and_round_trips(artifacts):
    assert read_raw_ocr_db(artifacts[raw_ocr_db]) == [(i, list(b)) for i, b in FRAMES]
    with open_gzip_db(artifacts[raw_ocr_db]) as conn:
        rows = conn.execute("SELECT frame_index, box_count FROM full_frames ORDER BY 1").fetchall()
        assert [tuple(r) for r in rows] == [(0, 2), (100, 0), (200, 1)]
        assert conn.execute("SELECT count(*) FROM full_frame_ocr WHERE frame_index = 100").fetchone()[0] == 0
        meta = conn.execute("SELECT engine, frame_width, frame_height FROM database_metadata").fetchone()
        assert tuple(meta) == ("rapidocr", 1280, 720)


def test_raw_ocr_counts_and_coordinate_check(tmp_path):
    counts = write_raw_ocr_db(tmp_path / "r.db.gz", FRAMES, engine="e", frame_width=10, frame_height=10)
    assert counts == {"frames": 3, "boxes": 3}
    bad = [(0, [OcrBox("x", 0.5, 0.1, 0.1, 1.5, 0.2)])]  # right > 1: not normalized
    with pytest.raises(sqlite3.IntegrityError):
        write_raw_ocr_db(tmp_path / "bad.db.gz", bad, engine="e", frame_width=10, frame_height=10)
    assert not (tmp_path / "bad.db.gz").exists()


def test_layout_db_holds_predicted_labels_and_the_proposed_region(artifacts):
    config = read_layout_config(artifacts[layout_db])
    assert (config["crop_left"], config["crop_top"], config["crop_right"], config["crop_bottom"]) == (
        0.05,
        0.78,
        0.95,
        0.98,
    )
    assert config["frame_width"] == 1280 and config["frame_height"] == 720
    assert config["anchor_type"] == "center" and config["anchor_position"] == pytest.approx(0.5)
    assert config["line_count"] == 1 and config["confidence"] == pytest.approx(0.8)
    assert config["crop_region_version"] == 0 and config["layout_approved"] is False
    with open_gzip_db(artifacts[layout_db]) as conn:
        rows = conn.execute(
            "SELECT frame_index, box_index, text, label, predicted_label, predicted_confidence, left, bottom"
            " FROM boxes ORDER BY frame_index, box_index"
        ).fetchall()
    assert [tuple(r) for r in rows] == [
        (0, 0, "你好，世界", None, "in", 0.93, 0.30, 0.92),
        (0, 1, "LOGO", None, "out", 0.99, 0.02, 0.06),
        (200, 0, "Hello there", None, "in", 0.9, 0.25, 0.93),
    ]


def test_extents_pairs_are_consecutive_and_probabilities_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    n = 25
    forward, backward = _probs(rng, n - 1), _probs(rng, n - 1)
    # The writer takes the caller's column order; the reader answers in LABELS order.
    order = [4, 2, 0, 3, 1]
    labels = [LABELS[i] for i in order]
    path = tmp_path / "v1_model-abcdef12.db.gz"
    counts = write_extents_db(
        path,
        forward=forward[:, order],
        backward=backward[:, order],
        labels=labels,
        model_hash="abcdef12",
        cropped_frames_version=3,
    )
    assert counts == {"pairs": n - 1, "frame_count": n}
    got_forward, got_backward, meta = read_extents_db(path)
    np.testing.assert_allclose(got_forward, forward, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got_backward, backward, rtol=0, atol=1e-12)
    assert meta["model_hash"] == "abcdef12" and meta["cropped_frames_version"] == 3
    assert meta["frame_count"] == n and meta["schema_version"] == extents_db.SCHEMA_VERSION
    permuted_forward, _, permuted_meta = read_extents_db(path, labels=labels)
    np.testing.assert_allclose(permuted_forward, forward[:, order], rtol=0, atol=1e-12)
    assert permuted_meta["labels"] == tuple(labels)
    with open_gzip_db(path) as conn:
        pairs = conn.execute(
            "SELECT frame1, frame2, forward_label, backward_label FROM pair_results ORDER BY frame1"
        ).fetchall()
        assert len(pairs) == n - 1
        assert all(r["frame2"] == r["frame1"] + 1 for r in pairs)
        assert [r["frame1"] for r in pairs] == list(range(n - 1))
        assert [r["forward_label"] for r in pairs] == [LABELS[i] for i in forward.argmax(1)]
        assert [r["backward_label"] for r in pairs] == [LABELS[i] for i in backward.argmax(1)]
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO pair_results (frame1, frame2) VALUES (100, 102)")


def test_extents_db_is_never_overwritten(tmp_path):
    rng = np.random.default_rng(2)
    path = tmp_path / "v1_model-abcdef12.db.gz"
    write_extents_db(
        path,
        forward=_probs(rng, 4),
        backward=_probs(rng, 4),
        labels=LABELS,
        model_hash="abcdef12",
        cropped_frames_version=1,
    )
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        write_extents_db(
            path,
            forward=_probs(rng, 4),
            backward=_probs(rng, 4),
            labels=LABELS,
            model_hash="abcdef12",
            cropped_frames_version=1,
        )
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_extents_rejects_bad_shapes_and_labels(tmp_path):
    rng = np.random.default_rng(3)
    kwargs = dict(model_hash="h", cropped_frames_version=1)
    with pytest.raises(ValueError, match="same shape"):
        write_extents_db(tmp_path / "a.db.gz", forward=_probs(rng, 4), backward=_probs(rng, 3), labels=LABELS, **kwargs)
    with pytest.raises(ValueError, match="permutation"):
        write_extents_db(
            tmp_path / "b.db.gz",
            forward=_probs(rng, 4),
            backward=_probs(rng, 4),
            labels=["same", "different", "x", "empty_valid", "valid_empty"],
            **kwargs,
        )
    assert list(tmp_path.iterdir()) == []


def test_validate_partition_accepts_an_exact_cover():
    rows = [
        CaptionRow(0, 11, "gap"),
        CaptionRow(12, 34, "predicted", caption_ocr="hi"),
        CaptionRow(35, 35, "confirmed"),
        CaptionRow(36, 49, "gap"),
    ]
    validate_partition(rows, 50)
    validate_partition([], 0)


@pytest.mark.parametrize(
    "rows, n, message",
    [
        ([CaptionRow(0, 10, "gap"), CaptionRow(12, 19, "predicted")], 20, r"\[11, 11\] are not covered"),
        ([CaptionRow(0, 10, "gap"), CaptionRow(10, 19, "predicted")], 20, "overlaps"),
        ([CaptionRow(1, 19, "gap")], 20, r"\[0, 0\] are not covered"),
        ([CaptionRow(0, 20, "gap")], 20, "past the last index"),
        ([CaptionRow(0, 18, "gap")], 20, r"\[19, 19\] are not covered at the end"),
        ([CaptionRow(0, 5, "gap"), CaptionRow(6, 4, "predicted"), CaptionRow(5, 19, "gap")], 20, "starts after"),
        ([CaptionRow(10, 19, "gap"), CaptionRow(0, 9, "gap")], 20, r"not covered"),
        ([CaptionRow(0, 19, "maybe")], 20, "state"),
        ([], 5, r"\[0, 4\] are not covered"),
    ],
)
def test_validate_partition_rejects_gaps_overlaps_and_out_of_range(rows, n, message):
    with pytest.raises(ValueError, match=message):
        validate_partition(rows, n)


def test_captions_db_round_trips_and_keeps_text_null_for_predictions(tmp_path):
    rows = [
        CaptionRow(0, 11, "gap", confidence=0.7),
        CaptionRow(
            12,
            34,
            "predicted",
            confidence=0.9,
            caption_ocr="你好\n世界",
            caption_ocr_confidence=0.95,
            caption_ocr_status="completed",
        ),
        CaptionRow(
            35,
            49,
            "confirmed",
            confidence=1.0,
            caption_ocr="helo",
            caption_ocr_confidence=0.6,
            caption_ocr_status="completed",
            text="hello",
        ),
    ]
    path = tmp_path / "captions.db.gz"
    assert write_captions_db(path, rows, frame_count=50, video_id="vid") == {"rows": 3, "captions": 2, "gaps": 1}
    assert read_captions_db(path) == rows
    with open_gzip_db(path) as conn:
        got = conn.execute(
            "SELECT caption_frame_extents_state, text, caption_ocr, caption_frame_extents_pending,"
            " caption_ocr_processed_at IS NOT NULL, created_at IS NOT NULL FROM captions ORDER BY id"
        ).fetchall()
        assert [tuple(r) for r in got] == [
            ("gap", None, None, 1, 0, 1),
            ("predicted", None, "你好\n世界", 1, 1, 1),
            ("confirmed", "hello", "helo", 0, 1, 1),
        ]
        meta = conn.execute("SELECT video_id, frame_count FROM database_metadata").fetchone()
        assert tuple(meta) == ("vid", 50)
        indexed = conn.execute("PRAGMA index_list(captions)").fetchall()
        columns = [tuple(conn.execute(f"PRAGMA index_info({ix['name']})").fetchall()) for ix in indexed]
        assert any([c[2] for c in cols] == ["start_frame_index", "end_frame_index"] for cols in columns)
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO captions (start_frame_index, end_frame_index, caption_frame_extents_state)"
                " VALUES (50, 60, 'unknown')"
            )
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO captions (start_frame_index, end_frame_index, caption_ocr_status) VALUES (50, 60, 'done')"
            )
        # The editor inserts with defaults: a pending predicted row, OCR queued.
        conn.execute("INSERT INTO captions (start_frame_index, end_frame_index) VALUES (50, 60)")
        row = conn.execute(
            "SELECT caption_frame_extents_state, caption_frame_extents_pending, caption_ocr_status"
            " FROM captions WHERE start_frame_index = 50"
        ).fetchone()
        assert tuple(row) == ("predicted", 1, "queued")


def test_write_captions_db_refuses_a_broken_partition(tmp_path):
    path = tmp_path / "captions.db.gz"
    with pytest.raises(ValueError, match="not covered"):
        write_captions_db(path, [CaptionRow(0, 5, "gap")], frame_count=10)
    with pytest.raises(ValueError, match="caption_ocr_status"):
        write_captions_db(path, [CaptionRow(0, 9, "predicted", caption_ocr_status="done")], frame_count=10)
    assert not path.exists()


def test_a_failing_fill_leaves_the_previous_file_and_no_temp_files(tmp_path):
    dest = tmp_path / "captions.db.gz"
    write_captions_db(dest, [CaptionRow(0, 9, "gap")], frame_count=10)
    before = dest.read_bytes()

    def fill(conn):
        conn.execute("INSERT INTO captions (start_frame_index, end_frame_index) VALUES (0, 3)")
        raise RuntimeError("job died mid-write")

    with pytest.raises(RuntimeError, match="mid-write"):
        write_gzip_db(dest, captions_db.SCHEMA_SQL, fill)
    assert dest.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [dest.name]
    assert read_captions_db(dest) == [CaptionRow(0, 9, "gap")]


def test_a_schema_with_a_not_null_column_without_default_is_refused(tmp_path):
    with pytest.raises(AssertionError, match=r"t\.a"):
        write_gzip_db(tmp_path / "x.db.gz", "CREATE TABLE t (a TEXT NOT NULL);", lambda conn: None)
    assert list(tmp_path.iterdir()) == []


def test_open_gzip_db_rejects_files_that_are_not_gzipped_sqlite(tmp_path):
    not_gzip = tmp_path / "a.db.gz"
    not_gzip.write_bytes(b"SQLite format 3\x00 but not gzip'd")
    with pytest.raises(ValueError, match="not a gzip'd SQLite"):
        with open_gzip_db(not_gzip):
            pass
    not_sqlite = tmp_path / "b.db.gz"
    not_sqlite.write_bytes(gzip.compress(b"hello, I am a text file" * 100))
    with pytest.raises(ValueError, match="not a gzip'd SQLite"):
        with open_gzip_db(not_sqlite):
            pass


def test_captions_db_holds_each_zone_s_own_partition_and_reads_a_schema_2_file_as_zone_0(tmp_path):
    n = 30
    rows = [
        CaptionRow(0, 9, "predicted", caption_ocr="bottom"),
        CaptionRow(10, 29, "gap"),
        CaptionRow(0, 4, "gap", zone=1),
        CaptionRow(5, 24, "predicted", caption_ocr="top", zone=1),
        CaptionRow(25, 29, "gap", zone=1),
    ]
    zones = (
        captions_db.ZoneProvenance(0, "bottom", (0.1, 0.8, 0.9, 0.95), "k0"),
        captions_db.ZoneProvenance(1, "top", (0.1, 0.02, 0.9, 0.15), "k1"),
    )
    path = tmp_path / "captions.db.gz"
    write_captions_db(path, rows, frame_count=n, provenance=captions_db.CaptionsProvenance(2, "k0", zones))
    assert read_captions_db(path) == rows
    made_from = captions_db.read_captions_provenance(path)
    assert made_from.zones == zones and made_from.placements() == {0: "bottom", 1: "top"}
    with pytest.raises(ValueError, match=r"zone 1: indices \[25, 29\] are not covered"):
        validate_partition(rows[:-1], n)
    with pytest.raises(ValueError, match="zone 2"):
        validate_partition(rows + [CaptionRow(0, 29, "gap", zone=2)], n)
    # A schema 2 file (no zone column, no zones metadata), as published before zones existed.
    old = tmp_path / "old.db.gz"
    schema_2 = captions_db.SCHEMA_SQL.replace(
        "    zone INTEGER NOT NULL DEFAULT 0 CHECK (zone IN (0, 1)),\n", ""
    ).replace(", zones TEXT NOT NULL DEFAULT '[]'", "")
    assert "zone" not in schema_2

    def fill(conn):
        conn.execute(
            "INSERT INTO database_metadata (id, schema_version, frame_count, cropped_frames_version,"
            " caption_frame_extents_key) VALUES (1, 2, 10, 1, 'key')"
        )
        conn.execute(
            "INSERT INTO captions (start_frame_index, end_frame_index, caption_frame_extents_state,"
            " caption_ocr) VALUES (0, 9, 'predicted', 'old')"
        )

    write_gzip_db(old, schema_2, fill)
    assert read_captions_db(old) == [CaptionRow(0, 9, "predicted", caption_ocr="old")]
    assert captions_db.read_captions_provenance(old).placements() == {0: "bottom"}
    assert read_stored_captions(old).rows[0].zone == 0
