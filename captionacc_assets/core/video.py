"""Probe an uploaded video and stream its frames at 10 Hz indices (SPEC §3).

Decoding is the cost of every job, so frames are decoded in one forward pass,
only the frames that are shown at a requested index are converted to RGB, and
sparse requests (full frames at 0.1 Hz) seek to the keyframe before each target
instead of decoding everything in between. Memory stays bounded by a couple of
frames whatever the video's length.
"""

import math
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any
from pathlib import Path

import av
import numpy as np

from captionacc_assets.core.errors import InputError
from captionacc_assets.core.index_space import INDEX_RATE_HZ, frame_count
from captionacc_assets.core.region import Region

# A frame whose timestamp is within this of an index's instant is shown at that instant
# (timestamps are rounded to the container's time base).
TIME_EPSILON_S = 1e-3
# Seek instead of decoding forward when the next wanted instant is this far ahead and a keyframe
# lies between (`_DisplayedFrames._keyframe_before`): decoding resumes from the last keyframe
# before the instant, never from one before where the decoder already is.
SEEK_GAP_S = 1.0
# A packet within this many frame intervals of a shown frame's timestamp is decoded whatever it
# is: the second field of an interlaced frame carries a timestamp half an interval after the first.
_SHOWN_NEIGHBOUR_INTERVALS = 0.75
# Demuxers that open still images as one-frame "videos".
_IMAGE_FORMAT_NAMES = ("image2", "image2pipe")
_IMAGE_FORMAT_SUFFIX = "_pipe"  # png_pipe, jpeg_pipe, webp_pipe, ...
_FIX = "re-export the video (e.g. as H.264 MP4) and upload it again"
# A video shorter than this many 10 Hz indices (60 s) costs little however sparse its frames are.
DENSITY_CHECK_MIN_INDICES = 600


@dataclass(frozen=True)
class VideoLimits:
    """The largest video `probe_video` accepts; `*_setting` names where a person raises each limit."""

    max_pixels: int = 3840 * 2160  # display width x height: 4K UHD passes, 8K is refused
    max_duration_s: float = 4 * 3600.0
    # 10 Hz indices per video packet, on average. Every index becomes a cropped frame, so a file
    # whose few frames are far apart (sparse or bogus timestamps) costs what a long video costs.
    # 50 is one frame per 5 s, far sparser than any recording.
    max_indices_per_packet: float = 50.0
    pixels_setting: str = "max_pixels"
    duration_setting: str = "max_duration_s"


@dataclass(frozen=True)
class VideoProbe:
    duration_seconds: float
    fps: float  # average native frame rate
    width: int  # display width, after rotation
    height: int  # display height, after rotation
    codec: str
    rotation: int  # clockwise degrees applied for display: 0, 90, 180 or 270
    container: str  # demuxer format name
    frame_count: int  # 10 Hz indices: index_space.frame_count(duration_seconds)
    size_bytes: int | None = None  # the probed file's size: a probe handed on is trusted only for a file this size

    def as_dict(self) -> dict:
        return asdict(self)


def probe_video(path: Path | str, *, display_name: str | None = None, limits: VideoLimits | None = None) -> VideoProbe:
    """Read duration, rate, display size, codec and rotation without a full decode.

    Raises InputError for anything that is not a usable video, or (with `limits`) one too
    large, too long or too sparse to process. Messages call the file `display_name` (the
    user's own file name) when given, not the stored copy's name.
    """
    path = Path(path)
    name = display_name or path.name
    with _open(path, name) as container:
        stream = _video_stream(container, name)
        duration = _declared_duration(container, stream)
        first = _first_frame(container, stream, name)
        rotation = _clockwise_rotation(first)
        width, height = first.width, first.height
        if rotation in (90, 270):
            width, height = height, width
        if limits and width * height > limits.max_pixels:
            raise InputError(
                f"video {name!r} is {width}x{height} ({width * height} pixels), above the limit of "
                f"{limits.max_pixels} pixels: downscale it and upload it again, or raise {limits.pixels_setting}"
            )
        if duration is None:
            duration = _duration_by_decoding(container, stream, name)
        if duration <= 0:
            raise InputError(f"video {name!r} has zero duration: {_FIX}")
        _check_index_within_file(stream, path, name)
        if limits and duration > limits.max_duration_s:
            raise InputError(
                f"video {name!r} lasts {_seconds(duration)} s, above the limit of {_seconds(limits.max_duration_s)} s: "
                f"cut it into shorter parts and upload those, or raise {limits.duration_setting}"
            )
        if limits:
            _check_frame_density(path, name, float(duration), limits)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        return VideoProbe(
            duration_seconds=float(duration),
            fps=float(rate) if rate else 0.0,
            width=width,
            height=height,
            codec=stream.codec_context.name,
            rotation=rotation,
            container=container.format.name,
            frame_count=frame_count(float(duration)),
            size_bytes=path.stat().st_size,
        )


