"""The proposed caption zones as a JSON entry, and which of them an approval takes.

The CLI approves from layout.db (`read_proposed_zones`); the auto-approval sensor approves from
the `layout_db` materialization's metadata. Both must approve the same crop, bit for bit, so
the entry carries every field of those zones at full float precision (JSON writes a float as
its shortest exact repr, which reads back to the same float), and one rule picks the zones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any

from captionacc_assets.core.layout import CaptionZone
from captionacc_assets.core.region import Region


def zones_to_json(zones: Sequence[CaptionZone]) -> list[dict[str, Any]]:
    """Each zone's fields, its region as `[left, top, right, bottom]`, nothing rounded."""
    return [
        {f.name: list(zone.region.as_tuple()) if f.name == "region" else getattr(zone, f.name) for f in fields(zone)}
        for zone in zones
    ]


def zones_from_json(entries: Sequence[Mapping[str, Any]]) -> list[CaptionZone]:
    """The zones `zones_to_json` wrote, equal to the ones it was given."""
    return [CaptionZone(**{**entry, "region": Region(*entry["region"])}) for entry in entries]


def regions_to_approve(zones: Sequence[CaptionZone], second_zone_min_confidence: float | None) -> list[Region]:
    """The main zone's region, and each further zone's whose own confidence is at least
    `second_zone_min_confidence` (every zone's when it is None: a person approving them all)."""
    main, *others = zones
    return [
        main.region,
        *(
            zone.region
            for zone in others
            if second_zone_min_confidence is None or zone.confidence >= second_zone_min_confidence
        ),
    ]
