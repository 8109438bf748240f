"""The eval report's zone section: detection per video and the per-zone scores."""

from captionacc_assets.evaluation.eval_set import build_eval_set
from captionacc_assets.evaluation.report import markdown_report
from captionacc_assets.evaluation.runner import true_placements, zone_detection
from captionacc_assets.evaluation.scorer import ScoredCue as C
from captionacc_assets.evaluation.scorer import score, score_zones


def test_zone_detection_compares_true_and_proposed_zones_at_the_threshold():
    items = {item.conditions["zones"]: item for item in build_eval_set("zones")}
    bilingual, title = items["bilingual"], items["title"]
    assert true_placements(bilingual) == ["bottom", "top"] and true_placements(title) == ["bottom"]
    found = zone_detection(
        bilingual,
        {"proposed_zones": [{"placement": "bottom", "confidence": 0.9}, {"placement": "top", "confidence": 0.8}]},
    )
    assert found["count_ok"] and found["placements_ok"]
    weak = zone_detection(
        bilingual,
        {"proposed_zones": [{"placement": "bottom", "confidence": 0.9}, {"placement": "top", "confidence": 0.3}]},
    )
    assert weak["proposed_zones"] == 1 and not weak["count_ok"]  # under the threshold: not proposed
    wrong = zone_detection(title, {"proposed_zones": [{"placement": "top", "confidence": 0.9}]})
    assert wrong["count_ok"] and not wrong["placements_ok"]


def test_markdown_has_the_zone_table_and_per_zone_scores():
    truth = [C(0, 1, "下"), C(0, 1, "up", "top")]
    pooled, per_zone = score_zones(truth, [C(0, 1, "下")])
    one = score([C(0, 1, "a")], [C(0, 1, "a")])
    detection = [
        {
            "true_zones": 2,
            "true_placements": ["bottom", "top"],
            "proposed_zones": 1,
            "proposed_placements": ["bottom"],
            "approved_zones": ["bottom"],
            "count_ok": False,
            "placements_ok": False,
        },
        {
            "true_zones": 1,
            "true_placements": ["bottom"],
            "proposed_zones": 1,
            "proposed_placements": ["bottom"],
            "approved_zones": ["bottom"],
            "count_ok": True,
            "placements_ok": True,
        },
    ]
    report = {
        "size": "zones",
        "seed": 0,
        "video_seconds": 20.0,
        "errors": 0,
        "summary": pooled.as_dict(),
        "by_condition": {},
        "videos": [
            {
                "name": "z00",
                "error": None,
                "score": pooled.as_dict(),
                "zones": detection[0],
                "proposed_zones": [
                    {"placement": "bottom", "confidence": 0.91},
                    {"placement": "top", "confidence": 0.2},
                ],
            },
            {
                "name": "z01",
                "error": None,
                "score": one.as_dict(),
                "zones": detection[1],
                "proposed_zones": [{"placement": "bottom", "confidence": 1.0}],
            },
        ],
        "zones": {
            "videos": 2,
            "count_ok": 1,
            "placements_ok": 1,
            "two_zone_videos": 1,
            "two_zones_found": 0,
            "false_second_zones": 0,
            "per_zone": {z: s.as_dict() for z, s in per_zone.items()},
        },
    }
    text = markdown_report(report)
    assert "1 / 2 videos got the right number of caption zones" in text
    assert "two-zone videos found 0 / 1" in text
    assert "| z00 | bottom, top | bottom 0.91, top 0.20 | bottom | WRONG | WRONG |" in text
    assert "| z01 | bottom | bottom 1.00 | bottom | ok | ok |" in text
    assert "| top | 1 | 0 | 1 | 0 | 0.000 |" in text and "| bottom | 1 | 1 | 0 | 0 | 1.000 |" in text
