"""Caption exports: inclusive ends, SRT/VTT/JSON agreement, which rows and which text are exported."""

import json
from datetime import timedelta

import srt

from captionacc_assets.core.dbs.captions_db import CaptionRow, read_captions_db, write_captions_db
from captionacc_assets.core.export import TimedCaption, captions_for_export, to_json, to_srt, to_vtt


def test_inclusive_end_frame_becomes_the_next_instant_in_srt_and_vtt():
    captions = [TimedCaption(12, 34, "hello")]
    assert "00:00:01,200 --> 00:00:03,500" in to_srt(captions)
    assert "00:00:01.200 --> 00:00:03.500" in to_vtt(captions)


def test_srt_parses_back_with_multiline_text_and_exact_times():
    captions = [TimedCaption(0, 9, "第一行\nsecond line"), TimedCaption(36000, 36004, "an hour in")]
    parsed = list(srt.parse(to_srt(captions)))
    assert [s.index for s in parsed] == [1, 2]
    assert [s.content for s in parsed] == ["第一行\nsecond line", "an hour in"]
    assert [(s.start, s.end) for s in parsed] == [
        (timedelta(0), timedelta(seconds=1)),
        (timedelta(hours=1), timedelta(hours=1, milliseconds=500)),
    ]


def test_vtt_has_header_dotted_hours_and_escaped_markup():
    vtt = to_vtt([TimedCaption(0, 9, "Tom & <Jerry>\n两行"), TimedCaption(36000, 36004, "later")])
    blocks = vtt.split("\n\n")
    assert blocks[0] == "WEBVTT"
    assert blocks[1] == "1\n00:00:00.000 --> 00:00:01.000\nTom &amp; &lt;Jerry&gt;\n两行"
    assert blocks[2].strip() == "2\n01:00:00.000 --> 01:00:00.500\nlater"


def test_json_lists_frames_seconds_and_text():
    payload = json.loads(to_json([TimedCaption(12, 34, "你好\nworld")], video_id="vid-1"))
    assert payload["video_id"] == "vid-1"
    assert payload["captions"] == [
        {
            "index": 1,
            "start_frame_index": 12,
            "end_frame_index": 34,
            "start_seconds": 1.2,
            "end_seconds": 3.5,
            "text": "你好\nworld",
            "zone": 0,
        }
    ]
    assert json.loads(to_json([]))["captions"] == []


def test_two_zones_merge_in_time_order_and_top_cues_are_placed_at_the_top():
    """Dialogue at the bottom (zone 0) and signs at the top (zone 1), overlapping in time."""
    rows = [
        CaptionRow(0, 9, "predicted", caption_ocr="bottom one"),
        CaptionRow(10, 29, "gap"),
        CaptionRow(30, 39, "predicted", caption_ocr="bottom two"),
        CaptionRow(0, 4, "gap", zone=1),
        CaptionRow(5, 34, "predicted", caption_ocr="top sign", zone=1),
        CaptionRow(35, 39, "gap", zone=1),
    ]
    captions = captions_for_export(rows, {0: "bottom", 1: "top"})
    assert [(c.start_frame_index, c.text, c.zone, c.placement) for c in captions] == [
        (0, "bottom one", 0, "bottom"),
        (5, "top sign", 1, "top"),
        (30, "bottom two", 0, "bottom"),
    ]
    subtitles = list(srt.parse(to_srt(captions)))
    assert [s.content for s in subtitles] == ["bottom one", "{\\an8}top sign", "bottom two"]
    vtt = to_vtt(captions)
    assert "00:00:00.500 --> 00:00:03.500 line:0\ntop sign" in vtt
    assert "00:00:00.000 --> 00:00:01.000\nbottom one" in vtt
    payload = json.loads(to_json(captions))["captions"]
    assert [(c["zone"], c.get("placement")) for c in payload] == [(0, "bottom"), (1, "top"), (0, "bottom")]
    # One zone: no placement anywhere, whatever the row says.
    single = captions_for_export(rows[:3])
    assert "{" not in to_srt(single) and "line:" not in to_vtt(single)


def test_only_captions_with_text_are_exported_and_a_person_s_text_wins():
    rows = [
        CaptionRow(0, 9, "gap"),
        CaptionRow(10, 19, "predicted", caption_ocr="ocr text", caption_ocr_status="completed"),
        CaptionRow(20, 29, "confirmed", caption_ocr="ocr typo", caption_ocr_status="completed", text="fixed"),
        CaptionRow(30, 39, "predicted", caption_ocr=None),
        CaptionRow(40, 49, "predicted", caption_ocr="  "),
        CaptionRow(50, 59, "confirmed", caption_ocr="logo", text=""),  # a person said: no caption here
        CaptionRow(60, 69, "gap", caption_ocr="stray"),
    ]
    assert captions_for_export(rows) == [
        TimedCaption(10, 19, "ocr text"),
        TimedCaption(20, 29, "fixed"),
    ]


def test_blank_lines_are_dropped_so_a_caption_stays_one_cue():
    rows = [CaptionRow(0, 9, "predicted", caption_ocr="line one\n\n  line two  ")]
    captions = captions_for_export(rows)
    assert captions == [TimedCaption(0, 9, "line one\nline two")]
    assert len(list(srt.parse(to_srt(captions)))) == 1


def test_exports_from_a_written_captions_db(tmp_path):
    rows = [
        CaptionRow(0, 11, "gap"),
        CaptionRow(12, 34, "predicted", 0.9, "你好", 0.97, "completed"),
        CaptionRow(35, 59, "gap"),
    ]
    path = tmp_path / "captions.db.gz"
    write_captions_db(path, rows, frame_count=60)
    captions = captions_for_export(read_captions_db(path))
    assert to_srt(captions) == "1\n00:00:01,200 --> 00:00:03,500\n你好\n\n"
    times = [(c["start_seconds"], c["end_seconds"]) for c in json.loads(to_json(captions))["captions"]]
    assert times == [(1.2, 3.5)]
