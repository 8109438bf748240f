"""Object storage on S3 (Wasabi in production): the same `ObjectStore` as the local directory.

Plain Python (boto3, no Dagster), so a Modal container uses it as is;
`resources/s3_storage.py` wraps it as a Dagster resource.

The promises are the local store's, kept the S3 way:
- a put is atomic: S3 makes a PUT (and a completed multipart upload) visible whole or not
  at all, so a reader sees the old object, the new one, or none;
- `put_dir` publishes a chunk pyramid so a reader never sees a partial set: every chunk is
  uploaded first and `manifest.json` last, and readers start from the manifest; a prefix
  whose manifest exists is refused, because versions are immutable.
Transient errors are retried by botocore ("standard" mode); large files go multipart.
Credentials come from the environment or the resource, and are never logged or repr'd.
"""

import functools
import mimetypes
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from captionacc_assets.core.chunks import MANIFEST_NAME as MANIFEST
from captionacc_assets.core.errors import InputError
from captionacc_assets.core.keys import check_key_shape
from captionacc_assets.compute.object_store import GZIP
from captionacc_assets.objectstore.local import publishable_entries
from captionacc_assets.settings import optional_env, require_env

MULTIPART_THRESHOLD = 64 * 1024 * 1024
MULTIPART_CHUNKSIZE = 16 * 1024 * 1024
MAX_ATTEMPTS = 5
UPLOAD_THREADS = 8

BUCKET_VAR = "CAPTIONACC_S3_BUCKET"
ENDPOINT_VAR = "CAPTIONACC_S3_ENDPOINT_URL"
REGION_VAR = "CAPTIONACC_S3_REGION"
ACCESS_KEY_VAR = "AWS_ACCESS_KEY_ID"
SECRET_KEY_VAR = "AWS_SECRET_ACCESS_KEY"

_CONTENT_TYPES = {
    ".gz": GZIP,
    ".webm": "video/webm",
    ".json": "application/json",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".srt": "application/x-subrip",
    ".vtt": "text/vtt",
    ".mp4": "video/mp4",
    ".mkv": "video/x-matroska",
    ".mov": "video/quicktime",
}


def content_type_for(key: str) -> str:
    """The Content-Type a key gets when the caller names none (gzip'd databases: application/gzip)."""
    suffix = Path(key).suffix.lower()
    return _CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def _is_missing(error) -> bool:
    code = str(error.response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


@functools.lru_cache(maxsize=16)
def _client(
    endpoint_url: str | None,
    region: str | None,
    access_key: str | None,
    secret_key: str | None,
    max_attempts: int,
    pid: int,
):
    """One thread-safe client per configuration and process (a forked child builds its own)."""
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=10,
        read_timeout=120,
        max_pool_connections=UPLOAD_THREADS * 2,
        s3={"addressing_style": "path"},
    )
    session = boto3.session.Session(
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region,
    )
    return session.client("s3", endpoint_url=endpoint_url or None, config=config)


