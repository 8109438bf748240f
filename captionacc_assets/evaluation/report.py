"""The eval report as Markdown tables, for docs/accuracy.md.

Written from the JSON report (not from live objects) so a saved run can be rendered
again later: `captionacc eval --markdown PATH` or `markdown_report(json.load(...))`.
"""

from __future__ import annotations

COLUMNS = (
    ("true", "true_cues", "d"),
    ("pred", "predicted_cues", "d"),
    ("missed", "missed", "d"),
    ("phantom", "phantom", "d"),
    ("recall", "recall", ".3f"),
    ("precision", "precision", ".3f"),
    ("CER", "cer", ".2%"),
    ("CER no punct.", "cer_no_punct", ".2%"),
    ("exact", "exact_text_rate", ".3f"),
    ("start med", "start_error_ms_median", ".0f"),
    ("start p95", "start_error_ms_p95", ".0f"),
    ("end med", "end_error_ms_median", ".0f"),
    ("end p95", "end_error_ms_p95", ".0f"),
    ("1-char changes found", "one_char_change_rate", ".3f"),
)
# Condition keys in the order a reader looks for them.
CONDITION_ORDER = (
    "language",
    "font",
    "style",
    "colour",
    "size",
    "placement",
    "lines",
    "fade",
    "timing",
    "background",
    "distractors",
    "resolution",
    "fps",
    "captions",
)


def format_cell(value, spec: str = ".2f") -> str:
    """A number in a table, "-" where there is none (e.g. timing errors with no matched cue)."""
    return "-" if value is None else format(value, spec)


def _cells(score: dict) -> str:
    return " | ".join(format_cell(score.get(key), spec) for _, key, spec in COLUMNS)


def _header(first: str, *extra: str) -> str:
    names = [first, *extra, *(name for name, _, _ in COLUMNS)]
    return "| " + " | ".join(names) + " |\n|" + "---|" * len(names) + "\n"


def markdown_report(report: dict) -> str:
    """Summary, per-condition and per-video tables of one `captionacc eval` report."""
    videos = report["videos"]
    out = [
        f"Set `{report['size']}`, seed {report['seed']}: {len(videos)} videos, "
        f"{report['video_seconds']:.0f} s of video; {report['errors']} pipeline errors; "
        f"layouts left unapproved (confidence below the threshold, so no captions): "
        f"{', '.join(report.get('unapproved_layouts', [])) or 'none'}.\n"
    ]
    out.append("\n### Overall\n\n" + _header("set") + f"| all videos | {_cells(report['summary'])} |\n")
    out.append(f"\nF1 {report['summary']['f1']:.3f}.\n")
    out.append(zones_markdown(report))
    out.append(
        "\n### By condition\n\nEach row pools the videos with that value.\n\n" + _header("condition", "value", "videos")
    )
    groups = report["by_condition"]
    for key in [k for k in CONDITION_ORDER if k in groups] + sorted(set(groups) - set(CONDITION_ORDER)):
        for value, score in groups[key].items():
            out.append(f"| {key} | {value} | {score['videos']} | {_cells(score)} |\n")
    out.append("\n### By video\n\n" + _header("video", "error"))
    for video in videos:
        error = (video.get("error") or "").replace("|", "/")[:60]
        out.append(f"| {video['name']} | {error} | {_cells(video['score'])} |\n")
    return "".join(out)


def zones_markdown(report: dict) -> str:
    """Zone detection (true vs proposed zones per video) and the per-zone scores of the videos
    whose truth has two zones; one line when no video has or was given two zones."""
    zones = report.get("zones")
    if not zones:
        return ""
    out = [
        f"\n### Zones\n\n{zones['count_ok']} / {zones['videos']} videos got the right number of caption zones "
        f"(proposed with confidence at or above the approval threshold), {zones['placements_ok']} the right "
        f"placements; two-zone videos found {zones['two_zones_found']} / {zones['two_zone_videos']}; "
        f"false second zones {zones['false_second_zones']}.\n"
    ]
    videos = [v for v in report["videos"] if "zones" in v]
    if not any(v["zones"]["true_zones"] == 2 or v["zones"]["proposed_zones"] == 2 for v in videos):
        return "".join(out)
    if zones.get("per_zone"):
        out.append("\nPer zone, pooled over the videos whose truth has two zones:\n\n" + _header("zone"))
        for zone, score in zones["per_zone"].items():
            out.append(f"| {zone} | {_cells(score)} |\n")
    out.append(
        "\n| video | true zones | proposed zones (confidence) | approved | count | placements |\n"
        "|---|---|---|---|---|---|\n"
    )
    for video in videos:
        d = video["zones"]
        proposed = ", ".join(f"{z['placement']} {z['confidence']:.2f}" for z in video.get("proposed_zones") or [])
        approved = ", ".join(d.get("approved_zones") or []) or "-"
        out.append(
            f"| {video['name']} | {', '.join(d['true_placements']) or 'none'} | {proposed or '-'} | "
            f"{approved} | {'ok' if d['count_ok'] else 'WRONG'} | {'ok' if d['placements_ok'] else 'WRONG'} |\n"
        )
    return "".join(out)
