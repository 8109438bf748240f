"""Per-stage time and peak memory of `captionacc process`, beside the PyAV decode floor.

Usage:  .venv/bin/python benchmarks/bench_process.py [--only 60s|60s-1080p|10min] [--out bench.json]

Each case renders a synthetic video with burned-in captions, times a bare PyAV decode of
the same file (the floor), then runs `captionacc process` in a fresh CAPTIONACC_HOME as a
child process and reads its peak RSS from the kernel's accounting of that child.
"""

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av

from captionacc_assets.synthetic.video_spec import CaptionStyle, Cue, VideoSpec
from captionacc_assets.synthetic.generate import write_video

LINES = [
    "我们明天见",
    "你好，世界",
    "Where are you going?",
    "这是什么地方",
    "I will be right back",
    "今天天气很好",
    "Do you remember me?",
    "他已经走了",
    "We need to talk",
    "谢谢你的帮助",
]


def captioned_spec(width: int, height: int, fps: float, duration_s: float, cues: int, seed: int) -> VideoSpec:
    """`cues` captions spread evenly, each shown for 60% of its slot (times on the 0.1 s grid)."""
    slot = duration_s / cues
    items = []
    for k in range(cues):
        start = round(k * slot + 0.2 * slot, 1)
        end = round(start + 0.6 * slot, 1)
        items.append(Cue(start, end, LINES[k % len(LINES)]))
    return VideoSpec(
        width=width,
        height=height,
        fps=fps,
        duration_s=duration_s,
        cues=tuple(items),
        style=CaptionStyle(),
        background="moving",
        seed=seed,
    )


CASES = {
    "60s": dict(width=1280, height=720, fps=30.0, duration_s=60.0, cues=20, seed=1),
    "60s-1080p": dict(width=1920, height=1080, fps=30.0, duration_s=60.0, cues=20, seed=2),  # peak RSS at 1080p
    "10min": dict(width=1920, height=1080, fps=30.0, duration_s=600.0, cues=150, seed=2),
}


def decode_floor(path: Path) -> float:
    """Seconds to decode every frame of the file with PyAV (no colour conversion)."""
    start = time.perf_counter()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for _ in container.decode(stream):
            pass
    return time.perf_counter() - start


def run_process(path: Path, home: Path) -> dict:
    home.mkdir(parents=True, exist_ok=True)  # `process` refuses an output in a missing folder
    env = dict(os.environ, CAPTIONACC_HOME=str(home), DAGSTER_HOME=str(home / "dagster"))
    cli = Path(sys.executable).with_name("captionacc")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    out = subprocess.run(
        [str(cli), "process", str(path), "--approve", "always", "--json", str(home / "out.json")],
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if out.returncode != 0:
        raise SystemExit(f"captionacc process failed:\n{out.stdout}\n{out.stderr}")
    steps = dict(re.findall(r"^\s{4}(\S+)\s+([\d.]+) s$", out.stdout, re.M))
    captions = len(json.loads((home / "out.json").read_text())["captions"])
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(max(peak_kb, before) / 1024),
        "steps_s": {k: float(v) for k, v in steps.items()},
        "captions": captions,
        "stdout": out.stdout,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=sorted(CASES))
    parser.add_argument("--out")
    args = parser.parse_args()
    results = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    }
    for name, case in CASES.items():
        if args.only and name != args.only:
            continue
        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
            tmp = Path(tmp)
            spec = captioned_spec(**case)
            video = write_video(spec, tmp / f"{name}.mp4")
            floor = decode_floor(video)
            result = run_process(video, tmp / "home")
            result.update(
                decode_floor_s=round(floor, 2),
                truth_captions=len(spec.cues),
                video=f"{case['width']}x{case['height']} {case['fps']:g} fps {case['duration_s']:g} s H.264",
                size_mb=round(video.stat().st_size / 1e6, 1),
            )
            print(f"== {name}: {result['video']}\n{result.pop('stdout')}", flush=True)
            results[name] = result
            print(json.dumps(result, indent=2), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
