"""The `captionacc` command as a user types it."""

import srt

from captionacc_assets.cli import main
from captionacc_assets.synthetic.video_spec import Cue, VideoSpec
from captionacc_assets.synthetic.generate import write_video

SPEC = VideoSpec(width=640, height=360, fps=25.0, duration_s=5.0, background="textured", seed=3,
                 cues=(Cue(0.5, 2.0, "你好，世界"), Cue(2.6, 4.4, "Good night")))


def test_process_writes_exports_and_reports_stage_timings(platform, tmp_path, capsys):
    video = write_video(SPEC, tmp_path / "clip.mp4")
    srt_path, vtt_path, json_path = tmp_path / "out.srt", tmp_path / "out.vtt", tmp_path / "out.json"
    code = main(["process", str(video), "--tenant", "acme", "--approve", "always",
                 "--srt", str(srt_path), "--vtt", str(vtt_path), "--json", str(json_path)])
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
    code = main(["process", str(video), "--min-confidence", "1.01"])
    err = capsys.readouterr().err
    assert code == 3
    assert "not approving" in err and "captionacc approve" in err


def test_upload_then_approve_with_a_crop(platform, tmp_path, capsys):
    video = write_video(SPEC, tmp_path / "clip.mp4")
    assert main(["upload", str(video), "--tenant", "acme"]) == 0
    video_id = capsys.readouterr().out.strip()
    assert platform.instance.has_dynamic_partition("videos", video_id)
    assert platform.catalog.get_video(video_id)["layout_status"] == "wait"
    assert main(["approve", video_id, "--crop", "0.1,0.8,0.9,0.98", "--by", "alice"]) == 0
    version = platform.catalog.latest_cropped_frames_version(video_id)
    assert (version["version"], version["status"], version["requested_by"]) == (1, "requested", "alice")
    assert (version["crop_left"], version["crop_bottom"]) == (0.1, 0.98)
