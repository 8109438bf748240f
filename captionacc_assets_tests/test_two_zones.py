"""A bilingual video end to end: dialogue at the bottom, a second language and signs at the top.

Rendered with real fonts, processed through the real assets on the embedded default: layout
proposes both zones, the approval covers both, each zone gets its own frames, extents and
timeline in captions.db, the exports merge them with the top cues placed at the top, a
person's work in the top zone survives a re-approval, and an OCR request for a top-zone
caption reads the top zone's frames.
"""

import json

import dagster as dg
import pytest
import srt

from captionacc_assets.cli import main
from captionacc_assets.core.dbs import captions_db
from captionacc_assets.core.dbs.captions_db import read_captions_db, read_captions_provenance, validate_partition
from captionacc_assets.core.dbs.sqlite_artifact import open_gzip_db, write_gzip_db
from captionacc_assets.core.zones import zones_from_row
from captionacc_assets.definitions import ALL_ASSETS
from captionacc_assets.defs.jobs import REQUESTED_OCR_SELECTION
from captionacc_assets.defs.run_tags import caption_ocr_run_tags
from captionacc_assets.synthetic.video_spec import CaptionStyle, Cue, VideoSpec
from captionacc_assets_tests.editor import EditorStandIn, stored_captions_table
from captionacc_assets_tests.processed import processed_video

BOTTOM = (
    Cue(0.5, 3.0, "我们明天见"),
    Cue(3.5, 6.5, "你好，世界"),
    Cue(7.0, 10.0, "今天天气很好"),
    Cue(10.5, 13.5, "谢谢你的帮助"),
)
TOP = (
    Cue(0.5, 3.0, "See you tomorrow"),
    Cue(3.5, 6.5, "Hello, world"),
    Cue(7.5, 10.0, "Nice weather today"),
    Cue(10.5, 13.5, "Thanks for your help"),
)
SPEC = VideoSpec(
    width=854,
    height=480,
    fps=25.0,
    duration_s=14.0,
    background="moving",
    seed=23,
    cues=BOTTOM,
    style=CaptionStyle(font="cjk_sans", size_ratio=0.07),
    second_cues=TOP,
    second_style=CaptionStyle(font="latin_sans", size_ratio=0.055, placement="top", color=(255, 235, 80)),
)


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    with processed_video(tmp_path_factory.mktemp("zones") / "home", SPEC, tenant="tenant-a") as (platform, video_id, _):
        yield platform, video_id


def _srt(platform, video_id):
    return list(srt.parse(platform.storage.get_bytes(platform.keys(video_id).export("srt")).decode("utf-8")))


def _close(cue, caption) -> bool:
    return (
        abs(caption.start.total_seconds() - cue.start_s) <= 0.1 + 1e-9
        and abs(caption.end.total_seconds() - cue.end_s) <= 0.1 + 1e-9
    )


def test_layout_proposes_both_zones_and_the_approval_covers_them(processed):
    platform, video_id = processed
    zones = platform.proposed_zones(video_id)
    assert [zone.placement for zone in zones] == ["bottom", "top"]
    version = platform.catalog.latest_cropped_frames_version(video_id)
    assert zones_from_row(version) == tuple(zone.region for zone in zones)
    assert version["status"] == "active"


def test_each_zone_has_its_own_frames_extents_and_timeline(processed, tmp_path):
    platform, video_id = processed
    keys, storage = platform.keys(video_id), platform.storage
    for zone in (0, 1):
        assert storage.exists(keys.cropped_frames_prefix(1, zone=zone) + "manifest.json")
    extents = sorted(k.rsplit("/", 1)[1] for k in storage.list_keys(keys.caption_frame_extents_prefix))
    assert [name.split("_model-")[0] for name in extents] == ["v1", "v1_zone1"]
    path = storage.get_file(keys.captions_db, tmp_path / "captions.db.gz")
    rows = read_captions_db(path)
    validate_partition(rows, round(SPEC.duration_s * 10))
    texts = {zone: [r.caption_ocr for r in rows if r.zone == zone and r.state != "gap"] for zone in (0, 1)}
    assert texts == {0: [c.text for c in BOTTOM], 1: [c.text for c in TOP]}
    made_from = read_captions_provenance(path)
    assert made_from.placements() == {0: "bottom", 1: "top"}
    metadata = platform.instance.get_latest_materialization_event(
        dg.AssetKey("captions_db")
    ).asset_materialization.metadata
    assert metadata["zone_0_caption_count"].value == 4 and metadata["zone_1_caption_count"].value == 4


