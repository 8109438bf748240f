"""The `captionacc` command: process a video end to end, or act on the catalog for `dagster dev`."""

import argparse
import json
import os
import resource
import sys
from pathlib import Path

from captionacc_assets.core.errors import InputError
from captionacc_assets.core.region import Region
from captionacc_assets.evaluation.options import add_eval_arguments
from captionacc_assets.extents_training.options import add_train_arguments
from captionacc_assets.settings import DEFAULT_TENANT, MissingSettingError, approve_confidence_threshold


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


def _stage_error(platform, video_id: str, stage: str, run) -> str:
    row = platform.catalog.get_video(video_id) or {}
    details = row.get(f"{stage}_error_details")
    if isinstance(details, str):
        details = json.loads(details)
    return (details or {}).get("message") or run.error or "unknown error"


def process_video(args) -> int:
    from captionacc_assets.platform import LocalPlatform

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
            print(f"error: {_stage_error(platform, video_id, 'layout', initial)}", file=sys.stderr)
            return 1

    layout = platform.proposed_layout(video_id)
    region = tuple(round(v, 3) for v in layout["region"])
    print(f"  proposed caption region {region} anchor={layout['anchor_type']} "
          f"confidence={layout['confidence']:.2f}")
    threshold = args.min_confidence
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
            print(f"error: {approved.error}", file=sys.stderr)
            return 1
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

    region = Region.parse(args.crop) if args.crop else None
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
    p.add_argument("--min-confidence", type=float, default=approve_confidence_threshold(),
                   help="layout confidence needed by --approve auto (env CAPTIONACC_APPROVE_CONFIDENCE)")
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
    except (InputError, MissingSettingError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
