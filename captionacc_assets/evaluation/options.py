"""The options of `captionacc eval` and the floors it can enforce.

Kept apart from the runner so building the CLI parser does not import the generator
and the pipeline.
"""

from __future__ import annotations

# What `captionacc eval --floors` (and the CI test on the "ci" set) requires of the pooled score.
FLOORS = {"recall": 0.9, "precision": 0.9, "cer": 0.05}


def add_eval_arguments(parser) -> None:
    """The options of `captionacc eval`."""
    parser.add_argument(
        "--size",
        default="ci",
        help="ci (3 short videos), full (32 videos, >10 min), zones (8 videos with "
        "captions in two places, or a static title at the top) or a count",
    )
    parser.add_argument("--seed", type=int, default=0, help="picks the set's phrases, conditions and pictures")
    parser.add_argument(
        "--out",
        default=None,
        help="folder for the generated videos (reused when unchanged) and the pipeline's home "
        "(default: eval/ inside CAPTIONACC_HOME)",
    )
    parser.add_argument("--json", help="write the full report (per video, pooled, per condition) here")
    parser.add_argument("--markdown", help="write the summary, per-condition and per-video tables as Markdown here")
    parser.add_argument("--only", help="run only the videos whose name contains this text")
    parser.add_argument(
        "--renderer",
        choices=("generator", "libass"),
        default="generator",
        help="who draws the captions: the Pillow generator, or libass (ffmpeg) over the same pictures",
    )
    parser.add_argument(
        "--suite", action="store_true", help="run the generated and the libass-rendered set and print them side by side"
    )
    parser.add_argument(
        "--floors",
        action="store_true",
        help=f"exit 1 unless the pooled score meets {', '.join(f'{k} {v}' for k, v in FLOORS.items())}",
    )
