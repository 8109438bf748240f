"""Where the embedded default keeps its state, read from the environment in one place.

All state of the embedded default lives under one directory, `CAPTIONACC_HOME`
(default `~/.captionacc`): the catalog, the object storage and Dagster's home.
Two processes with different homes never share state.
"""

import math
import os
import shutil
import tempfile
from typing import overload
from dataclasses import dataclass
from pathlib import Path

from captionacc_assets.core.errors import EnvironmentFault, storage_fault

DEFAULT_HOME = "~/.captionacc"
DEFAULT_TENANT = "local"
DEFAULT_APPROVE_CONFIDENCE = 0.5
HOME_VAR = "CAPTIONACC_HOME"
APPROVE_CONFIDENCE_VAR = "CAPTIONACC_APPROVE_CONFIDENCE"
MAX_PIXELS_VAR = "CAPTIONACC_MAX_PIXELS"
MAX_DURATION_VAR = "CAPTIONACC_MAX_DURATION_S"


@dataclass(frozen=True)
class LocalPaths:
    home: Path

    @property
    def catalog_file(self) -> Path:
        return self.home / "catalog.sqlite"

    @property
    def storage_root(self) -> Path:
        return self.home / "storage"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def catalog_url(self) -> str:
        return f"sqlite:///{self.catalog_file}"


def local_paths() -> LocalPaths:
    home = Path(os.environ.get("CAPTIONACC_HOME", DEFAULT_HOME)).expanduser().resolve()
    return LocalPaths(home)


def unit_interval(text: str) -> float:
    """A threshold as a person types it: a number in [0, 1]; a ValueError saying why not otherwise."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{text!r} is not a number between 0 and 1") from None
    if not 0.0 <= value <= 1.0:  # also false for nan
        raise ValueError(f"{text!r} is not between 0 and 1")
    return value


def approve_confidence_threshold() -> float:
    """CAPTIONACC_APPROVE_CONFIDENCE, read where it is used, so a bad value stops only what needs it."""
    text = os.environ.get(APPROVE_CONFIDENCE_VAR, "").strip()
    if not text:
        return DEFAULT_APPROVE_CONFIDENCE
    try:
        return unit_interval(text)
    except ValueError as error:
        raise InvalidSettingError(
            f"{APPROVE_CONFIDENCE_VAR}={text!r} is unusable ({error}): set it to the layout confidence "
            f"that auto-approval needs, e.g. {DEFAULT_APPROVE_CONFIDENCE}, or unset it"
        ) from None


def video_limits():
    """The largest video processed (`core.video.VideoLimits`), from CAPTIONACC_MAX_PIXELS and CAPTIONACC_MAX_DURATION_S."""
    from captionacc_assets.core.video import VideoLimits

    defaults = VideoLimits()
    return VideoLimits(
        max_pixels=int(_positive_number(MAX_PIXELS_VAR, defaults.max_pixels, "width x height in pixels")),
        max_duration_s=_positive_number(MAX_DURATION_VAR, defaults.max_duration_s, "seconds"),
        pixels_setting=MAX_PIXELS_VAR,
        duration_setting=MAX_DURATION_VAR,
    )


def _positive_number(name: str, default: float, unit: str) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return float(default)
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise InvalidSettingError(
            f"{name}={text!r} is not a positive number of {unit}: fix it, or unset it for {default:.15g}"
        )
    return value


def storage_fault_location(error: OSError) -> tuple[str, str]:
    """Where a file operation failed, and the variable that moves it: CAPTIONACC_HOME or TMPDIR.

    A failed write() carries no path; then it is the fullest of the storage root and the
    scratch folder, which is where the space ran out.
    """
    path = error.filename2 or error.filename
    paths = local_paths()
    scratch = Path(tempfile.gettempdir()).resolve()
    if not isinstance(path, (str, bytes, os.PathLike)):
        existing = [p for p in (paths.storage_root, scratch) if p.exists()]
        path = min(existing, key=lambda p: shutil.disk_usage(p).free) if existing else paths.home
    path = Path(os.fsdecode(path))
    in_scratch = path.is_relative_to(scratch) and not path.is_relative_to(paths.home)
    return str(path), "TMPDIR" if in_scratch else HOME_VAR


def environment_fault(error: Exception) -> EnvironmentFault | None:
    """A full disk, read-only storage or an unreachable catalog, named; None for anything else."""
    if isinstance(error, EnvironmentFault):
        return error
    if isinstance(error, OSError):
        return storage_fault(error, *storage_fault_location(error))
    return None


# -- profiles (SPEC §6) ------------------------------------------------------------------------
# `local` is the embedded default. `production` swaps in Supabase Postgres, Wasabi (S3), Modal,
# optionally Google Cloud Vision, and dagster-postgres, by these environment variables alone.
PROFILES = ("local", "production")
PROFILE_VAR = "CAPTIONACC_PROFILE"


class MissingSettingError(EnvironmentFault):
    """A required environment variable is unset: raised at start, naming the variable."""


class InvalidSettingError(EnvironmentFault):
    """An environment variable holds a value that cannot be used: raised where it is read, naming it."""


def profile() -> str:
    name = os.environ.get(PROFILE_VAR, "local").strip() or "local"
    if name not in PROFILES:
        raise MissingSettingError(f"{PROFILE_VAR}={name!r} is not a profile; choose one of {', '.join(PROFILES)}")
    return name


def require_env(name: str, why: str) -> str:
    """The variable's value; a `MissingSettingError` naming it (and what it is for) if unset or empty."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise MissingSettingError(
            f"{name} is not set: {why}. Set it in the environment (see .env.example) "
            f"or use {PROFILE_VAR}=local for the embedded default."
        )
    return value


@overload
def optional_env(name: str, default: str) -> str: ...
@overload
def optional_env(name: str, default: None = None) -> str | None: ...
def optional_env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or default


OCR_ENGINE_VAR = "CAPTIONACC_OCR_ENGINE"
EXTENTS_MODEL_VAR = "CAPTIONACC_EXTENTS_MODEL"


def engine_settings() -> dict[str, str]:
    """The OCR engine and the pair model this process runs, as the compute resources take them.
    Here, not with the resources, so the CLI can read them before it imports Dagster."""
    return {
        "ocr_engine": optional_env(OCR_ENGINE_VAR, "rapidocr"),
        "extents_model": optional_env(EXTENTS_MODEL_VAR, "model"),
    }


def resolved(value):
    """A resource field's value: a `dg.EnvVar` is read from the environment, anything else is itself.

    Production resources hold secrets as `dg.EnvVar` so Dagster records only the variable's
    name; code that uses the resource outside a Dagster run (the CLI, the platform) reads it here.
    """
    if not callable(getattr(value, "get_value", None)):
        return value
    # Only a Dagster resource field holds an EnvVar, so Dagster is already loaded when one comes here;
    # the CLI's own imports stay free of it.
    from dagster._config.field_utils import EnvVar, IntEnvVar

    return value.get_value() if isinstance(value, (EnvVar, IntEnvVar)) else value
