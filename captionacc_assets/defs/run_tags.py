"""The tags every per-video run carries (SPEC §5): who it is for, how urgent, what started it.

`dagster/priority` is what the run queue sorts by; `priority` mirrors it so people can
filter on it in the UI. `file_name` is the uploaded file's name, so a person finds a video's
runs by the name they know (Runs -> filter `tag:file_name=episode-01.mp4`), not its id. Runs
launched without them (a UI launch, a backfill) get them from the run-queue sensor while they
wait, or from their first step.
"""

from captionacc_assets.core.priority import run_priority

PRIORITY_TAG = "dagster/priority"
PARTITION_TAG = "dagster/partition"
BACKFILL_TAG = "dagster/backfill"
VERSION_TAG = "captionacc/cropped_frames_version"
EXTENTS_KEY_TAG = "captionacc/caption_frame_extents_key"  # pinned by the crop step for the captions step (zone 0, then zone 1, comma-separated)
OCR_REQUESTS_TAG = "captionacc/caption_ocr_requests"  # ids of the caption OCR requests a run answers
FILE_NAME_TAG = "file_name"
# "held" while a person holds the database the run's job writes: dagster.yaml lets no such run start,
# so a queued run of a video being edited takes no run slot (the run_queue sensor sets and clears it).
EDITOR_LOCK_TAG = "captionacc/editor_lock"
# "requested" once a sensor asked for the run to be cancelled: dagster.yaml lets no such run start, so
# a queued one can be cancelled without racing the dequeuer (defs/sensors/runs.py); the time the hold began.
CANCEL_TAG = "captionacc/cancel"
CANCEL_REQUESTED = "requested"
CANCEL_REQUESTED_AT_TAG = "captionacc/cancel_requested_at"
TRIGGERS = ("upload", "approval", "ui", "backfill", "caption_ocr")


def video_run_tags(
    tenant: str, tier: str, trigger: str, waited_hours: float = 0.0, file_name: str | None = None
) -> dict[str, str]:
    if trigger not in TRIGGERS:
        raise ValueError(f"trigger {trigger!r} is not one of {', '.join(TRIGGERS)}")
    priority = str(run_priority(tier, waited_hours))
    tags = {"tenant": tenant, "tier": tier, "trigger": trigger, "priority": priority, PRIORITY_TAG: priority}
    return {**tags, FILE_NAME_TAG: file_name} if file_name else tags


def approval_run_tags(
    tenant: str, tier: str, version: int, requested_by: str | None, file_name: str | None = None
) -> dict[str, str]:
    return {
        **video_run_tags(tenant, tier, "approval", file_name=file_name),
        VERSION_TAG: str(version),
        "approved_by": requested_by or "unknown",
    }


def launched_by(tags) -> str:
    """The run's trigger: its own tag, else a backfill's or a person's launch from the UI."""
    if tags.get("trigger"):
        return tags["trigger"]
    return "backfill" if tags.get(BACKFILL_TAG) else "ui"


def wanted_video_tags(
    tags, tenant: str, tier: str, waited_hours: float = 0.0, file_name: str | None = None
) -> dict[str, str]:
    """The tags a run should carry: its own tenant and tier where it has them, else the catalog's."""
    return video_run_tags(
        tags.get("tenant") or tenant,
        tags.get("tier") or tier,
        launched_by(tags),
        waited_hours,
        tags.get(FILE_NAME_TAG) or file_name,
    )


def missing_video_tags(tags, tenant: str, tier: str, file_name: str | None = None) -> dict[str, str]:
    """The identity tags a run launched outside the sensors (UI, backfill) lacks; {} when complete."""
    wanted = wanted_video_tags(tags, tenant, tier, file_name=file_name)
    if tags.get(PRIORITY_TAG):
        wanted.pop(PRIORITY_TAG), wanted.pop("priority")
    return {key: value for key, value in wanted.items() if key not in tags}


def join_extents_keys(keys: list[str]) -> str:
    """The extents databases of a run's zones, zone 0 first, as one tag value (one key for one zone)."""
    return ",".join(keys)


def split_extents_keys(value: str) -> list[str]:
    return [key for key in value.split(",") if key]


def run_version(tags) -> int | None:
    """The cropped frames version an approval run was launched for; None for UI/backfill runs."""
    value = tags.get(VERSION_TAG)
    return int(value) if value else None


def caption_ocr_run_tags(tenant: str, tier: str, request_ids: list[int], requested_by: str | None) -> dict[str, str]:
    """A run that answers a person's caption OCR requests (the editor's "Generate OCR")."""
    return {
        **video_run_tags(tenant, tier, "caption_ocr"),
        OCR_REQUESTS_TAG: ",".join(str(i) for i in sorted(request_ids)),
        "requested_by": requested_by or "unknown",
    }


def requested_ocr_ids(tags) -> list[int]:
    """The caption OCR request ids a run answers; [] for every other run."""
    value = tags.get(OCR_REQUESTS_TAG) or ""
    return [int(part) for part in value.split(",") if part.strip()]
