"""Materialization metadata as a person reads it in the Dagster UI.

The UI shows a markdown or JSON value inline only under 1,000 characters, and tables always,
so every value here is a table or a markdown string kept under `INLINE_LIMIT`: times in
seconds beside the 10 Hz frame indices, regions to three decimals, and links that follow one
video (partition) through its assets and its runs, since the asset graph cannot be narrowed
to a partition.
"""

from urllib.parse import quote

import dagster as dg

from captionacc_assets.core.pictures import INLINE_LIMIT
from captionacc_assets.core.region import Region
from captionacc_assets.core.zones import placement
from captionacc_assets.defs.jobs import APPROVAL_SELECTION, INITIAL_SELECTION
from captionacc_assets.defs.run_tags import PARTITION_TAG

ALL_ASSET_NAMES = ("video", *INITIAL_SELECTION[1:], *APPROVAL_SELECTION)


def frame_time(index: int) -> str:
    """Frame `i` of the 10 Hz timeline as the time a person reads: `i / 10` seconds."""
    return f"{index / 10:.1f} s"


def rounded_region(region) -> list[float]:
    return [round(float(v), 3) for v in region]


def partition_page(asset: str, video_id: str) -> str:
    return f"/assets/{asset}?view=partitions&partition={quote(video_id, safe='')}"


def runs_page(tag: str, value: str) -> str:
    """The Runs page filtered by one run tag, as the UI's own filter writes it in the URL."""
    return f"/runs?q%5B%5D={quote(f'tag:{tag}={value}', safe='')}"


def video_lineage(video_id: str) -> dg.MetadataValue:
    """Links to this video's partition page of each later asset, in lineage order, and to its runs;
    only the main ones when a long (production) video id would push it past the inline limit."""
    runs = f"  \n[runs of this video]({runs_page(PARTITION_TAG, video_id)})"
    for names in (ALL_ASSET_NAMES[1:], ("layout_db", "layout_approval", "captions_db", "caption_exports")):
        markdown = " → ".join(f"[{name}]({partition_page(name, video_id)})" for name in names) + runs
        if len(markdown) < INLINE_LIMIT:
            break
    return dg.MetadataValue.md(markdown)


def video_summary(row: dict, probe: dict) -> dg.MetadataValue:
    """What a person knows the video by and what it is, in one small table."""
    rows = [
        ("file", row["display_path"] or "(no file name)"),
        ("tenant", row["tenant_id"]),
        ("video id", row["id"]),
        ("duration", f"{probe['duration_seconds']:.1f} s ({probe['frame_count']} frames at 10 Hz)"),
        ("size", f"{probe['width']}×{probe['height']}, {probe['fps']:.2f} fps, {probe['codec']}"),
    ]
    body = "\n".join(f"| {key} | {_cell(value)} |" for key, value in rows)
    return dg.MetadataValue.md(_clip("| | |\n|---|---|\n" + body))


def seconds_table(timings: dict) -> dg.TableMetadataValue:
    """A job's parts and their wall time, as a table (shown inline), not raw JSON."""
    return dg.MetadataValue.table(
        records=[dg.TableRecord({"part": part, "seconds": round(float(s), 2)}) for part, s in timings.items()],
        schema=dg.TableSchema(columns=[dg.TableColumn("part", "string"), dg.TableColumn("seconds", "float")]),
    )


def timings_from_metadata(value) -> dict[str, float]:
    """The {part: seconds} of a `seconds_table` read back from a materialization (or a plain dict)."""
    if isinstance(value, dict):
        return value
    return {record.data["part"]: record.data["seconds"] for record in getattr(value, "records", [])}


def counts_table(counts: dict, what: str) -> dg.TableMetadataValue:
    return dg.MetadataValue.table(
        records=[dg.TableRecord({what: key, "count": int(n)}) for key, n in counts.items()],
        schema=dg.TableSchema(columns=[dg.TableColumn(what, "string"), dg.TableColumn("count", "int")]),
    )


def captions_preview(captions: list[dict]) -> dg.MetadataValue:
    """The first captions (no gaps) with their times in seconds and their 10 Hz frames (inclusive
    ends: a caption runs to `(end + 1) / 10` s), as many as show inline."""
    lines = ["| start | end | text |\n|---|---|---|"]
    for shown, caption in enumerate(captions):
        start, end = caption["start_frame_index"], caption["end_frame_index"]
        text = (caption.get("text") or "").replace("\n", " / ").strip() or "(no text)"
        line = f"| {frame_time(start)} ({start}) | {frame_time(end + 1)} ({end}) | {_cell(text)} |"
        if len("\n".join(lines + [line])) > INLINE_LIMIT - 40:
            lines.append(f"\n{len(captions) - shown} more in captions.db")
            break
        lines.append(line)
    return dg.MetadataValue.md("\n".join(lines))


def text_preview(text: str) -> dg.MetadataValue:
    """The start of an export file, in a code block, cut to show inline."""
    room = INLINE_LIMIT - 20
    shown = text if len(text) <= room else text[:room].rsplit("\n", 1)[0] + "\n…"
    return dg.MetadataValue.md(f"```\n{shown}\n```")


def _cell(value) -> str:
    return str(value).replace("|", "\\|")


def _clip(markdown: str) -> str:
    return markdown if len(markdown) < INLINE_LIMIT else markdown[: INLINE_LIMIT - 2] + "…"


def zones_table(zones, *fields: str) -> dg.MetadataValue:
    """One row per caption zone: where it sits and what the step made for it."""
    lines = ["| zone | placement | region | " + " | ".join(fields) + " |", "|---" * (3 + len(fields)) + "|"]
    for z in zones:
        region = Region(*z.region)
        cells = [str(getattr(z, name)) for name in fields]
        lines.append(
            f"| {z.zone} | {placement(region)} | {[round(v, 3) for v in z.region]} | " + " | ".join(cells) + " |"
        )
    return dg.MetadataValue.md("\n".join(lines))
