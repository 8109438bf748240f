"""Named points in the pipeline where the fault-injection tests stop the real process.

`CAPTIONACC_FAULT=kill@POINT` makes the process SIGKILL itself when it reaches POINT, and
`stop@POINT` makes it SIGSTOP itself there (the test then runs a second command against the
same catalog and storage, and sends SIGCONT). Unset, `reach` is one dictionary lookup.
The points are the instants a crash or a race can hurt: mid-OCR, mid-publish, between the
captions database and the catalog's commit point, and between that and the exports.
"""

import os
import signal

FAULT_VAR = "CAPTIONACC_FAULT"
POINTS = (
    "extract.ocr",  # during OCR of the full frames
    "publish.full_frames",  # half-way through copying the full frames into storage
    "crop.encode",  # during the crop and chunk encode
    "caption_ocr.ocr",  # during median-frame OCR of the captions
    "captions.before_commit",  # captions.db published, the catalog not yet updated
    "captions.before_exports",  # the catalog updated, the exports not yet written
)
_SIGNALS = {"kill": signal.SIGKILL, "stop": signal.SIGSTOP}
_reached: set[str] = set()


def reach(point: str) -> None:
    """Deliver the configured signal to this process the first time it reaches `point`."""
    wanted = os.environ.get(FAULT_VAR)
    if not wanted or point in _reached:
        return
    action, _, at = wanted.partition("@")
    if at == point and action in _SIGNALS:
        _reached.add(point)
        os.kill(os.getpid(), _SIGNALS[action])
