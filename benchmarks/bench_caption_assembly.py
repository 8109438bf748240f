"""Time `assemble_caption_rows` on a long video's timeline: many captions, many slivers.

A 2 h film has ~1,500-3,000 decoded spans; false boundaries leave slivers of 1-5 indices
between them. The rows must assemble in a small fraction of the run.

    .venv/bin/python benchmarks/bench_caption_assembly.py [--spans 3000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import time

from captionacc_assets.core.caption_assembly import SpanText, assemble_caption_rows
from captionacc_assets.core.extents.decode import CaptionSpan

WORDS = "the quick brown fox jumps over lazy dog again and again".split()


def timeline(count: int, seed: int) -> tuple[list[CaptionSpan], dict[int, SpanText], int]:
    """Spans of 2-30 indices; each one of 5 or fewer reads like the caption before it, a letter off."""
    rng = random.Random(seed)
    spans: list[CaptionSpan] = []
    texts: dict[int, SpanText] = {}
    index = 0
    for k in range(count):
        length = rng.choice([2, 3, 4, 5, 15, 20, 25, 30])
        spans.append(CaptionSpan(index, index + length - 1, "predicted", 0.9))
        text = " ".join(rng.sample(WORDS, 5))
        if length <= 5 and k:
            text = texts[spans[-2].start].text[:-1] + "x"
        texts[index] = SpanText(text, 0.95)
        index += length
    return spans, texts, index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    spans, texts, n = timeline(args.spans, args.seed)
    slivers = sum(s.end - s.start + 1 <= 5 for s in spans)
    started = time.perf_counter()
    rows = assemble_caption_rows(spans, texts, n)
    print(
        f"{len(spans)} spans ({slivers} of 5 indices or fewer) -> {len(rows)} rows in {time.perf_counter() - started:.3f} s"
    )


if __name__ == "__main__":
    main()