def test_exports_merge_the_zones_and_place_the_top_ones_at_the_top(processed):
    platform, video_id = processed
    got = _srt(platform, video_id)
    top = [c for c in got if c.content.startswith("{\\an8}")]
    bottom = [c for c in got if not c.content.startswith("{\\an8}")]
    assert [c.content.removeprefix("{\\an8}") for c in top] == [cue.text for cue in TOP]
    assert [c.content for c in bottom] == [cue.text for cue in BOTTOM]
    assert all(_close(cue, c) for cue, c in zip(TOP, top)) and all(_close(cue, c) for cue, c in zip(BOTTOM, bottom))
    assert [c.start for c in got] == sorted(c.start for c in got)  # one file, in time order
    vtt = platform.storage.get_bytes(platform.keys(video_id).export("vtt")).decode("utf-8")
    assert vtt.count(" line:0\n") == len(TOP)
    payload = json.loads(platform.storage.get_bytes(platform.keys(video_id).export("json")))
    assert sorted(c["zone"] for c in payload["captions"]) == [0] * 4 + [1] * 4
    assert [z["placement"] for z in payload["made_from"]["zones"]] == ["bottom", "top"]


def test_a_persons_top_zone_work_survives_a_reapproval_and_its_ocr_request_reads_the_top_zone(processed):
    platform, video_id = processed
    keys = platform.keys(video_id)
    rows, _ = stored_captions_table(platform.storage, keys.captions_db)
    sign = next(r for r in rows if r["zone"] == 1 and r["caption_ocr"] == "Hello, world")
    EditorStandIn(platform.catalog, platform.storage).edit(
        video_id, lambda e: (e.confirm(sign["id"]), e.type_text(sign["id"], "Hello, world!"))
    )

    platform.approve(video_id, None, requested_by="test")  # a re-approval of the same zones: version 2
    again = platform.approved_processing(video_id)
    assert again.success, again.error
    rows, _ = stored_captions_table(platform.storage, keys.captions_db)
    kept = [r for r in rows if r["zone"] == 1 and r["text"] == "Hello, world!"]
    assert [(r["start_frame_index"], r["end_frame_index"], r["caption_frame_extents_state"]) for r in kept] == [
        (sign["start_frame_index"], sign["end_frame_index"], "confirmed")
    ]
    assert "{\\an8}Hello, world!" in [c.content for c in _srt(platform, video_id)]

    request = platform.catalog.request_caption_ocr(video_id, caption_ids=[kept[0]["id"]], requested_by="editor-ann")
    result = dg.materialize(
        ALL_ASSETS,
        selection=REQUESTED_OCR_SELECTION,
        partition_key=video_id,
        instance=platform.instance,
        resources=platform.resources,
        raise_on_error=False,
        tags=caption_ocr_run_tags("tenant-a", "free", [request["id"]], "editor-ann"),
    )
    assert result.success
    rows, _ = stored_captions_table(platform.storage, keys.captions_db)
    answered = next(r for r in rows if r["id"] == kept[0]["id"])
    assert answered["caption_ocr"] == "Hello, world" and answered["text"] == "Hello, world!"


