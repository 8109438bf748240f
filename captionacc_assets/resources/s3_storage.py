"""The S3 (Wasabi) store as a Dagster resource: a thin wrapper of `objectstore.s3`.

The store itself (atomic puts, manifest-last `put_dir`, retries, multipart) is plain boto3 in
`objectstore/s3.py`, so Modal containers use it without Dagster. This resource holds the same
settings as Dagster config, keeps credentials as `dg.EnvVar` (Dagster records only the names),
and hands each call to an `S3ObjectStore` built with the resolved values.
"""

import dagster as dg
from pydantic import Field

from captionacc_assets.objectstore.s3 import (
    ACCESS_KEY_VAR,
    MAX_ATTEMPTS,
    MULTIPART_THRESHOLD,
    SECRET_KEY_VAR,
    S3ObjectStore,
    content_type_for,
)
from captionacc_assets.resources.storage import to_store
from captionacc_assets.settings import resolved

__all__ = ["S3StorageResource", "content_type_for"]


class S3StorageResource(dg.ConfigurableResource):
    """A bucket on S3 or an S3-compatible service (Wasabi), with the key layout of SPEC §2.

    Credentials left empty are taken from the environment (AWS_ACCESS_KEY_ID /
    AWS_SECRET_ACCESS_KEY, or boto3's usual chain). Give them as `dg.EnvVar` so Dagster never
    stores or shows their values.
    """

    bucket: str
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = Field(default=None, repr=False)
    secret_access_key: str | None = Field(default=None, repr=False)
    multipart_threshold: int = MULTIPART_THRESHOLD
    max_attempts: int = MAX_ATTEMPTS  # per request, the first included; throttling and 5xx are retried

    def __repr__(self) -> str:  # never show credentials
        return f"S3StorageResource(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r}, region={self.region!r})"

    __str__ = __repr__

    def store(self) -> S3ObjectStore:
        """The plain store, with every `dg.EnvVar` read from the environment."""
        return S3ObjectStore(
            bucket=resolved(self.bucket),
            endpoint_url=resolved(self.endpoint_url),
            region=resolved(self.region),
            access_key_id=resolved(self.access_key_id),
            secret_access_key=resolved(self.secret_access_key),
            multipart_threshold=self.multipart_threshold,
            max_attempts=self.max_attempts,
        )

    @property
    def location(self) -> dict:
        """Where the bucket is, without credentials: what a Modal function is told."""
        return self.store().location

    @property
    def bucket_name(self) -> str:
        return resolved(self.bucket)

    @classmethod
    def from_env(
        cls, *, bucket: str | None = None, endpoint_url: str | None = None, region: str | None = None
    ) -> "S3StorageResource":
        """The production bucket from the environment; credentials stay `dg.EnvVar`s (never values)."""
        found = S3ObjectStore.from_env(bucket=bucket, endpoint_url=endpoint_url, region=region)  # names a missing one
        return cls(
            bucket=found.bucket,
            endpoint_url=found.endpoint_url,
            region=found.region,
            access_key_id=dg.EnvVar(ACCESS_KEY_VAR),
            secret_access_key=dg.EnvVar(SECRET_KEY_VAR),
        )

    client = to_store("client")
    put_file = to_store("put_file")
    put_bytes = to_store("put_bytes")
    put_dir = to_store("put_dir")
    replace_dir = to_store("replace_dir")
    sweep_temp = to_store("sweep_temp")
    _put_new = to_store("_put_new")
    get_file = to_store("get_file")
    get_bytes = to_store("get_bytes")
    exists = to_store("exists")
    size = to_store("size")
    content_type = to_store("content_type")
    list_keys = to_store("list_keys")
