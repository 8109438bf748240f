"""The object-storage key layout (SPEC §2), written in one place.

Writers and readers both build keys here, so a key can never differ between the job
that writes an artifact and the editor or job that reads it. Ids and keys are checked
before they reach storage: a tenant id is the first key segment, so an id that could
climb out of its folder ('..', '/') would let one tenant read or overwrite another's.
"""

import re
from dataclasses import dataclass

from captionacc_assets.core.errors import InputError
from captionacc_assets.core.zones import MAX_ZONES

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_EXT = re.compile(r"[a-z0-9]{1,8}")
_HEX = re.compile(r"[0-9a-f]{8,}")
_KEY_MAX_CHARS = 1024  # S3's limit on a key
EXPORT_FORMATS = ("srt", "vtt", "json")


def validate_id(value: str, what: str) -> str:
    """Return `value` if it is a safe tenant or video id, else raise `InputError` naming `what`."""
    if not isinstance(value, str) or not _ID.fullmatch(value) or ".." in value:
        raise InputError(
            f"{what} {value!r} is not valid: use 1-128 characters from A-Z a-z 0-9 _ . -, "
            "starting with a letter or digit and never containing '..'"
        )
    return value


def check_key_shape(key: str, *, prefix: bool = False) -> str:
    """Check a key (or, with `prefix`, a listing prefix) is a clean relative path.

    No leading '/', no backslash, no empty, '.' or '..' segments, no segment starting
    with '.' (hidden names are reserved for storage's own temp files), no control
    characters. A prefix may end with '/' and may be empty (everything).
    """
    if not isinstance(key, str):
        raise InputError(f"storage key {key!r} must be a string")
    what = "storage prefix" if prefix else "storage key"
    body = key[:-1] if prefix and key.endswith("/") else key
    if prefix and key == "":
        return key
    if not body:
        raise InputError(f"{what} {key!r} is empty")
    if len(key) > _KEY_MAX_CHARS:
        raise InputError(f"{what} {key[:60]!r}... is longer than {_KEY_MAX_CHARS} characters")
    if key.startswith("/"):
        raise InputError(f"{what} {key!r} is absolute: keys are relative to the bucket, start with the tenant id")
    if "\\" in key:
        raise InputError(f"{what} {key!r} contains a backslash: separate segments with '/'")
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise InputError(f"{what} {key!r} contains a control character")
    for segment in body.split("/"):
        if segment in ("", ".", ".."):
            raise InputError(f"{what} {key!r} has an empty, '.' or '..' segment")
        if segment.startswith("."):
            raise InputError(f"{what} {key!r} has a hidden segment {segment!r}; names may not start with '.'")
    return key


def validate_key(key: str, tenant: str) -> str:
    """Return `key` if it is a clean key inside `tenant`'s folder, else raise `InputError`."""
    validate_id(tenant, "tenant")
    check_key_shape(key)
    if not key.startswith(f"{tenant}/"):
        raise InputError(f"storage key {key!r} is outside tenant {tenant!r}: it must start with '{tenant}/'")
    return key


def _version(version: int) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InputError(f"cropped frames version {version!r} must be an integer >= 1")
    return version


def _zone_suffix(zone: int) -> str:
    """'' for zone 0 (the single-zone keys, unchanged), `_zone1` for the second zone (SPEC §3, Zones)."""
    if isinstance(zone, bool) or not isinstance(zone, int) or not 0 <= zone < MAX_ZONES:
        raise InputError(f"caption zone {zone!r} must be an integer 0..{MAX_ZONES - 1}")
    return f"_zone{zone}" if zone else ""


def _frame_index(index: int) -> int:
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise InputError(f"frame index {index!r} must be an integer >= 0")
    return index


@dataclass(frozen=True)
class VideoKeys:
    """Every key of one video's artifacts, under `{tenant}/client|server/videos/{video}/`."""

    tenant: str
    video: str

    def __post_init__(self) -> None:
        validate_id(self.tenant, "tenant")
        validate_id(self.video, "video id")

    @property
    def client_prefix(self) -> str:
        """Artifacts the web editor reads (and some it writes)."""
        return f"{self.tenant}/client/videos/{self.video}/"

    @property
    def server_prefix(self) -> str:
        """Artifacts only the processing platform reads."""
        return f"{self.tenant}/server/videos/{self.video}/"

    def video_file(self, ext: str) -> str:
        ext = ext.lower() if isinstance(ext, str) else ext
        if not isinstance(ext, str) or not _EXT.fullmatch(ext):
            raise InputError(f"video file extension {ext!r} must be 1-8 letters or digits, e.g. 'mp4'")
        return f"{self.client_prefix}video.{ext}"

    @property
    def full_frames_prefix(self) -> str:
        return f"{self.client_prefix}full_frames/"

    @property
    def full_frames_thumbnails_prefix(self) -> str:
        return f"{self.client_prefix}full_frames_thumbnails/"

    def full_frame(self, index: int) -> str:
        return f"{self.full_frames_prefix}frame_{_frame_index(index):06d}.jpg"

    def full_frame_thumbnail(self, index: int) -> str:
        return f"{self.full_frames_thumbnails_prefix}frame_{_frame_index(index):06d}.jpg"

    @property
    def raw_ocr_db(self) -> str:
        return f"{self.server_prefix}raw-ocr.db.gz"

    @property
    def layout_db(self) -> str:
        return f"{self.client_prefix}layout.db.gz"

    def cropped_frames_prefix(self, version: int, zone: int = 0) -> str:
        """`cropped_frames_v{N}/` for zone 0, `cropped_frames_v{N}_zone1/` for the second zone."""
        return f"{self.client_prefix}cropped_frames_v{_version(version)}{_zone_suffix(zone)}/"

    @property
    def caption_frame_extents_prefix(self) -> str:
        return f"{self.server_prefix}caption_frame_extents/"

    def caption_frame_extents_db(self, version: int, model_hash: str, zone: int = 0) -> str:
        """One immutable database per (cropped frames version, zone, model): `v{N}_model-{hash8}.db.gz`
        for zone 0, `v{N}_zone1_model-{hash8}.db.gz` for the second zone."""
        digest = model_hash.lower() if isinstance(model_hash, str) else model_hash
        if not isinstance(digest, str) or not _HEX.fullmatch(digest):
            raise InputError(f"model hash {model_hash!r} must be at least 8 hexadecimal characters")
        return f"{self.caption_frame_extents_prefix}v{_version(version)}{_zone_suffix(zone)}_model-{digest[:8]}.db.gz"

    @property
    def captions_db(self) -> str:
        return f"{self.client_prefix}captions.db.gz"

    def export(self, fmt: str) -> str:
        if fmt not in EXPORT_FORMATS:
            raise InputError(f"export format {fmt!r} is not one of {', '.join(EXPORT_FORMATS)}")
        return f"{self.client_prefix}exports/captions.{fmt}"
