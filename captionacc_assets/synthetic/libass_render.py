"""A second renderer: the spec's captions drawn by libass (ffmpeg's `ass` filter) over its picture.

Real subtitles are mostly drawn by libass (players, fansub and broadcast tools), which
shapes, hints, blurs its outlines and fades differently from the Pillow generator the
extents model learned from. Rendering the same `VideoSpec` both ways lets the eval show
whether the pipeline learned captions or learned one renderer.

The picture (background, distractors) comes from the generator with no captions, encoded
near-losslessly; libass then draws the cues from an ASS script (written with pysubs2) and
ffmpeg encodes the result once, with H.264 at the spec's CRF. Needs Debian's `ffmpeg`.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pysubs2

from captionacc_assets.core.errors import InputError
from captionacc_assets.synthetic.generate import write_video
from captionacc_assets.synthetic.video_spec import CaptionStyle, VideoSpec

# Fontconfig family names of the generator's font keys (the same Debian font packages).
FONT_FAMILIES = {
    "cjk_sans": "WenQuanYi Micro Hei",
    "cjk_serif": "AR PL UMing CN",
    "cjk_brush": "AR PL UKai CN",
    "latin_sans": "DejaVu Sans",
    "latin_sans_bold": "DejaVu Sans",
    "latin_serif": "DejaVu Serif",
    "latin_brush": "Kaushan Script",
}
PICTURE_CRF = 8  # the caption-less picture, before libass draws on it and the final encode


def _ass_style(style: CaptionStyle, spec: VideoSpec) -> pysubs2.SSAStyle:
    px = style.size_ratio * spec.height
    outline = max(1.0, px / 14)
    return pysubs2.SSAStyle(
        fontname=FONT_FAMILIES[style.font],
        fontsize=px,
        primarycolor=pysubs2.Color(*style.color),
        outlinecolor=pysubs2.Color(0, 0, 0),
        backcolor=pysubs2.Color(0, 0, 0, 96 if style.style == "shadow" else 40),
        bold=style.font == "latin_sans_bold",
        borderstyle=3 if style.style == "box" else 1,
        outline=outline if style.style != "shadow" else 0.0,
        shadow=max(2.0, px / 12) if style.style == "shadow" else 0.0,
        alignment=pysubs2.Alignment.TOP_CENTER if style.placement == "top" else pysubs2.Alignment.BOTTOM_CENTER,
        marginv=int(round(0.06 * spec.height)),
    )


def _events(cues, style: CaptionStyle, style_name: str) -> list[pysubs2.SSAEvent]:
    fade = f"{{\\fad({int(style.fade_s * 1000)},{int(style.fade_s * 1000)})}}" if style.fade_s else ""
    return [
        pysubs2.SSAEvent(
            start=int(round(cue.start_s * 1000)),
            end=int(round(cue.end_s * 1000)),
            text=fade + cue.text.replace("\n", "\\N"),
            style=style_name,
        )
        for cue in cues
    ]


def ass_script(spec: VideoSpec) -> pysubs2.SSAFile:
    """The spec's cues as an ASS script in the video's pixel space, styled like the spec (a second
    zone's cues in a style of their own, "Second")."""
    subs = pysubs2.SSAFile()
    subs.info.update({"PlayResX": str(spec.width), "PlayResY": str(spec.height), "ScaledBorderAndShadow": "yes"})
    subs.styles["Default"] = _ass_style(spec.style, spec)
    for event in _events(spec.cues, spec.style, "Default"):
        subs.append(event)
    if spec.second_cues:
        subs.styles["Second"] = _ass_style(spec.second_zone_style, spec)
        for event in _events(spec.second_cues, spec.second_zone_style, "Second"):
            subs.append(event)
    return subs


def write_libass_video(spec: VideoSpec, path: Path) -> Path:
    """Encode the spec with its captions drawn by libass; written to a temp name, then renamed."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise InputError(
            "the libass renderer needs ffmpeg: install the Debian package `ffmpeg` (apt-get install ffmpeg)"
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="captionacc-libass-") as work:
        picture = write_video(
            dataclasses.replace(spec, cues=(), second_cues=(), crf=PICTURE_CRF), Path(work) / "picture.mp4"
        )
        script = Path(work) / "captions.ass"
        ass_script(spec).save(str(script))
        partial = path.with_name(f".{path.name}.partial.mp4")
        command = [
            ffmpeg,
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(picture),
            "-vf",
            f"ass={script}",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            str(spec.crf),
            "-pix_fmt",
            "yuv420p",
            "-an",
            str(partial),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C.UTF-8"})
            if done.returncode != 0:
                raise RuntimeError(f"ffmpeg could not render {path.name} with libass: {done.stderr.strip()[-500:]}")
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    return path
