"""The storage contract: the bucket's key layout, atomic puts, immutable versions.

Every contract test runs against each backend the `storage` fixture provides: the local
directory (embedded default) and S3, spoken to over HTTP by boto3 against moto's standalone
server started here. `leftovers(storage)` lists every object or file the backend holds, so
a temp file or a half-published set would show.
"""

import threading

import pytest

from captionacc_assets.core.errors import InputError
from captionacc_assets.core.keys import VideoKeys
from captionacc_assets.compute.object_store import ObjectStore
from captionacc_assets.resources.s3_storage import S3StorageResource
from captionacc_assets.resources.storage import LocalStorageResource
from captionacc_assets_tests.servers import s3_server

KEYS = VideoKeys(tenant="acme", video="v1")


@pytest.fixture(scope="module")
def s3():
    with s3_server() as server:
        yield server


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return LocalStorageResource(root=str(tmp_path / "bucket"))
    server = request.getfixturevalue("s3")
    return S3StorageResource(
        bucket=server.create_bucket(),
        endpoint_url=server.endpoint_url,
        region=server.region,
        access_key_id=server.access_key,
        secret_access_key=server.secret_key,
    )


@pytest.fixture
def local_storage(tmp_path) -> LocalStorageResource:
    return LocalStorageResource(root=str(tmp_path / "bucket"))


