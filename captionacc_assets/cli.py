"""The `captionacc` command: process a video end to end, or act on the catalog for `dagster dev`."""

import argparse
import json
import os
import resource
import sys
from pathlib import Path

from captionacc_assets.core.errors import EnvironmentFault, InputError
from captionacc_assets.core.region import Region
from captionacc_assets.evaluation.options import add_eval_arguments
from captionacc_assets.extents_training.options import add_train_arguments
from captionacc_assets.settings import DEFAULT_TENANT, approve_confidence_threshold, environment_fault, unit_interval


def _print_stage(name: str, run) -> None:
    """Wall time of the stage, of each Dagster step, and of the parts of each compute job."""
    status = "ok" if run.success else "FAILED"
    print(f"  {name:<22} {run.seconds:8.2f} s  {status}")
    for step, seconds in run.step_seconds.items():
        print(f"    {step:<32} {seconds:8.2f} s")
    for asset, metadata in run.metadata.items():
        if "timings_s" in metadata:
            parts = ", ".join(f"{part} {sec:.2f}" for part, sec in metadata["timings_s"].items())
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
        if row.get(f"{stage}_status") == "error" and (details or {}).get("message"):
            return details["message"]
    return run.error or "unknown error"


def _approval_threshold(args) -> float | None:
    """--min-confidence, else CAPTIONACC_APPROVE_CONFIDENCE, read only when --approve auto needs it."""
    if args.min_confidence is not None:
        return args.min_confidence
    return approve_confidence_threshold() if args.approve == "auto" else None


def _check_outputs(args) -> None:
    """Refuse at once an output that would overwrite the input video or another output, or that
    lies in a folder that does not exist, so nothing is uploaded or processed for nothing."""
    video = Path(args.video)
    checked: list[tuple[str, Path]] = []
    for flag, value in (("--srt", args.srt), ("--vtt", args.vtt), ("--json", args.json)):
        if value is None:
            continue
        if not value.strip():
            raise InputError(f"{flag} is empty: give the file to write")
        path = Path(value)
        if _same_file(path, video):
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


