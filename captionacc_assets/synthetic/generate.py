"""Render a `VideoSpec` to frames, an H.264 MP4 and its ground-truth SRT.

`render_frame(spec, t)` is the single definition of what the video shows at time t;
`write_video` streams frame k = render_frame(spec, k / fps) into the encoder, one frame
in memory at a time. The truth SRT comes from the same cues, so truth and pixels
cannot disagree.
"""

from __future__ import annotations

import os
import queue
import threading
from datetime import timedelta
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Iterator, cast

import av
import numpy as np
import srt

from captionacc_assets.synthetic.backgrounds import Background
from captionacc_assets.synthetic.captions_render import (
    TextLayer,
    caption_layer,
    composite,
    cue_opacity,
    render_text_layer,
)
from captionacc_assets.synthetic.video_spec import CaptionStyle, Cue, VideoSpec

__all__ = ["Cue", "CaptionStyle", "VideoSpec", "render_frame", "write_video", "write_truth_srt", "demo_spec"]

# spec.codec -> (FFmpeg encoder, encoder options). "superfast": these are test inputs, and
# it encodes 720p about 1.5x faster than "veryfast" for files about twice the size.
_ENCODERS = {"h264": ("libx264", {"preset": "superfast"})}

LOGO_TEXT = "CA TV"
SIGN_TEXT = "出口 EXIT"
TITLE_TEXT = "STAR NEWS 24"
TOP_ZONE_TAG = "{\\an8}"
"""Put before the text of each top-zone cue of a two-zone video's truth SRT (as the exports do)."""


def _distractor_layers(spec: VideoSpec) -> list[TextLayer]:
    """Constant text that is not a caption: a corner logo (on the side away from the
    captions) and a sign in the scene at a fixed place outside the caption band."""
    w, h = spec.width, spec.height
    layers = []
    if "sign" in spec.distractors:
        layers.append(
            render_text_layer(
                (SIGN_TEXT,),
                font="cjk_sans",
                size=max(8, round(0.05 * h)),
                colour=(245, 245, 235),
                style="box",
                centres=((0.22 * w, 0.42 * h),),
                frame_size=(w, h),
                box_colour=(0, 105, 62),
            )
        )
    if "title" in spec.distractors:
        # A static programme title on the side away from the captions, as large as a caption:
        # it recurs in every frame, but its text never changes.
        size = max(8, round(0.05 * h))
        y = 0.92 * h if spec.style.placement == "top" else 0.08 * h
        layers.append(
            render_text_layer(
                (TITLE_TEXT,),
                font="latin_sans_bold",
                size=size,
                colour=(250, 250, 250),
                style="outline",
                centres=((0.5 * w, y),),
                frame_size=(w, h),
            )
        )
    if "logo" in spec.distractors:
        size = max(8, round(0.045 * h))
        y = 0.94 * h if spec.style.placement == "top" else 0.07 * h
        layers.append(
            render_text_layer(
                (LOGO_TEXT,),
                font="latin_sans_bold",
                size=size,
                colour=(255, 255, 255),
                style="plain",
                centres=((w - 0.04 * w - 1.6 * size, y),),
                frame_size=(w, h),
                opacity=0.75,
            )
        )
    return layers


class _Renderer:
    """Everything about a spec that is made once: background texture and sprites,
    distractor layers and one caption layer per cue."""

    def __init__(self, spec: VideoSpec):
        self.spec = spec
        self.background = Background(spec.width, spec.height, spec.background, spec.seed)
        self.distractors = _distractor_layers(spec)
        self.captions = {cue: caption_layer(cue.text, spec.style, spec.width, spec.height) for cue in spec.cues}
        second = spec.second_zone_style
        self.second_captions = {
            cue: caption_layer(cue.text, second, spec.width, spec.height) for cue in spec.second_cues
        }

    def frame(self, t: float) -> np.ndarray:
        spec = self.spec
        image = self.background.frame(t)
        for layer in self.distractors:
            composite(image, layer)
        cue = spec.cue_at(t)
        if cue is not None:
            composite(image, self.captions[cue], cue_opacity(cue, t, spec.style.fade_s, spec.fps))
        if spec.second_cues and (cue := spec.second_cue_at(t)) is not None:
            composite(image, self.second_captions[cue], cue_opacity(cue, t, spec.second_zone_style.fade_s, spec.fps))
        return image


