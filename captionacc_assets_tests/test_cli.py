"""The `captionacc` command as a user types it."""

import os
import subprocess
import sys

import pytest
import srt

from captionacc_assets.cli import main
from captionacc_assets.synthetic.video_spec import Cue, VideoSpec
from captionacc_assets.synthetic.generate import write_video

SPEC = VideoSpec(
    width=640,
    height=360,
    fps=25.0,
    duration_s=5.0,
    background="textured",
    seed=3,
    cues=(Cue(0.5, 2.0, "你好，世界"), Cue(2.6, 4.4, "Good night")),
)


def test_process_writes_exports_and_reports_stage_timings(platform, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CAPTIONACC_APPROVE_CONFIDENCE", "abc")  # --approve always never reads it
    video = write_video(SPEC, tmp_path / "clip.mp4")
    srt_path, vtt_path, json_path = tmp_path / "out.srt", tmp_path / "out.vtt", tmp_path / "out.json"
    code = main(
        [
            "process",
            str(video),
            "--tenant",
            "acme",
            "--approve",
            "always",
            "--srt",
            str(srt_path),
            "--vtt",
            str(vtt_path),
            "--json",
            str(json_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "initial processing" in out and "approved processing" in out
    assert "extract_frames_and_ocr" in out and "captions_db" in out
    cues = list(srt.parse(srt_path.read_text()))
    assert [c.content for c in cues] == ["你好，世界", "Good night"]
    assert vtt_path.read_text().startswith("WEBVTT")
    assert '"Good night"' in json_path.read_text()


def test_auto_approval_stops_below_the_confidence_threshold(platform, tmp_path, capsys):
    video = write_video(SPEC, tmp_path / "clip.mp4")
    code = main(["process", str(video), "--min-confidence", "1"])
    err = capsys.readouterr().err
    assert code == 3
    assert "not approving" in err and "captionacc approve" in err


def test_upload_then_approve_with_a_crop(platform, tmp_path, capsys):
    video = write_video(SPEC, tmp_path / "clip.mp4")
    assert main(["upload", str(video), "--tenant", "acme"]) == 0
    video_id = capsys.readouterr().out.strip()
    assert not platform.instance.has_dynamic_partition("videos", video_id)  # the new_uploads sensor adds it
    assert platform.catalog.get_video(video_id)["layout_status"] == "wait"
    assert main(["approve", video_id, "--crop", "0.1,0.8,0.9,0.98", "--by", "alice"]) == 0
    version = platform.catalog.latest_cropped_frames_version(video_id)
    assert (version["version"], version["status"], version["requested_by"]) == (1, "requested", "alice")
    assert (version["crop_left"], version["crop_bottom"]) == (0.1, 0.98)


def _nothing_uploaded(platform) -> bool:
    return (
        platform.catalog.list_new_videos(None, 10) == [] and not platform.paths.storage_root.joinpath("acme").exists()
    )


def test_a_bad_approve_confidence_setting_stops_only_what_uses_it(platform, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CAPTIONACC_APPROVE_CONFIDENCE", "abc")
    with pytest.raises(SystemExit) as stopped:
        main(["--help"])
    assert stopped.value.code == 0 and "process" in capsys.readouterr().out
    video = write_video(SPEC, tmp_path / "clip.mp4")
    assert main(["upload", str(video)]) == 0
    capsys.readouterr()
    assert main(["process", str(video), "--tenant", "acme"]) == 2
    err = capsys.readouterr().err
    assert "CAPTIONACC_APPROVE_CONFIDENCE='abc'" in err and "Traceback" not in err
    assert not platform.paths.storage_root.joinpath("acme").exists()


@pytest.mark.parametrize("value", ["nan", "-1", "2", "inf", "abc"])
def test_thresholds_outside_0_1_are_refused_before_any_work(platform, tmp_path, capsys, monkeypatch, value):
    video = write_video(SPEC, tmp_path / "clip.mp4")
    with pytest.raises(SystemExit) as stopped:
        main(["process", str(video), "--tenant", "acme", "--min-confidence", value])
    assert stopped.value.code == 2
    assert f"--min-confidence: {value!r} is not" in capsys.readouterr().err
    monkeypatch.setenv("CAPTIONACC_APPROVE_CONFIDENCE", value)
    assert main(["process", str(video), "--tenant", "acme"]) == 2
    assert f"CAPTIONACC_APPROVE_CONFIDENCE={value!r}" in capsys.readouterr().err
    assert _nothing_uploaded(platform)


def _outputs(tmp_path, video, case: str) -> tuple[list[str], str]:
    """The output flags of each refused case, and the words of its error."""
    (tmp_path / "sub").mkdir(exist_ok=True)
    if case == "the_input":
        return ["--srt", str(video)], "is the input video itself"
    if case == "the_input_spelled_otherwise":
        return ["--vtt", str(tmp_path / "sub" / ".." / video.name)], "is the input video itself"
    if case == "a_hard_link_to_the_input":
        os.link(video, tmp_path / "link.srt")
        return ["--srt", str(tmp_path / "link.srt")], "is the input video itself"
    if case == "a_symlink_to_the_input":
        (tmp_path / "alias.json").symlink_to(video)
        return ["--json", str(tmp_path / "alias.json")], "is the input video itself"
    if case == "two_outputs_in_one_file":
        return ["--srt", str(tmp_path / "out.txt"), "--vtt", str(tmp_path / "sub/../out.txt")], "are the same file"
    if case == "a_missing_folder":
        return ["--json", str(tmp_path / "no-such-folder" / "out.json")], "does not exist"
    if case == "a_folder":
        return ["--srt", str(tmp_path / "sub")], "is a folder"
    return ["--srt", ""], "--srt is empty"


@pytest.mark.parametrize(
    "case",
    [
        "the_input",
        "the_input_spelled_otherwise",
        "a_hard_link_to_the_input",
        "a_symlink_to_the_input",
        "two_outputs_in_one_file",
        "a_missing_folder",
        "a_folder",
        "empty",
    ],
)
def test_an_output_that_would_overwrite_the_input_or_cannot_be_written_is_refused_at_once(
    platform, tmp_path, capsys, case
):
    video = write_video(SPEC, tmp_path / "clip.mp4")
    before = video.read_bytes()
    flags, words = _outputs(tmp_path, video, case)
    assert main(["process", str(video), "--tenant", "acme", "--approve", "always", *flags]) == 2
    err = capsys.readouterr().err
    assert words in err, err
    assert video.read_bytes() == before
    assert not (tmp_path / "out.txt").exists()
    assert _nothing_uploaded(platform)


def test_bad_input_exits_2_naming_the_users_file_not_the_stored_copy(platform, tmp_path, capsys):
    notes = tmp_path / "my-clip.mp4"
    notes.write_text("this is a text file, not a video\n")
    assert main(["process", str(notes)]) == 2
    err = capsys.readouterr().err
    assert "error: file 'my-clip.mp4' is not a video" in err
    assert "video.mp4" not in err and "DagsterExecutionStepExecutionError" not in err


def test_the_command_exits_with_mains_code_and_leaves_its_objects_out_of_the_last_collection(tmp_path):
    """The console script's `run`: what the command made is frozen before the interpreter's
    final garbage collection (1.1 s of a 60 s video's run), and the exit code is main's."""
    probe = (
        "import atexit, gc, sys; atexit.register(lambda: print('frozen', gc.get_freeze_count())); "
        "sys.argv = ['captionacc', 'export', 'no-such-video']; "
        "from captionacc_assets.cli import run; run()"
    )
    env = dict(os.environ, CAPTIONACC_HOME=str(tmp_path / "home"))
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert "say what to export" in out.stderr
    assert int(out.stdout.split("frozen ")[1]) > 0  # zero without the freeze
