"""Pairs per second of the caption frame extents model, forward and backward, at batch 64.

Usage:  .venv/bin/python benchmarks/bench_extents_model.py [--device cpu|cuda] [--threads N]
        [--frames 2048] [--weights path] [--json out.json]

A "pair" is one consecutive crop pair classified in both directions (what the pipeline
does per 10 Hz step). Two figures: the network alone on preprocessed 40x320 frames, and
end to end from 1280x130 RGB crops (resize included). Random crops: speed does not
depend on the pixels. The first batch is a warm-up and is not timed.
"""

import argparse
import json
import os
import platform
import time

import numpy as np
import torch

from captionacc_assets.core.extents.model import ModelPairClassifier
from captionacc_assets.core.extents.pair_inference import INPUT_HEIGHT, INPUT_WIDTH


def _rate(fn, pairs: int, repeats: int = 3) -> tuple[float, float]:
    """(pairs per wall second, pairs per CPU second of this process), best of `repeats`.

    On a shared machine the wall figure depends on the other jobs; with one thread the CPU
    figure is what one core delivers when it is not shared."""
    best_wall = best_cpu = float("inf")
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return pairs / best_wall, pairs / best_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--frames", type=int, default=2048)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--weights", default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    classifier = ModelPairClassifier(args.weights, device=args.device, batch_size=args.batch)
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (args.frames, 3, INPUT_HEIGHT, INPUT_WIDTH), dtype=np.uint8)
    crops = rng.integers(0, 256, (256, 130, 1280, 3), dtype=np.uint8)
    batches = [small[i : i + args.batch] for i in range(0, args.frames, args.batch)]
    classifier.predict_preprocessed(batches[:2])  # warm-up
    net_rate = _rate(lambda: classifier.predict_preprocessed(batches), args.frames - 1)
    crop_frames = [crops[i % len(crops)] for i in range(args.frames // 2)]
    e2e_rate = _rate(lambda: classifier.predict(crop_frames), len(crop_frames) - 1)
    result = {
        "device": str(classifier.device),
        "threads": torch.get_num_threads(),
        "batch": args.batch,
        "cpu": platform.processor() or platform.machine(),
        "model_hash": classifier.model_hash,
        "pairs_per_s_network": round(net_rate[0]),
        "pairs_per_cpu_s_network": round(net_rate[1]),
        "pairs_per_s_from_1280x130_crops": round(e2e_rate[0]),
        "pairs_per_cpu_s_from_1280x130_crops": round(e2e_rate[1]),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "parameters": sum(p.numel() for p in classifier.net.parameters()),
    }
    print(json.dumps(result, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