def process_video(args) -> int:
    from captionacc_assets.platform import LocalPlatform

    _check_outputs(args)
    threshold = _approval_threshold(args)
    platform = LocalPlatform.open()
    platform.require_no_automation()
    if platform.recover_dead_runs():
        print("failed the runs of an earlier `captionacc process` that was killed, and cleaned up after them")
    video_id, resumed = platform.open_for_processing(Path(args.video), args.tenant)
    print(f"video {video_id} {'continued from its last published stage' if resumed else 'uploaded'} "
          f"for tenant {args.tenant} (CAPTIONACC_HOME={platform.paths.home})")
    print("stages:")
    if platform.initial_published(video_id):
        print("  initial processing     already published")
    else:
        initial = platform.initial_processing(video_id)
        _print_stage("initial processing", initial)
        if not initial.success:
            return _stage_failed(platform, video_id, ("layout",), initial)

    layout = platform.proposed_layout(video_id)
    region = tuple(round(v, 3) for v in layout["region"])
    print(f"  proposed caption region {region} anchor={layout['anchor_type']} "
          f"confidence={layout['confidence']:.2f}")
    if platform.catalog.latest_cropped_frames_version(video_id) is None:
        if args.approve == "auto" and layout["confidence"] < threshold:
            print(f"layout confidence {layout['confidence']:.2f} is below {threshold:.2f}: not approving.\n"
                  f"Inspect it in the Dagster UI, then run `captionacc approve {video_id} --crop l,t,r,b` "
                  f"or rerun with --approve always.", file=sys.stderr)
            return 3
        platform.approve(video_id, None, requested_by=f"cli:{args.approve}")
    if platform.captions_committed(video_id):
        print("  approved processing    already published")
    else:
        approved = platform.approved_processing(video_id)
        _print_stage("approved processing", approved)
        if not approved.success:
            return _stage_failed(platform, video_id, ("layout", "boundaries", "text"), approved)
        captions = approved.metadata["captions_db"]
        print(f"{captions['caption_count']} captions over {captions['frame_count']} frames; "
              f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    keys = platform.keys(video_id)
    for fmt, path in (("srt", args.srt), ("vtt", args.vtt), ("json", args.json)):
        if path:
            Path(path).write_bytes(platform.storage.get_bytes(keys.export(fmt)))
            print(f"wrote {path}")
    if not any((args.srt, args.vtt, args.json)):
        print(platform.storage.get_bytes(keys.export("srt")).decode("utf-8"))
    return 0


def upload_video(args) -> int:
    from captionacc_assets.platform import LocalPlatform

    video_id = LocalPlatform.open().upload(Path(args.video), args.tenant)
    print(video_id)
    return 0


def approve_layout(args) -> int:
    from captionacc_assets.platform import LocalPlatform

    region = Region.parse(args.crop) if args.crop is not None else None
    version = LocalPlatform.open().approve(args.video_id, region, requested_by=args.by)
    print(f"approved version {version['version']} of {args.video_id}: crop "
          f"{(version['crop_left'], version['crop_top'], version['crop_right'], version['crop_bottom'])}")
    return 0


def delete_video(args) -> int:
    from captionacc_assets.platform import LocalPlatform

    LocalPlatform.open().catalog.soft_delete(args.video_id)
    print(f"deleted {args.video_id}: its queued and running runs are cancelled by the running automation")
    return 0


def run_demo(args) -> int:
    from captionacc_assets.demo import run_demo as demo

    return demo(seed=args.seed)


def run_ui(args) -> int:
    from captionacc_assets.platform import prepare_dagster_home
    from captionacc_assets.settings import local_paths

    prepare_dagster_home(local_paths())
    workspace = Path(__file__).resolve().parents[1] / "workspace.yaml"
    beside = Path(sys.executable).with_name("dagster")  # the venv's, even when the venv is not activated
    dagster = str(beside) if beside.exists() else "dagster"
    os.execvp(dagster, [dagster, "dev", "-w", str(workspace), "-p", str(args.port)])


def run_eval_command(args) -> int:
    from captionacc_assets.evaluation.runner import eval_command

    return eval_command(args)


def run_train_extents(args) -> int:
    from captionacc_assets.extents_training.train import train_command

    return train_command(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="captionacc", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("process", help="upload a video, process it, approve its layout, caption it")
    p.add_argument("video")
    p.add_argument("--tenant", default=DEFAULT_TENANT)
    p.add_argument("--approve", choices=("auto", "always"), default="auto",
                   help="auto: approve the proposed layout only above --min-confidence")
    p.add_argument("--min-confidence", type=_unit_interval_argument, default=None,
                   help="layout confidence in [0, 1] needed by --approve auto "
                        "(default: env CAPTIONACC_APPROVE_CONFIDENCE, else 0.5)")
    p.add_argument("--srt")
    p.add_argument("--vtt")
    p.add_argument("--json")
    p.set_defaults(func=process_video)

    p = sub.add_parser("upload", help="register a video as an upload (for a running dagster dev)")
    p.add_argument("video")
    p.add_argument("--tenant", default=DEFAULT_TENANT)
    p.set_defaults(func=upload_video)

    p = sub.add_parser("approve", help="approve a video's layout (the proposed one, or --crop)")
    p.add_argument("video_id")
    p.add_argument("--crop", help="normalized l,t,r,b (top-left origin)")
    p.add_argument("--by", default="cli", help="who approves (recorded in the lineage)")
    p.set_defaults(func=approve_layout)

    p = sub.add_parser("delete", help="soft-delete a video (the automation cancels its runs)")
    p.add_argument("video_id")
    p.set_defaults(func=delete_video)

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
    p.set_defaults(func=run_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (InputError, EnvironmentFault, OSError) as error:
        # An OSError outside a stage is e.g. the upload's copy into a full CAPTIONACC_HOME.
        shown = error if isinstance(error, InputError) else environment_fault(error)
        if shown is None:
            raise
        print(f"error: {shown}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
