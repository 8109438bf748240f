"""The catalog contract (SPEC §4), run against every backend the `catalog` fixture provides.

SQLite (the embedded default) always runs. Postgres runs too when its server binaries
are on this machine: a real server in a temporary directory, one fresh schema per test.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from captionacc_assets.core.errors import InputError, LockHeldError
from captionacc_assets.core.region import Region
from captionacc_assets.resources.catalog import CatalogResource

REGION = Region(0.1, 0.7, 0.9, 0.95)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway Postgres server on 127.0.0.1 (skipped where no server binaries exist)."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("no Postgres server binaries (initdb, pg_ctl) on PATH")
    run_as = {}
    home = Path(tempfile.mkdtemp(prefix="captionacc-pg-"))
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and no 'postgres' account to run the server as")
        os.chown(home, account.pw_uid, account.pw_gid)
        run_as = {"user": account.pw_uid, "group": account.pw_gid}
    data, port = home / "data", _free_port()
    try:
        subprocess.run([initdb, "-D", str(data), "-U", "captionacc", "--auth=trust", "-E", "UTF8"],
                       check=True, capture_output=True, **run_as)
        subprocess.run([pg_ctl, "-D", str(data), "-l", str(home / "log"), "-w", "start",
                        "-o", f"-h 127.0.0.1 -p {port} -k {home} -c fsync=off"],
                       check=True, capture_output=True, **run_as)
    except (subprocess.CalledProcessError, PermissionError) as error:
        shutil.rmtree(home, ignore_errors=True)
        pytest.skip(f"could not start a Postgres server: {error}")
    yield f"postgresql+psycopg://captionacc@127.0.0.1:{port}/postgres"
    subprocess.run([pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True, **run_as)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgres"])
def catalog(request, tmp_path) -> CatalogResource:
    if request.param == "sqlite":
        resource = CatalogResource(url=f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    else:
        schema = f"captionacc_{os.urandom(4).hex()}"
        resource = CatalogResource(url=request.getfixturevalue("postgres_url"), db_schema=schema)
    resource.ensure_schema()
    resource.ensure_schema()  # idempotent
    return resource


def upload(catalog, video_id="v1", tenant="acme", **extra):
    return catalog.register_upload(
        video_id=video_id, tenant_id=tenant, storage_key=f"{tenant}/client/videos/{video_id}/video.mp4",
        display_path=f"shows/{video_id}.mp4", size_bytes=1234, **extra,
    )


def execute(catalog, statement):
    with catalog.engine().begin() as conn:
        conn.execute(statement)


# -- tenants ---------------------------------------------------------------------------------------
def test_tenant_tier(catalog):
    assert catalog.tenant_tier("nobody") == "free"
    catalog.upsert_tenant("acme", name="Acme", tier="premium")
    assert catalog.tenant_tier("acme") == "premium"
    catalog.upsert_tenant("acme")  # an upload's upsert never downgrades the tier
    assert catalog.tenant_tier("acme") == "premium"
    catalog.upsert_tenant("acme", tier="enterprise")
    assert catalog.tenant_tier("acme") == "enterprise"
    with pytest.raises(InputError, match="tier"):
        catalog.upsert_tenant("acme", tier="gold")
    with pytest.raises(InputError, match="tenant"):
        catalog.upsert_tenant("../x")


def test_check_constraints_guard_enum_columns(catalog):
    upload(catalog)
    v = catalog.tables.videos
    with pytest.raises(sa.exc.IntegrityError):
        execute(catalog, v.update().where(v.c.id == "v1").values(layout_status="finished"))
    t = catalog.tables.tenants
    with pytest.raises(sa.exc.IntegrityError):
        execute(catalog, t.update().where(t.c.id == "acme").values(tier="gold"))
    assert catalog.get_video("v1")["layout_status"] == "wait"


# -- videos ----------------------------------------------------------------------------------------
def test_register_and_get(catalog):
    row = upload(catalog)
    assert catalog.tenant_tier("acme") == "free"  # created with the upload
    assert row == catalog.get_video("v1")
    assert (row["tenant_id"], row["storage_key"], row["display_path"], row["size_bytes"]) == (
        "acme", "acme/client/videos/v1/video.mp4", "shows/v1.mp4", 1234)
    assert (row["layout_status"], row["boundaries_status"], row["text_status"]) == ("wait", "wait", "wait")
    assert row["deleted_at"] is None and row["current_cropped_frames_version"] is None
    assert row["uploaded_at"].tzinfo is not None
    assert abs(row["uploaded_at"] - datetime.now(timezone.utc)) < timedelta(minutes=1)
    assert catalog.get_video("v2") is None
    with pytest.raises(InputError, match="already registered"):
        upload(catalog)


def test_timestamps_round_trip_as_aware_utc(catalog):
    local = datetime(2024, 3, 1, 20, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
    row = upload(catalog, uploaded_at=local)
    assert row["uploaded_at"] == local
    assert row["uploaded_at"].utcoffset() == timedelta(0)
    assert row["uploaded_at"].hour == 12 and row["uploaded_at"].microsecond == 123456


def test_register_rejects_bad_input(catalog):
    with pytest.raises(InputError, match="outside tenant"):
        catalog.register_upload(video_id="v1", tenant_id="acme", storage_key="other/client/videos/v1/video.mp4",
                                display_path="x", size_bytes=1)
    with pytest.raises(InputError, match="video id"):
        upload(catalog, video_id="../v1")
    with pytest.raises(InputError, match="size_bytes"):
        catalog.register_upload(video_id="v1", tenant_id="acme", storage_key="acme/x", display_path=None,
                                size_bytes=-1)
    assert catalog.get_video("v1") is None


def test_update_video_is_whitelisted(catalog):
    upload(catalog)
    catalog.update_video("v1", duration_seconds=12.34, width=1920, height=1080, total_frames=124)
    row = catalog.get_video("v1")
    assert (row["duration_seconds"], row["width"], row["height"], row["total_frames"]) == (12.34, 1920, 1080, 124)
    with pytest.raises(ValueError, match="tenant_id"):
        catalog.update_video("v1", tenant_id="other")
    with pytest.raises(InputError, match="unknown video"):
        catalog.update_video("v9", width=1)


def test_stage_status_transitions_with_json_error_details(catalog):
    upload(catalog)
    catalog.set_stage_status("v1", "layout", "processing")
    catalog.set_stage_status("v1", "layout", "error", "the video has no frames: re-upload it")
    row = catalog.get_video("v1")
    assert row["layout_status"] == "error"
    details = row["layout_error_details"]
    assert details["message"] == "the video has no frames: re-upload it"
    assert abs(datetime.fromisoformat(details["at"]) - datetime.now(timezone.utc)) < timedelta(minutes=1)
    assert row["boundaries_error_details"] is None and row["boundaries_status"] == "wait"

    catalog.set_stage_status("v1", "layout", "annotate")
    row = catalog.get_video("v1")
    assert row["layout_status"] == "annotate" and row["layout_error_details"] is None
    for stage in ("layout", "boundaries", "text"):
        catalog.set_stage_status("v1", stage, "done")
    row = catalog.get_video("v1")
    assert (row["layout_status"], row["boundaries_status"], row["text_status"]) == ("done", "done", "done")

    with pytest.raises(InputError, match="stage"):
        catalog.set_stage_status("v1", "ocr", "done")
    with pytest.raises(InputError, match="status"):
        catalog.set_stage_status("v1", "text", "finished")
    with pytest.raises(InputError, match="unknown video"):
        catalog.set_stage_status("v9", "text", "done")


def test_unknown_or_deleted_video_is_an_input_error(catalog):
    with pytest.raises(InputError, match="unknown video 'nope'"):
        catalog.require_video("nope")
    upload(catalog)
    assert catalog.require_video("v1")["id"] == "v1"
    catalog.soft_delete("v1")
    first = catalog.get_video("v1")["deleted_at"]
    assert first is not None
    catalog.soft_delete("v1")
    assert catalog.get_video("v1")["deleted_at"] == first
    with pytest.raises(InputError, match="unknown video 'v1': it was deleted"):
        catalog.require_video("v1")
    with pytest.raises(InputError, match="unknown video"):
        catalog.soft_delete("nope")


def test_list_new_videos_pages_visit_each_video_exactly_once(catalog):
    base = datetime(2024, 1, 1, tzinfo=timezone.utc)
    # 25 videos in 5 batches sharing an upload time, so the id breaks ties; registered out of order.
    for n in reversed(range(25)):
        upload(catalog, video_id=f"v{n:02d}", uploaded_at=base + timedelta(seconds=n // 5))
    catalog.soft_delete("v07")
    seen, cursor, pages = [], None, []
    while True:
        page = catalog.list_new_videos(cursor, limit=10)
        if not page:
            break
        pages.append(len(page))
        seen += [row["id"] for row in page]
        cursor = (page[-1]["uploaded_at"].isoformat(), page[-1]["id"])
    assert pages == [10, 10, 5]
    assert seen == [f"v{n:02d}" for n in range(25)]
    deleted = [row for row in catalog.list_new_videos(None, 25) if row["deleted_at"] is not None]
    assert [row["id"] for row in deleted] == ["v07"]
    upload(catalog, video_id="late", uploaded_at=base + timedelta(hours=1))
    assert [row["id"] for row in catalog.list_new_videos(cursor, limit=10)] == ["late"]


# -- cropped frames versions -----------------------------------------------------------------------
def test_versions_number_per_video(catalog):
    upload(catalog, "a")
    upload(catalog, "b")
    made = [catalog.request_cropped_frames_version(vid, REGION, "alice")["version"] for vid in "aabab"]
    assert made == [1, 2, 1, 3, 2]
    row = catalog.get_cropped_frames_version("a", 3)
    assert (row["status"], row["requested_by"], row["video_id"]) == ("requested", "alice", "a")
    assert (row["crop_left"], row["crop_top"], row["crop_right"], row["crop_bottom"]) == REGION.as_tuple()
    assert row["requested_at"].tzinfo is not None and row["activated_at"] is None
    assert catalog.latest_cropped_frames_version("a")["version"] == 3
    assert catalog.latest_cropped_frames_version("b")["version"] == 2
    assert catalog.get_cropped_frames_version("a", 4) is None
    upload(catalog, "c")
    assert catalog.latest_cropped_frames_version("c") is None
    with pytest.raises(InputError, match="unknown video"):
        catalog.request_cropped_frames_version("zz", REGION, "alice")


def test_concurrent_approvals_get_distinct_versions(catalog):
    upload(catalog)
    versions, barrier = [], threading.Barrier(8)

    def approve():
        barrier.wait()
        versions.append(catalog.request_cropped_frames_version("v1", REGION, "alice")["version"])

    threads = [threading.Thread(target=approve) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(versions) == list(range(1, 9))


def test_requested_versions_are_listed_by_id_after_a_cursor(catalog):
    upload(catalog, "a")
    upload(catalog, "b", tenant="beta")
    rows = [catalog.request_cropped_frames_version(vid, REGION, "bob") for vid in ("a", "b", "a")]
    catalog.set_version_status("a", 1, "processing")
    pending = catalog.list_requested_versions(None, 10)
    assert [(r["video_id"], r["version"]) for r in pending] == [("b", 1), ("a", 2)]
    assert [r["tenant_id"] for r in pending] == ["beta", "acme"]
    assert all(r["video_deleted_at"] is None for r in pending)
    assert [r["version"] for r in catalog.list_requested_versions(rows[1]["id"], 10)] == [2]
    assert len(catalog.list_requested_versions(None, 1)) == 1


def test_activate_archives_the_previous_version(catalog):
    upload(catalog)
    for _ in range(3):
        catalog.request_cropped_frames_version("v1", REGION, "alice")
    catalog.activate_version("v1", 1)
    assert catalog.get_video("v1")["current_cropped_frames_version"] == 1
    catalog.set_version_status("v1", 2, "failed")
    catalog.set_version_status("v1", 3, "active")  # routed through activate_version
    statuses = [catalog.get_cropped_frames_version("v1", n)["status"] for n in (1, 2, 3)]
    assert statuses == ["archived", "failed", "active"]
    assert catalog.get_video("v1")["current_cropped_frames_version"] == 3
    assert catalog.get_cropped_frames_version("v1", 3)["activated_at"] is not None
    with pytest.raises(InputError, match="no cropped frames version 9"):
        catalog.activate_version("v1", 9)
    with pytest.raises(InputError):
        catalog.set_version_status("v1", 9, "failed")
    with pytest.raises(InputError, match="status"):
        catalog.set_version_status("v1", 1, "gone")
    # The database itself refuses a second active version.
    cfv = catalog.tables.cropped_frames_versions
    with pytest.raises(sa.exc.IntegrityError):
        execute(catalog, cfv.update().where(cfv.c.video_id == "v1", cfv.c.version == 1).values(status="active"))


# -- editor locks ----------------------------------------------------------------------------------
def test_lock_acquire_refuse_reenter_release(catalog):
    upload(catalog)
    assert catalog.lock_holder("v1", "captions") is None
    assert catalog.acquire_lock("v1", "captions", "alice", lock_type="client")
    assert catalog.lock_holder("v1", "captions") == "alice"
    assert not catalog.acquire_lock("v1", "captions", "server:run-1")
    assert catalog.acquire_lock("v1", "layout", "server:run-1")  # another database is independent
    assert catalog.acquire_lock("v1", "captions", "alice", lock_type="client")
    catalog.touch_lock("v1", "captions", "alice")
    with pytest.raises(LockHeldError):
        catalog.touch_lock("v1", "captions", "bob")
    catalog.release_lock("v1", "captions", "bob")  # not bob's: left alone
    assert catalog.lock_holder("v1", "captions") == "alice"
    catalog.release_lock("v1", "captions", "alice")
    assert catalog.lock_holder("v1", "captions") is None
    assert catalog.acquire_lock("v1", "captions", "server:run-1")
    with pytest.raises(InputError, match="database name"):
        catalog.acquire_lock("v1", "frames", "alice")
    with pytest.raises(InputError, match="unknown video"):
        catalog.acquire_lock("nope", "layout", "alice")


def test_lock_expires_30_minutes_after_last_activity(catalog):
    upload(catalog)
    assert catalog.acquire_lock("v1", "layout", "alice", lock_type="client")
    s = catalog.tables.video_database_state
    where = (s.c.video_id == "v1") & (s.c.database_name == "layout")

    def idle_for(minutes):
        ago = datetime.now(timezone.utc) - timedelta(minutes=minutes)
        execute(catalog, s.update().where(where).values(last_activity_at=ago))

    idle_for(29)
    assert catalog.lock_holder("v1", "layout") == "alice"
    assert not catalog.acquire_lock("v1", "layout", "server:run-1")
    idle_for(31)
    assert catalog.lock_holder("v1", "layout") is None
    assert catalog.acquire_lock("v1", "layout", "server:run-1")
    assert catalog.lock_holder("v1", "layout") == "server:run-1"
    with pytest.raises(LockHeldError):
        catalog.touch_lock("v1", "layout", "alice")


def test_concurrent_acquire_has_exactly_one_winner(catalog):
    upload(catalog)
    results, barrier = {}, threading.Barrier(8)

    def take(n):
        barrier.wait()
        results[n] = catalog.acquire_lock("v1", "captions", f"user-{n}")

    threads = [threading.Thread(target=take, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [n for n, won in results.items() if won]
    assert len(results) == 8 and len(winners) == 1
    assert catalog.lock_holder("v1", "captions") == f"user-{winners[0]}"
