"""`captionacc eval`: run the real pipeline over the benchmark set and report its accuracy.

Each video goes through the same path a user's does with `captionacc process` (upload
-> initial stage -> approve the proposed layout if its confidence clears the threshold
-> captions -> SRT export) in a fresh embedded-default home, and the exported SRT is
scored against the truth; a layout left unapproved means no captions. A video the pipeline fails on is
recorded with its error and scored as if nothing was found, so one failure shows up in
the numbers instead of stopping the run.

Zones: every video's proposed zones are read from its published layout.db
(`platform.proposed_zones`, i.e. `read_proposed_zones`) and compared with the truth's (how many, and where); a video whose
truth has two zones is scored zone by zone (`scorer.score_zones`), and the zones are pooled
over the set as well.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from captionacc_assets.core.errors import InputError
from captionacc_assets.core.zones import placement, zones_from_row
from captionacc_assets.settings import approve_confidence_threshold, local_paths
from captionacc_assets.evaluation.eval_set import NAMED_SIZES, RENDERERS, EvalItem, build_eval_set, write_eval_set
from captionacc_assets.evaluation.options import FLOORS
from captionacc_assets.evaluation.report import format_cell, markdown_report
from captionacc_assets.evaluation.scorer import ZONES, Score, combine, parse_captions, score_zones, zone_count

EVAL_TENANT = "eval"
# Conditions shown in the per-video table (all of them go into the JSON and the breakdown).
TABLE_CONDITIONS = ("language", "background", "resolution", "fps", "font", "style", "timing")


@contextmanager
def _captionacc_home(home: Path) -> Iterator[None]:
    """Point CAPTIONACC_HOME and DAGSTER_HOME at `home` and put them back afterwards."""
    saved = {name: os.environ.get(name) for name in ("CAPTIONACC_HOME", "DAGSTER_HOME")}
    os.environ["CAPTIONACC_HOME"] = str(home)
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _process(platform, item: EvalItem, video: Path) -> tuple[str, dict]:
    """Run one video end to end; the exported SRT text ("" on failure) and run facts."""
    facts: dict = {"seconds": 0.0, "error": None}
    started = time.perf_counter()
    try:
        video_id = platform.upload(video, EVAL_TENANT, video_id=item.name)
        initial = platform.initial_processing(video_id)
        facts["initial_seconds"] = initial.seconds
        if not initial.success:
            facts["error"] = f"initial processing: {initial.error}"
            return "", facts
        layout = platform.proposed_layout(video_id)
        facts["layout_confidence"] = layout.get("confidence")
        facts["layout_region"] = [round(v, 4) for v in layout["region"]]
        facts["proposed_zones"] = [
            {
                "placement": z.placement,
                "confidence": round(z.confidence, 4),
                "region": [round(v, 4) for v in z.region.as_tuple()],
            }
            for z in platform.proposed_zones(video_id)
        ]
        # As `captionacc process --approve auto` does: a layout below the confidence
        # threshold is not approved, so the video gets no captions.
        threshold = approve_confidence_threshold()
        facts["approved"] = layout["confidence"] >= threshold
        if not facts["approved"]:
            return "", facts
        # A second zone too only when its own confidence clears the threshold, as `--approve auto` does.
        platform.approve(video_id, None, requested_by="eval", second_zone_min_confidence=threshold)
        version = platform.catalog.latest_cropped_frames_version(video_id)
        facts["approved_zones"] = [placement(region) for region in zones_from_row(version)] if version else []
        approved = platform.approved_processing(video_id)
        facts["approved_seconds"] = approved.seconds
        if not approved.success:
            facts["error"] = f"approved processing: {approved.error}"
            return "", facts
        return platform.storage.get_bytes(platform.keys(video_id).export("srt")).decode("utf-8"), facts
    except Exception as error:  # recorded and scored as all-missed; the run goes on
        facts["error"] = f"{type(error).__name__}: {error}"
        return "", facts
    finally:
        facts["seconds"] = round(time.perf_counter() - started, 2)


def true_placements(item: EvalItem) -> list[str]:
    """Where the truth's caption zones are (none for a video without captions), main zone first."""
    spec = item.spec
    zones = [spec.style.placement] if spec.cues else []
    return zones + ([spec.second_zone_style.placement] if spec.second_cues else [])


