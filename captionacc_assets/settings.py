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
