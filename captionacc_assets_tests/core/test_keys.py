"""The storage key layout (SPEC §2) and the checks that keep keys inside their tenant."""

import pytest

from captionacc_assets.core.errors import InputError
from captionacc_assets.core.keys import VideoKeys, check_key_shape, validate_id, validate_key

KEYS = VideoKeys(tenant="acme", video="v1")


def test_layout_strings_are_exactly_the_spec():
    assert KEYS.video_file("MP4") == "acme/client/videos/v1/video.mp4"
    assert KEYS.full_frames_prefix == "acme/client/videos/v1/full_frames/"
    assert KEYS.full_frame(100) == "acme/client/videos/v1/full_frames/frame_000100.jpg"
    assert KEYS.full_frames_thumbnails_prefix == "acme/client/videos/v1/full_frames_thumbnails/"
    assert KEYS.full_frame_thumbnail(0) == "acme/client/videos/v1/full_frames_thumbnails/frame_000000.jpg"
    assert KEYS.raw_ocr_db == "acme/server/videos/v1/raw-ocr.db.gz"
    assert KEYS.layout_db == "acme/client/videos/v1/layout.db.gz"
    assert KEYS.cropped_frames_prefix(3) == "acme/client/videos/v1/cropped_frames_v3/"
    assert (
        KEYS.caption_frame_extents_db(2, "ABCDEF0123456789")
        == "acme/server/videos/v1/caption_frame_extents/v2_model-abcdef01.db.gz"
    )
    # A second caption zone has its own frames and extents; zone 0 keeps the single-zone keys.
    assert KEYS.cropped_frames_prefix(3, zone=0) == KEYS.cropped_frames_prefix(3)
    assert KEYS.cropped_frames_prefix(3, zone=1) == "acme/client/videos/v1/cropped_frames_v3_zone1/"
    assert (
        KEYS.caption_frame_extents_db(2, "ABCDEF0123456789", zone=1)
        == "acme/server/videos/v1/caption_frame_extents/v2_zone1_model-abcdef01.db.gz"
    )
    assert KEYS.captions_db == "acme/client/videos/v1/captions.db.gz"
    assert [KEYS.export(f) for f in ("srt", "vtt", "json")] == [
        "acme/client/videos/v1/exports/captions.srt",
        "acme/client/videos/v1/exports/captions.vtt",
        "acme/client/videos/v1/exports/captions.json",
    ]


def test_every_layout_key_passes_validate_key():
    keys = [
        KEYS.video_file("mkv"),
        KEYS.full_frame(7),
        KEYS.raw_ocr_db,
        KEYS.layout_db,
        KEYS.caption_frame_extents_db(1, "0" * 64),
        KEYS.captions_db,
        KEYS.export("vtt"),
        KEYS.cropped_frames_prefix(1) + "modulo_16/chunk_0000000000.webm",
    ]
    assert [validate_key(k, "acme") for k in keys] == keys


@pytest.mark.parametrize(
    "bad",
    ["", ".", "..", "../x", "a/b", "a\\b", "-lead", "_lead", ".hidden", "a..b", "x" * 129, "sp ace", "ü", None, 5],
)
def test_bad_ids_are_rejected_naming_what(bad):
    with pytest.raises(InputError, match="tenant"):
        validate_id(bad, "tenant")


@pytest.mark.parametrize("good", ["a", "A-b_c.1", "0" * 128, "v.1"])
def test_good_ids_pass(good):
    assert validate_id(good, "video id") == good


def test_video_keys_validate_their_ids():
    with pytest.raises(InputError, match="video id"):
        VideoKeys(tenant="acme", video="../other")
    with pytest.raises(InputError, match="tenant"):
        VideoKeys(tenant="a/b", video="v1")


@pytest.mark.parametrize(
    "call",
    [
        lambda: KEYS.video_file("m.p4"),
        lambda: KEYS.video_file(""),
        lambda: KEYS.video_file("toolongext"),
        lambda: KEYS.full_frame(-1),
        lambda: KEYS.full_frame(1.5),
        lambda: KEYS.full_frame(True),
        lambda: KEYS.cropped_frames_prefix(0),
        lambda: KEYS.cropped_frames_prefix("1"),
        lambda: KEYS.caption_frame_extents_db(1, "abc"),
        lambda: KEYS.caption_frame_extents_db(1, "zzzzzzzz"),
        lambda: KEYS.caption_frame_extents_db(0, "abcdef01"),
        lambda: KEYS.export("txt"),
        lambda: KEYS.cropped_frames_prefix(1, zone=2),
        lambda: KEYS.cropped_frames_prefix(1, zone=-1),
        lambda: KEYS.caption_frame_extents_db(1, "abcdef01", zone=True),
    ],
)
def test_bad_key_parts_are_rejected(call):
    with pytest.raises(InputError):
        call()


@pytest.mark.parametrize(
    "bad",
    [
        "acme/../other/x",
        "acme/./x",
        "acme//x",
        "/acme/x",
        "acme\\x",
        "other/x",
        "acmeX/x",
        "acme",
        "acme/",
        "acme/.tmp",
        "acme/x\n",
        "",
    ],
)
def test_validate_key_rejects_escapes_other_tenants_and_odd_shapes(bad):
    with pytest.raises(InputError):
        validate_key(bad, "acme")


def test_prefix_shape_allows_trailing_slash_and_empty_but_not_escapes():
    assert check_key_shape("acme/client/", prefix=True) == "acme/client/"
    assert check_key_shape("", prefix=True) == ""
    with pytest.raises(InputError):
        check_key_shape("acme/client/", prefix=False)
    with pytest.raises(InputError):
        check_key_shape("../", prefix=True)