def zone_detection(item: EvalItem, facts: dict) -> dict:
    """True vs proposed zones of one video: counts, placements and whether they agree. A video with
    no captions is right with a proposal whose confidence is below the approval threshold (nothing
    is approved); zones under the threshold do not count as proposed."""
    threshold = approve_confidence_threshold()
    proposed = [z for z in facts.get("proposed_zones") or [] if z["confidence"] >= threshold]
    truth = true_placements(item)
    return {
        "true_zones": len(truth),
        "true_placements": truth,
        "proposed_zones": len(proposed),
        "proposed_placements": [z["placement"] for z in proposed],
        "proposed_confidences": [z["confidence"] for z in facts.get("proposed_zones") or []],
        "approved_zones": facts.get("approved_zones"),
        "count_ok": len(proposed) == len(truth),
        "placements_ok": sorted(z["placement"] for z in proposed) == sorted(truth),
    }


def _score_cells(s: Score) -> str:
    return (
        f"{s.true_cues:>4} {s.predicted_cues:>4}  {format_cell(s.recall):>5} {format_cell(s.precision):>5} "
        f"{format_cell(s.cer, '.3f'):>6} {format_cell(s.exact_text_rate):>5} {format_cell(s.start_error_ms_p95, '.0f'):>6} "
        f"{format_cell(s.end_error_ms_p95, '.0f'):>6}"
    )


SCORE_HEADER = f"{'true':>4} {'pred':>4}  {'rec':>5} {'prec':>5} {'CER':>6} {'exact':>5} {'st p95':>6} {'en p95':>6}"


def by_condition(conditions: list[dict[str, str]], scores: list[Score]) -> dict[str, dict[str, tuple[int, Score]]]:
    """(videos, pooled score) per condition key and value, over the videos that have that key."""
    groups: dict[str, dict[str, list[Score]]] = {}
    for video_conditions, s in zip(conditions, scores):
        for key, value in video_conditions.items():
            groups.setdefault(key, {}).setdefault(value, []).append(s)
    return {
        key: {value: (len(group), combine(group)) for value, group in sorted(values.items())}
        for key, values in sorted(groups.items())
    }


def floors_met(summary: dict, floors: dict[str, float] = FLOORS) -> list[str]:
    """The floors the pooled summary misses, as readable lines (empty: all met)."""
    failures = []
    for name, floor in floors.items():
        value = summary.get(name)
        ok = value is not None and (value <= floor if name == "cer" else value >= floor)
        if not ok:
            failures.append(f"{name} {value} {'>' if name == 'cer' else '<'} floor {floor}")
    return failures