@dataclass(frozen=True)
class S3ObjectStore:
    """A bucket on S3 or an S3-compatible service (Wasabi), with the key layout of SPEC §2.

    Credentials left empty are taken from boto3's usual chain (AWS_ACCESS_KEY_ID /
    AWS_SECRET_ACCESS_KEY in the environment, among others). They are never repr'd.
    """

    bucket: str
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    multipart_threshold: int = MULTIPART_THRESHOLD
    max_attempts: int = MAX_ATTEMPTS  # per request, the first included; throttling and 5xx are retried

    def __repr__(self) -> str:  # never show credentials
        return f"S3ObjectStore(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r}, region={self.region!r})"

    __str__ = __repr__

    # -- plumbing ------------------------------------------------------------------------------
    def client(self):
        return _client(
            self.endpoint_url, self.region, self.access_key_id, self.secret_access_key, self.max_attempts, os.getpid()
        )

    @property
    def location(self) -> dict:
        """Where the bucket is, without credentials: what a Modal function is told."""
        return {"bucket": self.bucket, "endpoint_url": self.endpoint_url, "region": self.region}

    @classmethod
    def from_env(
        cls, *, bucket: str | None = None, endpoint_url: str | None = None, region: str | None = None
    ) -> "S3ObjectStore":
        """The bucket from the environment, credentials included (a missing one is named)."""
        access_key_id = require_env(ACCESS_KEY_VAR, "the S3/Wasabi access key id")
        secret_access_key = require_env(SECRET_KEY_VAR, "the S3/Wasabi secret access key")
        return cls(
            bucket=bucket or require_env(BUCKET_VAR, "the S3/Wasabi bucket that holds every artifact"),
            endpoint_url=endpoint_url or optional_env(ENDPOINT_VAR),
            region=region or optional_env(REGION_VAR, "us-east-1"),
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
        )

    def _transfer_config(self):
        from boto3.s3.transfer import TransferConfig

        return TransferConfig(
            multipart_threshold=self.multipart_threshold,
            multipart_chunksize=max(5 * 1024 * 1024, min(MULTIPART_CHUNKSIZE, self.multipart_threshold)),
            max_concurrency=4,
        )

    @property
    def bucket_name(self) -> str:
        return self.bucket

    @staticmethod
    def _key(key: str) -> str:
        return check_key_shape(key)

    # -- writes --------------------------------------------------------------------------------
    def put_file(self, key: str, src: Path, content_type: str | None = None) -> int:
        """Upload `src` to `key` (multipart above the threshold); returns the size in bytes."""
        self._key(key)
        src = Path(src)
        if not src.is_file():
            raise FileNotFoundError(f"cannot store {src} at {key!r}: it does not exist or is not a file")
        self.client().upload_file(
            str(src),
            self.bucket_name,
            key,
            Config=self._transfer_config(),
            ExtraArgs={"ContentType": content_type or content_type_for(key)},
        )
        return src.stat().st_size

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> int:
        self._key(key)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"put_bytes needs bytes, not {type(data).__name__}")
        self.client().put_object(
            Bucket=self.bucket_name, Key=key, Body=bytes(data), ContentType=content_type or content_type_for(key)
        )
        return len(data)

    def put_dir(self, prefix: str, src_dir: Path) -> list[str]:
        """Publish every file under `src_dir` at `prefix`, `manifest.json` last; returns the keys.

        Readers find a version through its manifest, so the set becomes visible only once
        whole. The manifest is written with `If-None-Match: *`, so of two publishers of one
        prefix exactly one commits. A prefix whose manifest exists is refused (versions are
        immutable); chunks left by an upload that died before its manifest are overwritten.
        A set without a manifest has no commit point and is refused on any existing object.
        """
        src_dir = Path(src_dir)
        if not src_dir.is_dir():
            raise FileNotFoundError(f"cannot publish {src_dir} at {prefix!r}: it is not a directory")
        if not prefix.endswith("/"):
            prefix += "/"
        if prefix == "/":
            raise InputError("put_dir needs a non-empty prefix")
        check_key_shape(prefix, prefix=True)
        files = [(prefix + rel, path) for rel, path in publishable_entries(src_dir) if path.is_file()]
        manifest_key = prefix + MANIFEST
        has_manifest = any(key == manifest_key for key, _ in files)
        if self.exists(manifest_key) or (not has_manifest and self.list_keys(prefix)):
            raise FileExistsError(f"{prefix!r} already exists; published versions are immutable")
        chunks = [(key, path) for key, path in files if key != manifest_key]
        with ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
            list(pool.map(lambda item: self.put_file(*item), chunks))
        if has_manifest:  # the commit point
            self._put_new(manifest_key, (src_dir / MANIFEST).read_bytes(), content_type_for(MANIFEST))
        return sorted(key for key, _ in files)

    def replace_dir(self, prefix: str, src_dir: Path) -> list[str]:
        """Upload the whole set at `prefix`, then delete the keys of the old set it does not have.

        S3 has no rename: during the upload a reader may see old and new objects side by side
        (each object itself is whole); the set is complete once this returns.
        """
        if not prefix.endswith("/"):
            prefix += "/"
        check_key_shape(prefix, prefix=True)
        files = [(prefix + rel, path) for rel, path in publishable_entries(Path(src_dir)) if path.is_file()]
        with ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
            list(pool.map(lambda item: self.put_file(*item), files))
        stale = sorted(set(self.list_keys(prefix)) - {key for key, _ in files})
        for start in range(0, len(stale), 1000):
            self.client().delete_objects(
                Bucket=self.bucket_name, Delete={"Objects": [{"Key": k} for k in stale[start : start + 1000]]}
            )
        return sorted(key for key, _ in files)

    def sweep_temp(self, prefix: str) -> int:
        """Nothing to sweep: S3 puts leave no temp objects (an unfinished multipart upload is invisible)."""
        check_key_shape(prefix, prefix=True)
        return 0

    def _put_new(self, key: str, data: bytes, content_type: str) -> None:
        """PUT only if no object exists at `key` (S3 conditional write)."""
        from botocore.exceptions import ClientError

        try:
            self.client().put_object(
                Bucket=self.bucket_name, Key=key, Body=data, ContentType=content_type, IfNoneMatch="*"
            )
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code"))
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise FileExistsError(f"{key!r} already exists; published versions are immutable") from None
            if code not in ("NotImplemented", "501"):
                raise
            # A service without conditional writes: check, then put (a narrow race between two
            # publishers of one version; the catalog's version numbering already keeps them apart).
            if self.exists(key):
                raise FileExistsError(f"{key!r} already exists; published versions are immutable") from None
            self.client().put_object(Bucket=self.bucket_name, Key=key, Body=data, ContentType=content_type)

    # -- reads ---------------------------------------------------------------------------------
    def _missing(self, key: str) -> FileNotFoundError:
        return FileNotFoundError(f"no object at storage key {key!r} in bucket {self.bucket_name!r}")

    def get_file(self, key: str, dest: Path) -> Path:
        """Download `key` to `dest` atomically (a temp file beside it, then a rename); returns `dest`."""
        from botocore.exceptions import ClientError

        self._key(key)
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
        try:
            self.client().download_file(self.bucket_name, key, str(tmp), Config=self._transfer_config())
            os.replace(tmp, dest)
        except ClientError as error:
            if _is_missing(error):
                raise self._missing(key) from None
            raise
        finally:
            tmp.unlink(missing_ok=True)
        return dest

    def get_bytes(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        self._key(key)
        try:
            return self.client().get_object(Bucket=self.bucket_name, Key=key)["Body"].read()
        except ClientError as error:
            if _is_missing(error):
                raise self._missing(key) from None
            raise

    def _head(self, key: str) -> dict | None:
        from botocore.exceptions import ClientError

        self._key(key)
        try:
            return self.client().head_object(Bucket=self.bucket_name, Key=key)
        except ClientError as error:
            if _is_missing(error):
                return None
            raise

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise self._missing(key)
        return int(head["ContentLength"])

    def content_type(self, key: str) -> str:
        head = self._head(key)
        if head is None:
            raise self._missing(key)
        return head["ContentType"]

    def list_keys(self, prefix: str) -> list[str]:
        """Every key starting with `prefix` (a plain string prefix), sorted."""
        check_key_shape(prefix, prefix=True)
        paginator = self.client().get_paginator("list_objects_v2")
        keys: list[str] = []
        for page in paginator.paginate(Bucket=self.bucket_name, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(keys)
