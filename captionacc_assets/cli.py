"""The `captionacc` command: process a video end to end, or act on the catalog for `dagster dev`."""

import argparse
import gc
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

from captionacc_assets.core.errors import EnvironmentFault, InputError
from captionacc_assets.core.region import Region
from captionacc_assets.core.stages import STAGES
from captionacc_assets.core.zones import zones_from_row
from captionacc_assets.evaluation.options import add_eval_arguments
from captionacc_assets.extents_training.options import add_train_arguments
from captionacc_assets.settings import (
    DEFAULT_TENANT,
    approve_confidence_threshold,
    engine_settings,
    environment_fault,
    profile,
    unit_interval,
)


def _print_stage(name: str, run) -> None:
    """Wall time of the stage, of each Dagster step, and of the parts of each compute job."""
    from captionacc_assets.defs.ui_metadata import timings_from_metadata

    status = "ok" if run.success else "FAILED"
    print(f"  {name:<22} {run.seconds:8.2f} s  {status}")
    for step, seconds in run.step_seconds.items():
        print(f"    {step:<32} {seconds:8.2f} s")
    for asset, metadata in run.metadata.items():
        if "timings_s" in metadata:
            parts = ", ".join(f"{part} {sec:.2f}" for part, sec in timings_from_metadata(metadata["timings_s"]).items())
            print(f"      {asset} parts (s): {parts}")


def _stage_failed(platform, video_id: str, stages: tuple[str, ...], run) -> int:
    """Print why the run failed and return the exit code: 2 when a person can fix the cause
    (bad input, a full disk, a bad setting), 1 for a bug."""
    print(f"error: {_failure_message(platform, video_id, stages, run)}", file=sys.stderr)
    return 2 if run.error_kind else 1


def _failure_message(platform, video_id: str, stages: tuple[str, ...], run) -> str:
    """The failed stage's `{stage}_error_details` in the catalog, else the failed step's cause."""
    try:
        row = platform.catalog.get_video(video_id) or {}
    except EnvironmentFault:
        row = {}  # the catalog is what failed, and run.error says so
    for stage in stages:
        details = row.get(f"{stage}_error_details")
        if isinstance(details, str):
            details = json.loads(details)
        message = (details or {}).get("message")
        if row.get(f"{stage}_status") == "error" and message:
            return message
    return run.error or "unknown error"


def _approval_threshold(args) -> float | None:
    """--min-confidence, else CAPTIONACC_APPROVE_CONFIDENCE, read only when --approve auto needs it."""
    if args.min_confidence is not None:
        return args.min_confidence
    return approve_confidence_threshold() if args.approve == "auto" else None


def _check_outputs(args, video: Path | None) -> None:
    """Refuse at once an output that would overwrite the input video or another output, or that
    lies in a folder that does not exist, so nothing is uploaded or processed for nothing."""
    checked: list[tuple[str, Path]] = []
    for flag, value in (("--srt", args.srt), ("--vtt", args.vtt), ("--json", args.json)):
        if value is None:
            continue
        if not value.strip():
            raise InputError(f"{flag} is empty: give the file to write")
        if value == "-":  # standard output (`captionacc export`)
            continue
        path = Path(value)
        if video is not None and _same_file(path, video):
            raise InputError(f"{flag} {value} is the input video itself: choose another file for the {flag[2:]} output")
        for other_flag, other in checked:
            if _same_file(path, other):
                raise InputError(f"{flag} and {other_flag} are the same file {value}: give each output its own file")
        if path.is_dir():
            raise InputError(f"{flag} {value} is a folder: give a file name in it")
        if not path.resolve().parent.is_dir():
            raise InputError(f"{flag} {value}: the folder {path.resolve().parent} does not exist; create it first")
        checked.append((flag, path))


