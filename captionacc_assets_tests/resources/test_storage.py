"""The local object store: the bucket's key layout in a directory, atomic puts, immutable versions."""

import threading

import pytest

from captionacc_assets.core.errors import InputError
from captionacc_assets.core.keys import VideoKeys
from captionacc_assets.jobs.object_store import ObjectStore
from captionacc_assets.resources.storage import LocalStorageResource

KEYS = VideoKeys(tenant="acme", video="v1")


@pytest.fixture
def storage(tmp_path) -> LocalStorageResource:
    return LocalStorageResource(root=str(tmp_path / "bucket"))


def all_files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_speaks_the_object_store_protocol(storage):
    store: ObjectStore = storage  # the jobs take this protocol; a missing method fails below
    for name in ("put_file", "put_bytes", "put_dir", "get_file", "get_bytes", "exists", "list_keys"):
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
    assert storage.local_path(KEYS.raw_ocr_db) == (tmp_path / "bucket" / KEYS.raw_ocr_db).resolve()
    assert storage.list_keys("acme/") == sorted([KEYS.raw_ocr_db, KEYS.export("srt")])
    assert storage.list_keys("acme/client/") == [KEYS.export("srt")]
    assert storage.list_keys("acme/server/videos/v1/raw") == [KEYS.raw_ocr_db]  # a string prefix, as in S3
    assert storage.list_keys("other/") == []


def test_put_overwrites_atomically_and_leaves_no_temp_files(storage, tmp_path):
    storage.put_bytes(KEYS.captions_db, b"old")
    storage.put_bytes(KEYS.captions_db, b"new contents")
    assert storage.get_bytes(KEYS.captions_db) == b"new contents"
    assert all_files(tmp_path / "bucket") == [KEYS.captions_db]


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
    assert all_files(tmp_path / "bucket") == []


def test_missing_objects_raise_file_not_found_naming_the_key(storage, tmp_path):
    for call in (lambda: storage.get_bytes(KEYS.layout_db), lambda: storage.size(KEYS.layout_db),
                 lambda: storage.get_file(KEYS.layout_db, tmp_path / "x")):
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
    assert all_files(tmp_path / "bucket") == sorted(written)
    assert [p.name for p in (tmp_path / "bucket" / "acme/client/videos/v1").iterdir()] == ["cropped_frames_v1"]

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


@pytest.mark.parametrize("bad", ["acme/../../etc/passwd", "/etc/passwd", "../outside", "acme\\x",
                                 "acme//x", "acme/.hidden", ""])
def test_escaping_keys_are_rejected_everywhere(storage, tmp_path, bad):
    src = tmp_path / "f"
    src.write_bytes(b"x")
    for call in (lambda: storage.put_bytes(bad, b"x"), lambda: storage.put_file(bad, src),
                 lambda: storage.get_bytes(bad), lambda: storage.exists(bad), lambda: storage.local_path(bad)):
        with pytest.raises(InputError):
            call()
    assert not (tmp_path / "bucket").exists() or all_files(tmp_path / "bucket") == []


def test_a_symlink_out_of_the_root_is_refused(storage, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "bucket" / "acme").mkdir(parents=True)
    (tmp_path / "bucket" / "acme" / "link").symlink_to(outside)
    with pytest.raises(InputError, match="outside the storage root"):
        storage.put_bytes("acme/link/x", b"x")
    assert list(outside.iterdir()) == []
