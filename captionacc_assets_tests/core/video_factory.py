"""Real test videos written with PyAV, so tests decode what an upload would contain."""

from fractions import Fraction
from pathlib import Path
from typing import Callable

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


def make_h264_video(
    path: Path | str,
    frames_fn: Callable[[float], np.ndarray],
    *,
    width: int,
    height: int,
    fps: float | Fraction,
    duration_s: float,
    rotation: int = 0,
    codec: str = "h264",
    keyframe_interval_s: float | None = None,
    faststart: bool = False,
    b_frames: int = 0,
) -> Path:
    """Encode `round(duration_s * fps)` frames of `frames_fn(t)` (HxWx3 uint8 RGB, as stored).

    `rotation` is the clockwise display rotation written into the container's display
    matrix (what a phone records), so a reader must rotate the stored frames by it.
    `keyframe_interval_s` forces a GOP length (seek tests need several keyframes).
    `faststart` puts the mp4 index before the media data, as web uploads usually are.
    `b_frames` H.264 B-frames between references, the middle one a reference too (x264's
    b-pyramid, as most encoders write them); none by default.
    """
    path = Path(path)
    rate = Fraction(fps).limit_denominator(1001)
    frame_total = round(duration_s * rate)
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        if codec in ("h264", "libx264"):
            stream.options = {"preset": "ultrafast"}
            if b_frames:
                stream.options |= {"x264-params": f"bframes={b_frames}:b-adapt=0:b-pyramid=normal"}
        if keyframe_interval_s is not None:
            stream.codec_context.gop_size = max(1, round(keyframe_interval_s * rate))
        if rotation:
            # PyAV's display rotation is counter-clockwise; ours is clockwise.
            stream.set_display_rotation(-rotation % 360)
        for k in range(frame_total):
            image = np.ascontiguousarray(frames_fn(k / rate))
            assert image.shape == (height, width, 3), image.shape
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = k
            frame.time_base = 1 / rate
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def numbered_frames(width: int, height: int, fps: float) -> Callable[[float], np.ndarray]:
    """Flat frames whose color encodes the native frame number `k` (up to 1023).

    Red carries `k % 32` and green `k // 32`, in steps of 8 levels, which survive
    H.264 and VP9 on flat frames, so a decoded frame tells which native frame it was.
    """

    def frame(t: float) -> np.ndarray:
        return np.full((height, width, 3), frame_color(round(t * fps)), np.uint8)

    return frame


def frame_color(native_frame: int) -> tuple[int, int, int]:
    return ((native_frame % 32) * 8 + 4, (native_frame // 32 % 32) * 8 + 4, 128)


def native_frame_of(image: np.ndarray) -> int:
    """Invert `frame_color` from a decoded frame."""
    red, green = (float(image[..., c].mean()) for c in (0, 1))
    return int(red // 8) % 32 + 32 * (int(green // 8) % 32)


def render_caption(text: str, width: int, height: int, font_size: int | None = None) -> np.ndarray:
    """White caption text on a dark band, like a burned-in subtitle crop."""
    image = Image.new("RGB", (width, height), (20, 20, 28))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT_PATH, font_size or int(height * 0.55))
    box = draw.textbbox((0, 0), text, font=font)
    x = (width - (box[2] - box[0])) // 2 - box[0]
    y = (height - (box[3] - box[1])) // 2 - box[1]
    draw.text((x, y), text, font=font, fill=(250, 250, 250), stroke_width=2, stroke_fill=(0, 0, 0))
    return np.asarray(image)