def _same_file(a: Path, b: Path) -> bool:
    """The same path once resolved, or one file under two names (a hard link)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _unit_interval_argument(text: str) -> float:
    try:
        return unit_interval(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".webm", ".avi", ".m4v", ".ts", ".mpg", ".mpeg", ".wmv", ".flv")
EXPORT_FORMATS = ("srt", "vtt", "json")


def _videos_named(names: list[str]) -> list[Path]:
    """The files named and the video files in the folders named (by name), each file once."""
    videos: list[Path] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            members = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
            if not members:
                raise InputError(f"folder {name} holds no video file (looked for {', '.join(VIDEO_SUFFIXES)})")
        else:
            members = [path]
        videos += [m for m in members if not any(_same_file(m, seen) for seen in videos)]
    return videos


def _planned_outputs(args, videos: list[Path]) -> dict[Path, dict[str, Path]]:
    """Each video's export files: --srt/--vtt/--json for one video, or NAME.{srt,vtt,json} in --out-dir;
    every one checked before any work."""
    named = {fmt: getattr(args, fmt) for fmt in EXPORT_FORMATS if getattr(args, fmt) is not None}
    if named and len(videos) > 1:
        raise InputError(
            "--srt, --vtt and --json name one video's outputs: with several videos, give "
            "--out-dir DIR (it gets NAME.srt, NAME.vtt and NAME.json of each video)"
        )
    for video in videos:
        _check_outputs(args, video)
    if args.out_dir is None:
        return {video: {fmt: Path(path) for fmt, path in named.items()} for video in videos}
    out_dir = Path(args.out_dir)
    if not out_dir.is_dir():
        raise InputError(f"--out-dir {args.out_dir} is not a folder: create it first")
    stems: dict[str, Path] = {}
    for video in videos:
        if video.stem in stems:
            raise InputError(
                f"{video} and {stems[video.stem]} would both write {out_dir / video.stem}.srt: "
                f"rename one, or process them into different --out-dir folders"
            )
        stems[video.stem] = video
    planned = {
        video: {
            **{fmt: out_dir / f"{video.stem}.{fmt}" for fmt in EXPORT_FORMATS},
            **{fmt: Path(path) for fmt, path in named.items()},
        }
        for video in videos
    }
    for video, outputs in planned.items():
        if any(_same_file(path, other) for path in outputs.values() for other in videos):
            raise InputError(f"--out-dir {args.out_dir} would overwrite an input video: choose another folder")
    return planned


def _step_count(selection: list[str]) -> int:
    """How many Dagster steps a stage runs (a multi-asset is one step): its progress bar's shares."""
    import dagster as dg

    from captionacc_assets.definitions import ALL_ASSETS

    wanted = {dg.AssetKey(name) for name in selection}
    return sum(1 for assets_def in ALL_ASSETS if wanted & set(assets_def.keys))


def _run_stage(platform, output, name: str, selection: list[str], run_stage):
    with output.stage(name, _step_count(selection)):
        run = run_stage(loggers=output.loggers())
        if output.bar is not None:
            output.bar.finish(run.success)
    _print_stage(name, run)
    return run


