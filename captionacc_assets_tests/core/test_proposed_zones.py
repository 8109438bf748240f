"""The proposed zones' JSON entry reads back to the same zones, and one rule picks what is approved."""

import json

from captionacc_assets.core.layout import CaptionZone
from captionacc_assets.core.proposed_zones import regions_to_approve, zones_from_json, zones_to_json
from captionacc_assets.core.region import Region

BOTTOM = CaptionZone(
    Region(0.1 / 3, 0.8123456789012345, 2 / 3 + 0.2, 0.9876543210987654),
    anchor="left",
    anchor_position=0.1 / 3,
    confidence=0.87654321,
    vertical_center=0.9,
    box_height=0.0612345,
    line_count=2,
)
TOP = CaptionZone(Region(0.1, 0.02, 0.9, 0.15), confidence=0.6)


def test_the_entry_survives_json_to_the_last_bit():
    entries = json.loads(json.dumps(zones_to_json([BOTTOM, TOP])))
    assert zones_from_json(entries) == [BOTTOM, TOP]
    assert entries[0]["region"] == list(BOTTOM.region.as_tuple())


def test_a_second_zone_is_approved_only_when_sure_of_it_unless_a_person_takes_all():
    assert regions_to_approve([BOTTOM, TOP], 0.8) == [BOTTOM.region]
    assert regions_to_approve([BOTTOM, TOP], 0.6) == [BOTTOM.region, TOP.region]
    assert regions_to_approve([BOTTOM, TOP], None) == [BOTTOM.region, TOP.region]
    assert regions_to_approve([BOTTOM], 0.99) == [BOTTOM.region]  # the main zone is the caller's threshold to check