@pytest.mark.parametrize(
    "crops, message",
    [
        (["0,0.8,1,1", "0,0,1,0.2", "0,0.4,1,0.5"], "at most 2 caption zones"),
        (["0,0.7,1,1", "0,0.6,1,0.8"], "overlap"),
        (["0,0.8,1,1.2"], "outside [0, 1]"),
    ],
)
def test_a_bad_two_zone_approval_is_refused_and_stores_nothing(processed, capsys, crops, message):
    platform, video_id = processed
    before = platform.catalog.latest_cropped_frames_version(video_id)["version"]
    code = main(["approve", video_id, *[arg for crop in crops for arg in ("--crop", crop)]])
    assert code == 2 and message in capsys.readouterr().err
    assert platform.catalog.latest_cropped_frames_version(video_id)["version"] == before


ONE_ZONE = VideoSpec(
    width=640,
    height=360,
    fps=25.0,
    duration_s=5.0,
    background="textured",
    seed=3,
    cues=(Cue(0.5, 2.0, "你好，世界"), Cue(2.6, 4.4, "Good night")),
)


def _as_schema_2(src, dest) -> None:
    """A captions.db as this platform wrote it before zones existed (schema 2: no zone column)."""
    schema_2 = captions_db.SCHEMA_SQL.replace(
        "    zone INTEGER NOT NULL DEFAULT 0 CHECK (zone IN (0, 1)),\n", ""
    ).replace(", zones TEXT NOT NULL DEFAULT '[]'", "")
    with open_gzip_db(src) as old:
        meta = dict(
            old.execute(
                "SELECT video_id, frame_count, cropped_frames_version, caption_frame_extents_key FROM database_metadata"
            ).fetchone()
        )
        rows = [dict(r) for r in old.execute("SELECT * FROM captions ORDER BY start_frame_index")]

    def fill(conn):
        conn.execute(
            "INSERT INTO database_metadata (id, schema_version, video_id, frame_count, cropped_frames_version,"
            " caption_frame_extents_key) VALUES (1, 2, :video_id, :frame_count, :cropped_frames_version,"
            " :caption_frame_extents_key)",
            meta,
        )
        for row in rows:
            row.pop("zone")
            conn.execute(
                f"INSERT INTO captions ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", tuple(row.values())
            )

    write_gzip_db(dest, schema_2, fill)


def test_a_video_processed_before_zones_still_reads_exports_and_backfills(tmp_path_factory, tmp_path):
    with processed_video(tmp_path_factory.mktemp("before-zones") / "home", ONE_ZONE) as (platform, video_id, _):
        keys = platform.keys(video_id)
        rows, _ = stored_captions_table(platform.storage, keys.captions_db)
        first = next(r for r in rows if r["caption_frame_extents_state"] != "gap")
        EditorStandIn(platform.catalog, platform.storage).edit(
            video_id, lambda e: (e.confirm(first["id"]), e.type_text(first["id"], "你好，世界！"))
        )
        legacy = tmp_path / "legacy.db.gz"
        _as_schema_2(platform.storage.get_file(keys.captions_db, tmp_path / "now.db.gz"), legacy)
        platform.storage.put_file(keys.captions_db, legacy)
        before = _srt(platform, video_id)

        exports = platform.materialize(video_id, ["caption_exports"], trigger="ui")
        assert exports.success, exports.error
        assert [(c.start, c.end, c.content) for c in _srt(platform, video_id)] == [
            (c.start, c.end, "你好，世界！" if i == 0 else c.content) for i, c in enumerate(before)
        ]

        backfill = platform.approved_processing(video_id, trigger="backfill")
        assert backfill.success, backfill.error
        after = read_captions_db(platform.storage.get_file(keys.captions_db, tmp_path / "after.db.gz"))
        assert {r.zone for r in after} == {0}
        mine = [r for r in after if r.text == "你好，世界！"]
        assert [(r.start_frame_index, r.end_frame_index, r.state) for r in mine] == [
            (first["start_frame_index"], first["end_frame_index"], "confirmed")
        ]
        assert "{" not in platform.storage.get_bytes(keys.export("srt")).decode("utf-8")