def _process_one(platform, video: Path, args, threshold, outputs: dict[str, Path], output, done: dict) -> dict:
    """One video through both stages, as `captionacc process` of that file alone: its summary row."""
    from captionacc_assets.definitions import APPROVAL_SELECTION, INITIAL_SELECTION

    started = time.perf_counter()
    row = {"file": str(video), "video": "-", "result": "", "captions": "-", "code": 0}
    video_id, resumed = platform.open_for_processing(video, args.tenant)
    row["video"] = video_id
    if video_id in done:
        row["result"] = f"same content as {done[video_id]}: processed once"
        return row
    done[video_id] = str(video)
    print(
        f"video {video_id} {'continued from its last published stage' if resumed else 'uploaded'} "
        f"for tenant {args.tenant} (CAPTIONACC_HOME={platform.paths.home})"
    )
    print("stages:")
    if platform.initial_published(video_id):
        print("  initial processing     already published")
    else:
        initial = _run_stage(
            platform,
            output,
            "initial processing",
            INITIAL_SELECTION,
            lambda **kw: platform.initial_processing(video_id, **kw),
        )
        if not initial.success:
            row["code"] = _stage_failed(platform, video_id, ("layout",), initial)
            row["result"] = f"error: {_failure_message(platform, video_id, ('layout',), initial)}"
            return row

    layout = platform.proposed_layout(video_id)
    for number, zone in enumerate(layout["zones"]):
        which = "caption region" if len(layout["zones"]) == 1 else f"zone {number} ({zone.placement})"
        print(
            f"  proposed {which} {tuple(round(v, 3) for v in zone.region.as_tuple())} anchor={zone.anchor} "
            f"confidence={zone.confidence:.2f}"
        )
    if platform.catalog.latest_cropped_frames_version(video_id) is None:
        if args.approve == "auto" and layout["confidence"] < threshold:
            print(
                f"layout confidence {layout['confidence']:.2f} is below {threshold:.2f}: not approving.\n"
                f"Inspect it in the Dagster UI, then run `captionacc approve {video_id} --crop l,t,r,b` "
                f"or rerun with --approve always.",
                file=sys.stderr,
            )
            row.update(code=3, result=f"not approved: confidence {layout['confidence']:.2f} < {threshold:.2f}")
            return row
        platform.approve(
            video_id,
            None,
            requested_by=f"cli:{args.approve}",
            second_zone_min_confidence=threshold if args.approve == "auto" else None,
        )
    if platform.captions_committed(video_id):
        print("  approved processing    already published")
        row["result"] = "already published"
    else:
        approved = _run_stage(
            platform,
            output,
            "approved processing",
            APPROVAL_SELECTION,
            lambda **kw: platform.approved_processing(video_id, **kw),
        )
        stages = STAGES
        if not approved.success:
            row["code"] = _stage_failed(platform, video_id, stages, approved)
            row["result"] = f"error: {_failure_message(platform, video_id, stages, approved)}"
            return row
        if "captions_db" not in approved.metadata:  # skipped: deleted (or its approval gone) meanwhile
            message = f"video {video_id} was deleted while it was processed: nothing more is made for it"
            print(f"error: {message}", file=sys.stderr)
            row.update(code=2, result=f"error: {message}")
            return row
        captions = approved.metadata["captions_db"]
        print(
            f"{captions['caption_count']} captions over {captions['frame_count']} frames; "
            f"peak RSS {peak_rss_mb():.0f} MB"
        )
        row["result"] = "done"
    keys = platform.keys(video_id)
    for fmt, path in outputs.items():
        path.write_bytes(platform.storage.get_bytes(keys.export(fmt)))
        print(f"wrote {path}")
    row["captions"] = str(len(json.loads(platform.storage.get_bytes(keys.export("json")))["captions"]))
    row["seconds"] = time.perf_counter() - started
    return row


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM). Not `ru_maxrss`, which Linux carries over from the parent
    across fork and exec: a command started by a large process would report that process's size."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worst_code(codes: list[int]) -> int:
    """A bug (1) over a fault a person fixes (2) over a layout left to approve (3) over success."""
    return next((code for code in (1, 2, 3) if code in codes), 0)


def _warm_engines() -> None:
    """The local profile runs every stage in this process: load its full-frame OCR engine and
    pair model on a thread (~1 s, mostly native) while this one imports Dagster and opens its instance.
    A load that fails here fails again in its step, which reports it."""

    def warm() -> None:
        try:
            from captionacc_assets.compute.engines import warm_engines

            settings = engine_settings()  # what the resources will run
            warm_engines(settings["ocr_engine"], settings["extents_model"])
        except Exception:
            pass

    if profile() == "local":
        threading.Thread(target=warm, name="warm-engines", daemon=True).start()


def process_video(args) -> int:
    _warm_engines()
    from captionacc_assets.cli_output import ProcessOutput, print_table
    from captionacc_assets.platform import LocalPlatform

    videos = _videos_named(args.video)
    outputs = _planned_outputs(args, videos)
    threshold = _approval_threshold(args)
    platform = LocalPlatform.open()
    platform.require_no_automation()
    if platform.recover_dead_runs():
        print("failed the runs of an earlier `captionacc process` that was killed, and cleaned up after them")
    output = ProcessOutput(platform.paths.home / "logs" / "process.log", args.verbose)
    if not args.verbose:
        print(f"Dagster's log lines: {output.log_path} (--verbose prints them here)")
    rows: list[dict] = []
    done: dict[str, str] = {}
    try:
        for number, video in enumerate(videos, 1):
            if len(videos) > 1:
                print(f"\n[{number}/{len(videos)}] {video}")
            try:
                rows.append(_process_one(platform, video, args, threshold, outputs[video], output, done))
            except (InputError, EnvironmentFault, OSError) as error:
                if len(videos) == 1:
                    raise
                code = _error_exit(error)
                rows.append(
                    {"file": str(video), "video": "-", "result": f"error: {error}", "captions": "-", "code": code}
                )
    finally:
        output.close()
    if len(videos) == 1 and rows[0]["code"] == 0 and not outputs[videos[0]]:
        print(platform.storage.get_bytes(platform.keys(rows[0]["video"]).export("srt")).decode("utf-8"))
    if len(videos) > 1:
        print(f"\nsummary: {len(videos)} video(s), each processed once")
        print_table(
            ["file", "video", "captions", "time", "result"],
            [
                [r["file"], r["video"], r["captions"], f"{r['seconds']:.1f} s" if "seconds" in r else "-", r["result"]]
                for r in rows
            ],
        )
    return _worst_code([r["code"] for r in rows])


