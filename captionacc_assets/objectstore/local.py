"""Object storage for the embedded default: a local directory with the bucket's key layout.

`LocalObjectStore` speaks the `ObjectStore` protocol the jobs use (`compute/object_store.py`), so
the S3 store can replace it by configuration. Plain Python, no Dagster; `resources/storage.py`
wraps it as a Dagster resource. Two promises readers rely on:
- a put is atomic: a reader sees the old object, the new one, or none, never half a file;
- `put_dir` publishes a whole set (a chunk pyramid) at once and never over an existing one,
  because versions are immutable.
"""

import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from captionacc_assets.core.errors import InputError
from captionacc_assets.core.fault_points import reach
from captionacc_assets.core.keys import check_key_shape

_COPY_BUFFER = 1024 * 1024


def _fsync_dir(path: Path) -> None:
    """Make a rename inside `path` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_write(dest: Path, write) -> int:
    """Write via `write(fileobj)` into a hidden temp file beside `dest`, fsync, then rename over it."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        size = tmp.stat().st_size
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(dest.parent)
    return size


def publishable_entries(src_dir: Path) -> list[tuple[str, Path]]:
    """Every entry under `src_dir` as (relative key, path), sorted, for `put_dir` on any backend.

    A symlink is refused (it could point outside the artifact), and each relative name must
    be a valid key part, so a published set can never reach beyond its prefix.
    """
    entries = []
    for path in sorted(src_dir.rglob("*")):
        if path.is_symlink():
            raise InputError(f"cannot publish {src_dir}: {path} is a symlink")
        entries.append((check_key_shape(path.relative_to(src_dir).as_posix()), path))
    return entries


