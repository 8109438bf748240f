"""`captionacc process` of an older commit and of this checkout on the same video, alternately, in one run.

Speed-ups and slow-downs are ratios against a baseline taken in the same run (the machines
are noisy). The older code runs from a `git worktree` in the same venv: the editable install's
import finder is removed from `sys.meta_path` so the worktree's package is the one imported.

    .venv/bin/python benchmarks/bench_before_after.py --base 6670c4a [--case 60s|10min] [--repeats 2] [--json F]
"""

import argparse
import hashlib
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_process import CASES, captioned_spec, decode_floor

from captionacc_assets.synthetic.generate import write_video

REPO = Path(__file__).resolve().parents[1]
# Runs the `captionacc` CLI of the package at argv[1] instead of the editable install's.
OLD_CLI = (
    "import sys; root = sys.argv.pop(1); "
    "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]; "
    "sys.path.insert(0, root); import captionacc_assets; "
    "assert captionacc_assets.__file__.startswith(root), captionacc_assets.__file__; "
    "from captionacc_assets import cli; "
    "cli.run() if hasattr(cli, 'run') else sys.exit(cli.main())"  # the console entry of that commit
)


def process(command: list[str], video: Path, home: Path) -> dict:
    home.mkdir(parents=True)
    env = dict(os.environ, CAPTIONACC_HOME=str(home), DAGSTER_HOME=str(home / "dagster"))
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run(
        command + ["process", str(video), "--approve", "always", "--json", str(home / "out.json")],
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(f"{command} failed:\n{out.stdout}\n{out.stderr}")
    exported = (home / "out.json").read_bytes()
    texts = [c["text"] for c in json.loads(exported)["captions"]]
    rss = re.search(r"peak RSS (\d+) MB", out.stdout)  # the CLI's own high-water mark (VmHWM)
    steps = dict(re.findall(r"^\s{4}(\S+)\s+([\d.]+) s$", out.stdout, re.M))
    return {
        "seconds": round(seconds, 2),
        # CPU seconds of the run (user + system): the work done, steadier than wall time on a shared host
        "cpu_s": round(after.ru_utime - used.ru_utime + after.ru_stime - used.ru_stime, 2),
        # start-up, the time between steps and between the two runs, and the exit
        "outside_steps_s": round(seconds - sum(float(v) for v in steps.values()), 2),
        "peak_rss_mb": int(rss.group(1)) if rss else None,
        "steps_s": {k: float(v) for k, v in steps.items()},
        "captions": texts,
        "json_sha256": hashlib.sha256(exported).hexdigest(),  # the whole export: times, texts, keys
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True, help="the older commit")
    parser.add_argument("--case", default="60s", choices=sorted(CASES))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", help="write every run (seconds, peak RSS, steps, captions) here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-before-after-") as tmp:
        tmp = Path(tmp)
        worktree = tmp / "base"
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "-f", "--detach", str(worktree), args.base],
            check=True,
            capture_output=True,
        )
        try:
            video = write_video(captioned_spec(**CASES[args.case]), tmp / f"{args.case}.mp4")
            commands = {
                "before": [sys.executable, "-c", OLD_CLI, str(worktree)],
                "after": [str(Path(sys.executable).with_name("captionacc"))],
            }
            rows = []
            for repeat in range(args.repeats):
                floor = decode_floor(video)
                for name, command in commands.items():
                    result = process(command, video, tmp / f"{name}-{repeat}")
                    rows.append(
                        {
                            "code": name,
                            "repeat": repeat,
                            "decode_floor_s": round(floor, 2),
                            "ratio_to_floor": round(result["seconds"] / floor, 2),
                            **result,
                        }
                    )
        finally:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(worktree)], capture_output=True
            )
    same = len({json.dumps(r["captions"], ensure_ascii=False) for r in rows}) == 1
    for row in rows:
        steps = ", ".join(f"{k} {v:.2f}" for k, v in row["steps_s"].items())
        print(
            f"{row['code']:<7} run {row['repeat'] + 1}: {row['seconds']:6.2f} s, floor {row['decode_floor_s']:.2f} s, "
            f"{row['ratio_to_floor']:.1f}x the floor, CPU {row['cpu_s']:.1f} s, outside the steps "
            f"{row['outside_steps_s']:.2f} s, peak RSS {row['peak_rss_mb']} MB, "
            f"{len(row['captions'])} captions; steps (s): {steps}"
        )
    for name in ("before", "after"):
        mine = [r for r in rows if r["code"] == name]
        medians = {
            k: statistics.median(r[k] for r in mine) for k in ("seconds", "ratio_to_floor", "cpu_s", "outside_steps_s")
        }
        print(f"{name:<7} median: " + ", ".join(f"{k} {v:.2f}" for k, v in medians.items()))
    print(f"captions identical across all runs: {same}")
    print(f"captions json byte-identical across all runs: {len({r['json_sha256'] for r in rows}) == 1}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
