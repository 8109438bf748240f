"""Where the embedded default keeps its state, read from the environment in one place.

All state of the embedded default lives under one directory, `CAPTIONACC_HOME`
(default `~/.captionacc`): the catalog, the object storage and Dagster's home.
Two processes with different homes never share state.
"""

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = "~/.captionacc"
DEFAULT_TENANT = "local"
DEFAULT_APPROVE_CONFIDENCE = 0.5


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


def approve_confidence_threshold() -> float:
    return float(os.environ.get("CAPTIONACC_APPROVE_CONFIDENCE", DEFAULT_APPROVE_CONFIDENCE))


# -- profiles (SPEC §6) ------------------------------------------------------------------------
# `local` is the embedded default. `production` swaps in Supabase Postgres, Wasabi (S3), Modal,
# optionally Google Cloud Vision, and dagster-postgres, by these environment variables alone.
PROFILES = ("local", "production")
PROFILE_VAR = "CAPTIONACC_PROFILE"


class MissingSettingError(RuntimeError):
    """A required environment variable is unset: raised at start, naming the variable."""


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


def optional_env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or default


def resolved(value):
    """A resource field's value: a `dg.EnvVar` is read from the environment, anything else is itself.

    Production resources hold secrets as `dg.EnvVar` so Dagster records only the variable's
    name; code that uses the resource outside a Dagster run (the CLI, the platform) reads it here.
    """
    get_value = getattr(value, "get_value", None)
    if callable(get_value) and type(value).__name__ in ("EnvVar", "IntEnvVar"):
        return get_value()
    return value