def all_files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def leftovers(storage) -> list[str]:
    """Everything the backend holds, hidden temp files and staging directories included."""
    if isinstance(storage, LocalStorageResource):
        root = storage._root()
        return all_files(root) if root.exists() else []
    pages = storage.client().get_paginator("list_objects_v2").paginate(Bucket=storage.bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def test_speaks_the_object_store_protocol(storage):
    store: ObjectStore = storage  # the jobs take this protocol; a missing method fails below
    for name in (
        "put_file",
        "put_bytes",
        "put_dir",
        "replace_dir",
        "sweep_temp",
        "get_file",
        "get_bytes",
        "exists",
        "list_keys",
    ):
        assert callable(getattr(store, name))


def test_put_get_exists_size_list(storage, tmp_path):
    src = tmp_path / "in.db.gz"
    src.write_bytes(b"\x1f\x8b" + b"x" * 1000)
    assert storage.put_file(KEYS.raw_ocr_db, src, "application/gzip") == 1002
    assert storage.put_bytes(KEYS.export("srt"), "1\n字幕\n".encode()) == len("1\n字幕\n".encode())
    assert storage.exists(KEYS.raw_ocr_db) and not storage.exists(KEYS.layout_db)
    assert storage.size(KEYS.raw_ocr_db) == 1002
    assert storage.get_bytes(KEYS.export("srt")).decode() == "1\n字幕\n"
    dest = storage.get_file(KEYS.raw_ocr_db, tmp_path / "out" / "copy.db.gz")
    assert dest.read_bytes() == src.read_bytes()
    assert [p.name for p in dest.parent.iterdir()] == ["copy.db.gz"]  # no temp file beside it
    assert storage.list_keys("acme/") == sorted([KEYS.raw_ocr_db, KEYS.export("srt")])
    assert storage.list_keys("acme/client/") == [KEYS.export("srt")]
    assert storage.list_keys("acme/server/videos/v1/raw") == [KEYS.raw_ocr_db]  # a string prefix, as in S3
    assert storage.list_keys("other/") == []


def test_put_overwrites_atomically_and_leaves_no_temp_files(storage, tmp_path):
    storage.put_bytes(KEYS.captions_db, b"old")
    storage.put_bytes(KEYS.captions_db, b"new contents")
    assert storage.get_bytes(KEYS.captions_db) == b"new contents"
    assert leftovers(storage) == [KEYS.captions_db]


def test_readers_never_see_a_partial_file(storage):
    """Readers racing a writer of large objects see one whole version or the other."""
    old, new = b"a" * 2_000_000, b"b" * 3_000_000
    storage.put_bytes(KEYS.layout_db, old)
    seen, stop = set(), threading.Event()

    def read():
        while not stop.is_set():
            seen.add(storage.get_bytes(KEYS.layout_db))

    reader = threading.Thread(target=read)
    reader.start()
    for _ in range(10):
        storage.put_bytes(KEYS.layout_db, new)
        storage.put_bytes(KEYS.layout_db, old)
    stop.set()
    reader.join()
    assert seen <= {old, new} and old in seen


def test_failed_put_leaves_nothing_behind(storage, tmp_path):
    with pytest.raises(TypeError):
        storage.put_bytes(KEYS.layout_db, "not bytes")  # type: ignore[arg-type]
    assert not storage.exists(KEYS.layout_db)
    assert leftovers(storage) == []


def test_missing_objects_raise_file_not_found_naming_the_key(storage, tmp_path):
    for call in (
        lambda: storage.get_bytes(KEYS.layout_db),
        lambda: storage.size(KEYS.layout_db),
        lambda: storage.get_file(KEYS.layout_db, tmp_path / "x"),
    ):
        with pytest.raises(FileNotFoundError, match="layout.db.gz"):
            call()
    assert not (tmp_path / "x").exists()


def make_pyramid(tmp_path):
    src = tmp_path / "chunks"
    for level, starts in ((16, [0]), (4, [0, 128]), (1, [0, 32, 64])):
        (src / f"modulo_{level}").mkdir(parents=True)
        for s in starts:
            (src / f"modulo_{level}" / f"chunk_{s:010d}.webm").write_bytes(f"{level}:{s}".encode())
    (src / "manifest.json").write_text('{"chunks": []}')
    return src


def test_put_dir_publishes_the_whole_set_once(storage, tmp_path):
    prefix = KEYS.cropped_frames_prefix(1)
    written = storage.put_dir(prefix, make_pyramid(tmp_path))
    assert len(written) == 7 and prefix + "manifest.json" in written
    assert prefix + "modulo_4/chunk_0000000128.webm" in written
    assert storage.list_keys(prefix) == sorted(written)
    assert storage.get_bytes(prefix + "modulo_1/chunk_0000000064.webm") == b"1:64"
    # No staging directory or temp file is left behind.
    assert leftovers(storage) == sorted(written)

    with pytest.raises(FileExistsError, match="immutable"):
        storage.put_dir(prefix, tmp_path / "chunks")
    with pytest.raises(FileExistsError):
        storage.put_dir(prefix.rstrip("/"), tmp_path / "chunks")
    assert storage.put_dir(KEYS.cropped_frames_prefix(2), tmp_path / "chunks")[0].startswith(
        "acme/client/videos/v1/cropped_frames_v2/"
    )


def test_put_dir_refuses_a_missing_source(storage, tmp_path):
    with pytest.raises(FileNotFoundError):
        storage.put_dir(KEYS.cropped_frames_prefix(1), tmp_path / "nope")
    assert not storage.list_keys("acme/")


@pytest.mark.parametrize(
    "bad", ["acme/../../etc/passwd", "/etc/passwd", "../outside", "acme\\x", "acme//x", "acme/.hidden", ""]
)
def test_escaping_keys_are_rejected_everywhere(storage, tmp_path, bad):
    src = tmp_path / "f"
    src.write_bytes(b"x")
    for call in (
        lambda: storage.put_bytes(bad, b"x"),
        lambda: storage.put_file(bad, src),
        lambda: storage.get_bytes(bad),
        lambda: storage.exists(bad),
    ):
        with pytest.raises(InputError):
            call()
    assert leftovers(storage) == []


def test_local_paths_stay_under_the_root(local_storage, tmp_path):
    assert local_storage.local_path(KEYS.raw_ocr_db) == (tmp_path / "bucket" / KEYS.raw_ocr_db).resolve()
    with pytest.raises(InputError):
        local_storage.local_path("acme/../../etc/passwd")
    local_storage.put_dir(KEYS.cropped_frames_prefix(1), make_pyramid(tmp_path))
    assert [p.name for p in (tmp_path / "bucket" / "acme/client/videos/v1").iterdir()] == ["cropped_frames_v1"]


def test_a_symlink_out_of_the_root_is_refused(local_storage, tmp_path):
    storage = local_storage
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "bucket" / "acme").mkdir(parents=True)
    (tmp_path / "bucket" / "acme" / "link").symlink_to(outside)
    with pytest.raises(InputError, match="outside the storage root"):
        storage.put_bytes("acme/link/x", b"x")
    assert list(outside.iterdir()) == []


# -- S3 only: what the local directory has no counterpart for ---------------------------------------
@pytest.fixture
def s3_storage(s3) -> S3StorageResource:
    return S3StorageResource(
        bucket=s3.create_bucket(),
        endpoint_url=s3.endpoint_url,
        region=s3.region,
        access_key_id=s3.access_key,
        secret_access_key=s3.secret_key,
        multipart_threshold=5 * 1024 * 1024,  # S3's smallest part, so a small file goes multipart
    )