@dataclass(frozen=True)
class LocalObjectStore:
    """A directory laid out like the bucket: key `a/b/c` is the file `{root}/a/b/c`."""

    root: str

    # -- paths ---------------------------------------------------------------------------------
    def _root(self) -> Path:
        return Path(self.root).expanduser().resolve()

    def _path(self, key: str, *, prefix: bool = False) -> Path:
        check_key_shape(key, prefix=prefix)
        root = self._root()
        path = (root / key).resolve()
        if path != root and not path.is_relative_to(root):
            raise InputError(f"storage key {key!r} resolves outside the storage root")
        return path

    def local_path(self, key: str) -> Path:
        """The file a key maps to (local-only helper; S3 has no such thing)."""
        return self._path(key)

    # -- writes --------------------------------------------------------------------------------
    def put_file(self, key: str, src: Path, content_type: str | None = None) -> int:
        """Copy `src` to `key` atomically; returns the size in bytes. `content_type` is for S3."""
        src = Path(src)
        if not src.is_file():
            raise FileNotFoundError(f"cannot store {src} at {key!r}: it does not exist or is not a file")
        dest = self._path(key)
        with src.open("rb") as source:
            return _atomic_write(dest, lambda out: shutil.copyfileobj(source, out, _COPY_BUFFER))

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> int:
        return _atomic_write(self._path(key), lambda out: out.write(data))

    def put_dir(self, prefix: str, src_dir: Path) -> list[str]:
        """Publish every file under `src_dir` at `prefix` in one rename; returns the keys.

        The files are copied into a hidden staging directory beside the target and the
        directory is renamed into place, so readers never see a half-written set. An
        existing prefix is refused: versions are immutable.
        """
        src_dir = Path(src_dir)
        if not src_dir.is_dir():
            raise FileNotFoundError(f"cannot publish {src_dir} at {prefix!r}: it is not a directory")
        if not prefix.endswith("/"):
            prefix += "/"
        target = self._path(prefix, prefix=True)
        if target == self._root():
            raise InputError("put_dir needs a non-empty prefix")
        if target.exists():
            raise FileExistsError(f"{prefix!r} already exists; published versions are immutable")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.parent / f".staging-{target.name}-{uuid.uuid4().hex}"
        try:
            relative = self._copy_tree(src_dir, staging, target.name)
            try:
                os.rename(staging, target)  # atomic; fails if a non-empty target appeared meanwhile
            except OSError as error:
                raise FileExistsError(f"{prefix!r} already exists; published versions are immutable") from error
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        _fsync_dir(target.parent)
        return [prefix + rel for rel in relative]

    def replace_dir(self, prefix: str, src_dir: Path) -> list[str]:
        """Publish a whole set at `prefix`, replacing the set there (full frames on a re-run).

        The new set is staged beside the target and renamed into place, and the old one is
        renamed away first: a reader sees the old set, the new one, or (for an instant) none,
        never a partial one. A crash leaves hidden staging folders that `sweep_temp` removes.
        """
        target = self._path(prefix if prefix.endswith("/") else prefix + "/", prefix=True)
        if target == self._root():
            raise InputError("replace_dir needs a non-empty prefix")
        target.parent.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex
        staging = target.parent / f".staging-{target.name}-{token}"
        retired = target.parent / f".retired-{target.name}-{token}"
        try:
            relative = self._copy_tree(Path(src_dir), staging, target.name)
            if target.exists():
                os.rename(target, retired)
            os.rename(staging, target)
        finally:
            for leftover in (staging, retired):
                if leftover.exists():
                    shutil.rmtree(leftover, ignore_errors=True)
        _fsync_dir(target.parent)
        return [prefix.rstrip("/") + "/" + rel for rel in relative]

    def sweep_temp(self, prefix: str) -> int:
        """Remove the hidden temp files and staging folders a killed writer left under `prefix`.

        Only call it while no writer of that prefix is running (one run per video at a time).
        Returns how many entries were removed.
        """
        folder = self._path(prefix, prefix=True)
        if not folder.is_dir():
            return 0
        removed = 0
        for dirpath, dirnames, filenames in os.walk(folder):
            for name in [d for d in dirnames if d.startswith((".staging-", ".retired-"))]:
                shutil.rmtree(Path(dirpath) / name, ignore_errors=True)
                dirnames.remove(name)
                removed += 1
            for name in filenames:
                if name.startswith(".") and name.endswith(".tmp"):
                    (Path(dirpath) / name).unlink(missing_ok=True)
                    removed += 1
        return removed

    @staticmethod
    def _copy_tree(src_dir: Path, staging: Path, name: str) -> list[str]:
        """Copy the set into `staging`; the fault point `publish.{name}` is half-way through."""
        staging.mkdir()
        relative = []
        entries = publishable_entries(src_dir)
        for count, (rel, path) in enumerate(entries):
            if count == len(entries) // 2:
                reach(f"publish.{name}")
            if path.is_dir():
                (staging / rel).mkdir(parents=True, exist_ok=True)
                continue
            dest = staging / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
            with dest.open("rb+") as f:
                os.fsync(f.fileno())
            relative.append(rel)
        return relative

    # -- reads ---------------------------------------------------------------------------------
    def _existing(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(f"no object at storage key {key!r}")
        return path

    def get_file(self, key: str, dest: Path) -> Path:
        """Copy the object at `key` to `dest` (atomically); returns `dest`."""
        dest = Path(dest)
        with self._existing(key).open("rb") as source:
            _atomic_write(dest, lambda out: shutil.copyfileobj(source, out, _COPY_BUFFER))
        return dest

    def get_bytes(self, key: str) -> bytes:
        return self._existing(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        return self._existing(key).stat().st_size

    def list_keys(self, prefix: str) -> list[str]:
        """Every key starting with `prefix` (a plain string prefix, as in S3), sorted.

        Hidden names (temp files, staging directories) are never listed.
        """
        self._path(prefix, prefix=True)
        root = self._root()
        # Walk only the deepest folder the prefix names whole, then filter by the string prefix.
        folder = root / prefix.rsplit("/", 1)[0] if "/" in prefix else root
        if not folder.is_dir():
            return []
        keys = []
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            base = Path(dirpath).relative_to(root).as_posix()
            for name in filenames:
                if name.startswith("."):
                    continue
                key = name if base == "." else f"{base}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)
