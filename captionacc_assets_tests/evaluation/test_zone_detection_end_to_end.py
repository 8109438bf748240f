"""Zone detection end to end on generated eval videos: the real renderer, H.264, full-frame
sampling, RapidOCR and layout inference, read back from the published layout.db the way
`captionacc eval` and the approval read it (`read_proposed_zones`)."""

import dataclasses

import pytest

from captionacc_assets.core.dbs.layout_db import read_proposed_zones
from captionacc_assets.core.keys import VideoKeys
from captionacc_assets.compute.engines import full_frame_ocr_engine
from captionacc_assets.evaluation.eval_set import build_eval_set
from captionacc_assets.compute.extract_frames_and_ocr import extract_frames_and_ocr
from captionacc_assets.resources.storage import LocalStorageResource
from captionacc_assets.synthetic.generate import write_video


@pytest.fixture(scope="module")
def engine():
    return full_frame_ocr_engine()  # what initial processing reads full frames with


def _proposed_zones(item, tmp_path, engine):
    # Cut to 16 s at 10 fps so the test stays short; the zones set keeps its sizes and timings.
    spec = dataclasses.replace(
        item.spec,
        fps=10.0,
        duration_s=16.0,
        cues=tuple(c for c in item.spec.cues if c.end_s <= 16.0),
        second_cues=tuple(c for c in item.spec.second_cues if c.end_s <= 16.0),
    )
    store = LocalStorageResource(root=str(tmp_path / "bucket")).store()
    keys = VideoKeys(tenant="eval", video=item.name)
    store.put_file(keys.video_file("mp4"), write_video(spec, tmp_path / "video.mp4"))
    result = extract_frames_and_ocr(store, keys, keys.video_file("mp4"), engine=engine, work_dir=tmp_path / "work")
    zones = read_proposed_zones(store.get_file(keys.layout_db, tmp_path / "layout.db.gz"))
    assert [z["placement"] for z in result.layout["zones"]] == [z.placement for z in zones]
    return zones


def test_bilingual_video_gets_a_zone_at_the_bottom_and_one_at_the_top(tmp_path, engine):
    item = next(i for i in build_eval_set("zones") if i.conditions["zones"] == "bilingual" and i.spec.height == 480)
    zones = _proposed_zones(item, tmp_path, engine)
    assert [z.placement for z in zones] == ["bottom", "top"]
    assert all(z.confidence >= 0.5 for z in zones)
    bottom, top = zones
    assert top.region.bottom < bottom.region.top
    assert top.region.top < 0.08 < top.region.bottom  # the top line's centre (8 % of the height) is inside


def test_a_static_title_and_logo_at_the_top_are_not_a_zone(tmp_path, engine):
    item = next(i for i in build_eval_set("zones") if i.conditions["zones"] == "title" and i.spec.height == 480)
    zones = _proposed_zones(item, tmp_path, engine)
    assert [z.placement for z in zones] == ["bottom"]
    assert zones[0].confidence >= 0.5