def test_s3_large_files_go_multipart_and_round_trip(s3_storage, tmp_path):
    src = tmp_path / "video.mp4"
    payload = bytes(range(256)) * (12 * 4096)  # 12 MiB: three parts of at least 5 MiB
    src.write_bytes(payload)
    key = KEYS.video_file("mp4")
    assert s3_storage.put_file(key, src) == len(payload)
    head = s3_storage.client().head_object(Bucket=s3_storage.bucket, Key=key)
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload's ETag counts its parts
    assert head["ContentType"] == "video/mp4"
    assert s3_storage.get_file(key, tmp_path / "back.mp4").read_bytes() == payload
    small = tmp_path / "small.db.gz"
    small.write_bytes(b"\x1f\x8b" + b"x" * 100)
    s3_storage.put_file(KEYS.raw_ocr_db, small)
    assert "-" not in s3_storage.client().head_object(Bucket=s3_storage.bucket, Key=KEYS.raw_ocr_db)["ETag"]


def test_s3_content_types(s3_storage, tmp_path):
    db = tmp_path / "layout.db.gz"
    db.write_bytes(b"\x1f\x8b")
    s3_storage.put_file(KEYS.layout_db, db)
    s3_storage.put_bytes(KEYS.export("vtt"), b"WEBVTT\n")
    s3_storage.put_bytes(KEYS.export("json"), b"{}", "application/json; charset=utf-8")
    s3_storage.put_dir(KEYS.cropped_frames_prefix(1), make_pyramid(tmp_path))
    assert s3_storage.content_type(KEYS.layout_db) == "application/gzip"
    assert s3_storage.content_type(KEYS.export("vtt")) == "text/vtt"
    assert s3_storage.content_type(KEYS.export("json")) == "application/json; charset=utf-8"
    prefix = KEYS.cropped_frames_prefix(1)
    assert s3_storage.content_type(prefix + "modulo_1/chunk_0000000000.webm") == "video/webm"
    assert s3_storage.content_type(prefix + "manifest.json") == "application/json"


def test_s3_put_dir_writes_the_manifest_last(s3_storage, tmp_path):
    """A reader that polls for the manifest and then reads every chunk never finds one missing."""
    prefix = KEYS.cropped_frames_prefix(1)
    src = make_pyramid(tmp_path)
    for i in range(40):  # more chunks than upload threads, so ordering matters
        (src / "modulo_1" / f"chunk_{1000 + i:010d}.webm").write_bytes(b"c")
    expected = sorted(prefix + p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file())
    observed, stop = [], threading.Event()

    def reader():
        while not stop.is_set():
            if s3_storage.exists(prefix + "manifest.json"):
                observed.append(s3_storage.list_keys(prefix))
                return

    thread = threading.Thread(target=reader)
    thread.start()
    assert s3_storage.put_dir(prefix, src) == expected
    thread.join(timeout=30)
    stop.set()
    assert observed == [expected]


def test_s3_put_dir_retries_after_an_aborted_upload_but_not_over_a_published_one(s3_storage, tmp_path):
    prefix = KEYS.cropped_frames_prefix(1)
    s3_storage.put_bytes(prefix + "modulo_1/chunk_0000000000.webm", b"stale")  # died before its manifest
    written = s3_storage.put_dir(prefix, make_pyramid(tmp_path))
    assert s3_storage.get_bytes(prefix + "modulo_1/chunk_0000000000.webm") == b"1:0"
    assert len(written) == 7
    with pytest.raises(FileExistsError, match="immutable"):
        s3_storage._put_new(prefix + "manifest.json", b"{}", "application/json")  # the conditional commit
    assert s3_storage.get_bytes(prefix + "manifest.json") == b'{"chunks": []}'


def test_s3_client_retries_transient_errors_and_hides_credentials(s3_storage):
    config = s3_storage.client().meta.config
    assert config.retries["mode"] == "standard" and config.retries["total_max_attempts"] >= 3
    for text in (repr(s3_storage), str(s3_storage)):
        assert "test-secret-key" not in text and "test-access-key" not in text and s3_storage.bucket in text


def test_s3_missing_bucket_objects_and_bad_endpoint_fail_loudly(s3, tmp_path):
    store = S3StorageResource(
        bucket="no-such-bucket",
        endpoint_url=s3.endpoint_url,
        region=s3.region,
        access_key_id=s3.access_key,
        secret_access_key=s3.secret_key,
    )
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError, match="NoSuchBucket"):
        store.put_bytes(KEYS.layout_db, b"x")
    with pytest.raises(ClientError, match="NoSuchBucket"):
        store.list_keys("acme/")


