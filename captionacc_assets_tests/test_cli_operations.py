"""`captionacc process` over a folder, `status`, `export`, as a person runs them after an upload."""

import io
import re
import shutil
from contextlib import redirect_stderr, redirect_stdout

import pytest
import srt

from captionacc_assets.cli import main
from captionacc_assets.synthetic.generate import write_video
from captionacc_assets.synthetic.video_spec import Cue, VideoSpec

EPISODE_1 = VideoSpec(
    width=640,
    height=360,
    fps=25.0,
    duration_s=5.0,
    background="textured",
    seed=3,
    cues=(Cue(0.5, 2.0, "你好，世界"), Cue(2.6, 4.4, "Good night")),
)
EPISODE_2 = VideoSpec(
    width=640,
    height=360,
    fps=25.0,
    duration_s=4.0,
    background="textured",
    seed=5,
    cues=(Cue(1.0, 3.0, "See you tomorrow"),),
)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def folder_processed(tmp_path_factory):
    """A folder of two episodes, plus one named again and a copy of it, processed in one command."""
    root = tmp_path_factory.mktemp("cli-ops")
    mp = pytest.MonkeyPatch()
    mp.setenv("CAPTIONACC_HOME", str(root / "home"))
    mp.setenv("DAGSTER_HOME", str(root / "home" / "dagster"))
    episodes, out_dir = root / "episodes", root / "exports"
    episodes.mkdir(), out_dir.mkdir()
    write_video(EPISODE_1, episodes / "ep01.mp4")
    write_video(EPISODE_2, episodes / "ep02.mp4")
    (episodes / "notes.txt").write_text("not a video")  # a folder's other files are not videos to process
    shutil.copyfile(episodes / "ep01.mp4", root / "ep01-copy.mp4")
    try:
        result = run(
            "process",
            str(episodes),
            str(episodes / "ep02.mp4"),
            str(root / "ep01-copy.mp4"),
            "--tenant",
            "acme",
            "--approve",
            "always",
            "--out-dir",
            str(out_dir),
        )
        yield root, out_dir, result
    finally:
        mp.undo()


def video_ids(out: str) -> dict[str, str]:
    """{file name: video id} from the summary table."""
    table = out.split("summary:", 1)[1].splitlines()[3:]
    return {line.split()[0].rsplit("/", 1)[-1]: line.split()[1] for line in table if line.strip()}


def test_a_folder_and_files_are_each_processed_once_with_one_summary(folder_processed):
    root, out_dir, (code, out, err) = folder_processed
    assert code == 0, err
    assert out.count("initial processing") >= 2 and out.count("approved processing") >= 2
    assert out.count(" uploaded for tenant acme") == 2  # ep02 named twice and the copy of ep01: not again
    assert "summary: 3 video(s), each processed once" in out
    ids = video_ids(out)
    assert set(ids) == {"ep01.mp4", "ep02.mp4", "ep01-copy.mp4"} and ids["ep01-copy.mp4"] == ids["ep01.mp4"]
    assert "same content as" in out.split("summary:", 1)[1]
    assert [c.content for c in srt.parse((out_dir / "ep01.srt").read_text())] == ["你好，世界", "Good night"]
    assert [c.content for c in srt.parse((out_dir / "ep02.srt").read_text())] == ["See you tomorrow"]
    assert (out_dir / "ep02.vtt").read_text().startswith("WEBVTT") and (out_dir / "ep01.json").exists()
    assert not (out_dir / "ep01-copy.srt").exists()  # processed once: as ep01


def test_process_shows_progress_bars_and_keeps_dagsters_logs_in_a_file(folder_processed):
    root, _, (_, out, err) = folder_processed
    log = root / "home" / "logs" / "process.log"
    assert f"Dagster's log lines: {log}" in out
    assert "STEP_START" in log.read_text() and "full frames + OCR:" in log.read_text()
    assert " - dagster - " not in out + err  # no Dagster log line on the terminal
    bars = [line for line in out.splitlines() if "━" in line]
    assert any("initial processing" in line and "100%" in line for line in bars)
    assert any("approved processing" in line and "100%" in line for line in bars)


