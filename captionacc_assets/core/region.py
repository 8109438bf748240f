"""Normalized regions: the one coordinate convention (SPEC §3).

Everywhere (databases, crop regions, metadata) a region is `(left, top, right, bottom)`
as floats in [0, 1] with a top-left origin. `Region.to_pixels` is the only place
that converts to pixels.
"""

from dataclasses import dataclass

from captionacc_assets.core.errors import InputError

SIDES = ("left", "top", "right", "bottom")


@dataclass(frozen=True)
class Region:
    left: float
    top: float
    right: float
    bottom: float

    def __post_init__(self) -> None:
        values = (self.left, self.top, self.right, self.bottom)
        if not all(0.0 <= v <= 1.0 for v in values):
            raise InputError(
                f"crop region {values} is outside [0, 1]: give normalized "
                "(left, top, right, bottom) fractions of the frame, top-left origin"
            )
        if not (self.left < self.right and self.top < self.bottom):
            raise InputError(f"crop region {values} is inverted or empty: left must be < right and top < bottom")

    @classmethod
    def parse(cls, text: str) -> "Region":
        """Parse 'l,t,r,b' as typed on a command line."""
        if not text.strip():
            raise InputError(
                "crop region is empty: give four numbers 'l,t,r,b', or leave --crop out to approve the proposed region"
            )
        try:
            parts = [float(p) for p in text.split(",")]
        except ValueError:
            raise InputError(f"crop region {text!r} must be four numbers 'l,t,r,b'") from None
        if len(parts) != 4:
            raise InputError(f"crop region {text!r} must be four numbers 'l,t,r,b'")
        return cls(*parts)

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.left, self.top, self.right, self.bottom)

    @classmethod
    def from_row(cls, row) -> "Region":
        """The region of a row with `crop_left/top/right/bottom` columns (a version, a layout config)."""
        return cls(*(float(row[f"crop_{side}"]) for side in SIDES))

    def to_row(self) -> dict[str, float]:
        """The `crop_*` columns of this region, as the catalog and layout.db store it."""
        return {f"crop_{side}": value for side, value in zip(SIDES, self.as_tuple())}

    def to_pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """Pixel box (x0, y0, x1, y1), end-exclusive, at least one pixel each way."""
        x0 = min(int(self.left * width), width - 1)
        y0 = min(int(self.top * height), height - 1)
        x1 = max(x0 + 1, min(width, round(self.right * width)))
        y1 = max(y0 + 1, min(height, round(self.bottom * height)))
        return x0, y0, x1, y1

    def crop(self, image):
        """Cut this region out of an HxWxC numpy image."""
        x0, y0, x1, y1 = self.to_pixels(image.shape[1], image.shape[0])
        return image[y0:y1, x0:x1]
