"""The one Dagster `Definitions` of the code location, with resources bound from the environment."""

import dagster as dg

from captionacc_assets.defs.assets.approval import layout_approval
from captionacc_assets.defs.assets.captions import caption_exports, captions_db
from captionacc_assets.defs.assets.extents import crop_and_infer_caption_frame_extents
from captionacc_assets.defs.assets.initial import extract_frames_and_ocr, video
from captionacc_assets.resources.profile import build_resources

ALL_ASSETS = [
    video,
    extract_frames_and_ocr,
    layout_approval,
    crop_and_infer_caption_frame_extents,
    captions_db,
    caption_exports,
]

INITIAL_SELECTION = ["video", "full_frames", "raw_ocr_db", "layout_db"]
APPROVAL_SELECTION = ["layout_approval", "cropped_frames", "caption_frame_extents", "captions_db", "caption_exports"]


def build_definitions(resources: dict | None = None) -> dg.Definitions:
    return dg.Definitions(assets=ALL_ASSETS, resources=resources or build_resources())


defs = build_definitions()
