"""The automation: sensors over the catalog and the run queue (SPEC §4, §5)."""

from captionacc_assets.defs.sensors.approvals import layout_approvals
from captionacc_assets.defs.sensors.auto_approvals import auto_approvals
from captionacc_assets.defs.sensors.caption_ocr_requests import caption_ocr_requests
from captionacc_assets.defs.sensors.dead_runs import dead_runs_sensor
from captionacc_assets.defs.sensors.deletions import deleted_videos
from captionacc_assets.defs.sensors.run_queue import run_queue
from captionacc_assets.defs.sensors.uploads import new_uploads

ALL_SENSORS = [
    new_uploads,
    layout_approvals,
    auto_approvals,
    caption_ocr_requests,
    deleted_videos,
    run_queue,
    dead_runs_sensor,
]
