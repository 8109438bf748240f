"""The local directory store as a Dagster resource: a thin wrapper of `objectstore.local`.

`LocalStorageResource` speaks the `ObjectStore` protocol the jobs use (`compute/object_store.py`,
re-exported here) by handing each call to a `LocalObjectStore` of its `root`, so an S3 or
Wasabi resource can replace it by configuration.
"""

import dagster as dg

from captionacc_assets.compute.object_store import ObjectStore
from captionacc_assets.objectstore.local import LocalObjectStore, publishable_entries

__all__ = ["LocalStorageResource", "ObjectStore", "publishable_entries", "to_store"]


def to_store(name: str):
    """A resource method that hands the call to the same method of the resource's plain `store()`."""

    def method(self, *args, **kwargs):
        return getattr(self.store(), name)(*args, **kwargs)

    method.__name__ = name
    return method


class LocalStorageResource(dg.ConfigurableResource):
    """A directory laid out like the bucket: key `a/b/c` is the file `{root}/a/b/c`."""

    root: str

    def store(self) -> LocalObjectStore:
        return LocalObjectStore(root=self.root)

    _root = to_store("_root")
    local_path = to_store("local_path")  # local-only helper; S3 has no such thing
    put_file = to_store("put_file")
    put_bytes = to_store("put_bytes")
    put_dir = to_store("put_dir")
    replace_dir = to_store("replace_dir")
    sweep_temp = to_store("sweep_temp")
    get_file = to_store("get_file")
    get_bytes = to_store("get_bytes")
    exists = to_store("exists")
    size = to_store("size")
    list_keys = to_store("list_keys")
