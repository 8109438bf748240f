"""`captionacc train-extents`: train the pair model on generated videos, validate by video.

Training and validation videos come from different generator seeds (so no frame of a
validation video is ever trained on: the original system's split leaked). Every step
draws a class-balanced batch of pairs: consecutive 10 Hz pairs plus "near" pairs a few
frames apart (more changes, starts and ends than consecutive pairs alone hold),
read in a random direction, with augmentation shared by both crops of a pair (flip,
shift, colour and channel swaps) and per crop (noise, flicker). Balanced classes make
the outputs behave like likelihood ratios, which is what the Viterbi decoder wants.

Everything is seeded and run for a fixed number of steps, so a rerun on the same
machine gives the same weights; on another CPU it gives the same quality within noise.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from captionacc_assets.core.errors import InputError
from captionacc_assets.core.extents.change_evidence import ChangeEvidenceParams
from captionacc_assets.core.extents.decode import decode_captions
from captionacc_assets.core.extents.labels import LABELS, REVERSE_PERMUTATION
from captionacc_assets.core.extents.model import ModelPairClassifier, PairNet, save_weights
from captionacc_assets.core.extents.onnx_export import export_onnx
from captionacc_assets.core.extents.pair_inference import CHANGE_EVIDENCE_KEY
from captionacc_assets.core.extents.weights import MODELS_DIR, onnx_path
from captionacc_assets.evaluation.eval_set import RENDERERS
from captionacc_assets.extents_training.data import (
    TRAIN_SEED,
    VALIDATION_SEED,
    VideoExamples,
    load_encoded_split,
    load_split,
    pair_label,
    pair_labels,
)

CALIBRATION_ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)
CALIBRATION_TOLERANCE = 0.005  # caption F1 (within one frame) given up for a more conservative model
_REVERSED_LABEL = torch.tensor(REVERSE_PERMUTATION)


def build_pair_pool(
    videos: list[VideoExamples], rng: np.random.Generator, near_per_frame: int = 2, max_offset: int = 12
) -> np.ndarray:
    """(m, 5) int rows: video, frame a, frame b, label, is_consecutive."""
    rows = []
    for v, video in enumerate(videos):
        n = len(video.states)
        for i in range(n - 1):
            rows.append((v, i, i + 1, pair_label(video.states[i], video.states[i + 1]), 1))
        for i in range(n):
            for _ in range(near_per_frame):
                j = i + int(rng.integers(2, max_offset + 1))
                if j < n:
                    rows.append((v, i, j, pair_label(video.states[i], video.states[j]), 0))
    return np.array(rows, dtype=np.int64)


class BalancedSampler:
    """Batches with every label equally likely; within a label, consecutive pairs half the time."""

    def __init__(self, pool: np.ndarray, rng: np.random.Generator):
        self.rng = rng
        self.groups = []
        for k in range(len(LABELS)):
            for consecutive in (1, 0):
                idx = np.nonzero((pool[:, 3] == k) & (pool[:, 4] == consecutive))[0]
                if len(idx):
                    self.groups.append(idx)
        self.pool = pool

    def batch(self, size: int) -> np.ndarray:
        picks = self.rng.integers(0, len(self.groups), size)
        return self.pool[[g[self.rng.integers(0, len(g))] for g in (self.groups[p] for p in picks)]]


def augment(a: torch.Tensor, b: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Float (B, 3, H, W) pairs, 0..255: shared geometric/colour changes, independent noise."""
    n = a.shape[0]
    rand = lambda *shape: torch.rand(*shape, generator=gen)  # noqa: E731
    flip = rand(n) < 0.5
    a[flip], b[flip] = a[flip].flip(-1), b[flip].flip(-1)
    dx, dy = int(rand(1) * 25) - 12, int(rand(1) * 7) - 3
    a, b = torch.roll(a, (dy, dx), (2, 3)), torch.roll(b, (dy, dx), (2, 3))
    swap = rand(n) < 0.3
    if swap.any():
        perm = torch.randperm(3, generator=gen)
        a[swap], b[swap] = a[swap][:, perm], b[swap][:, perm]
    gain = 0.7 + 0.6 * rand(n, 1, 1, 1)
    bias = 50 * rand(n, 1, 1, 1) - 25
    a, b = a * gain + bias, b * gain + bias
    flicker = lambda: 1 + 0.1 * (rand(n, 1, 1, 1) - 0.5)  # noqa: E731
    sigma = 6 * rand(n, 1, 1, 1)
    a = a * flicker() + sigma * torch.randn(a.shape, generator=gen)
    b = b * flicker() + sigma * torch.randn(b.shape, generator=gen)
    return a.clamp(0, 255), b.clamp(0, 255)


