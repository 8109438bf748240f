"""The stage table: each catalog stage with its assets, compute function, Modal function and columns.

A stage has four names along the path (the catalog's stage, the assets it materializes, the
compute job that does its work, and the Modal class that runs that job in production); this
table is the one place that says which belong together. The catalog's status columns, the
editor-lock stage of each database and the CLI's stage list are read from it, and a test
checks every name against the definitions, the compute resource and the Modal App.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    name: str  # the catalog stage: videos.{name}_status and {name}_error_details
    assets: tuple[str, ...]  # the assets whose steps record their progress in this stage
    compute_function: str  # the compute job (a ComputeResource method and a Modal method)
    modal_class: str  # the Modal class that runs it in production (modal_app.py)
    database: str | None  # the editor-locked database its job writes, if any

    @property
    def status_column(self) -> str:
        return f"{self.name}_status"

    @property
    def error_column(self) -> str:
        return f"{self.name}_error_details"


STAGE_TABLE: tuple[Stage, ...] = (
    Stage(
        "layout",
        ("video", "full_frames", "raw_ocr_db", "layout_db", "layout_approval"),
        "extract_frames_and_ocr",
        "FrameOcr",
        "layout",
    ),
    Stage(
        "boundaries",
        ("cropped_frames", "caption_frame_extents"),
        "crop_and_infer_caption_frame_extents",
        "CaptionFrameExtents",
        None,
    ),
    Stage("text", ("captions_db", "caption_exports"), "caption_ocr", "CaptionOcr", "captions"),
)

STAGES: tuple[str, ...] = tuple(stage.name for stage in STAGE_TABLE)
STAGE_OF_DATABASE: dict[str, str] = {stage.database: stage.name for stage in STAGE_TABLE if stage.database}
"""The catalog stage whose status says a run could not write an editor-locked database."""
