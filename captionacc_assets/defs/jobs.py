"""The asset jobs the automation launches: one per step of the SPEC §4 state machine.

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

# A person's caption OCR request: captions_db in "requested OCR" mode (the run's
# `captionacc/caption_ocr_requests` tag names the requests), then the exports of the new text.
REQUESTED_OCR_SELECTION = ["captions_db", "caption_exports"]

requested_caption_ocr_job = dg.define_asset_job(
    "requested_caption_ocr",
    selection=REQUESTED_OCR_SELECTION,
    partitions_def=videos_partitions,
    description="A person's caption OCR request -> OCR of just those captions' medians, written into captions.db",
)

ALL_JOBS = [initial_processing_job, approved_processing_job, requested_caption_ocr_job]