def probe_of(path: Path | str, probe: VideoProbe | None) -> VideoProbe:
    """`probe` when it was made of a file of `path`'s size, else a fresh `probe_video(path)`.

    A job is handed the probe the `video` asset made of the same stored file, to skip a second
    probe. The size check is the cheap guard against a file replaced under the same key since:
    a probe of another file (or one without a size) is never used to decode this one.
    """
    if probe is not None and probe.size_bytes == Path(path).stat().st_size:
        return probe
    return probe_video(path)


def iter_frames_at(
    path: Path | str,
    indices: Iterable[int],
    *,
    region: Region | None = None,
    probe: VideoProbe | None = None,
    display_name: str | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield `(index, rgb)` for each ascending 10 Hz index: the frame displayed at `index / 10` s.

    The displayed frame is the last one whose timestamp is <= the instant (the first
    frame before any). Frames are display-oriented (rotation applied), then cut to
    `region` if given. Indices after the last frame (but < frame_count) get the last
    frame; a file whose frames stop well short of its duration raises InputError, naming
    `display_name` (the user's file) when given.
    """
    path = Path(path)
    name = display_name or path.name
    probe = probe or probe_video(path, display_name=name)
    with _open(path, name) as container:
        stream = _video_stream(container, name)
        stream.thread_type = "AUTO"
        indices = list(indices)
        reader = _DisplayedFrames(container, stream, name, probe, path)
        try:
            reader.decode_only_shown([int(index) / INDEX_RATE_HZ for index in indices])
            previous = -1
            for index in indices:
                index = int(index)
                if index <= previous:
                    raise ValueError(f"frame indices must be strictly ascending: {index} after {previous}")
                if index >= probe.frame_count:
                    raise ValueError(f"frame index {index} is outside [0, {probe.frame_count})")
                previous = index
                # A frame shown at several indices (sources under 10 fps) is converted each
                # time, so a caller may modify what it got.
                yield index, _to_image(reader.frame_at(index / INDEX_RATE_HZ), probe.rotation, region)
        finally:
            reader.close()


class _DisplayedFrames:
    """Forward decoder that answers "which frame is shown at t?" for ascending t.

    Told the instants it will be asked about (`decode_only_shown`), it decodes no frame that is
    shown at none of them and that no other frame refers to (most B-frames): FFmpeg's
    `skip_frame = NONREF`, set packet by packet from the packets' timestamps. A 30 fps video read at
    10 Hz shows a third of its frames."""

    def __init__(self, container, stream, name: str, probe: VideoProbe, path: Path):
        self._container = container
        self._path = path
        self._index: Any = None  # a second demuxer of the same file: where the keyframes are (no decoding)
        self._stream = stream
        self._name = name
        self._probe = probe
        self._start_s = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        self._frame_interval_s = 1.0 / probe.fps if probe.fps > 0 else 0.1
        self._frames = self._decode()
        self._shown = None  # last frame with time <= t (an av.VideoFrame, not converted)
        self._shown_s = None
        self._next = None  # first frame with time > t, read ahead
        self._next_s = None
        self._at_eof = False
        self._decoded_pts: np.ndarray | None = None  # sorted: the packets decoded whatever they are; None: all
        self._packet_pts = np.empty(0, np.int64)  # sorted: every packet's timestamp
        self._skip = "DEFAULT"
        self._target_s = 0.0

    def decode_only_shown(self, instants: list[float]) -> None:
        """Skip the frames that are shown at none of `instants` and that no frame refers to.

        The frame shown at t is the last one whose timestamp is <= t, so the packets' timestamps
        (a demux pass of the second demuxer, no decoding) tell which frames are wanted. Nothing is
        skipped when a packet has no timestamp, or when a decoded frame turns out to carry one no
        packet had (`_read_ahead` then decodes everything again from the keyframe before)."""
        if not instants:
            return
        pts, kept = array("q"), array("q")  # every packet's timestamp; those not discarded (edit lists)
        try:
            demuxer = self._demuxer()
            for packet in demuxer.demux(demuxer.streams[self._stream.index]):
                if not packet.size:
                    continue
                if packet.pts is None:
                    return
                pts.append(packet.pts)
                if not packet.is_discard:
                    kept.append(packet.pts)
        except (av.FFmpegError, IndexError):
            return
        if not kept:
            return
        frames = np.unique(np.frombuffer(kept, dtype=np.int64))
        times = frames * float(self._stream.time_base) - self._start_s
        shown = np.searchsorted(times, np.asarray(instants) + TIME_EPSILON_S, side="right") - 1
        shown_times = times[np.unique(np.clip(shown, 0, len(frames) - 1))]
        after = np.searchsorted(shown_times, times)  # the shown frames on either side of each frame
        distance = np.minimum(
            np.abs(times - shown_times[np.clip(after - 1, 0, len(shown_times) - 1)]),
            np.abs(times - shown_times[np.clip(after, 0, len(shown_times) - 1)]),
        )
        self._decoded_pts = frames[distance <= _SHOWN_NEIGHBOUR_INTERVALS * self._frame_interval_s]
        self._packet_pts = np.unique(np.frombuffer(pts, dtype=np.int64))

    def frame_at(self, t: float):
        self._target_s = t
        needs_frames = self._next is None or self._next_s <= t + TIME_EPSILON_S
        if needs_frames and not self._at_eof:
            position = self._next_s if self._next is not None else (self._shown_s or 0.0)
            if t - position > SEEK_GAP_S and self._keyframe_before(t) > position + TIME_EPSILON_S:
                self._seek_before(t)
        self._advance_to(t)
        if self._shown is None:
            raise self._truncated(f"no frame could be decoded at {t:.1f} s")
        return self._shown

    def _advance_to(self, t: float) -> None:
        while True:
            if self._next is None:
                if self._at_eof:
                    break
                self._read_ahead()
                continue
            if self._next_s > t + TIME_EPSILON_S:
                if self._shown is None:  # before the first frame: show the first frame
                    self._shown, self._shown_s = self._next, self._next_s
                break
            self._shown, self._shown_s = self._next, self._next_s
            self._next = None
        if self._next is None and self._at_eof and self._shown is not None:
            self._check_not_truncated()

    def _read_ahead(self) -> None:
        try:
            frame = next(self._frames)
        except StopIteration:
            self._at_eof = True
            return
        except av.FFmpegError as error:
            raise self._truncated(f"decoding failed after {self._shown_s or 0:.1f} s ({_reason(error)})") from None
        if self._decoded_pts is not None and frame.pts is not None and not _holds(self._packet_pts, frame.pts):
            # a frame no packet announced: the timestamps cannot tell what is shown; decode all again
            self._decoded_pts = None
            self._seek_before(self._shown_s if self._shown_s is not None else self._target_s)  # shown_s <= target
            return
        if frame.time is not None:
            frame_s = frame.time - self._start_s
        elif self._shown_s is not None:
            frame_s = self._shown_s + self._frame_interval_s
        else:
            frame_s = 0.0
        self._next, self._next_s = frame, frame_s

    def _keyframe_before(self, t: float) -> float:
        """The time of the keyframe a seek to `t` lands on, read off a second demuxer of the file
        (a seek and one packet, no decoding); +inf when that demuxer cannot tell (seek anyway)."""
        try:
            demuxer = self._demuxer()
            stream = demuxer.streams[self._stream.index]  # the same stream of the same file
            demuxer.seek(self._offset(t), stream=stream, backward=True, any_frame=False)
            for packet in demuxer.demux(stream):
                if packet.pts is not None:
                    return float(packet.pts * stream.time_base) - self._start_s
        except (av.FFmpegError, IndexError):
            pass
        return math.inf

    def _demuxer(self):
        if self._index is None:
            self._index = av.open(str(self._path), metadata_errors="ignore")
        return self._index

    def _offset(self, t: float) -> int:
        """Instant `t` (seconds from the first frame) in the stream's time base, for a seek."""
        return int((t + self._start_s) / self._stream.time_base)

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None

    def _seek_before(self, t: float) -> None:
        """Seek to the keyframe at or before `t`, backing off if the demuxer lands after it."""
        target = t
        while True:
            offset = self._offset(target)
            try:
                self._container.seek(offset, stream=self._stream, backward=True, any_frame=False)
            except av.FFmpegError as error:
                raise self._truncated(f"seeking to {t:.1f} s failed ({_reason(error)})") from None
            self._frames = self._decode()
            self._shown = self._shown_s = self._next = self._next_s = None
            self._at_eof = False
            self._read_ahead()
            if self._next is None or self._next_s <= t + TIME_EPSILON_S or target <= 0:
                return
            target = max(0.0, target - 2 * SEEK_GAP_S)

    def _decode(self):
        context = self._stream.codec_context
        for packet in self._container.demux(self._stream):
            decoded = self._decoded_pts
            skip = (
                "NONREF"
                if decoded is not None and packet.pts is not None and not _holds(decoded, packet.pts)
                else "DEFAULT"
            )
            if skip != self._skip:
                context.skip_frame = self._skip = skip
            yield from packet.decode()

    def _check_not_truncated(self) -> None:
        decoded_s = (self._shown_s or 0.0) + self._frame_interval_s
        declared_s = self._probe.duration_seconds
        if declared_s - decoded_s > 1.0 + 0.01 * declared_s:
            raise self._truncated(f"its frames stop at {decoded_s:.1f} s of {declared_s:.1f} s")

    def _truncated(self, detail: str) -> InputError:
        return InputError(f"video {self._name!r} looks truncated or corrupt: {detail}; {_FIX}")


def _holds(ascending: np.ndarray, value: int) -> bool:
    at = int(np.searchsorted(ascending, value))
    return at < len(ascending) and int(ascending[at]) == value


def _open(path: Path, name: str):
    if not path.is_file():
        raise InputError(f"video {name!r} was not found: upload the video again")
    try:
        return av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as error:
        raise InputError(
            f"file {name!r} is not a video, or is truncated or corrupt ({_reason(error)}); {_FIX}"
        ) from None


def _seconds(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _reason(error: Exception) -> str:
    """FFmpeg's words for what went wrong, without the server-side path."""
    return getattr(error, "strerror", None) or type(error).__name__


def _video_stream(container, name: str):
    demuxer = container.format.name
    if demuxer in _IMAGE_FORMAT_NAMES or demuxer.endswith(_IMAGE_FORMAT_SUFFIX):
        raise InputError(f"file {name!r} is an image, not a video ({demuxer}); upload the video file itself")
    streams = [
        s
        for s in container.streams.video
        if not (s.disposition & av.stream.Disposition.attached_pic)  # cover art in audio files
    ]
    if not streams:
        raise InputError(f"file {name!r} has no video stream (is it audio only, or empty?); {_FIX}")
    return streams[0]


def _declared_duration(container, stream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    tagged = _parse_clock(stream.metadata.get("DURATION") or stream.metadata.get("duration"))
    if tagged:
        return tagged
    if container.duration:
        return container.duration / av.time_base
    return None


def _parse_clock(text: str | None) -> float | None:
    """Matroska's per-stream DURATION tag, e.g. '00:01:02.500000000'."""
    if not text:
        return None
    try:
        hours, minutes, seconds = text.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except ValueError:
        return None


def _first_frame(container, stream, name: str):
    try:
        for packet in container.demux(stream):
            for frame in packet.decode():
                return frame
    except av.FFmpegError as error:
        raise InputError(f"video {name!r} is truncated or corrupt ({_reason(error)}); {_FIX}") from None
    raise InputError(f"video {name!r} has zero duration: it holds no decodable frames; {_FIX}")


def _duration_by_decoding(container, stream, name: str) -> float:
    """Last resort when neither stream nor container declares a duration."""
    container.seek(0)
    last = None
    try:
        for packet in container.demux(stream):
            for frame in packet.decode():
                if frame.time is not None:
                    last = frame.time
    except av.FFmpegError as error:
        raise InputError(f"video {name!r} is truncated or corrupt ({_reason(error)}); {_FIX}") from None
    if last is None:
        return 0.0
    rate = stream.average_rate or stream.guessed_rate
    start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    return last - start + (1.0 / float(rate) if rate else 0.0)


def _check_index_within_file(stream, path: Path, name: str) -> None:
    """A container index that points past the end of the file means a cut-off upload."""
    entries = stream.index_entries
    if not entries or len(entries) == 0:
        return
    last = entries[len(entries) - 1]
    size = path.stat().st_size
    if last.pos >= 0 and last.pos + last.size > size:
        raise InputError(
            f"video {name!r} looks truncated: its index points to byte {last.pos + last.size} "
            f"but the file has {size} bytes; {_FIX}"
        )


def _check_frame_density(path: Path, name: str, duration_s: float, limits: VideoLimits) -> None:
    """Refuse a file whose frames are too few for its duration (sparse or bogus timestamps).

    Counts the video packets in a demux pass without decoding, and stops as soon as there
    are enough, so a normal video costs a few seconds' worth of packets.
    """
    index_total = frame_count(duration_s)
    if index_total < DENSITY_CHECK_MIN_INDICES:
        return
    needed = math.ceil(index_total / limits.max_indices_per_packet)
    packets = 0
    with _open(path, name) as container:
        try:
            for packet in container.demux(_video_stream(container, name)):
                packets += 1 if packet.size else 0
                if packets >= needed:
                    return
        except av.FFmpegError as error:
            raise InputError(f"video {name!r} is truncated or corrupt ({_reason(error)}); {_FIX}") from None
    raise InputError(
        f"video {name!r} has {packets} frames over {duration_s:.0f} s (one every {duration_s / max(packets, 1):.0f} s "
        f"on average): its timestamps are sparse or bogus, and processing it would cost as much as "
        f"{index_total} frames at 10 a second; re-export it at a constant frame rate "
        f"(e.g. ffmpeg -i IN -r 10 OUT.mp4) and upload it again"
    )


def _clockwise_rotation(frame) -> int:
    # PyAV reports the display matrix as a counter-clockwise angle.
    return int(round(-(frame.rotation or 0) / 90.0)) * 90 % 360


# 8-bit 4:2:0 planar frames (yuvj420p: full range) are cut to their region before conversion.
_BAND_FORMATS = ("yuv420p", "yuvj420p")


def _to_image(frame, rotation: int, region: Region | None) -> np.ndarray:
    if region is not None and not rotation and frame.format.name in _BAND_FORMATS:
        band = _band_of(frame, region)
        if band is not None:
            return band
    image = frame.to_ndarray(format="rgb24")
    if rotation:
        image = np.rot90(image, k=-rotation // 90)  # np.rot90 turns counter-clockwise
    if region is not None:
        image = region.crop(image)
    return np.ascontiguousarray(image)


def _band_of(frame, region: Region) -> np.ndarray | None:
    """`region` of a 4:2:0 frame in RGB, converting only its rows and columns (from the even
    pixel at or before its corner, so the chroma samples line up): the same pixels as converting
    the whole frame and cutting, in 0.7-1.8 ms against 2.9-4.0 ms a 720p frame (one loaded run)
    and without a full-size RGB frame in memory. None for a frame of odd width or height (swscale converts those
    differently: not the same pixels): the caller converts the whole frame then."""
    if frame.width % 2 or frame.height % 2:
        return None
    x0, y0, x1, y1 = region.to_pixels(frame.width, frame.height)
    left, top = x0 - x0 % 2, y0 - y0 % 2
    right, bottom = x1 + x1 % 2, y1 + y1 % 2
    luma, blue, red = (np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size) for plane in frame.planes)
    planes = [
        luma[top:bottom, left:right],
        blue[top // 2 : bottom // 2, left // 2 : right // 2],
        red[top // 2 : bottom // 2, left // 2 : right // 2],
    ]
    stacked = np.concatenate([p.ravel() for p in planes]).reshape(-1, right - left)
    band = av.VideoFrame.from_ndarray(stacked, frame.format.name)
    band.colorspace, band.color_range = frame.colorspace, frame.color_range  # the conversion follows both
    rgb = band.to_ndarray(format="rgb24")
    return np.ascontiguousarray(rgb[y0 - top : y1 - top, x0 - left : x1 - left])
