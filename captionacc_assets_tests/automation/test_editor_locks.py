"""Server jobs wait for a person's editor lock instead of overwriting their database."""

import threading
import time

import numpy as np
import pytest

from captionacc_assets.defs.editor_locks import SERVER_HOLDER, EditorLockHeld, LockWaitPolicy, editor_lock
from captionacc_assets.resources.catalog import CatalogResource
from captionacc_assets_tests.automation.daemon import wait_for
from captionacc_assets_tests.core.video_factory import make_h264_video


@pytest.fixture
def catalog(tmp_path):
    catalog = CatalogResource(url=f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    catalog.ensure_schema()
    catalog.register_upload(
        video_id="vid", tenant_id="t", storage_key="t/client/videos/vid/video.mp4", display_path=None, size_bytes=1
    )
    return catalog


def test_backoff_doubles_up_to_the_cap_within_the_total_wait():
    assert list(LockWaitPolicy(1, 4, 12).delays()) == [1, 2, 4, 4, 1]


def test_the_job_waits_with_backoff_while_a_person_holds_the_lock(catalog):
    assert catalog.acquire_lock("vid", "captions", "editor-alice", lock_type="client")
    slept, logged = [], []

    def sleep(seconds):
        slept.append(seconds)
        if len(slept) == 3:
            catalog.release_lock("vid", "captions", "editor-alice")

    with editor_lock(catalog, "vid", "captions", logged.append, LockWaitPolicy(1, 60, 600), sleep):
        assert catalog.lock_holder("vid", "captions") == SERVER_HOLDER
    assert slept == [1, 2, 4]
    assert all("locked by 'editor-alice'" in line for line in logged) and len(logged) == 3
    assert catalog.lock_holder("vid", "captions") is None
    assert catalog.acquire_lock("vid", "captions", "editor-alice", lock_type="client")  # theirs again


def test_a_lock_held_past_the_limit_fails_loudly_naming_the_holder(catalog):
    assert catalog.acquire_lock("vid", "layout", "editor-alice", lock_type="client")
    with pytest.raises(EditorLockHeld, match="locked by 'editor-alice'.*release it"):
        with editor_lock(catalog, "vid", "layout", lambda _: None, LockWaitPolicy(1, 2, 5), lambda _: None):
            raise AssertionError("must not get the lock")
    assert catalog.lock_holder("vid", "layout") == "editor-alice"


def test_initial_processing_waits_for_the_layout_lock_then_completes(platform, tmp_path, monkeypatch):
    monkeypatch.setenv("CAPTIONACC_LOCK_RETRY_S", "0.2")
    monkeypatch.setenv("CAPTIONACC_LOCK_RETRY_MAX_S", "0.5")
    path = make_h264_video(
        tmp_path / "v.mp4", lambda t: np.full((90, 160, 3), 40, np.uint8), width=160, height=90, fps=10, duration_s=2
    )
    video_id = platform.upload(path, "tenant-a")
    assert platform.catalog.acquire_lock(video_id, "layout", "editor-alice", lock_type="client")
    result = {}
    worker = threading.Thread(target=lambda: result.update(run=platform.initial_processing(video_id)))
    worker.start()
    wait_for(lambda: platform.catalog.get_video(video_id)["layout_status"] == "processing", 120, "the run to start")
    time.sleep(2)  # the run is now retrying against the held lock
    assert not platform.storage.exists(platform.keys(video_id).layout_db)  # nothing overwritten meanwhile
    platform.catalog.release_lock(video_id, "layout", "editor-alice")
    worker.join(timeout=300)
    assert result["run"].success, result["run"].error
    assert platform.storage.exists(platform.keys(video_id).layout_db)
    assert platform.catalog.lock_holder(video_id, "layout") is None
    run = platform.instance.get_runs(limit=1)[0]
    messages = [e.message for e in platform.instance.all_logs(run.run_id)]
    assert any("locked by 'editor-alice'" in (m or "") for m in messages)