def upload_video(args) -> int:
    from captionacc_assets.platform import LocalPlatform

    # The new_uploads sensor of `captionacc ui` adds the partition and starts its processing.
    video_id = LocalPlatform.open().upload(Path(args.video), args.tenant, add_partition=False)
    print(video_id)
    return 0


def approve_layout(args) -> int:
    from captionacc_assets.platform import LocalPlatform

    regions = [Region.parse(crop) for crop in args.crop] if args.crop else None
    version = LocalPlatform.open().approve(args.video_id, regions, requested_by=args.by)
    crops = " and ".join(str(region.as_tuple()) for region in zones_from_row(version))
    print(f"approved version {version['version']} of {args.video_id}: crop {crops}")
    return 0


def delete_video(args) -> int:
    from captionacc_assets.platform import LocalPlatform

    LocalPlatform.open().catalog.soft_delete(args.video_id)
    print(f"deleted {args.video_id}: its queued and running runs are cancelled by the running automation")
    return 0


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "-"


def _error_details(row: dict, stage: str) -> str | None:
    details = row.get(f"{stage}_error_details")
    if isinstance(details, str):
        details = json.loads(details)
    return (details or {}).get("message") if row.get(f"{stage}_status") == "error" else None


def _versions(catalog, video_id: str) -> list[dict]:
    newest = catalog.latest_cropped_frames_version(video_id)
    found = [catalog.get_cropped_frames_version(video_id, n) for n in range(1, newest["version"] + 1)] if newest else []
    return [version for version in found if version is not None]


def _all_videos(catalog, tenant: str | None) -> list[dict]:
    rows, after = [], None
    while page := catalog.list_new_videos(after, 500):
        rows += [row for row in page if tenant is None or row["tenant_id"] == tenant]
        after = (page[-1]["uploaded_at"].isoformat(), page[-1]["id"])
    return rows


def _print_video_status(platform, row: dict) -> None:
    catalog = platform.catalog
    keys = platform.keys(row["id"]) if row["deleted_at"] is None else None
    lines = [
        ("video", row["id"]),
        ("file", row["display_path"] or "-"),
        ("tenant", f"{row['tenant_id']} ({catalog.tenant_tier(row['tenant_id'])})"),
        ("uploaded", _when(row["uploaded_at"])),
        ("deleted", _when(row["deleted_at"]) + ("  (nothing runs for it)" if row["deleted_at"] else "")),
        (
            "duration",
            f"{row['duration_seconds']:.1f} s, {row['width']}x{row['height']}, {row['total_frames']} frames at 10 Hz"
            if row["duration_seconds"] is not None
            else "not probed yet",
        ),
        ("stages", "  ".join(f"{stage}={row[f'{stage}_status']}" for stage in STAGES)),
    ]
    lines += [(f"{stage} error", message) for stage in STAGES if (message := _error_details(row, stage))]
    current = row["current_cropped_frames_version"]
    for version in _versions(catalog, row["id"]):
        crop = " + ".join(str(tuple(round(v, 3) for v in region.as_tuple())) for region in zones_from_row(version))
        lines.append(
            (
                f"version {version['version']}",
                f"{version['status']}{' (current)' if version['version'] == current else ''}"
                f"  crop {crop}  by {version['requested_by'] or '-'} at {_when(version['requested_at'])}",
            )
        )
    if not _versions(catalog, row["id"]):
        lines.append(("versions", f"none: approve a layout with `captionacc approve {row['id']}`"))
    if keys is not None:
        made = [fmt for fmt in EXPORT_FORMATS if platform.storage.exists(keys.export(fmt))]
        lines.append(
            ("exports", ", ".join(made) + f"  (`captionacc export {row['id']} --srt FILE`)" if made else "none yet")
        )
    width = max(len(key) for key, _ in lines)
    for key, value in lines:
        print(f"{key:<{width}}  {value}")


