"""The Markdown tables of an eval report: every video and condition value, numbers formatted."""

from captionacc_assets.evaluation.report import markdown_report
from captionacc_assets.evaluation.runner import by_condition
from captionacc_assets.evaluation.scorer import ScoredCue, combine, score

C = ScoredCue


def _report() -> dict:
    a = score([C(0, 1, "hello"), C(2, 3, "world")], [C(0.1, 1, "hallo"), C(2, 3, "world")])
    b = score([C(0, 1, "你好")], [])
    conditions = [{"language": "en", "style": "box"}, {"language": "zh", "style": "box"}]
    groups = by_condition(conditions, [a, b])
    return {
        "size": 2,
        "seed": 7,
        "video_seconds": 30.0,
        "errors": 1,
        "summary": combine([a, b]).as_dict(),
        "videos": [
            {"name": "00-en", "error": None, "score": a.as_dict()},
            {"name": "01-zh", "error": "initial processing: bad | video", "score": b.as_dict()},
        ],
        "by_condition": {k: {v: {"videos": n, **s.as_dict()} for v, (n, s) in vs.items()} for k, vs in groups.items()},
    }


def test_markdown_report_has_summary_conditions_and_videos():
    text = markdown_report(_report())
    assert text.startswith(
        "Set `2`, seed 7: 2 videos, 30 s of video; 1 pipeline errors; "
        "layouts left unapproved (confidence below the threshold, so no captions): none."
    )
    lines = text.splitlines()
    overall = next(line for line in lines if line.startswith("| all videos |"))
    # 3 true, 2 predicted, 1 missed, 0 phantom, recall 2/3, precision 1, CER 1 edit / 10 chars.
    # Without punctuation the same: "hello world" has none.
    assert overall.startswith("| all videos | 3 | 2 | 1 | 0 | 0.667 | 1.000 | 10.00% | 10.00% | 0.500 | 50 |")
    assert "| language | zh | 1 | 1 | 0 | 1 | 0 | 0.000 | 1.000 | - | - |" in text
    assert "| style | box | 2 |" in text
    # The language rows come before the style rows, and "|" in an error cannot break the table.
    assert text.index("| language |") < text.index("| style |")
    assert "| 01-zh | initial processing: bad / video |" in text
    header = next(line for line in lines if line.startswith("| video | error |"))
    assert all(line.count("|") == header.count("|") for line in lines if line.startswith("| 0"))
