"""A video's caption zones: one or two crop regions read on their own (SPEC §3, Zones).

Dialogue at the bottom and signs or a second language at the top are two zones. Each
zone has its own cropped frames, extents and caption timeline; zone 0 is the main one
and keeps the single-zone keys and columns, so a video approved before zones existed
reads as one zone 0. An approval's zones are checked here, in one place, before
anything is stored: at most two, inside the frame (`Region` checks that), not overlapping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from captionacc_assets.core.errors import InputError
from captionacc_assets.core.region import SIDES, Region

MAX_ZONES = 2
SECOND_ZONE_COLUMN_PREFIX = "crop2_"
"""The catalog row's columns of zone 1 (`crop2_left` ...); zone 0 is `crop_left` ..."""


def placement(region: Region) -> str:
    """'top' for a zone whose centre is in the upper half of the frame, else 'bottom'."""
    return "top" if (region.top + region.bottom) / 2 < 0.5 else "bottom"


def overlaps(a: Region, b: Region) -> bool:
    """Whether two regions share any area (touching edges do not)."""
    return min(a.right, b.right) > max(a.left, b.left) and min(a.bottom, b.bottom) > max(a.top, b.top)


def check_zones(regions: Sequence[Region]) -> tuple[Region, ...]:
    """The zones of one approval, or an `InputError` a person can act on."""
    regions = tuple(regions)
    if not regions:
        raise InputError("an approval needs at least one crop region")
    if len(regions) > MAX_ZONES:
        raise InputError(
            f"{len(regions)} crop regions given: a video has at most {MAX_ZONES} caption zones "
            "(e.g. one --crop for the bottom and one for the top)"
        )
    if not all(isinstance(r, Region) for r in regions):
        raise InputError(f"crop regions {regions!r} must be Regions")
    for i, a in enumerate(regions):
        for b in regions[i + 1 :]:
            if overlaps(a, b):
                raise InputError(
                    f"crop regions {a.as_tuple()} and {b.as_tuple()} overlap: each caption zone must be its own "
                    "part of the frame (move the top one's bottom edge above the bottom one's top edge)"
                )
    return regions


def zones_from_row(row: Mapping) -> tuple[Region, ...]:
    """The zones of a catalog `cropped_frames_versions` row: zone 0, and zone 1 when set."""
    zones = [Region.from_row(row)]
    if row.get(f"{SECOND_ZONE_COLUMN_PREFIX}left") is not None:
        zones.append(Region(*(float(row[f"{SECOND_ZONE_COLUMN_PREFIX}{side}"]) for side in SIDES)))
    return tuple(zones)


def zones_to_row(regions: Sequence[Region]) -> dict[str, float | None]:
    """The catalog columns of checked zones: `crop_*` for zone 0, `crop2_*` (NULL when absent) for zone 1."""
    regions = check_zones(regions)
    second = regions[1].as_tuple() if len(regions) > 1 else (None,) * 4
    return {
        **regions[0].to_row(),
        **{f"{SECOND_ZONE_COLUMN_PREFIX}{side}": value for side, value in zip(SIDES, second)},
    }


@dataclass(frozen=True)
class CroppedFramesVersion:
    """An approval as a run uses it: read from its catalog row once, at the run's first step."""

    video_id: str
    version: int
    zones: tuple[Region, ...]
    status: str
    requested_by: str | None = None
    requested_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping) -> "CroppedFramesVersion":
        """From a `cropped_frames_versions` row (its zones checked, so a bad row fails here, once)."""
        return cls(
            video_id=str(row["video_id"]),
            version=int(row["version"]),
            zones=zones_from_row(row),
            status=str(row["status"]),
            requested_by=row.get("requested_by"),
            requested_at=row.get("requested_at"),
        )
