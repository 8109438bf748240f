"""`captionacc eval` on the "ci" set: the real pipeline meets the accuracy floors.

Measured with seed 0 on 2026-12-01: recall 1.00, precision 1.00, CER 0 (90 characters),
start/end p95 70 ms; the no-caption video's layout is not approved (confidence 0).
"""

import argparse
import json
import os

import pytest

from captionacc_assets.cli import main
from captionacc_assets.core.errors import InputError
from captionacc_assets.evaluation.options import FLOORS, add_eval_arguments
from captionacc_assets.evaluation.runner import (
    _captionacc_home,
    _size,
    by_condition,
    eval_command,
    floors_met,
    run_eval,
)
from captionacc_assets.evaluation.scorer import ScoredCue, score


@pytest.fixture(scope="module")
def suite_reports(tmp_path_factory):
    """`captionacc eval --size ci --suite --floors --json ...` through the CLI, run once for the tests below."""
    out = tmp_path_factory.mktemp("eval")
    before = {k: os.environ.get(k) for k in ("CAPTIONACC_HOME", "DAGSTER_HOME")}
    code = main(
        ["eval", "--size", "ci", "--suite", "--seed", "0", "--out", str(out), "--json", str(out / "r.json"), "--floors"]
    )
    after = {k: os.environ.get(k) for k in ("CAPTIONACC_HOME", "DAGSTER_HOME")}
    reports = {r: json.loads((out / f"r-{r}.json").read_text(encoding="utf-8")) for r in ("generator", "libass")}
    return code, reports, before, after


@pytest.fixture(scope="module")
def ci_report(suite_reports):
    code, reports, before, after = suite_reports
    return code, reports["generator"], before, after


@pytest.mark.parametrize("renderer", ["generator", "libass"])
def test_ci_set_meets_the_floors(suite_reports, renderer):
    code, reports, _, _ = suite_reports
    report = reports[renderer]
    summary = report["summary"]
    assert report["errors"] == 0, [v["error"] for v in report["videos"]]
    assert summary["recall"] >= FLOORS["recall"]
    assert summary["precision"] >= FLOORS["precision"]
    assert summary["cer"] <= FLOORS["cer"]
    # Cue boundaries within one 10 Hz index (100 ms) plus rounding slack.
    assert summary["start_error_ms_p95"] <= 150 and summary["end_error_ms_p95"] <= 150
    assert report["floors_failed"] == [] and code == 0


def test_report_has_every_video_and_the_no_caption_video_is_empty(ci_report):
    _, report, _, _ = ci_report
    assert [v["name"] for v in report["videos"]] == [
        "00-zh-moving-back_to_back-480p",
        "01-en-textured-short-480p",
        "02-none-distractors-360p",
    ]
    empty = report["videos"][2]
    assert empty["truth"] == [] and empty["predicted"] == []  # the logo and sign are not captions
    assert report["unapproved_layouts"] == ["02-none-distractors-360p"] and empty["approved"] is False
    assert report["summary"]["true_cues"] == sum(len(v["truth"]) for v in report["videos"])
    assert report["by_condition"]["language"]["zh"]["videos"] == 1
    assert all(v["seconds"] > 0 for v in report["videos"])


def test_environment_is_restored(ci_report):
    _, _, before, after = ci_report
    assert before == after


def test_floors_and_breakdown_helpers():
    assert floors_met({"recall": 0.95, "precision": 0.9, "cer": 0.05}) == []
    failed = floors_met({"recall": 0.5, "precision": 0.95, "cer": None})
    assert len(failed) == 2 and failed[0].startswith("recall 0.5")
    a = score([ScoredCue(0, 1, "ab")], [ScoredCue(0, 1, "ab")])
    b = score([ScoredCue(0, 1, "ab")], [])
    groups = by_condition([{"language": "zh"}, {"language": "zh", "font": "x"}], [a, b])
    assert groups["language"]["zh"][0] == 2 and groups["language"]["zh"][1].recall == 0.5
    assert groups["font"]["x"][1].recall == 0.0


def test_size_argument_and_home_switch(tmp_path, monkeypatch):
    assert _size("ci") == "ci" and _size("full") == "full" and _size("7") == 7
    with pytest.raises(InputError):
        _size("0")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("CAPTIONACC_HOME", "/somewhere")
    with _captionacc_home(tmp_path):
        assert os.environ["CAPTIONACC_HOME"] == str(tmp_path)
        assert os.environ["DAGSTER_HOME"] == str(tmp_path / "dagster")
    assert os.environ["CAPTIONACC_HOME"] == "/somewhere" and "DAGSTER_HOME" not in os.environ


def test_only_picks_videos_by_name_and_refuses_a_pattern_that_matches_none(tmp_path):
    with pytest.raises(InputError, match="matches no video"):
        run_eval("ci", 0, tmp_path, only="no-such-video", print_report=False)
    parser = argparse.ArgumentParser()
    add_eval_arguments(parser)
    args = parser.parse_args(["--size", "full", "--only", "nothing", "--out", str(tmp_path)])
    with pytest.raises(InputError):
        eval_command(args)
