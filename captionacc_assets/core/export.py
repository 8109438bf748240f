"""Caption exports: SRT, WebVTT and JSON from the rows of `captions.db` (SPEC §2, §3).

A caption's frames are inclusive, so it runs from `start / 10` s to `(end + 1) / 10` s.
All three formats take their times from `caption_times`, so they cannot disagree.
The zones of a two-zone video are merged in time order; a cue of a top zone is placed at
the top where the format can say so (SRT `{\an8}`, which common players honour; WebVTT
`line:0`). JSON carries every cue's zone. A one-zone video's cues carry no placement.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import srt

from captionacc_assets.core.index_space import INDEX_RATE_HZ

_MS_PER_INDEX = 1000 // INDEX_RATE_HZ


SRT_TOP = "{\\an8}"
VTT_TOP = " line:0"


@dataclass(frozen=True)
class TimedCaption:
    start_frame_index: int
    end_frame_index: int  # inclusive
    text: str
    zone: int = 0
    placement: str = ""  # "top" | "bottom" for a video of two zones; "" for one zone


def captions_for_export(rows: Iterable, placements: dict[int, str] | None = None) -> list[TimedCaption]:
    """Non-gap rows with text, all zones merged in time order. A person's `text` wins over
    `caption_ocr`; a person's empty text means "no caption here" and drops the row.
    `placements` (zone -> top|bottom) is given for a video of two zones."""
    captions = []
    for row in rows:
        if row.state == "gap":
            continue
        text = row.text if getattr(row, "text", None) is not None else row.caption_ocr
        text = _clean_lines(text or "")
        zone = getattr(row, "zone", 0)
        if text:
            captions.append(
                TimedCaption(row.start_frame_index, row.end_frame_index, text, zone, (placements or {}).get(zone, ""))
            )
    return sorted(captions, key=lambda c: (c.start_frame_index, c.end_frame_index, c.zone))


def _clean_lines(text: str) -> str:
    """Lines stripped and blank lines dropped: a blank line ends a cue in SRT and VTT."""
    lines = (line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def caption_times(caption: TimedCaption) -> tuple[timedelta, timedelta]:
    """(start, end) of a caption: start/10 s and (end + 1)/10 s, exact to the millisecond."""
    return (
        timedelta(milliseconds=caption.start_frame_index * _MS_PER_INDEX),
        timedelta(milliseconds=(caption.end_frame_index + 1) * _MS_PER_INDEX),
    )


def to_srt(captions: Sequence[TimedCaption]) -> str:
    subtitles = []
    for index, caption in enumerate(captions, 1):
        start, end = caption_times(caption)
        content = SRT_TOP + caption.text if caption.placement == "top" else caption.text
        subtitles.append(srt.Subtitle(index=index, start=start, end=end, content=content))
    return srt.compose(subtitles, reindex=False)


def _vtt_timestamp(delta: timedelta) -> str:
    total_ms = round(delta.total_seconds() * 1000)
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{ms:03d}"


def _vtt_escape(text: str) -> str:
    # "&" and "<" start markup in cue text; "-->" must not appear in it.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(captions: Sequence[TimedCaption], *, made_from: dict | None = None) -> str:
    """WebVTT; `made_from` (e.g. the cropped frames version) goes into a NOTE block players ignore."""
    blocks = ["WEBVTT\n"]
    if made_from:
        blocks.append("NOTE made from " + ", ".join(f"{k}={v}" for k, v in made_from.items()) + "\n")
    for index, caption in enumerate(captions, 1):
        start, end = caption_times(caption)
        settings = VTT_TOP if caption.placement == "top" else ""
        blocks.append(
            f"{index}\n{_vtt_timestamp(start)} --> {_vtt_timestamp(end)}{settings}\n{_vtt_escape(caption.text)}\n"
        )
    return "\n".join(blocks)


def to_json(captions: Sequence[TimedCaption], *, video_id: str | None = None, made_from: dict | None = None) -> str:
    """`{"video_id", "frame_rate_hz", "made_from", "captions": [{index, start_frame_index,
    end_frame_index, start_seconds, end_seconds, text, zone[, placement]}]}`; `made_from` names
    the cropped frames version and extents databases the captions came from."""
    items = []
    for index, caption in enumerate(captions, 1):
        start, end = caption_times(caption)
        items.append(
            {
                "index": index,
                "start_frame_index": caption.start_frame_index,
                "end_frame_index": caption.end_frame_index,
                "start_seconds": start.total_seconds(),
                "end_seconds": end.total_seconds(),
                "text": caption.text,
                "zone": caption.zone,
                **({"placement": caption.placement} if caption.placement else {}),
            }
        )
    payload = {"video_id": video_id, "frame_rate_hz": INDEX_RATE_HZ, "made_from": made_from or {}, "captions": items}
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"
