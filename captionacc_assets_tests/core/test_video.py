"""Probe and 10 Hz streaming decode of real PyAV-encoded videos."""

import math
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from captionacc_assets.core import video
from captionacc_assets.core.errors import InputError
from captionacc_assets.core.index_space import frame_count
from captionacc_assets.core.region import Region
from captionacc_assets.core.video import iter_frames_at, probe_video
from captionacc_assets_tests.core.video_factory import make_h264_video, native_frame_of, numbered_frames


def expected_native_frame(index: int, fps: Fraction, native_total: int) -> int:
    """The frame displayed at t = index/10: the last one starting at or before t (+1 ms for rounding)."""
    return min(math.floor((Fraction(index, 10) + Fraction(1, 1000)) * fps), native_total - 1)


@pytest.mark.parametrize(
    ("fps", "width", "height"),
    [(24, 202, 114), (25, 90, 50), (30, 176, 98), (60, 130, 74), (Fraction(30000, 1001), 96, 54)],
)
def test_probe_and_10hz_frames_match_native_timing(tmp_path, fps, width, height):
    rate = Fraction(fps)
    path = make_h264_video(
        tmp_path / "v.mp4", numbered_frames(width, height, rate), width=width, height=height, fps=rate, duration_s=2.55
    )
    native_total = round(Fraction(2.55) * rate)

    probe = probe_video(path)

    assert probe.codec == "h264"
    assert "mp4" in probe.container
    assert (probe.width, probe.height, probe.rotation) == (width, height, 0)
    assert probe.fps == pytest.approx(float(rate), rel=1e-3)
    assert probe.duration_seconds == pytest.approx(native_total / float(rate), abs=1e-3)
    assert probe.frame_count == frame_count(probe.duration_seconds)
    assert probe.as_dict()["frame_count"] == probe.frame_count

    frames = list(iter_frames_at(path, range(probe.frame_count), probe=probe))
    assert [i for i, _ in frames] == list(range(probe.frame_count))
    assert all(image.shape == (height, width, 3) and image.dtype == np.uint8 for _, image in frames)
    assert [native_frame_of(image) for _, image in frames] == [
        expected_native_frame(i, rate, native_total) for i in range(probe.frame_count)
    ]


def test_slow_video_repeats_frames_and_region_crops(tmp_path):
    # 4 fps: several 10 Hz indices show the same native frame.
    path = make_h264_video(
        tmp_path / "slow.mp4", numbered_frames(64, 48, 4), width=64, height=48, fps=4, duration_s=2.0
    )
    region = Region(0.25, 0.5, 0.75, 1.0)
    frames = []
    for index, image in iter_frames_at(path, [0, 1, 2, 3, 5, 19], region=region):
        frames.append(native_frame_of(image))
        assert image.shape == (24, 32, 3)
        image[:] = 0  # a caller may scribble on a frame without changing the next one
    assert frames == [0, 0, 0, 1, 2, 7]


def test_indices_after_the_last_frame_get_the_last_frame(tmp_path):
    """The last frame is held for 1 s (its packet duration), so the stream lasts 2.0 s."""
    path = tmp_path / "held.mp4"
    draw = numbered_frames(32, 32, 10)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("h264", rate=10)
        stream.width, stream.height = 32, 32
        stream.options = {"preset": "ultrafast"}

        def mux(packets):
            for packet in packets:
                if packet.pts == 10:
                    packet.duration = 10
                container.mux(packet)

        for k in range(11):
            frame = av.VideoFrame.from_ndarray(draw(k / 10), format="rgb24")
            frame.pts, frame.time_base = k, Fraction(1, 10)
            mux(stream.encode(frame))
        mux(stream.encode())

    probe = probe_video(path)
    assert probe.duration_seconds == pytest.approx(2.0)
    assert probe.frame_count == 20
    got = [native_frame_of(image) for _, image in iter_frames_at(path, range(20), probe=probe)]
    assert got == list(range(11)) + [10] * 9


