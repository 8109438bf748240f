"""The two asset jobs the automation launches: one per step of the SPEC §4 state machine.

Each run of them targets one video partition, so it carries `dagster/partition` and the
run-queue tag limit in dagster.yaml lets only one run touch a video at a time.
"""

import dagster as dg

from captionacc_assets.defs.partitions import videos_partitions

INITIAL_SELECTION = ["video", "full_frames", "raw_ocr_db", "layout_db"]
APPROVAL_SELECTION = ["layout_approval", "cropped_frames", "caption_frame_extents", "captions_db", "caption_exports"]

initial_processing_job = dg.define_asset_job(
    "initial_processing",
    selection=INITIAL_SELECTION,
    partitions_def=videos_partitions,
    description="Upload -> probe, full frames, OCR and the proposed caption layout of one video",
)

approved_processing_job = dg.define_asset_job(
    "approved_processing",
    selection=APPROVAL_SELECTION,
    partitions_def=videos_partitions,
    description="Layout approval -> cropped frames, caption frame extents, captions and exports of one video",
)

ALL_JOBS = [initial_processing_job, approved_processing_job]
