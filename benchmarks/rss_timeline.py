"""Peak RSS of `captionacc process` second by second, to see which step sets it.

    .venv/bin/python benchmarks/rss_timeline.py [--width 1920 --height 1080 --seconds 60]

Renders a `bench_process.captioned_spec` clip, runs `captionacc process` on it in a fresh
CAPTIONACC_HOME and samples the child's VmRSS from /proc every 0.1 s; prints the highest
sample of each second, the stage lines of the output with the RSS when each was printed,
and the peak RSS the kernel accounted for the child.
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_process import captioned_spec

from captionacc_assets.synthetic.generate import write_video


def vm_rss_mb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rss-timeline-") as tmp:
        tmp = Path(tmp)
        spec = captioned_spec(
            width=args.width,
            height=args.height,
            fps=30.0,
            duration_s=args.seconds,
            cues=max(1, round(args.seconds / 3)),
            seed=2,
        )
        video = write_video(spec, tmp / "clip.mp4")
        home = tmp / "home"
        (home / "dagster").mkdir(parents=True)
        env = dict(os.environ, CAPTIONACC_HOME=str(home), DAGSTER_HOME=str(home / "dagster"), PYTHONUNBUFFERED="1")
        cli = Path(sys.executable).with_name("captionacc")
        started = time.perf_counter()
        child = subprocess.Popen(
            [str(cli), "process", str(video), "--approve", "always", "--json", str(home / "out.json")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        samples: list[tuple[float, int]] = []

        def sample() -> None:
            while child.poll() is None:
                if (mb := vm_rss_mb(child.pid)) is not None:
                    samples.append((time.perf_counter() - started, mb))
                time.sleep(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        lines = [(time.perf_counter() - started, line.rstrip()) for line in child.stdout]
        child.wait()
        sampler.join()
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit("\n".join(line for _, line in lines))
    for at, line in lines:
        if " s " in line or line.rstrip().endswith(" s") or "parts (s)" in line or "peak RSS" in line:
            before = [mb for t, mb in samples if t <= at]
            print(f"{at:6.1f} s  rss {before[-1] if before else 0:4d} MB  {line.strip()[:110]}")
    per_second: dict[int, int] = {}
    for t, mb in samples:
        per_second[int(t)] = max(per_second.get(int(t), 0), mb)
    print("highest RSS per second (s:MB):", " ".join(f"{s}:{mb}" for s, mb in sorted(per_second.items())))
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    print(f"{args.width}x{args.height}, {args.seconds:g} s: {seconds:.1f} s end to end, peak RSS {peak} MB")


if __name__ == "__main__":
    main()