@pytest.mark.parametrize(
    ("rotation", "marker_corner"), [(90, "top_right"), (180, "bottom_right"), (270, "bottom_left")]
)
def test_rotation_metadata_gives_display_oriented_frames(tmp_path, rotation, marker_corner):
    """A phone video: stored 64x32 landscape with a display matrix; the marker is stored top-left."""

    def stored(t):
        image = np.zeros((32, 64, 3), np.uint8)
        image[:8, :8] = 255
        return image

    path = make_h264_video(tmp_path / "rot.mp4", stored, width=64, height=32, fps=10, duration_s=0.5, rotation=rotation)
    probe = probe_video(path)
    assert probe.rotation == rotation
    display = (32, 64) if rotation in (90, 270) else (64, 32)
    assert (probe.width, probe.height) == display

    ((_, image),) = iter_frames_at(path, [0], probe=probe)
    assert image.shape == (display[1], display[0], 3)
    h, w = image.shape[:2]
    corners = {
        "top_left": image[:6, :6],
        "top_right": image[:6, w - 6 :],
        "bottom_left": image[h - 6 :, :6],
        "bottom_right": image[h - 6 :, w - 6 :],
    }
    assert corners[marker_corner].mean() > 200
    assert all(patch.mean() < 50 for name, patch in corners.items() if name != marker_corner)

    # The region is applied in display coordinates, after rotation.
    top = marker_corner.split("_")[0] == "top"
    left = marker_corner.split("_")[1] == "left"
    region = Region(0.0 if left else 0.5, 0.0 if top else 0.5, 0.5 if left else 1.0, 0.5 if top else 1.0)
    ((_, quarter),) = iter_frames_at(path, [0], probe=probe, region=region)
    assert quarter.shape == (h // 2, w // 2, 3)
    assert quarter.max() > 200


@pytest.fixture(scope="module")
def long_video(tmp_path_factory):
    """25 s at 30 fps with a keyframe every second: sparse requests seek."""
    path = tmp_path_factory.mktemp("long") / "long.mp4"
    return make_h264_video(
        path, numbered_frames(48, 32, 30), width=48, height=32, fps=30, duration_s=25.0, keyframe_interval_s=1.0
    )


@pytest.mark.parametrize("indices", [[0, 100, 200], [173, 174, 240, 249], [60, 61, 62, 249]])
def test_seeking_gives_the_same_frames_as_a_linear_decode(long_video, indices, monkeypatch):
    probe = probe_video(long_video)
    assert probe.frame_count == 250
    sought = list(iter_frames_at(long_video, indices, probe=probe))

    monkeypatch.setattr(video, "SEEK_GAP_S", math.inf)
    linear = dict(iter_frames_at(long_video, range(probe.frame_count), probe=probe))

    assert [i for i, _ in sought] == indices
    for index, image in sought:
        assert np.array_equal(image, linear[index]), index
        assert native_frame_of(image) == 3 * index


def test_indices_must_ascend_and_stay_in_range(long_video):
    with pytest.raises(ValueError, match="ascending"):
        list(iter_frames_at(long_video, [5, 3]))
    with pytest.raises(ValueError, match="outside"):
        list(iter_frames_at(long_video, [250]))


# --- bad input: every case says which file and what to do -----------------------------------


def assert_actionable(error: pytest.ExceptionInfo, name: str, *phrases: str) -> None:
    message = str(error.value)
    assert name in message
    assert "upload" in message
    assert "/" not in message.replace("H.264 MP4", ""), "no server paths in messages people read"
    for phrase in phrases:
        assert phrase in message, message


def test_text_file_is_not_a_video(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 50)
    with pytest.raises(InputError) as error:
        probe_video(path)
    assert_actionable(error, "notes.mp4", "not a video", "re-export")


@pytest.mark.parametrize("suffix", ["png", "jpg"])
def test_still_image_is_not_a_video(tmp_path, suffix):
    path = tmp_path / f"poster.{suffix}"
    Image.new("RGB", (64, 48), (200, 10, 10)).save(path)
    with pytest.raises(InputError) as error:
        probe_video(path)
    assert_actionable(error, f"poster.{suffix}", "is an image, not a video")


def write_audio(path, codec, *, seconds=1.0, rate=16000):
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "mono"
        samples = int(seconds * rate)
        step = 1024
        for start in range(0, samples, step):
            tone = np.sin(np.arange(start, start + step) * 0.05)[None, :]
            frame = av.AudioFrame.from_ndarray(tone.astype(np.float32), format="flt", layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


@pytest.mark.parametrize(("name", "codec"), [("speech.m4a", "aac"), ("speech.mp4", "aac"), ("speech.wav", "pcm_s16le")])
def test_audio_only_file_has_no_video_stream(tmp_path, name, codec):
    path = tmp_path / name
    write_audio(path, codec)
    with pytest.raises(InputError) as error:
        probe_video(path)
    assert_actionable(error, name, "has no video stream")


@pytest.mark.parametrize(("name", "phrase"), [("empty.avi", "zero duration"), ("empty.mp4", "has no video stream")])
def test_video_without_frames_is_rejected(tmp_path, name, phrase):
    # AVI keeps an empty video track; the MP4 demuxer drops a track without samples.
    path = tmp_path / name
    with av.open(str(path), "w") as container:
        stream = container.add_stream("h264", rate=10)
        stream.width, stream.height = 32, 32
        container.start_encoding()
    with pytest.raises(InputError) as error:
        probe_video(path)
    assert_actionable(error, name, phrase, "re-export")


@pytest.fixture
def clip(tmp_path):
    def make(name, **kwargs):
        return make_h264_video(
            tmp_path / name,
            numbered_frames(64, 48, 25),
            width=64,
            height=48,
            fps=25,
            duration_s=6.0,
            keyframe_interval_s=1.0,
            **kwargs,
        )

    return make


def cut(path, fraction):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def test_truncated_mp4_with_index_at_the_end(clip):
    path = cut(clip("cut.mp4"), 0.4)  # the moov atom is lost
    with pytest.raises(InputError) as error:
        probe_video(path)
    assert_actionable(error, "cut.mp4", "truncated", "re-export")


def test_truncated_faststart_mp4(clip):
    path = cut(clip("cut_fast.mp4", faststart=True), 0.4)  # the index survives, the media does not
    with pytest.raises(InputError) as error:
        probe_video(path)
    assert_actionable(error, "cut_fast.mp4", "truncated", "re-export")


def test_frames_stopping_short_of_the_duration_raise_while_decoding(clip):
    path = cut(clip("cut.mkv"), 0.5)  # Matroska keeps its declared duration up front
    probe = probe_video(path)
    assert probe.duration_seconds == pytest.approx(6.0, abs=0.05)
    frames = iter_frames_at(path, range(probe.frame_count), probe=probe)
    with pytest.raises(InputError) as error:
        for _ in frames:
            pass
    assert_actionable(error, "cut.mkv", "looks truncated", "re-export")


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as error:
        probe_video(tmp_path / "gone.mp4")
    assert_actionable(error, "gone.mp4", "not found")


def test_messages_name_the_users_file_not_the_stored_copy(tmp_path):
    path = tmp_path / "video.mp4"  # what storage calls every upload
    path.write_text("this is not a video\n")
    with pytest.raises(InputError) as error:
        probe_video(path, display_name="my-clip.mp4")
    assert "'my-clip.mp4'" in str(error.value) and "video.mp4'" not in str(error.value)


def flat_video(path, *, width=64, height=48, fps=10, duration_s=2.0):
    return make_h264_video(
        path,
        lambda t: np.full((height, width, 3), 90, np.uint8),
        width=width,
        height=height,
        fps=fps,
        duration_s=duration_s,
    )


def test_resolution_and_duration_limits_refuse_with_the_limit_and_how_to_raise_it(tmp_path):
    path = flat_video(tmp_path / "clip.mp4", width=64, height=48, duration_s=2.0)
    assert probe_video(path, limits=video.VideoLimits(max_pixels=64 * 48, max_duration_s=2.0)).width == 64
    with pytest.raises(InputError) as error:
        probe_video(path, limits=video.VideoLimits(max_pixels=64 * 48 - 1, pixels_setting="MAX_PX"))
    assert all(part in str(error.value) for part in ("'clip.mp4'", "64x48", "3071 pixels", "raise MAX_PX"))
    with pytest.raises(InputError) as error:
        probe_video(path, limits=video.VideoLimits(max_duration_s=1.5, duration_setting="MAX_S"))
    assert all(part in str(error.value) for part in ("'clip.mp4'", "lasts 2 s", "limit of 1.5 s", "raise MAX_S"))


def test_default_limits_refuse_8k_and_pass_4k(tmp_path):
    uhd = flat_video(tmp_path / "uhd.mp4", width=3840, height=2160, duration_s=0.1)
    probe = probe_video(uhd, limits=video.VideoLimits())
    assert (probe.width, probe.height) == (3840, 2160)
    eight_k = flat_video(tmp_path / "8k.mp4", width=7680, height=4320, duration_s=0.1)
    with pytest.raises(InputError, match="7680x4320 .* above the limit of 8294400 pixels"):
        probe_video(eight_k, limits=video.VideoLimits())


def sparse_video(path, *, frames: int, gap_s: float):
    """A real H.264 file whose `frames` frames are `gap_s` apart (sparse or bogus timestamps)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("h264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for k in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), k * 20 % 255, np.uint8), format="rgb24")
            frame.pts, frame.time_base = round(k * gap_s * 10), Fraction(1, 10)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def test_frames_far_apart_are_refused_quickly_before_they_cost_storage(tmp_path):
    path = sparse_video(tmp_path / "sparse.mp4", frames=10, gap_s=600)
    assert path.stat().st_size < 30_000
    assert probe_video(path).frame_count > 50_000  # without the guard: over 50,000 cropped frames
    with pytest.raises(InputError) as error:
        probe_video(path, limits=video.VideoLimits())
    message = str(error.value)
    assert all(part in message for part in ("'sparse.mp4'", "10 frames", "sparse or bogus", "constant frame rate"))


@pytest.mark.parametrize(("fps", "passes"), [(10, True), (1, True), (Fraction(1, 5), True), (Fraction(1, 6), False)])
def test_the_density_guard_passes_any_rate_down_to_one_frame_in_5_s(tmp_path, fps, passes):
    path = flat_video(tmp_path / "v.mp4", width=32, height=32, fps=fps, duration_s=120.0)
    if passes:
        assert probe_video(path, limits=video.VideoLimits()).frame_count == 1200
    else:
        with pytest.raises(InputError, match="sparse or bogus"):
            probe_video(path, limits=video.VideoLimits())


def test_generated_eval_videos_pass_the_default_limits(tmp_path):
    from captionacc_assets.evaluation.eval_set import DURATIONS_S, FORMATS
    from captionacc_assets.synthetic.generate import write_video
    from captionacc_assets.synthetic.video_spec import Cue, VideoSpec

    limits = video.VideoLimits()
    assert all(w * h <= limits.max_pixels for (w, h), _ in FORMATS) and max(DURATIONS_S) <= limits.max_duration_s
    (width, height), fps = max(FORMATS, key=lambda f: f[0][0] * f[0][1])
    spec = VideoSpec(
        width=width,
        height=height,
        fps=float(fps),
        duration_s=1.5,
        background="moving",
        seed=1,
        cues=(Cue(0.2, 1.2, "Good night"),),
    )
    assert probe_video(write_video(spec, tmp_path / "eval.mp4"), limits=limits).width == width


def test_a_probe_handed_on_is_used_only_for_a_file_of_the_size_it_probed(tmp_path):
    first = make_h264_video(
        tmp_path / "a.mp4", numbered_frames(64, 48, 10), width=64, height=48, fps=10, duration_s=2.0
    )
    probe = probe_video(first)
    assert probe.size_bytes == first.stat().st_size
    assert video.probe_of(first, probe) is probe  # the same file: not probed again
    # The file replaced under the same name (a longer upload): the old probe is not trusted.
    make_h264_video(first, numbered_frames(64, 48, 10), width=64, height=48, fps=10, duration_s=4.0)
    assert video.probe_of(first, probe) == probe_video(first) != probe
    assert video.probe_of(first, None) == probe_video(first)


@pytest.mark.parametrize(
    "tags",
    [{}, {"colorspace": 1, "color_range": 1}, {"colorspace": 1, "color_range": 2}],
    ids=["untagged", "bt709", "full-range"],
)
def test_a_region_converted_alone_has_the_pixels_of_the_whole_frame_cut(tmp_path, tags):
    """The crop job converts only the caption band of each frame to RGB; what it gets must be
    what converting the whole frame and cutting gives, bit for bit, whatever the frame's tags."""
    rng = np.random.default_rng(7)
    path = tmp_path / "colour.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("h264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for name, value in tags.items():
            setattr(stream.codec_context, name, value)
        for k in range(6):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 256, (96, 160, 3), dtype=np.uint8), format="rgb24")
            frame.pts = k
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    with av.open(str(path)) as container:
        decoded = next(container.decode(video=0))
    assert (decoded.colorspace, decoded.color_range) == (tags.get("colorspace", 2), tags.get("color_range", 0))
    whole = dict(iter_frames_at(path, range(6)))
    for region in (Region(0.099, 0.803, 0.899, 0.999), Region(0.1013, 0.0151, 0.8977, 0.33), Region(0, 0, 1, 1)):
        assert video._band_of(decoded, region) is not None  # the band path is the one taken
        for index, band in iter_frames_at(path, range(6), region=region):
            assert np.array_equal(band, region.crop(whole[index])), (region, index)


