"""Layout inference of an older commit and of this checkout on the same OCR, in one run.

Layout inference is a pure function of the full frames' OCR boxes, and everything after it (the
approval, the crop, the captions) follows from the proposal. So where the older and the newer
`infer_layout` give the same main zone (region, anchor, confidence, line count, box labels) and no
second zone, a single-zone video's captions cannot change. This runs both on the OCR of every
video of an eval set (the frames initial processing samples, read by RapidOCR once and cached
beside the videos) and lists the videos where they differ.

    .venv/bin/python -m captionacc_assets.evaluation.layout_before_after --base 973d1e1 --size full
    .venv/bin/python -m captionacc_assets.evaluation.layout_before_after --base 973d1e1 --size full --renderer libass
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

from captionacc_assets.core.index_space import full_frame_indices
from captionacc_assets.core.layout import infer_layout
from captionacc_assets.evaluation.eval_set import build_eval_set, write_eval_set
from captionacc_assets.compute.extract_frames_and_ocr import MIN_LAYOUT_FRAMES
from captionacc_assets.settings import local_paths

REPO = Path(__file__).resolve().parents[2]


def _old_infer_layout(base: str, work: Path):
    """`infer_layout` of `core/layout.py` at commit `base` (it imports only modules that are unchanged
    or compatible: caption_text, ocr.engine, region)."""
    source = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{base}:captionacc_assets/core/layout.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = work / "layout_before.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("captionacc_layout_before", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module.infer_layout


def ocr_frames(video: Path, cache: Path, engine) -> list:
    """(frame index, boxes) of the full frames initial processing samples from `video`, cached."""
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    from captionacc_assets.core.video import iter_frames_at, probe_video

    probe = probe_video(video)
    indices = full_frame_indices(probe.frame_count, MIN_LAYOUT_FRAMES)
    frames = [(index, engine.recognize(image)) for index, image in iter_frames_at(video, indices, probe=probe)]
    cache.write_bytes(pickle.dumps(frames))
    return frames


def same_main_zone(before, after) -> bool:
    return (
        before.region == after.region
        and before.anchor == after.anchor
        and before.confidence == after.confidence
        and before.line_count == after.line_count
        and before.vertical_center == after.vertical_center
        and before.box_height == after.box_height
        and getattr(before, "anchor_position", None) == after.anchor_position
        and before.box_labels == after.box_labels
    )


def compare(base: str, size: str, seed: int, renderer: str, out: Path) -> dict:
    from captionacc_assets.core.ocr.rapid import RapidOcrEngine

    items = build_eval_set(size, seed, renderer)
    videos_dir = out / ("videos" if renderer == "generator" else f"videos-{renderer}")
    paths = write_eval_set(items, videos_dir)
    engine = RapidOcrEngine()
    rows = []
    with tempfile.TemporaryDirectory(prefix="captionacc-layout-before-") as work:
        before_infer = _old_infer_layout(base, Path(work))
        for item, video in zip(items, paths):
            frames = ocr_frames(video, video.with_name(f".{video.stem}.{item.spec_hash[:12]}.ocr.pkl"), engine)
            before, after = before_infer(frames), infer_layout(frames)
            rows.append(
                {
                    "name": item.name,
                    "true_zones": item.spec.zone_count if item.spec.cues else 0,
                    "main_zone_same": same_main_zone(before, after),
                    "confidence_before": before.confidence,
                    "zones_after": [(z.placement, round(z.confidence, 4)) for z in after.zones],
                }
            )
            print(
                f"{item.name:<40} {'same' if rows[-1]['main_zone_same'] else 'DIFFERENT':<9} "
                f"before {before.confidence:.3f}  after {rows[-1]['zones_after']}",
                flush=True,
            )
    single = [r for r in rows if r["true_zones"] <= 1]
    summary = {
        "base": base,
        "size": size,
        "seed": seed,
        "renderer": renderer,
        "videos": len(rows),
        "single_zone_videos": len(single),
        "single_zone_main_zone_same": sum(r["main_zone_same"] for r in single),
        "single_zone_given_a_second_zone": sum(len(r["zones_after"]) > 1 for r in single),
        "rows": rows,
    }
    print(
        f"single-zone videos: {summary['single_zone_main_zone_same']}/{len(single)} with the same main zone, "
        f"{summary['single_zone_given_a_second_zone']} given a second zone"
    )
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the older commit")
    parser.add_argument("--size", default="full")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--renderer", default="generator", choices=("generator", "libass"))
    parser.add_argument("--out", default=None, help="where the eval videos are (default: eval/ in CAPTIONACC_HOME)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else local_paths().home / "eval"
    summary = compare(args.base, args.size, args.seed, args.renderer, out)
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1), encoding="utf-8")
    single = summary["single_zone_videos"]
    return (
        0 if summary["single_zone_main_zone_same"] == single and not summary["single_zone_given_a_second_zone"] else 1
    )


if __name__ == "__main__":
    sys.exit(main())
