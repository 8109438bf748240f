"""The one Dagster `Definitions` of the code location, with resources bound from the environment.

`defs` is a Definitions factory (`@dg.definitions`): Dagster calls it when it loads the code
location, so importing this module does no IO. The resources, built in one place
(`resources/profile.py`), create CAPTIONACC_HOME and the catalog schema, or check the
production backends, only then.
"""

import dagster as dg

from captionacc_assets.defs.assets.approval import layout_approval
from captionacc_assets.defs.assets.captions import caption_exports, captions_db
from captionacc_assets.defs.assets.extents import crop_and_infer_caption_frame_extents
from captionacc_assets.defs.assets.initial import extract_frames_and_ocr, video
from captionacc_assets.defs.jobs import ALL_JOBS, APPROVAL_SELECTION, INITIAL_SELECTION
from captionacc_assets.defs.sensors import ALL_SENSORS
from captionacc_assets.resources.profile import build_resources

ALL_ASSETS = [
    video,
    extract_frames_and_ocr,
    layout_approval,
    crop_and_infer_caption_frame_extents,
    captions_db,
    caption_exports,
]

__all__ = ["ALL_ASSETS", "APPROVAL_SELECTION", "INITIAL_SELECTION", "build_definitions", "defs"]


def build_definitions(resources: dict | None = None) -> dg.Definitions:
    # A video's steps form one chain, so one process per run: steps share the loaded OCR and pair
    # models instead of each paying the imports and model loads again.
    return dg.Definitions(
        assets=ALL_ASSETS,
        jobs=ALL_JOBS,
        sensors=ALL_SENSORS,
        resources=resources or build_resources(),
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