@lru_cache(maxsize=4)
def _renderer(spec: VideoSpec) -> _Renderer:
    return _Renderer(spec)


def render_frame(spec: VideoSpec, t: float) -> np.ndarray:
    """The H x W x 3 uint8 RGB picture at time t (deterministic from the spec and its seed)."""
    return _renderer(spec).frame(t)


def _yuv_frames(spec: VideoSpec, renderer: _Renderer, depth: int = 4) -> Iterator[av.VideoFrame]:
    """Frames 0..n-1 as yuv420p, rendered and converted on a worker thread while the
    caller encodes (numpy, swscale and x264 release the GIL, so the two overlap).

    The queue holds at most `depth` frames: memory stays bounded however long the video.
    """
    frames: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                frames.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for k in range(spec.frame_count):
                rgb = av.VideoFrame.from_ndarray(renderer.frame(spec.frame_time(k)), format="rgb24")
                if not put(rgb.reformat(format="yuv420p")):
                    return
            put(done)
        except BaseException as error:  # handed to the consumer, which re-raises it
            put(error)

    worker = threading.Thread(target=produce, name="synthetic-video-render", daemon=True)
    worker.start()
    try:
        while (item := frames.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def write_video(spec: VideoSpec, path: Path) -> Path:
    """Encode the spec to an MP4 (H.264, yuv420p): frame k shows t = k / fps.

    Streams frames (bounded memory) and writes to a temporary name first, so a failed
    run never leaves a truncated video at `path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    encoder, options = _ENCODERS[spec.codec]
    rate = Fraction(spec.fps).limit_denominator(1001)
    time_base = 1 / rate
    renderer = _renderer(spec)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with av.open(str(partial), mode="w", format="mp4") as container:
            stream = cast(
                av.VideoStream, container.add_stream(encoder, rate=rate, options={**options, "crf": str(spec.crf)})
            )
            stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
            for k, frame in enumerate(_yuv_frames(spec, renderer)):
                frame.pts, frame.time_base = k, time_base
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def truth_cues(spec: VideoSpec) -> list[tuple[Cue, str]]:
    """Every cue with its zone's placement ("top" or "bottom"), in time order (main zone first on a tie)."""
    cues = [(cue, spec.style.placement) for cue in spec.cues]
    cues += [(cue, spec.second_zone_style.placement) for cue in spec.second_cues]
    return sorted(cues, key=lambda item: item[0].start_s)


def write_truth_srt(spec: VideoSpec, path: Path) -> Path:
    """The ground truth as SRT: one subtitle per cue, in time order, text as rendered. In a
    two-zone video each top-zone cue's text starts with `{\\an8}`, as the exports mark it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    two_zones = spec.zone_count == 2
    subtitles = [
        srt.Subtitle(
            index=i,
            start=timedelta(seconds=cue.start_s),
            end=timedelta(seconds=cue.end_s),
            content=(TOP_ZONE_TAG if two_zones and placement == "top" else "") + cue.text,
        )
        for i, (cue, placement) in enumerate(truth_cues(spec), start=1)
    ]
    path.write_text(srt.compose(subtitles), encoding="utf-8")
    return path


DEMO_CUES = (
    Cue(1.0, 3.0, "你好，世界"),
    Cue(3.6, 5.6, "Where are you going?"),
    Cue(6.4, 8.4, "我们明天见"),
    Cue(8.4, 10.4, "See you tomorrow."),  # back-to-back with the cue before
    Cue(11.2, 13.6, "今天天气很好\n我们去公园吧"),  # two lines
    Cue(14.2, 15.8, "Thank you very much!"),
    Cue(16.4, 17.8, "谢谢你的帮助"),
    Cue(18.2, 19.4, "Good night"),
)


def demo_spec(seed: int = 0) -> VideoSpec:
    """A 20 s 1280x720 30 fps video: 8 Chinese and English cues on the 0.1 s grid (gaps,
    one back-to-back pair, one two-line cue), white outlined text at the bottom over a
    moving background. The seed changes the background only."""
    return VideoSpec(
        width=1280,
        height=720,
        fps=30.0,
        duration_s=20.0,
        background="moving",
        cues=DEMO_CUES,
        style=CaptionStyle(),
        seed=seed,
    )
