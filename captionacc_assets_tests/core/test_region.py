import numpy as np
import pytest

from captionacc_assets.core.errors import InputError
from captionacc_assets.core.region import Region


def test_region_is_normalized_top_left_origin_and_converts_to_pixels_once():
    region = Region(0.25, 0.5, 0.75, 1.0)
    assert region.to_pixels(1280, 720) == (320, 360, 960, 720)
    image = np.zeros((720, 1280, 3), np.uint8)
    image[360:, 320:960] = 255
    assert region.crop(image).shape == (360, 640, 3)
    assert region.crop(image).min() == 255


@pytest.mark.parametrize("values", [(-0.1, 0, 1, 1), (0, 0, 1.2, 1), (0, 0, 1, 2), (0.5, 0, 0.4, 1), (0, 0.6, 1, 0.6)])
def test_out_of_range_or_inverted_regions_are_rejected_with_a_clear_error(values):
    with pytest.raises(InputError, match="crop region"):
        Region(*values)


def test_parse_command_line_region():
    assert Region.parse("0.1,0.8,0.9,0.95") == Region(0.1, 0.8, 0.9, 0.95)
    with pytest.raises(InputError, match="four numbers"):
        Region.parse("0.1,0.8,0.9")
    with pytest.raises(InputError, match="four numbers"):
        Region.parse("a,b,c,d")


def test_tiny_region_still_has_a_pixel():
    assert Region(0.5, 0.5, 0.5001, 0.5001).to_pixels(100, 100) == (50, 50, 51, 51)


@pytest.mark.parametrize("text", ["", "  ", "\t"])
def test_an_empty_crop_is_an_error_not_the_proposed_region(text):
    with pytest.raises(InputError, match="crop region is empty"):
        Region.parse(text)


def test_a_region_converts_to_and_from_crop_columns_once():
    region = Region(0.1, 0.8, 0.9, 0.95)
    row = {"id": 7, **region.to_row()}
    assert row == {"id": 7, "crop_left": 0.1, "crop_top": 0.8, "crop_right": 0.9, "crop_bottom": 0.95}
    assert Region.from_row(row) == region
    with pytest.raises(InputError, match="inverted"):
        Region.from_row({**row, "crop_left": 0.95})