def show_status(args) -> int:
    from captionacc_assets.cli_output import print_table
    from captionacc_assets.platform import LocalPlatform

    platform = LocalPlatform.open()
    if args.video_id:
        row = platform.catalog.get_video(args.video_id)
        if row is None:
            raise InputError(f"unknown video {args.video_id!r}: `captionacc status` lists every video")
        _print_video_status(platform, row)
        return 0
    rows = _all_videos(platform.catalog, args.tenant)
    if not rows:
        print("no videos yet: `captionacc process FILE` or `captionacc upload FILE` adds one")
        return 0
    table = []
    for row in rows:
        problems = [f"{stage}: {message}" for stage in STAGES if (message := _error_details(row, stage))]
        note = "deleted" if row["deleted_at"] else (problems[0] if problems else "")
        table.append(
            [
                row["id"],
                row["display_path"] or "-",
                row["tenant_id"],
                *(row[f"{stage}_status"] for stage in STAGES),
                str(row["current_cropped_frames_version"] or "-"),
                _when(row["uploaded_at"]),
                note if len(note) <= 70 else note[:69] + "…",
            ]
        )
    print_table(["video", "file", "tenant", *STAGES, "version", "uploaded", "note"], table)
    return 0


def export_video(args) -> int:
    from captionacc_assets.platform import LocalPlatform

    wanted = [(fmt, getattr(args, fmt)) for fmt in EXPORT_FORMATS if getattr(args, fmt) is not None]
    if not wanted:
        raise InputError("say what to export: --srt FILE, --vtt FILE and/or --json FILE ('-' prints it)")
    _check_outputs(args, None)
    platform = LocalPlatform.open()
    row = platform.catalog.require_video(args.video_id)
    keys = platform.keys(args.video_id)
    for fmt, _ in wanted:
        if not platform.storage.exists(keys.export(fmt)):
            raise InputError(
                f"video {args.video_id!r} has no {fmt} export yet (layout={row['layout_status']}, "
                f"text={row['text_status']}): approve its layout (`captionacc approve {args.video_id}`) and "
                f"let its approved processing finish; `captionacc status {args.video_id}` shows where it is"
            )
    for fmt, path in wanted:
        data = platform.storage.get_bytes(keys.export(fmt))
        if path == "-":
            sys.stdout.write(data.decode("utf-8"))
        else:
            Path(path).write_bytes(data)
            print(f"wrote {path}")
    return 0


def run_demo(args) -> int:
    from captionacc_assets.demo import run_demo as demo

    return demo(seed=args.seed)


def run_ui(args) -> int:
    from captionacc_assets.platform import prepare_dagster_home
    from captionacc_assets.settings import local_paths
    from captionacc_assets.ui_process import dagster_dev_command, supervise

    paths = local_paths()
    dagster_home = prepare_dagster_home(paths)
    workspace = Path(__file__).resolve().parents[1] / "workspace.yaml"
    log_path = paths.home / "logs" / "ui.log"
    print(
        f"captionacc ui: the Dagster UI at http://127.0.0.1:{args.port} for CAPTIONACC_HOME={paths.home}; "
        f"Dagster's logs in {log_path}; Ctrl-C stops it",
        flush=True,
    )
    # From DAGSTER_HOME, so `dagster dev` does not warn about the repository's own dagster.yaml.
    return supervise(
        dagster_dev_command(workspace, args.port), cwd=dagster_home, log_path=log_path, verbose=args.verbose
    )


def run_eval_command(args) -> int:
    from captionacc_assets.evaluation.runner import eval_command

    return eval_command(args)