def _metrics(truth: np.ndarray, predicted: np.ndarray) -> dict:
    k = len(LABELS)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (truth, predicted), 1)
    per_class = {}
    for c, label in enumerate(LABELS):
        tp = confusion[c, c]
        precision = tp / max(confusion[:, c].sum(), 1)
        recall = tp / max(confusion[c].sum(), 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        per_class[label] = {
            "precision": round(float(precision), 4),
            "recall": round(float(recall), 4),
            "f1": round(float(f1), 4),
            "support": int(confusion[c].sum()),
        }
    present = [m["f1"] for m in per_class.values() if m["support"]]  # a label absent from the set has no F1
    return {
        "per_class": per_class,
        "macro_f1": round(float(np.mean(present)), 4) if present else 0.0,
        "accuracy": round(float(np.trace(confusion) / max(confusion.sum(), 1)), 4),
        "confusion": confusion.tolist(),
    }


def _truth_spans(states: np.ndarray) -> list[tuple[int, int]]:
    spans, start = [], None
    for i, s in enumerate(states):
        if start is not None and (s != states[start]):
            spans.append((start, i - 1))
            start = None
        if start is None and s >= 0:
            start = i
    if start is not None:
        spans.append((start, len(states) - 1))
    return spans


def validate(classifier: ModelPairClassifier, videos: list[VideoExamples]) -> dict:
    """Pair metrics (forward pairs and backward pairs) and caption-span metrics after decoding."""
    truth_all, fwd_all, bwd_all = [], [], []
    exact = within1 = true_n = pred_n = 0
    for video in videos:
        batches = [
            video.frames[i : i + classifier.batch_size] for i in range(0, len(video.frames), classifier.batch_size)
        ]
        predictions = classifier.predict_preprocessed(batches)
        truth = pair_labels(video.states)
        truth_all.append(truth)
        fwd_all.append(predictions.forward.argmax(1))
        bwd_all.append(_REVERSED_LABEL.numpy()[predictions.backward.argmax(1)])
        truth_spans = _truth_spans(video.states)
        spans = [(s.start, s.end) for s in decode_captions(predictions) if s.state == "predicted"]
        true_n, pred_n = true_n + len(truth_spans), pred_n + len(spans)
        exact += len(set(truth_spans) & set(spans))
        within1 += sum(any(abs(a - c) <= 1 and abs(b - d) <= 1 for c, d in spans) for a, b in truth_spans)
    truth = np.concatenate(truth_all)
    return {
        "forward": _metrics(truth, np.concatenate(fwd_all)),
        "backward": _metrics(truth, np.concatenate(bwd_all)),
        "captions": {
            "true": true_n,
            "predicted": pred_n,
            "exact_spans": exact,
            "spans_within_1_frame": within1,
            "recall_within_1_frame": round(within1 / max(true_n, 1), 4),
            "precision_within_1_frame": round(within1 / max(pred_n, 1), 4),
        },
    }


def format_metrics(report: dict) -> str:
    lines = []
    for direction in ("forward", "backward"):
        m = report[direction]
        lines.append(f"{direction}: macro-F1 {m['macro_f1']:.4f}, accuracy {m['accuracy']:.4f}")
        for label, c in m["per_class"].items():
            lines.append(
                f"  {label:<12} P {c['precision']:.4f}  R {c['recall']:.4f}  F1 {c['f1']:.4f}  n {c['support']}"
            )
    c = report["captions"]
    lines.append(
        f"captions after decoding: {c['true']} true, {c['predicted']} predicted, {c['exact_spans']} exact, "
        f"{c['spans_within_1_frame']} within one frame (recall {c['recall_within_1_frame']:.4f}, "
        f"precision {c['precision_within_1_frame']:.4f})"
    )
    return "\n".join(lines)


def label_prior(pool: np.ndarray) -> np.ndarray:
    """How often each label occurs among consecutive training pairs (add-one smoothed)."""
    counts = np.bincount(pool[pool[:, 4] == 1, 3], minlength=len(LABELS)) + 1.0
    return counts / counts.sum()


def _caption_f1(report: dict) -> float:
    c = report["captions"]
    return 2 * c["spans_within_1_frame"] / max(c["true"] + c["predicted"], 1)


def calibrate_and_save(
    net: PairNet, val_set: list[VideoExamples], prior: np.ndarray, out_dir: Path, *, meta: dict, log=print
) -> dict:
    """Pick how far to pull the balanced model's probabilities towards the real label
    frequencies (logit bias = alpha * log(prior / uniform)) by the decoded captions of the
    validation videos: the largest alpha within `CALIBRATION_TOLERANCE` of the best caption
    F1. Then write the weights with that bias. Returns the validation report."""
    out_dir = Path(out_dir)
    base = save_weights(net, out_dir / "uncalibrated", meta=meta)
    classifier = ModelPairClassifier(base, device="cpu")
    shift = np.log(prior * len(LABELS))
    tried = []
    for alpha in CALIBRATION_ALPHAS:
        classifier.logit_bias = torch.as_tensor(alpha * shift, dtype=torch.float32)
        result = validate(classifier, val_set)
        tried.append((_caption_f1(result), result["captions"]["exact_spans"], -alpha, alpha, result))
        log(
            f"calibration alpha {alpha:.2f}: caption F1 (within one frame) {tried[-1][0]:.4f}, "
            f"exact spans {result['captions']['exact_spans']}, pair macro-F1 {result['forward']['macro_f1']:.4f}"
        )
    # The largest pull towards the real frequencies that costs (almost) nothing on validation:
    # on a tie, fewer false `different` (split captions) is what a viewer notices less.
    best = max(t[0] for t in tried)
    _, _, _, alpha, report = max((t for t in tried if t[0] >= best - CALIBRATION_TOLERANCE), key=lambda t: t[3])
    weights = save_weights(
        net, out_dir, meta={**meta, "calibration_alpha": alpha, "label_prior": prior.tolist()}, logit_bias=alpha * shift
    )
    shutil.rmtree(out_dir / "uncalibrated", ignore_errors=True)
    export_onnx(weights)  # what inference on CPU runs (onnxruntime, no torch)
    model_hash = ModelPairClassifier(weights, device="cpu").model_hash
    report.update(
        meta=meta,
        weights=weights.name,
        model_hash=model_hash,
        weights_bytes=weights.stat().st_size,
        calibration_alpha=alpha,
        calibration={f"{t[3]:.2f}": round(t[0], 4) for t in tried},
    )
    return report


def validation_groups(val_set: list[VideoExamples], held_out: str | None) -> dict[str, list[VideoExamples]]:
    """The validation videos by renderer, and those with the held-out background on their own."""
    groups = {
        renderer: [v for v in val_set if v.conditions.get("renderer", "generator") == renderer]
        for renderer in RENDERERS
    }
    if held_out:
        groups[f"background={held_out} (held out)"] = [v for v in val_set if v.conditions.get("background") == held_out]
    return {name: videos for name, videos in groups.items() if videos}


def train(
    *,
    train_videos: int = 48,
    val_videos: int = 12,
    libass_train_videos: int = 16,
    libass_val_videos: int = 6,
    one_char_train_videos: int = 8,
    one_char_val_videos: int = 4,
    hold_out_background: str | None = None,
    steps: int = 3000,
    batch: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
    cache_dir: Path,
    out_dir: Path,
    threads: int | None = None,
    workers: int = 2,
    log=print,
) -> dict:
    """Train, validate by video, write extents_<hash>.pt and train_report.json in out_dir.

    With `hold_out_background`, no training video has that background and the calibration
    ignores validation videos with it, so their figures measure a picture never seen."""
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    started = time.perf_counter()
    log(
        f"rendering/caching {train_videos} + {libass_train_videos} libass + 2 x {one_char_train_videos} "
        f"one-character training videos (seed {TRAIN_SEED}) and {val_videos} + {libass_val_videos} + "
        f"2 x {one_char_val_videos} validation videos (seed {VALIDATION_SEED}) under {cache_dir}"
    )
    train_set = load_split(train_videos, TRAIN_SEED, Path(cache_dir), workers=workers) + load_encoded_split(
        libass_train_videos, one_char_train_videos, TRAIN_SEED, Path(cache_dir), workers=workers
    )
    val_set = load_split(val_videos, VALIDATION_SEED, Path(cache_dir), workers=workers) + load_encoded_split(
        libass_val_videos, one_char_val_videos, VALIDATION_SEED, Path(cache_dir), workers=workers
    )
    if hold_out_background:
        train_set = [v for v in train_set if v.conditions.get("background") != hold_out_background]
    calibration_set = [v for v in val_set if v.conditions.get("background") != hold_out_background]
    if not train_set or not calibration_set:
        raise InputError(
            f"holding out background={hold_out_background} leaves no training or no validation video: "
            "use more videos or another background"
        )
    data_seconds = time.perf_counter() - started
    rng = np.random.default_rng(seed)
    pool = build_pair_pool(train_set, rng)
    counts = np.bincount(pool[pool[:, 4] == 1, 3], minlength=len(LABELS))
    log(
        f"data ready in {data_seconds:.0f} s: {len(train_set)} training videos, "
        f"{sum(len(v.states) for v in train_set)} frames, "
        f"{len(pool)} pairs; consecutive pairs per label " + ", ".join(f"{l} {c}" for l, c in zip(LABELS, counts))
    )
    sampler = BalancedSampler(pool, rng)
    gen = torch.Generator().manual_seed(seed)
    net = PairNet()
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.02)
    frames = [torch.from_numpy(v.frames) for v in train_set]
    net.train()
    running = 0.0
    for step in range(1, steps + 1):
        rows = sampler.batch(batch)
        a = torch.stack([frames[v][i] for v, i in zip(rows[:, 0], rows[:, 1])]).float()
        b = torch.stack([frames[v][j] for v, j in zip(rows[:, 0], rows[:, 2])]).float()
        labels = torch.from_numpy(rows[:, 3])
        swap = torch.rand(batch, generator=gen) < 0.5
        a, b = torch.where(swap[:, None, None, None], b, a), torch.where(swap[:, None, None, None], a, b)
        labels = torch.where(swap, _REVERSED_LABEL[labels], labels)
        a, b = augment(a, b, gen)
        loss = loss_fn(net(a, b), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
        if step % 250 == 0 or step == steps:
            log(f"step {step}/{steps} loss {running:.4f} ({time.perf_counter() - started:.0f} s)")
    net.eval()
    meta = {
        "train_videos": train_videos,
        "val_videos": val_videos,
        "libass_train_videos": libass_train_videos,
        "libass_val_videos": libass_val_videos,
        "one_char_train_videos": one_char_train_videos,
        "one_char_val_videos": one_char_val_videos,
        "hold_out_background": hold_out_background,
        "steps": steps,
        "batch": batch,
        "lr": lr,
        "seed": seed,
        "train_seed": TRAIN_SEED,
        "validation_seed": VALIDATION_SEED,
        # the classifier also weighs full-resolution change evidence, with today's rules
        CHANGE_EVIDENCE_KEY: ChangeEvidenceParams().as_dict(),
    }
    report = calibrate_and_save(net, calibration_set, label_prior(pool), Path(out_dir), meta=meta, log=log)
    classifier = ModelPairClassifier(Path(out_dir) / report["weights"], device="cpu")
    report["groups"] = {
        name: validate(classifier, videos) for name, videos in validation_groups(val_set, hold_out_background).items()
    }
    report.update(seconds=round(time.perf_counter() - started, 1), data_seconds=round(data_seconds, 1))
    log("validation (videos never trained on):\n" + format_metrics(report))
    for name, group in report["groups"].items():
        log(f"validation, {name}:\n" + format_metrics(group))
    (Path(out_dir) / f"train_report_{report['model_hash']}.json").write_text(json.dumps(report, indent=1))
    log(
        f"wrote {Path(out_dir) / report['weights']} (model hash {report['model_hash']}, "
        f"{report['weights_bytes']} bytes) in {report['seconds']:.0f} s"
    )
    return report


def install(weights: Path) -> Path:
    """Make `weights` and its ONNX graph the shipped model (the previous shipped files are removed)."""
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    graph = onnx_path(weights)
    if not graph.is_file():
        export_onnx(weights)
    for old in [*MODELS_DIR.glob("extents_*.pt"), *MODELS_DIR.glob("extents_*.onnx")]:
        if old.stem != Path(weights).stem:
            old.unlink()
    target = MODELS_DIR / Path(weights).name
    if Path(weights).resolve() != target.resolve():
        shutil.copyfile(graph, onnx_path(target))
        shutil.copyfile(weights, target)
    return target


def train_command(args) -> int:
    report = train(
        train_videos=args.train_videos,
        val_videos=args.val_videos,
        libass_train_videos=args.libass_train_videos,
        libass_val_videos=args.libass_val_videos,
        one_char_train_videos=args.one_char_train_videos,
        one_char_val_videos=args.one_char_val_videos,
        hold_out_background=args.hold_out_background,
        steps=args.steps,
        batch=args.batch,
        seed=args.seed,
        cache_dir=Path(args.cache),
        out_dir=Path(args.out),
        threads=args.threads,
    )
    if args.install:
        print(f"installed {install(Path(args.out) / report['weights'])}")
    return 0
