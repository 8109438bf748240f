"""One-character changes between back-to-back captions, over moving footage: found / total, and phantom splits.

The videos are `captionacc_assets/evaluation/one_char_set.py`'s, seed 0 (rendered once, cached
under --out): counters ("Round 1/12" -> "Round 2/12"), clocks ("00:17" -> "00:18"), scores
("3 : 2" -> "3 : 3"), Latin and CJK lines with one character changed, each caption shown back
to back with the next, plus long captions that do not change (where a split is a phantom).
The pair model trains and validates on other seeds of the same set.

Each video is decoded once at 10 Hz inside a caption region around the captions (as layout
would propose), and every pair classifier given is run on the same crops:

- `found`: true changes (cue A then cue B at once, one character apart) with a decoded
  boundary within one index;
- `phantom splits`: decoded boundaries inside a true caption, two or more indices from any
  true boundary;
- `same -> different`: consecutive pairs that show one unchanged caption whose combined
  (forward and backward) probability of `different` beats `same`.

With --ocr the decoded spans are also read (median frame, RapidOCR) and assembled into
caption rows as the pipeline does (`assemble_caption_rows`), and the same counts are
taken on the rows.

    .venv/bin/python benchmarks/bench_one_char_changes.py --weights OLD.pt NEW.pt [--baseline] [--ocr]

`--weights` defaults to the shipped weights; `--base-rev REV` adds the weights shipped at
REV (read with `git show`, so the same run compares before and after).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from captionacc_assets.core.extents.decode import combined_pair_probabilities, decode_captions
from captionacc_assets.core.extents.labels import DIFFERENT, SAME
from captionacc_assets.core.region import Region
from captionacc_assets.core.video import iter_frames_at, probe_video
from captionacc_assets.evaluation.eval_set import EvalItem
from captionacc_assets.evaluation.one_char_set import build_one_char_set, caption_region, truth_states
from captionacc_assets.synthetic.generate import write_video
from captionacc_assets.synthetic.libass_render import write_libass_video

REPO = Path(__file__).resolve().parents[1]
TOLERANCE = 1  # a found change: a decoded boundary within this many indices
PHANTOM_MARGIN = 2  # a phantom: a boundary at least this far from every true boundary


def render(item: EvalItem, out_dir: Path) -> Path:
    path = out_dir / f"{item.name}-{item.spec_hash[:12]}.mp4"
    if not path.exists():
        (write_video if item.renderer == "generator" else write_libass_video)(item.spec, path)
    return path


def score_boundaries(states: np.ndarray, boundaries: set[int]) -> dict:
    """Changes found and phantom splits, given decoded boundaries (index of a span's first frame)."""
    true_changes = [
        i for i in range(1, len(states)) if states[i - 1] >= 0 and states[i] >= 0 and states[i - 1] != states[i]
    ]
    true_all = [i for i in range(1, len(states)) if states[i - 1] != states[i]]
    found = [i for i in true_changes if any(abs(b - i) <= TOLERANCE for b in boundaries)]
    phantoms = [
        b
        for b in boundaries
        if 0 < b < len(states)
        and states[b] >= 0
        and states[b - 1] == states[b]
        and all(abs(b - i) >= PHANTOM_MARGIN for i in true_all)
    ]
    return {
        "changes": len(true_changes),
        "found": len(found),
        "phantom_splits": len(phantoms),
        "missed_at": [i for i in true_changes if i not in found],
        "phantoms_at": sorted(phantoms),
    }


# ---------------------------------------------------------------------------- running


def load_crops(path: Path, region: Region) -> list[np.ndarray]:
    probe = probe_video(path)
    return [crop for _, crop in iter_frames_at(path, range(probe.frame_count), region=region, probe=probe)]


class _Reader:
    """Reads a span's median frame once per (video, span), shared by all classifiers."""

    def __init__(self):
        from captionacc_assets.core.ocr.rapid import RapidOcrEngine

        self.engine = RapidOcrEngine()
        self.cache: dict = {}

    def texts(self, video: str, crops, spans):
        from captionacc_assets.core.caption_assembly import SpanText, frames_for_median
        from captionacc_assets.core.caption_text import read_caption_text
        from captionacc_assets.core.median_frame import median_frame

        out = {}
        for span in spans:
            if span.state != "predicted":
                continue
            key = (video, span.start, span.end)
            if key not in self.cache:
                image = median_frame([crops[i] for i in frames_for_median(span)])
                self.cache[key] = SpanText(*read_caption_text(self.engine, image))
            out[span.start] = self.cache[key]
        return out


def run(cases: list[EvalItem], classifiers: dict, out_dir: Path, ocr: bool, log=print) -> dict:
    reader = _Reader() if ocr else None
    totals = {
        name: {
            "decoded": {"changes": 0, "found": 0, "phantom_splits": 0},
            "rows": {"changes": 0, "found": 0, "phantom_splits": 0},
            "same_pairs": 0,
            "same_called_different": 0,
            "seconds": 0.0,
        }
        for name in classifiers
    }
    per_video = []
    for case in cases:
        path = render(case, out_dir)
        crops = load_crops(path, caption_region(case.spec))
        states = truth_states(case.spec, len(crops))
        same = (states[:-1] >= 0) & (states[:-1] == states[1:])
        row = {"video": case.name}
        for name, classifier in classifiers.items():
            started = time.perf_counter()
            predictions = classifier.predict(iter(crops))
            totals[name]["seconds"] += time.perf_counter() - started
            probs = combined_pair_probabilities(predictions)
            spans = decode_captions(predictions)
            decoded = score_boundaries(states, {s.start for s in spans[1:]})
            t = totals[name]
            t["same_pairs"] += int(same.sum())
            t["same_called_different"] += int((same & (probs[:, DIFFERENT] > probs[:, SAME])).sum())
            for key in ("changes", "found", "phantom_splits"):
                t["decoded"][key] += decoded[key]
            result = {"decoded": decoded}
            if reader is not None:
                from captionacc_assets.core.caption_assembly import assemble_caption_rows

                rows = assemble_caption_rows(spans, reader.texts(case.name, crops, spans), len(crops))
                assembled = score_boundaries(states, {r.start_frame_index for r in rows[1:]})
                result["rows"] = assembled
                result["texts"] = [r.caption_ocr for r in rows if r.state == "predicted"]
                for key in ("changes", "found", "phantom_splits"):
                    t["rows"][key] += assembled[key]
            row[name] = result
            log(
                f"{case.name:<60} {name:<22} found {decoded['found']}/{decoded['changes']} "
                f"phantoms {decoded['phantom_splits']}"
                + (
                    f" | rows found {result['rows']['found']}/{result['rows']['changes']} "
                    f"phantoms {result['rows']['phantom_splits']}"
                    if "rows" in result
                    else ""
                )
            )
        per_video.append(row)
    return {"totals": totals, "videos": per_video}


def weights_at(rev: str, dest: Path) -> Path:
    """The extents weights file shipped at git revision `rev`."""
    listing = subprocess.run(
        ["git", "-C", str(REPO), "ls-tree", "--name-only", rev, "captionacc_assets/models/"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    names = [n for n in listing if Path(n).name.startswith("extents_") and n.endswith(".pt")]
    if len(names) != 1:
        raise SystemExit(f"expected one extents weights file at {rev}, found {names}")
    target = dest / Path(names[0]).name
    target.write_bytes(
        subprocess.run(["git", "-C", str(REPO), "show", f"{rev}:{names[0]}"], check=True, capture_output=True).stdout
    )
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", nargs="*", default=[], help="extents weights files to compare (default: shipped)")
    parser.add_argument("--base-rev", help="also the weights shipped at this git revision (before)")
    parser.add_argument("--baseline", action="store_true", help="also the non-learned baseline classifier")
    parser.add_argument("--ocr", action="store_true", help="also read and assemble caption rows (slower)")
    parser.add_argument("--videos", type=int, default=16, help="videos per renderer")
    parser.add_argument("--duration", type=float, default=24.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", default="", help="only videos whose name contains this")
    parser.add_argument("--out", default="/tmp/bench-one-char", help="rendered videos (reused)")
    parser.add_argument("--json", help="write every count here")
    args = parser.parse_args()

    from captionacc_assets.core.extents.baseline import BaselinePairClassifier
    from captionacc_assets.core.extents.model import ModelPairClassifier
    from captionacc_assets.core.extents.weights import shipped_weights

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-one-char-weights-"))
    weights = [Path(w) for w in args.weights]
    if args.base_rev:
        weights.insert(0, weights_at(args.base_rev, tmp))
    if not weights:
        weights = [shipped_weights()]
    classifiers = {}
    for w in weights:
        c = ModelPairClassifier(w, device="cpu")
        classifiers[f"model {c.model_hash[:8]}"] = c
    if args.baseline:
        classifiers["baseline"] = BaselinePairClassifier()
    cases = [c for c in build_one_char_set(args.videos, args.seed, args.duration) if args.only in c.name]
    started = time.perf_counter()
    report = run(cases, classifiers, out_dir, args.ocr, log=lambda m: print(m, file=sys.stderr, flush=True))
    print(
        f"{len(cases)} videos ({args.videos} per renderer, {args.duration:.0f} s each, seed {args.seed}), "
        f"{time.perf_counter() - started:.0f} s"
    )
    for name, t in report["totals"].items():
        d, r = t["decoded"], t["rows"]
        line = (
            f"{name:<16} decoded: found {d['found']}/{d['changes']} ({d['found'] / max(d['changes'], 1):.3f}), "
            f"phantom splits {d['phantom_splits']}, same pairs called different "
            f"{t['same_called_different']}/{t['same_pairs']}"
        )
        if args.ocr:
            line += (
                f" | caption rows: found {r['found']}/{r['changes']} ({r['found'] / max(r['changes'], 1):.3f}), "
                f"phantom splits {r['phantom_splits']}"
            )
        print(line + f" | classify {t['seconds']:.1f} s")
    for renderer in ("generator", "libass"):
        for name in classifiers:
            rows = [v[name]["decoded"] for v in report["videos"] if v["video"].startswith(renderer)]
            if rows:
                print(
                    f"  {renderer:<9} {name:<16} found {sum(r['found'] for r in rows)}/"
                    f"{sum(r['changes'] for r in rows)}, phantom splits {sum(r['phantom_splits'] for r in rows)}"
                )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
