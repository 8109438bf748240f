"""Bad input gets an actionable error in the catalog and in the failed materialization,
and nothing already stored is damaged."""

import json
from pathlib import Path

import av
import numpy as np
import pytest

from captionacc_assets.cli import main
from captionacc_assets.core.errors import InputError
from captionacc_assets.core.region import Region
from captionacc_assets_tests.core.video_factory import make_h264_video


def _error_message(platform, video_id: str, stage: str = "layout") -> str:
    details = platform.catalog.get_video(video_id)[f"{stage}_error_details"]
    return (json.loads(details) if isinstance(details, str) else details)["message"]


def _small_video(path: Path, seconds: float = 2.0) -> Path:
    return make_h264_video(
        path,
        lambda t: np.full((120, 160, 3), int(t * 50) % 255, np.uint8),
        width=160,
        height=120,
        fps=25,
        duration_s=seconds,
    )


def _audio_only(path: Path) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=44100)
        samples = np.zeros((1, 1024), np.float32)
        for k in range(60):
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 44100, k * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def _zero_duration(path: Path) -> Path:
    """A real container whose only video stream holds no frames."""
    with av.open(str(path), "w", format="avi") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        container.start_encoding()
    return path


def _truncated(path: Path, tmp: Path) -> Path:
    whole = _small_video(tmp / "whole.mp4", seconds=4.0).read_bytes()
    path.write_bytes(whole[: len(whole) * 2 // 5])
    return path


BAD_VIDEOS = {
    "not_a_video": lambda p, tmp: (p.write_text("this is a text file, not a video\n"), p)[1],
    "truncated": _truncated,
    "no_video_stream": lambda p, tmp: _audio_only(p),
    "zero_duration": lambda p, tmp: _zero_duration(p.with_suffix(".avi")),
}


@pytest.mark.parametrize("case", sorted(BAD_VIDEOS))
def test_bad_video_fails_with_an_actionable_error_and_publishes_nothing(platform, tmp_path, case):
    path = BAD_VIDEOS[case](tmp_path / f"{case}.mp4", tmp_path)
    video_id = platform.upload(path, "tenant-a")
    run = platform.initial_processing(video_id)
    assert not run.success
    message = _error_message(platform, video_id)
    assert path.name in message or "video" in message
    assert "re-" in message or "upload" in message or "export" in message, message
    assert run.error and message in run.error
    assert platform.catalog.get_video(video_id)["layout_status"] == "error"
    keys = platform.keys(video_id)
    assert not platform.storage.exists(keys.layout_db)
    assert not platform.storage.exists(keys.raw_ocr_db)
    assert platform.storage.list_keys(keys.full_frames_prefix) == []


def test_approval_for_an_unknown_video_is_refused(platform, capsys):
    with pytest.raises(InputError, match="unknown video"):
        platform.approve("no-such-video", Region(0, 0.8, 1, 1), requested_by="test")
    assert main(["approve", "no-such-video", "--crop", "0,0.8,1,1"]) == 2
    assert "unknown video" in capsys.readouterr().err


@pytest.mark.parametrize(
    "crop", ["0,0.8,1.3,1", "-0.1,0.8,1,1", "0.9,0.8,0.1,1", "0,0.9,1,0.8", "", "  ", "nan,0.8,1,1", "0,0.8,inf,1"]
)
def test_crop_region_out_of_range_or_inverted_is_refused_and_nothing_changes(platform, tmp_path, capsys, crop):
    video_id = platform.upload(_small_video(tmp_path / "ok.mp4"), "tenant-a")
    assert main(["approve", video_id, f"--crop={crop}"]) == 2
    assert "crop region" in capsys.readouterr().err
    assert platform.catalog.latest_cropped_frames_version(video_id) is None


def test_a_failed_reupload_does_not_damage_another_videos_artifacts(platform, tmp_path):
    good = platform.upload(_small_video(tmp_path / "good.mp4"), "tenant-a")
    assert platform.initial_processing(good).success
    keys = platform.keys(good)
    before = platform.storage.get_bytes(keys.layout_db)
    bad = platform.upload(BAD_VIDEOS["truncated"](tmp_path / "bad.mp4", tmp_path), "tenant-a")
    assert not platform.initial_processing(bad).success
    assert platform.storage.get_bytes(keys.layout_db) == before
    assert platform.catalog.get_video(good)["layout_status"] == "annotate"


def test_an_upload_under_a_registered_id_is_refused_before_it_touches_the_stored_file(platform, tmp_path):
    first = platform.upload(_small_video(tmp_path / "first.mp4"), "tenant-a", "clip1")
    key = platform.catalog.get_video(first)["storage_key"]
    stored = platform.storage.get_bytes(key)
    other = _small_video(tmp_path / "other.mp4", seconds=3.0)
    assert other.read_bytes() != stored
    with pytest.raises(InputError, match="already registered"):
        platform.upload(other, "tenant-a", "clip1")
    assert platform.storage.get_bytes(key) == stored


def test_a_video_without_captions_yields_an_empty_caption_list(platform, tmp_path):
    video_id = platform.upload(_small_video(tmp_path / "plain.mp4", seconds=3.0), "tenant-a")
    assert platform.initial_processing(video_id).success
    platform.approve(video_id, Region(0.05, 0.75, 0.95, 0.98), requested_by="test")
    run = platform.approved_processing(video_id)
    assert run.success, run.error
    assert run.metadata["captions_db"]["caption_count"] == 0
    srt_text = platform.storage.get_bytes(platform.keys(video_id).export("srt")).decode()
    assert srt_text.strip() == ""


def test_errors_name_the_users_file_and_are_marked_input(platform, tmp_path):
    path = tmp_path / "my-clip.mp4"
    path.write_text("this is a text file, not a video\n")
    video_id = platform.upload(path, "tenant-a")
    assert platform.catalog.get_video(video_id)["storage_key"].endswith("/video.mp4")
    run = platform.initial_processing(video_id)
    assert (run.success, run.error_kind) == (False, "input")
    message = _error_message(platform, video_id)
    assert "'my-clip.mp4'" in message and "video.mp4" not in message
    assert run.error == message


def test_an_8k_video_is_refused_at_the_video_step_saying_how_to_raise_the_limit(platform, tmp_path, monkeypatch):
    path = make_h264_video(
        tmp_path / "big.mp4",
        lambda t: np.full((4320, 7680, 3), 90, np.uint8),
        width=7680,
        height=4320,
        fps=10,
        duration_s=0.1,
    )
    video_id = platform.upload(path, "tenant-a")
    run = platform.initial_processing(video_id)
    assert (run.success, run.error_kind, list(run.step_seconds)) == (False, "input", [])
    message = _error_message(platform, video_id)
    assert "'big.mp4' is 7680x4320" in message and "raise CAPTIONACC_MAX_PIXELS" in message
    monkeypatch.setenv("CAPTIONACC_MAX_PIXELS", str(7680 * 4320))
    assert platform.materialize(video_id, ["video"], "ui").success


def test_the_duration_limit_comes_from_the_environment(platform, tmp_path, monkeypatch):
    video_id = platform.upload(_small_video(tmp_path / "two-seconds.mp4"), "tenant-a")
    monkeypatch.setenv("CAPTIONACC_MAX_DURATION_S", "1.5")
    assert not platform.materialize(video_id, ["video"], "ui").success
    assert "'two-seconds.mp4' lasts 2 s, above the limit of 1.5 s" in _error_message(platform, video_id)
    assert "raise CAPTIONACC_MAX_DURATION_S" in _error_message(platform, video_id)
    monkeypatch.setenv("CAPTIONACC_MAX_DURATION_S", "ten")
    run = platform.materialize(video_id, ["video"], "ui")
    assert (run.success, run.error_kind) == (False, "environment")
    assert run.error.startswith("CAPTIONACC_MAX_DURATION_S='ten' is not a positive number")
