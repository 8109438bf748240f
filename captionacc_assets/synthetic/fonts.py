"""Named fonts for rendered captions, resolved to the system files that provide them.

Specs name fonts ("cjk_sans") rather than paths so a spec means the same thing on every
machine; a missing file is an environment problem, so the error names the Debian
package to install.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from captionacc_assets.core.errors import InputError

# name -> (path, Debian package that installs it)
FONT_FILES: dict[str, tuple[str, str]] = {
    "cjk_sans": ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "fonts-wqy-microhei"),
    "latin_sans": ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "fonts-dejavu-core"),
    "latin_sans_bold": ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "fonts-dejavu-core"),
    "latin_serif": ("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", "fonts-dejavu-core"),
    # AR PL UMing (Ming/Song serif) and UKai (brush-style Kai): CJK faces unlike the sans.
    "cjk_serif": ("/usr/share/fonts/truetype/arphic/uming.ttc", "fonts-arphic-uming"),
    "cjk_brush": ("/usr/share/fonts/truetype/arphic/ukai.ttc", "fonts-arphic-ukai"),
    # Kaushan Script: a Latin face "like writing quickly with an inked brush".
    "latin_brush": ("/usr/share/fonts/opentype/kaushanscript/KaushanScript-Regular.otf", "fonts-kaushanscript"),
}

# name -> path, the mapping specs key into.
FONTS: dict[str, str] = {name: path for name, (path, _) in FONT_FILES.items()}


class FontMissingError(RuntimeError):
    """A named font's file is not installed on this machine."""


def font_path(name: str) -> Path:
    """The installed file for a font name; a clear error if the name or the file is unknown."""
    if name not in FONT_FILES:
        raise InputError(f"unknown caption font {name!r}: use one of {', '.join(sorted(FONT_FILES))}")
    path, package = FONT_FILES[name]
    if not Path(path).is_file():
        raise FontMissingError(
            f"font {name!r} needs {path}, which is not installed: "
            f"install the Debian package `{package}` (apt-get install {package})"
        )
    return Path(path)


@lru_cache(maxsize=64)
def load_font(name: str, size_px: int) -> ImageFont.FreeTypeFont:
    """A Pillow font at a pixel size (cached: loading a .ttc takes milliseconds)."""
    if size_px < 1:
        raise InputError(f"font size must be at least 1 px, got {size_px}")
    return ImageFont.truetype(str(font_path(name)), size_px)