def run_train_extents(args) -> int:
    from captionacc_assets.extents_training.train import train_command

    return train_command(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="captionacc", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "process", help="upload videos (files or folders), process them, approve their layouts, caption them"
    )
    p.add_argument("video", nargs="+", help="video files, or folders of them; each file is processed once")
    p.add_argument("--tenant", default=DEFAULT_TENANT)
    p.add_argument(
        "--approve",
        choices=("auto", "always"),
        default="auto",
        help="auto: approve the proposed layout only above --min-confidence",
    )
    p.add_argument(
        "--min-confidence",
        type=_unit_interval_argument,
        default=None,
        help="layout confidence in [0, 1] needed by --approve auto "
        "(default: env CAPTIONACC_APPROVE_CONFIDENCE, else 0.5)",
    )
    p.add_argument("--srt", help="write the SRT here (one video)")
    p.add_argument("--vtt", help="write the WebVTT here (one video)")
    p.add_argument("--json", help="write the JSON here (one video)")
    p.add_argument("--out-dir", help="write NAME.srt, NAME.vtt and NAME.json of each video into this folder")
    p.add_argument("--verbose", action="store_true", help="print Dagster's log lines instead of progress bars")
    p.set_defaults(func=process_video)

    p = sub.add_parser("upload", help="register a video as an upload (for a running dagster dev)")
    p.add_argument("video")
    p.add_argument("--tenant", default=DEFAULT_TENANT)
    p.set_defaults(func=upload_video)

    p = sub.add_parser("approve", help="approve a video's layout (the proposed one, or --crop)")
    p.add_argument("video_id")
    p.add_argument(
        "--crop",
        action="append",
        help="normalized l,t,r,b (top-left origin); give it twice for two caption zones "
        "(e.g. dialogue at the bottom and signs at the top)",
    )
    p.add_argument("--by", default="cli", help="who approves (recorded in the lineage)")
    p.set_defaults(func=approve_layout)

    p = sub.add_parser("delete", help="soft-delete a video (the automation cancels its runs)")
    p.add_argument("video_id")
    p.set_defaults(func=delete_video)

    p = sub.add_parser("status", help="a video's stages, errors, versions and exports (every video without an id)")
    p.add_argument("video_id", nargs="?")
    p.add_argument("--tenant", help="only this tenant's videos (without a video id)")
    p.set_defaults(func=show_status)

    p = sub.add_parser("export", help="write a processed video's captions as SRT, WebVTT or JSON")
    p.add_argument("video_id")
    p.add_argument("--srt", help="SRT file to write ('-' prints it)")
    p.add_argument("--vtt", help="WebVTT file to write ('-' prints it)")
    p.add_argument("--json", help="JSON file to write ('-' prints it)")
    p.set_defaults(func=export_video)

    p = sub.add_parser("demo", help="make a sample video with known captions and process it")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run_demo)

    p = sub.add_parser("eval", help="score the pipeline on generated videos with known captions")
    add_eval_arguments(p)
    p.set_defaults(func=run_eval_command)

    p = sub.add_parser("train-extents", help="train the caption frame extents pair model on generated videos")
    add_train_arguments(p)
    p.set_defaults(func=run_train_extents)

    p = sub.add_parser("ui", help="open the Dagster UI on this CAPTIONACC_HOME")
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--verbose", action="store_true", help="also print the daemon's per-tick sensor lines")
    p.set_defaults(func=run_ui)
    return parser


def _error_exit(error: Exception) -> int:
    """Print an error a person can act on and return exit code 2; re-raise anything else (a bug).

    An OSError outside a stage is e.g. the upload's copy into a full CAPTIONACC_HOME."""
    shown = error if isinstance(error, InputError) else environment_fault(error)
    if shown is None:
        raise error
    print(f"error: {shown}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (InputError, EnvironmentFault, OSError) as error:
        return _error_exit(error)


def run() -> None:
    """The `captionacc` command: `main`, then an exit without the interpreter's last full
    garbage collection. With Dagster's object graph and the engines alive that collection took
    ~1.1 s of a 60 s video's ~18 s (docs/benchmarks.md); frozen objects are left out of it, while
    atexit handlers, thread joins and open files' flushes still run. Tests call `main`."""
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
