"""What the jobs need from object storage: the local directory and S3 both provide it."""

from pathlib import Path
from typing import Protocol


class ObjectStore(Protocol):
    def put_file(self, key: str, src: Path, content_type: str | None = None) -> int: ...
    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> int: ...
    def put_dir(self, prefix: str, src_dir: Path) -> list[str]: ...
    def replace_dir(self, prefix: str, src_dir: Path) -> list[str]: ...
    def sweep_temp(self, prefix: str) -> int: ...
    def get_file(self, key: str, dest: Path) -> Path: ...
    def get_bytes(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def list_keys(self, prefix: str) -> list[str]: ...


GZIP = "application/gzip"


def fetch_video(store: ObjectStore, video_key: str, work_dir: Path) -> Path:
    """The uploaded video as a local file: read in place from local storage (an upload is never
    changed after it is stored), else downloaded into the job's scratch directory."""
    local_path = getattr(store, "local_path", None)
    if local_path is not None and (stored := Path(local_path(video_key))).is_file():
        return stored
    dest = work_dir / Path(video_key).name
    if not dest.exists():
        store.get_file(video_key, dest)
    return dest