def _decoded_frames(monkeypatch) -> list:
    """The frames the decoder hands out from now on (skipped frames never come out)."""
    decoded: list = []
    read_ahead = video._DisplayedFrames._read_ahead
    monkeypatch.setattr(video._DisplayedFrames, "_read_ahead", lambda self: decoded.append(1) or read_ahead(self))
    return decoded


def test_sparse_requests_decode_from_the_last_keyframe_before_each_and_never_go_back(tmp_path, long_video, monkeypatch):
    decoded = _decoded_frames(monkeypatch)

    # keyframes every second: 1.5 s ahead, decoding resumes at the keyframe at 1.0 s
    assert [i for i, _ in iter_frames_at(long_video, [0, 15])] == [0, 15]
    assert len(decoded) <= 2 + 17, len(decoded)  # not the 45 frames to 1.5 s
    # a keyframe every 8 s: 3 s -> 7 s has none between, so the decoder goes on instead of seeking back
    gop8 = make_h264_video(
        tmp_path / "gop8.mp4",
        numbered_frames(48, 32, 30),
        width=48,
        height=32,
        fps=30,
        duration_s=9.0,
        keyframe_interval_s=8.0,
    )
    decoded.clear()
    frames = dict(iter_frames_at(gop8, [30, 70]))
    assert [native_frame_of(frames[i]) for i in (30, 70)] == [90, 210]
    assert len(decoded) <= 212, len(decoded)  # once through 0..7 s, not twice