def test_s3_transient_errors_are_retried_against_a_real_server(s3, tmp_path):
    """Two 503 SlowDown answers in front of moto: the put and the get still succeed, by retrying."""
    from captionacc_assets_tests.servers import flaky_proxy

    bucket = s3.create_bucket()
    with flaky_proxy(s3.endpoint_url, failures=2) as proxy:
        store = S3StorageResource(
            bucket=bucket,
            endpoint_url=proxy["url"],
            region=s3.region,
            access_key_id=s3.access_key,
            secret_access_key=s3.secret_key,
        )
        assert store.put_bytes(KEYS.captions_db, b"\x1f\x8b captions") == 11
        assert [status for _, _, status in proxy["seen"]] == [503, 503, 200]
        proxy["seen"].clear()
        assert store.get_bytes(KEYS.captions_db) == b"\x1f\x8b captions"
    with flaky_proxy(s3.endpoint_url, failures=100) as proxy:
        store = S3StorageResource(
            bucket=bucket,
            endpoint_url=proxy["url"],
            region=s3.region,
            max_attempts=3,
            access_key_id=s3.access_key,
            secret_access_key=s3.secret_key,
        )
        from botocore.exceptions import ClientError

        with pytest.raises(ClientError, match="SlowDown"):  # a lasting failure is an error, not a missing object
            store.get_bytes(KEYS.captions_db)
        assert len(proxy["seen"]) == 3  # max_attempts, then the error


def test_s3_put_dir_without_conditional_writes_still_refuses_a_published_version(s3, tmp_path):
    """A service that answers If-None-Match with 501 (no conditional writes) still gets immutable versions."""
    from captionacc_assets_tests.servers import flaky_proxy

    bucket = s3.create_bucket()
    with flaky_proxy(s3.endpoint_url, failures=0, unsupported_header="If-None-Match") as proxy:
        store = S3StorageResource(
            bucket=bucket,
            endpoint_url=proxy["url"],
            region=s3.region,
            access_key_id=s3.access_key,
            secret_access_key=s3.secret_key,
        )
        prefix = KEYS.cropped_frames_prefix(1)
        assert len(store.put_dir(prefix, make_pyramid(tmp_path))) == 7
        assert 501 in [status for _, _, status in proxy["seen"]]  # the conditional manifest PUT was refused
        assert store.get_bytes(prefix + "manifest.json") == b'{"chunks": []}'
        with pytest.raises(FileExistsError, match="immutable"):
            store._put_new(prefix + "manifest.json", b"{}", "application/json")


def test_replace_dir_swaps_a_whole_set_and_a_killed_publish_is_swept(storage, tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    for folder, names in ((old, ("a.jpg", "b.jpg")), (new, ("b.jpg", "c.jpg"))):
        folder.mkdir()
        for name in names:
            (folder / name).write_bytes(f"{folder.name}-{name}".encode())
    storage.replace_dir("t/client/videos/v/full_frames/", old)
    storage.replace_dir("t/client/videos/v/full_frames/", new)
    assert storage.list_keys("t/client/videos/v/full_frames/") == [
        "t/client/videos/v/full_frames/b.jpg",
        "t/client/videos/v/full_frames/c.jpg",
    ]
    assert storage.get_bytes("t/client/videos/v/full_frames/b.jpg") == b"new-b.jpg"
    assert [k for k in leftovers(storage) if "/." in k or k.startswith(".")] == []
    assert storage.sweep_temp("t/client/videos/v/") == 0


def test_sweep_temp_removes_what_a_killed_local_writer_left(local_storage, tmp_path):
    local_storage.put_bytes("t/client/videos/v/captions.db.gz", b"kept")
    folder = local_storage.local_path("t/client/videos/v/captions.db.gz").parent
    (folder / ".captions.db.gz.abc123.tmp").write_bytes(b"half")
    (folder / ".staging-full_frames-0f0f").mkdir()
    (folder / ".staging-full_frames-0f0f" / "frame_000000.jpg").write_bytes(b"half")
    (folder / ".retired-full_frames-0f0f").mkdir()
    assert local_storage.sweep_temp("t/client/videos/v/") == 3
    assert all_files(local_storage._root()) == ["t/client/videos/v/captions.db.gz"]
    assert local_storage.get_bytes("t/client/videos/v/captions.db.gz") == b"kept"
