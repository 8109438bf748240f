"""What a synthetic video is: its size, timing, background, caption cues and style.

Frozen dataclasses so a spec is hashable (renderers are cached per spec) and a spec
written in a test or benchmark means exactly one video. Validation happens here so a
bad spec fails when it is made, with a message that says what to change.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from captionacc_assets.core.errors import InputError
from captionacc_assets.synthetic.fonts import FONTS

CAPTION_STYLES = ("outline", "shadow", "box")
PLACEMENTS = ("bottom", "top")
BACKGROUNDS = ("moving", "cuts", "textured", "flat", "footage")
DISTRACTORS = ("logo", "sign", "title")
CODECS = ("h264",)

# Times are compared with this slack so that k / fps lands on the intended side of a
# cue boundary despite float rounding (6.4 vs 192 / 30).
TIME_EPSILON = 1e-6


@dataclass(frozen=True)
class Cue:
    """One caption: visible on frames whose time t satisfies start_s <= t < end_s.
    `text` may hold "\\n" for a two-line caption."""

    start_s: float
    end_s: float
    text: str

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start_s) and math.isfinite(self.end_s)):
            raise InputError(f"cue times must be finite numbers, got {self.start_s}..{self.end_s}")
        if self.start_s < 0 or self.end_s <= self.start_s:
            raise InputError(f"cue {self.text!r} must have 0 <= start_s < end_s, got {self.start_s}..{self.end_s}")
        lines = self.text.split("\n")
        if not self.text.strip() or any(not line.strip() for line in lines):
            raise InputError(f"cue text must be non-empty with no blank lines, got {self.text!r}")

    def visible_at(self, t: float) -> bool:
        return self.start_s - TIME_EPSILON <= t < self.end_s - TIME_EPSILON


@dataclass(frozen=True)
class CaptionStyle:
    """How captions are drawn. `font` is a key of `fonts.FONTS`; font px = size_ratio * height."""

    font: str = "cjk_sans"
    size_ratio: float = 0.06
    color: tuple[int, int, int] = (255, 255, 255)
    style: str = "outline"  # "outline" | "shadow" | "box"
    placement: str = "bottom"  # "bottom" | "top"
    fade_s: float = 0.0  # fade in and out duration

    def __post_init__(self) -> None:
        if self.font not in FONTS:
            raise InputError(f"unknown caption font {self.font!r}: use one of {', '.join(sorted(FONTS))}")
        if not 0.01 <= self.size_ratio <= 0.3:
            raise InputError(f"size_ratio is the font height over the video height: 0.01..0.3, got {self.size_ratio}")
        if len(self.color) != 3 or any(not 0 <= int(c) <= 255 for c in self.color):
            raise InputError(f"color must be an (r, g, b) tuple of 0..255, got {self.color!r}")
        if self.style not in CAPTION_STYLES:
            raise InputError(f"caption style {self.style!r} is not one of {', '.join(CAPTION_STYLES)}")
        if self.placement not in PLACEMENTS:
            raise InputError(f"caption placement {self.placement!r} is not one of {', '.join(PLACEMENTS)}")
        if not (math.isfinite(self.fade_s) and self.fade_s >= 0):
            raise InputError(f"fade_s must be >= 0 seconds, got {self.fade_s}")


def _check_timeline(cues: tuple[Cue, ...], duration_s: float, what: str) -> None:
    if not isinstance(cues, tuple) or not all(isinstance(c, Cue) for c in cues):
        raise InputError(f"{what} must be a tuple of Cue (a tuple keeps the spec hashable)")
    ordered = sorted(cues, key=lambda c: c.start_s)
    for before, after in zip(ordered, ordered[1:]):
        if after.start_s < before.end_s - TIME_EPSILON:
            raise InputError(
                f"{what} overlap: {before.text!r} ends at {before.end_s} after {after.text!r} starts at {after.start_s}"
            )
    for cue in cues:
        if cue.end_s > duration_s + TIME_EPSILON:
            raise InputError(f"cue {cue.text!r} ends at {cue.end_s} s, after the video's {duration_s} s")


@dataclass(frozen=True)
class VideoSpec:
    """A whole synthetic video. Frame k is the picture at t = k / fps; the video has
    round(duration_s * fps) frames.

    `second_cues` are captions of a second zone, drawn with `second_style` (by default the
    main style at the other placement); they may overlap the main cues in time (bilingual
    captions) but not each other. A spec without them is the single-zone video it always was
    (the two fields are left out of its repr, so its hash is unchanged)."""

    width: int = 1280
    height: int = 720
    fps: float = 30.0
    duration_s: float = 20.0
    background: str = "moving"  # "moving", "cuts" (moving with scene cuts), "textured", "flat", "footage" (photos)
    cues: tuple[Cue, ...] = ()
    style: CaptionStyle = field(default_factory=CaptionStyle)
    distractors: tuple[str, ...] = ()  # "logo" (constant corner logo), "sign" (constant scene text)
    seed: int = 0
    codec: str = "h264"
    crf: int = 23
    second_cues: tuple[Cue, ...] = field(default=(), repr=False)
    second_style: CaptionStyle | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.width < 16 or self.height < 16 or self.width % 2 or self.height % 2:
            raise InputError(f"video size must be even and at least 16x16 (yuv420p), got {self.width}x{self.height}")
        if not (math.isfinite(self.fps) and 1 <= self.fps <= 240):
            raise InputError(f"fps must be between 1 and 240, got {self.fps}")
        if not (math.isfinite(self.duration_s) and self.duration_s > 0):
            raise InputError(f"duration_s must be > 0, got {self.duration_s}")
        if self.frame_count < 1:
            raise InputError(f"{self.duration_s} s at {self.fps} fps has no frames: lengthen the video")
        if self.background not in BACKGROUNDS:
            raise InputError(f"background {self.background!r} is not one of {', '.join(BACKGROUNDS)}")
        _check_timeline(self.cues, self.duration_s, "cues")
        _check_timeline(self.second_cues, self.duration_s, "second_cues")
        if self.second_style is not None and not isinstance(self.second_style, CaptionStyle):
            raise InputError("second_style must be a CaptionStyle (or None: the main style at the other placement)")
        if self.second_cues and self.second_zone_style.placement == self.style.placement:
            raise InputError(
                f"the second zone must be at the other placement than the captions' "
                f"{self.style.placement!r}: give second_style another placement"
            )
        if not isinstance(self.distractors, tuple) or any(d not in DISTRACTORS for d in self.distractors):
            raise InputError(
                f"distractors must be a tuple drawn from {', '.join(DISTRACTORS)}, got {self.distractors!r}"
            )
        if self.codec not in CODECS:
            raise InputError(f"codec {self.codec!r} is not supported: use one of {', '.join(CODECS)}")
        if not 0 <= self.crf <= 51:
            raise InputError(f"crf must be 0..51 (lower is better quality), got {self.crf}")

    @property
    def frame_count(self) -> int:
        return int(round(self.duration_s * self.fps))

    def frame_time(self, k: int) -> float:
        return k / self.fps

    def cue_at(self, t: float) -> Cue | None:
        """The cue visible at time t, if any (cues never overlap)."""
        for cue in self.cues:
            if cue.visible_at(t):
                return cue
        return None

    def second_cue_at(self, t: float) -> Cue | None:
        """The second zone's cue visible at time t, if any."""
        for cue in self.second_cues:
            if cue.visible_at(t):
                return cue
        return None

    @property
    def second_zone_style(self) -> CaptionStyle:
        """How the second zone's cues are drawn: `second_style`, or the main style at the other placement."""
        if self.second_style is not None:
            return self.second_style
        other = "top" if self.style.placement == "bottom" else "bottom"
        return dataclasses.replace(self.style, placement=other)

    @property
    def zone_count(self) -> int:
        """2 when the spec has second-zone cues, else 1."""
        return 2 if self.second_cues else 1