def run_eval(
    size: int | str,
    seed: int,
    out_dir: Path,
    *,
    json_path: Path | None = None,
    print_report: bool = True,
    only: str | None = None,
    renderer: str = "generator",
) -> dict:
    """Generate (or reuse) the set under out_dir/videos (videos-libass for the libass set),
    process each video in a fresh home at out_dir/home, score it, print the tables and
    write the JSON report."""
    from captionacc_assets.platform import LocalPlatform

    out_dir = Path(out_dir)
    say = print if print_report else (lambda *a, **k: None)
    items = build_eval_set(size, seed, renderer)
    if only:
        items = [item for item in items if only in item.name]
        if not items:
            raise InputError(f"--only {only!r} matches no video of the {size!r} set")
    started = time.perf_counter()
    videos_dir = out_dir / ("videos" if renderer == "generator" else f"videos-{renderer}")
    say(
        f"eval set {size!r} ({renderer}) seed {seed}: {len(items)} videos, "
        f"{sum(i.spec.duration_s for i in items):.0f} s of video -> {videos_dir}"
    )
    paths = write_eval_set(items, videos_dir)
    generate_seconds = round(time.perf_counter() - started, 2)

    home = out_dir / ("home" if renderer == "generator" else f"home-{renderer}")  # kept for inspection
    shutil.rmtree(home, ignore_errors=True)
    results, scores, zone_scores = [], [], []
    with _captionacc_home(home):
        platform = LocalPlatform.open()
        try:
            say(f"\n{'video':<34} {'conditions':<52} {SCORE_HEADER} {'sec':>6}")
            for item, video in zip(items, paths):
                srt_text, facts = _process(platform, item, video)
                truth = parse_captions(video.with_suffix(".srt").read_text(encoding="utf-8"))
                try:
                    predicted = parse_captions(srt_text) if srt_text else []
                except Exception as error:  # an unparseable export is a failure of this video
                    facts["error"] = f"export did not parse: {error}"
                    predicted = []
                approved_zones = facts.get("approved_zones") or []
                # A one-zone export tags nothing: its cues are in the one zone that was approved.
                untagged = approved_zones[0] if len(approved_zones) == 1 else "bottom"
                s, per_zone = score_zones(truth, predicted, untagged_zone=untagged)
                scores.append(s)
                results.append(
                    {
                        "name": item.name,
                        "conditions": item.conditions,
                        "duration_s": item.spec.duration_s,
                        **facts,
                        "score": s.as_dict(),
                        "zones": zone_detection(item, facts),
                        "zone_scores": {zone: z.as_dict() for zone, z in per_zone.items()}
                        if zone_count(truth) > 1
                        else {},
                        "truth": [[c.start_s, c.end_s, c.text, c.zone] for c in truth],
                        "predicted": [[c.start_s, c.end_s, c.text, c.zone] for c in predicted],
                    }
                )
                if zone_count(truth) > 1:
                    zone_scores.append(per_zone)
                conditions = " ".join(item.conditions.get(k, "") for k in TABLE_CONDITIONS if k in item.conditions)
                say(
                    f"{item.name:<34} {conditions[:52]:<52} {_score_cells(s)} {facts['seconds']:>6.1f}"
                    + (f"  ERROR {facts['error']}" if facts["error"] else "")
                    + (
                        ""
                        if facts.get("approved", True)
                        else f"  layout not approved (confidence {facts['layout_confidence']:.2f})"
                    )
                )
        finally:
            platform.instance.dispose()

    summary = combine(scores).as_dict()
    groups = by_condition([r["conditions"] for r in results], scores)
    failures = floors_met(summary)
    process_seconds = sum(r["seconds"] for r in results)
    video_seconds = sum(i.spec.duration_s for i in items)
    detection = [r["zones"] for r in results]
    zones_report = {
        "videos": len(detection),
        "count_ok": sum(d["count_ok"] for d in detection),
        "placements_ok": sum(d["placements_ok"] for d in detection),
        "two_zone_videos": sum(d["true_zones"] == 2 for d in detection),
        "two_zones_found": sum(d["true_zones"] == 2 and d["count_ok"] and d["placements_ok"] for d in detection),
        "false_second_zones": sum(d["true_zones"] < 2 and d["proposed_zones"] == 2 for d in detection),
        # Pooled over the videos whose truth has two zones, zone by zone.
        "per_zone": {zone: combine([z[zone] for z in zone_scores]).as_dict() for zone in ZONES} if zone_scores else {},
    }
    report = {
        "size": size,
        "seed": seed,
        "renderer": renderer,
        "videos": results,
        "summary": summary,
        "zones": zones_report,
        "by_condition": {
            key: {value: {"videos": n, **s.as_dict()} for value, (n, s) in values.items()}
            for key, values in groups.items()
        },
        "floors": FLOORS,
        "floors_failed": failures,
        "errors": sum(1 for r in results if r["error"]),
        "unapproved_layouts": [r["name"] for r in results if r.get("approved") is False],
        "generate_seconds": generate_seconds,
        "process_seconds": round(process_seconds, 2),
        "video_seconds": video_seconds,
    }
    say(f"\n{'all videos (pooled)':<87} {_score_cells(combine(scores))} {process_seconds:>6.1f}")
    say(
        f"f1 {summary['f1']:.3f}; start error median {format_cell(summary['start_error_ms_median'], '.0f')} ms, "
        f"end error median {format_cell(summary['end_error_ms_median'], '.0f')} ms; {report['errors']} pipeline errors; "
        f"processing {process_seconds:.0f} s for {video_seconds:.0f} s of video "
        f"({process_seconds / max(len(items), 1):.1f} s per video), generation {generate_seconds:.0f} s"
    )
    say(
        f"zones: {zones_report['count_ok']}/{zones_report['videos']} videos with the right number of zones, "
        f"{zones_report['placements_ok']} with the right placements; two-zone videos found "
        f"{zones_report['two_zones_found']}/{zones_report['two_zone_videos']}; false second zones "
        f"{zones_report['false_second_zones']}"
    )
    for zone, zone_summary in zones_report["per_zone"].items():
        say(f"  {zone + ' zone (two-zone videos)':<85} {_score_cells(Score(**_score_fields(zone_summary)))}")
    say(f"\nby condition (pooled over the videos with each value):\n{'condition':<34} {'n':>3} {SCORE_HEADER}")
    for key, values in groups.items():
        for value, (n, s) in values.items():
            say(f"{key + '=' + value:<34} {n:>3} {_score_cells(s)}")
    if json_path:
        json_path = Path(json_path)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        say(f"\nwrote {json_path}")
    return report