@pytest.fixture(scope="module")
def b_frame_video(tmp_path_factory):
    """6 s at 30 fps with 3 B-frames between references (the middle one a reference), keyframes every 2 s."""
    path = tmp_path_factory.mktemp("bframes") / "b.mp4"
    return make_h264_video(
        path,
        numbered_frames(48, 32, 30),
        width=48,
        height=32,
        fps=30,
        duration_s=6.0,
        keyframe_interval_s=2.0,
        b_frames=3,
    )


@pytest.mark.parametrize("indices", [list(range(60)), [0, 7, 8, 31, 59], [13, 44]])
def test_frames_shown_at_no_instant_and_referred_to_by_none_are_not_decoded(b_frame_video, indices, monkeypatch):
    decoded = _decoded_frames(monkeypatch)
    skipping = dict(iter_frames_at(b_frame_video, indices))
    skipped_count = len(decoded)

    decoded.clear()
    monkeypatch.setattr(video._DisplayedFrames, "decode_only_shown", lambda self, instants: None)
    every = dict(iter_frames_at(b_frame_video, indices))

    assert list(skipping) == indices
    for index in indices:
        assert np.array_equal(skipping[index], every[index]), index
        assert native_frame_of(skipping[index]) == 3 * index
    assert skipped_count < 0.8 * len(decoded), (skipped_count, len(decoded))  # B-frames were skipped


def test_a_frame_no_packet_announced_turns_skipping_off_and_decodes_again(b_frame_video, monkeypatch):
    indices = list(range(0, 60, 2))
    expected = [native_frame_of(image) for _, image in iter_frames_at(b_frame_video, indices)]
    decode_only_shown = video._DisplayedFrames.decode_only_shown

    def misleading(self, instants):
        decode_only_shown(self, instants)
        self._packet_pts = self._packet_pts[: len(self._packet_pts) // 2]  # frames past the middle "unannounced"

    monkeypatch.setattr(video._DisplayedFrames, "decode_only_shown", misleading)
    readers, close = [], video._DisplayedFrames.close
    monkeypatch.setattr(video._DisplayedFrames, "close", lambda self: readers.append(self) or close(self))
    got = [native_frame_of(image) for _, image in iter_frames_at(b_frame_video, indices)]

    assert got == expected == [3 * i for i in indices]
    assert readers[0]._decoded_pts is None  # it noticed, and decoded every frame after