def test_a_second_process_continues_from_the_last_published_stage(folder_processed):
    root, out_dir, _ = folder_processed
    code, out, err = run(
        "process",
        str(root / "episodes" / "ep02.mp4"),
        "--tenant",
        "acme",
        "--approve",
        "always",
        "--srt",
        str(out_dir / "again.srt"),
    )
    assert code == 0, err
    assert "continued from its last published stage" in out
    assert "initial processing     already published" in out and "approved processing    already published" in out
    assert (out_dir / "again.srt").read_text() == (out_dir / "ep02.srt").read_text()


def test_status_of_every_video_and_of_one(folder_processed):
    _, _, (_, out, _) = folder_processed
    ids = video_ids(out)
    code, listing, _ = run("status")
    assert code == 0
    rows = {line.split()[0]: line.split() for line in listing.splitlines()[2:]}
    assert set(rows) == {ids["ep01.mp4"], ids["ep02.mp4"]}
    assert rows[ids["ep02.mp4"]][1:7] == ["ep02.mp4", "acme", "done", "annotate", "annotate", "1"]

    code, one, _ = run("status", ids["ep01.mp4"])
    assert code == 0
    fields = dict(re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in one.splitlines())
    assert (fields["file"], fields["tenant"]) == ("ep01.mp4", "acme (free)")
    assert fields["stages"] == "layout=done  boundaries=annotate  text=annotate"
    assert fields["version 1"].startswith("active (current)  crop (") and "by cli:always" in fields["version 1"]
    assert fields["exports"].startswith("srt, vtt, json") and fields["deleted"] == "-"

    code, _, err = run("status", "nosuchvideo")
    assert code == 2 and "unknown video 'nosuchvideo'" in err


def test_export_writes_or_prints_a_processed_videos_captions(folder_processed, tmp_path):
    _, out_dir, (_, out, _) = folder_processed
    video_id = video_ids(out)["ep01.mp4"]
    code, printed, _ = run("export", video_id, "--srt", "-")
    assert code == 0 and printed == (out_dir / "ep01.srt").read_text()
    code, said, _ = run("export", video_id, "--vtt", str(tmp_path / "a.vtt"), "--json", str(tmp_path / "a.json"))
    assert code == 0 and f"wrote {tmp_path / 'a.vtt'}" in said
    assert (tmp_path / "a.vtt").read_text() == (out_dir / "ep01.vtt").read_text()
    assert '"Good night"' in (tmp_path / "a.json").read_text()

    code, _, err = run("export", video_id)
    assert code == 2 and "--srt FILE" in err
    code, _, err = run("export", video_id, "--srt", str(tmp_path / "missing" / "a.srt"))
    assert code == 2 and "does not exist" in err


def test_export_of_a_video_not_captioned_yet_says_what_to_do(folder_processed, tmp_path):
    video = write_video(EPISODE_2, tmp_path / "fresh.mp4")
    code, out, err = run("upload", str(video), "--tenant", "acme")
    assert code == 0, err
    video_id = out.strip().splitlines()[-1]
    code, _, err = run("export", video_id, "--srt", str(tmp_path / "fresh.srt"))
    assert code == 2 and f"video '{video_id}' has no srt export yet" in err and "captionacc approve" in err
    assert not (tmp_path / "fresh.srt").exists()


def test_several_videos_with_one_output_file_are_refused_before_any_work(platform, tmp_path):
    first, second = write_video(EPISODE_2, tmp_path / "a.mp4"), write_video(EPISODE_2, tmp_path / "b.mp4")
    code, _, err = run("process", str(first), str(second), "--srt", str(tmp_path / "out.srt"))
    assert code == 2 and "--out-dir DIR" in err
    (tmp_path / "empty").mkdir()
    code, _, err = run("process", str(tmp_path / "empty"))
    assert code == 2 and "holds no video file" in err
    assert platform.catalog.list_new_videos(None, 10) == []
