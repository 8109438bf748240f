"""Photo footage with cuts and no captions, approved whatever the layout's confidence: no captions.

The libass set's blank video (seed 0) is one where a cut's texture read as "O A一" (confidence
0.61) became a phantom caption with `--approve always`; the OCR evidence a caption needs
(core/caption_assembly.py) stops it.
"""

import json

from captionacc_assets.cli import main
from captionacc_assets.evaluation.eval_set import build_eval_set, write_eval_set


def test_footage_without_captions_yields_none_even_with_approve_always(platform, tmp_path):
    (item,) = [i for i in build_eval_set("full", 0, renderer="libass") if i.name == "libass-31-none-blank-1080p"]
    (video,) = write_eval_set([item], tmp_path / "videos")
    out = tmp_path / "blank.json"
    assert main(["process", str(video), "--approve", "always", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["captions"] == []
