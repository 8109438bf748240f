"""The pair model's validation figures for several weights files, in one process, by group.

The validation split of `captionacc train-extents` (12 generator videos drawn, 6 libass eval-set
videos and 4 + 4 one-character videos encoded, seed 4102; cached under --cache, made on first
use), read by the network alone (`extents_training.train.validate`, no change evidence), for
all videos, per renderer, and for the videos with the photo footage background.

    .venv/bin/python benchmarks/bench_extents_validation.py OLD.pt NEW.pt [--cache /tmp/ext/cache] [--json F]
"""

import argparse
import json
from pathlib import Path

from captionacc_assets.core.extents.model import ModelPairClassifier
from captionacc_assets.extents_training.data import VALIDATION_SEED, load_encoded_split, load_split
from captionacc_assets.extents_training.train import validate, validation_groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights", nargs="+")
    parser.add_argument("--cache", default="/tmp/ext/cache")
    parser.add_argument("--json")
    args = parser.parse_args()
    cache = Path(args.cache)
    videos = load_split(12, VALIDATION_SEED, cache) + load_encoded_split(6, 4, VALIDATION_SEED, cache)
    groups = {"all": videos, **validation_groups(videos, "footage")}
    out: dict = {}
    for weights in args.weights:
        classifier = ModelPairClassifier(Path(weights), device="cpu")
        for name, group in groups.items():
            report = validate(classifier, group)
            different, captions = report["forward"]["per_class"]["different"], report["captions"]
            row = {
                "macro_f1": report["forward"]["macro_f1"],
                "different": {k: different[k] for k in ("precision", "recall", "f1")},
                **{k: captions[k] for k in ("true", "predicted", "exact_spans", "spans_within_1_frame")},
            }
            out.setdefault(classifier.model_hash[:8], {})[name] = row
            print(classifier.model_hash[:8], f"{name:<32}", json.dumps(row), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