def _score_fields(summary: dict) -> dict:
    """A Score's constructor arguments from its `as_dict()` (for printing a pooled row again)."""
    return {k: v for k, v in summary.items() if k in Score.__dataclass_fields__}


def _size(value: str) -> int | str:
    if value in NAMED_SIZES:
        return value
    if value.isdigit() and int(value) >= 1:
        return int(value)
    raise InputError(f"--size {value!r}: use ci, full, zones or a number of videos")


SUITE_COLUMNS = (
    ("recall", "recall", ".3f"),
    ("precision", "precision", ".3f"),
    ("CER", "cer", ".2%"),
    ("CER no punct.", "cer_no_punct", ".2%"),
    ("exact", "exact_text_rate", ".3f"),
    ("start p95 ms", "start_error_ms_p95", ".0f"),
    ("end p95 ms", "end_error_ms_p95", ".0f"),
    ("1-char changes", "one_char_change_rate", ".3f"),
)


def suite_table(reports: dict[str, dict]) -> str:
    """The sets side by side: one row per renderer, the scores a reader compares across them."""
    lines = [f"{'set':<12} {'videos':>6} {'true':>5} " + " ".join(f"{name:>14}" for name, _, _ in SUITE_COLUMNS)]
    for renderer, report in reports.items():
        summary = report["summary"]
        lines.append(
            f"{renderer:<12} {len(report['videos']):>6} {summary['true_cues']:>5} "
            + " ".join(f"{format_cell(summary.get(key), spec):>14}" for _, key, spec in SUITE_COLUMNS)
        )
    return "\n".join(lines)


def eval_command(args) -> int:
    """Run `captionacc eval`; 0, or 1 when --floors is given and a floor is missed.

    `--suite` runs the generated set and the libass-rendered set of the same size and prints
    them side by side; `--json`/`--markdown` then get one file per set (the name gains the set).
    """
    out = Path(args.out) if args.out else local_paths().home / "eval"
    renderers = RENDERERS if getattr(args, "suite", False) else (getattr(args, "renderer", None) or "generator",)
    reports, failed = {}, []
    for renderer in renderers:
        suffix = f"-{renderer}" if len(renderers) > 1 else ""
        json_path = Path(args.json).with_stem(Path(args.json).stem + suffix) if args.json else None
        report = reports[renderer] = run_eval(
            _size(str(args.size)),
            args.seed,
            out,
            json_path=json_path,
            only=getattr(args, "only", None),
            renderer=renderer,
        )
        if getattr(args, "markdown", None):
            markdown = Path(args.markdown).with_stem(Path(args.markdown).stem + suffix)
            markdown.parent.mkdir(parents=True, exist_ok=True)
            markdown.write_text(markdown_report(report), encoding="utf-8")
            print(f"wrote {markdown}")
        failed += [f"{renderer}: {line}" for line in report["floors_failed"]]
    if len(reports) > 1:
        print("\n" + suite_table(reports))
    if args.floors:
        if failed:
            print("floors not met: " + "; ".join(failed), file=sys.stderr)
            return 1
        print("floors met: " + ", ".join(f"{k} {v}" for k, v in FLOORS.items()))
    return 0
