"""The catalog (SPEC §4): tenants, videos, cropped frames versions and editor locks.

Written in SQLAlchemy Core so the same statements run on the embedded default's SQLite
file and on Supabase Postgres (schema `captionacc`); only the URL and `db_schema` change.
The Dagster daemon, webserver, sensors and CLI share one SQLite file, so SQLite runs in
WAL mode with a busy timeout and takes its write lock at BEGIN (`BEGIN IMMEDIATE`), which
makes read-then-write steps (next version number, lock takeover) atomic. Connections are
not pooled on SQLite and pooled small on Postgres, because Supabase caps connections.
Timestamps are timezone-aware UTC in and out, whatever the backend stores.
"""

import functools
import os
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Iterator, Sequence

import dagster as dg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from captionacc_assets.core.errors import EnvironmentFault, InputError, LockHeldError, SupersededVersionError
from captionacc_assets.core.keys import validate_id, validate_key
from captionacc_assets.core.region import SIDES, Region
from captionacc_assets.core.stages import STAGES
from captionacc_assets.core.zones import SECOND_ZONE_COLUMN_PREFIX, zones_to_row
from captionacc_assets.settings import resolved

TIERS = ("free", "premium", "enterprise")
STAGE_STATUSES = ("wait", "processing", "annotate", "done", "error")
VERSION_STATUSES = ("requested", "processing", "active", "archived", "failed")
DATABASE_NAMES = ("layout", "captions")
LOCK_TYPES = ("server", "client")
OCR_REQUEST_STATUSES = ("requested", "processing", "completed", "error")
SECOND_ZONE_COLUMNS = tuple(f"{SECOND_ZONE_COLUMN_PREFIX}{side}" for side in SIDES)
SECOND_ZONE_CHECK = (
    "(crop2_left IS NULL AND crop2_top IS NULL AND crop2_right IS NULL AND crop2_bottom IS NULL) OR "
    "(crop2_left IS NOT NULL AND crop2_top IS NOT NULL AND crop2_right IS NOT NULL AND crop2_bottom IS NOT NULL "
    "AND crop2_left >= 0 AND crop2_top >= 0 AND crop2_right <= 1 AND crop2_bottom <= 1 "
    "AND crop2_left < crop2_right AND crop2_top < crop2_bottom)"
)
LOCK_EXPIRY_MINUTES = 30
SQLITE_BUSY_TIMEOUT_MS = 30_000

# Columns a caller may set through `update_video`; identity, ownership and timestamps are not among them.
UPDATABLE_VIDEO_COLUMNS = frozenset(
    {
        "display_path",
        "size_bytes",
        "duration_seconds",
        "width",
        "height",
        "total_frames",
        "layout_status",
        "boundaries_status",
        "text_status",
        "layout_error_details",
        "boundaries_error_details",
        "text_error_details",
        "current_cropped_frames_version",
    }
)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class UtcDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every backend.

    SQLite has no time zones: it stores naive UTC text (fixed width, so it still sorts
    and compares correctly), and UTC is attached again on the way out.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give the catalog timezone-aware datetimes")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _json_type():
    return sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def _one_of(column: str, values: tuple[str, ...], table: str) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=f"ck_{table}_{column}")


@functools.lru_cache(maxsize=None)
def catalog_tables(db_schema: str | None) -> SimpleNamespace:
    """The four tables of SPEC §4 and the editor's caption OCR requests, in `db_schema` (None on SQLite)."""
    metadata = sa.MetaData(schema=db_schema)
    tenants = sa.Table(
        "tenants",
        metadata,
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("name", sa.Text),
        sa.Column("tier", sa.String(16), nullable=False, server_default="free"),
        _one_of("tier", TIERS, "tenants"),
    )
    status_columns = [
        sa.Column(f"{stage}_status", sa.String(16), nullable=False, server_default="wait") for stage in STAGES
    ]
    videos = sa.Table(
        "videos",
        metadata,
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("tenant_id", sa.String(128), sa.ForeignKey(tenants.c.id), nullable=False, index=True),
        sa.Column("storage_key", sa.Text, nullable=False),
        sa.Column("display_path", sa.Text),
        sa.Column("size_bytes", sa.BigInteger),
        sa.Column("uploaded_at", UtcDateTime, nullable=False),
        sa.Column("deleted_at", UtcDateTime),
        sa.Column("duration_seconds", sa.Float),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("total_frames", sa.Integer),
        *status_columns,
        *[sa.Column(f"{stage}_error_details", _json_type()) for stage in STAGES],
        sa.Column("current_cropped_frames_version", sa.Integer),
        *[_one_of(f"{stage}_status", STAGE_STATUSES, "videos") for stage in STAGES],
        sa.CheckConstraint("size_bytes IS NULL OR size_bytes >= 0", name="ck_videos_size_bytes"),
        sa.Index("ix_videos_uploaded_at_id", "uploaded_at", "id"),
    )
    cropped_frames_versions = sa.Table(
        "cropped_frames_versions",
        metadata,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("video_id", sa.String(128), sa.ForeignKey(videos.c.id), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("crop_left", sa.Float, nullable=False),
        sa.Column("crop_top", sa.Float, nullable=False),
        sa.Column("crop_right", sa.Float, nullable=False),
        sa.Column("crop_bottom", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="requested"),
        sa.Column("requested_by", sa.Text),
        sa.Column("requested_at", UtcDateTime, nullable=False),
        sa.Column("activated_at", UtcDateTime),
        # A second caption zone (migrations/003): NULL for a one-zone approval.
        *[sa.Column(column, sa.Float) for column in SECOND_ZONE_COLUMNS],
        sa.UniqueConstraint("video_id", "version", name="uq_cropped_frames_versions_video_version"),
        _one_of("status", VERSION_STATUSES, "cropped_frames_versions"),
        sa.CheckConstraint("version >= 1", name="ck_cropped_frames_versions_version"),
        sa.CheckConstraint(
            "crop_left >= 0 AND crop_top >= 0 AND crop_right <= 1 AND crop_bottom <= 1 "
            "AND crop_left < crop_right AND crop_top < crop_bottom",
            name="ck_cropped_frames_versions_region",
        ),
        sa.CheckConstraint(SECOND_ZONE_CHECK, name="ck_cropped_frames_versions_second_zone"),
        # At most one active version per video, guarded by the database itself.
        sa.Index(
            "ux_cropped_frames_versions_one_active",
            "video_id",
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        ),
        sa.Index("ix_cropped_frames_versions_status_id", "status", "id"),
    )
    video_database_state = sa.Table(
        "video_database_state",
        metadata,
        sa.Column("video_id", sa.String(128), sa.ForeignKey(videos.c.id), primary_key=True),
        sa.Column("database_name", sa.String(32), primary_key=True),
        sa.Column("lock_holder_user_id", sa.Text),
        sa.Column("lock_type", sa.String(16)),
        sa.Column("locked_at", UtcDateTime),
        sa.Column("last_activity_at", UtcDateTime),
        _one_of("database_name", DATABASE_NAMES, "video_database_state"),
        sa.CheckConstraint(
            "lock_type IS NULL OR lock_type IN ({})".format(", ".join(f"'{t}'" for t in LOCK_TYPES)),
            name="ck_video_database_state_lock_type",
        ),
    )
    # A web editor's request for the median-frame OCR of some captions again (docs/contracts.md).
    caption_ocr_requests = sa.Table(
        "caption_ocr_requests",
        metadata,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("video_id", sa.String(128), sa.ForeignKey(videos.c.id), nullable=False),
        sa.Column("caption_ids", _json_type()),  # [id, ...] of captions.db rows
        sa.Column("frame_spans", _json_type()),  # [[start, end], ...], inclusive, each a row's exact span
        sa.Column("requested_by", sa.Text),
        sa.Column("requested_at", UtcDateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="requested"),
        sa.Column("error", sa.Text),
        sa.Column("run_id", sa.String(64)),
        sa.Column("started_at", UtcDateTime),
        sa.Column("finished_at", UtcDateTime),
        _one_of("status", OCR_REQUEST_STATUSES, "caption_ocr_requests"),
        sa.CheckConstraint("caption_ids IS NOT NULL OR frame_spans IS NOT NULL", name="ck_caption_ocr_requests_target"),
        sa.Index("ix_caption_ocr_requests_status_id", "status", "id"),
        sa.Index("ix_caption_ocr_requests_video_id", "video_id"),
    )
    return SimpleNamespace(
        metadata=metadata,
        tenants=tenants,
        videos=videos,
        cropped_frames_versions=cropped_frames_versions,
        video_database_state=video_database_state,
        caption_ocr_requests=caption_ocr_requests,
    )


def _on_sqlite_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" hook emits BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _on_sqlite_begin(conn: Connection) -> None:
    # Writers take the write lock up front; a deferred transaction that reads and then
    # writes can fail with SQLITE_BUSY without waiting, which the busy timeout cannot fix.
    mode = "IMMEDIATE" if conn.get_execution_options().get("catalog_write") else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


@functools.lru_cache(maxsize=None)
def _engine(url: str, pid: int) -> Engine:
    """One engine per URL and process (a forked child must not share pooled sockets)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ValueError(f"catalog URL {url!r} must name a SQLite file, e.g. sqlite:////abs/path/catalog.sqlite")
        engine = sa.create_engine(
            url,
            poolclass=NullPool,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        )
        sa.event.listen(engine, "connect", _on_sqlite_connect)
        sa.event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    return sa.create_engine(url, pool_size=2, max_overflow=2, pool_pre_ping=True, pool_recycle=300)


def _row(row) -> dict | None:
    return None if row is None else dict(row._mapping)


def _found(row) -> dict:
    """A row the statement cannot miss (just inserted, or one of a result's rows)."""
    if row is None:
        raise RuntimeError("the catalog returned no row where one was just written")
    return dict(row._mapping)


def _check_one_of(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise InputError(f"{what} {value!r} is not one of {', '.join(allowed)}")
    return value


def _cursor_time(value) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        raise InputError(f"cursor time {value!r} must be an ISO 8601 timestamp")
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class CatalogResource(dg.ConfigurableResource):
    """The catalog over SQLAlchemy Core: a SQLite file now, Supabase Postgres by configuration."""

    url: str
    db_schema: str | None = None

    # -- plumbing ------------------------------------------------------------------------------
    def engine(self) -> Engine:
        url = resolved(self.url)
        if not url:
            raise ValueError("the catalog URL is empty: set CAPTIONACC_CATALOG_URL (production) or CAPTIONACC_HOME")
        try:
            return _engine(url, os.getpid())
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as error:
            # The URL holds the password: describe what is wrong with it, never echo it.
            scheme = url.split("://", 1)[0] if "://" in url else None
            problem = (
                f"the driver {error.name!r} is not installed"
                if isinstance(error, ImportError)
                else f"no database dialect is called {scheme!r}"
                if scheme and isinstance(error, sa.exc.NoSuchModuleError)
                else "it cannot be parsed"
            )
            raise EnvironmentFault(
                f"{self._url_variable()} is not a usable catalog URL ({problem}): give one like "
                "postgresql+psycopg://USER:PASSWORD@HOST:5432/postgres"
            ) from None

    def _url_variable(self) -> str:
        """Where the catalog URL comes from, for messages: its environment variable."""
        name = getattr(self.url, "env_var_name", None)
        if name:
            return name
        return "CAPTIONACC_HOME" if str(self.url).startswith("sqlite") else "the catalog URL"

    def _connect(self) -> Connection:
        """A connection; a catalog that cannot be reached is an `EnvironmentFault` naming its variable."""
        engine = self.engine()
        try:
            return engine.connect()
        except sa.exc.DBAPIError as error:
            reason = (str(error.orig).strip().splitlines() or [type(error.orig).__name__])[0]
            if engine.url.password:
                reason = reason.replace(str(engine.url.password), "***")
            server = "" if engine.url.get_backend_name() == "sqlite" else " and that its server is running"
            raise EnvironmentFault(
                f"the catalog at {engine.url.render_as_string(hide_password=True)} cannot be reached "
                f"({reason}): check {self._url_variable()}{server}"
            ) from None

    @property
    def tables(self) -> SimpleNamespace:
        return catalog_tables(self.db_schema)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A transaction that holds the write lock from its start (on SQLite)."""
        with self._connect() as conn:
            conn = conn.execution_options(catalog_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._connect() as conn:
            with conn.begin():
                yield conn

    def ensure_schema(self) -> None:
        """Create the schema and tables if absent; existing tables are left as they are."""
        with self._write() as conn:
            if self.db_schema and conn.dialect.name == "postgresql":
                conn.execute(sa.schema.CreateSchema(self.db_schema, if_not_exists=True))
            self.tables.metadata.create_all(conn, checkfirst=True)
            if conn.dialect.name == "sqlite":
                self._add_second_zone_columns(conn)

    def _add_second_zone_columns(self, conn: Connection) -> None:
        """An embedded catalog made before zones existed gains their columns (migrations/003 on Postgres)."""
        present = {c["name"] for c in sa.inspect(conn).get_columns("cropped_frames_versions")}
        for column in SECOND_ZONE_COLUMNS:
            if column not in present:  # the check goes on the last column, once all four exist
                check = f" CHECK ({SECOND_ZONE_CHECK})" if column == SECOND_ZONE_COLUMNS[-1] else ""
                conn.execute(sa.text(f"ALTER TABLE cropped_frames_versions ADD COLUMN {column} FLOAT{check}"))

    def check_schema(self) -> None:
        """Fail at start, saying what to do, when the catalog tables are absent (migration not applied)."""
        with self._read() as conn:
            inspector = sa.inspect(conn)
            missing = [
                t.name
                for t in self.tables.metadata.sorted_tables
                if not inspector.has_table(t.name, schema=self.db_schema)
            ]
            if "cropped_frames_versions" not in missing:
                present = {c["name"] for c in inspector.get_columns("cropped_frames_versions", schema=self.db_schema)}
                missing += [f"cropped_frames_versions.{c}" for c in SECOND_ZONE_COLUMNS if c not in present]
        if missing:
            where = f"schema {self.db_schema!r}" if self.db_schema else "the catalog database"
            raise EnvironmentFault(
                f"catalog tables or columns {missing} are missing from {where}: apply "
                "migrations/001_captionacc_schema.sql and each later migrations/0*.sql, in order, with psql (see README, Production)"
            )

    def _insert_if_absent(self, conn: Connection, table: sa.Table, values: dict) -> None:
        keys = [c.name for c in table.primary_key.columns]
        if conn.dialect.name == "sqlite":
            conn.execute(sqlite.insert(table).values(values).on_conflict_do_nothing(index_elements=keys))
        elif conn.dialect.name == "postgresql":
            conn.execute(postgresql.insert(table).values(values).on_conflict_do_nothing(index_elements=keys))
        else:
            where = sa.and_(*[table.c[k] == values[k] for k in keys])
            if conn.execute(sa.select(sa.literal(1)).select_from(table).where(where)).first() is None:
                conn.execute(table.insert().values(values))

    # -- tenants -------------------------------------------------------------------------------
    def upsert_tenant(self, tenant_id: str, name: str | None = None, tier: str | None = None) -> None:
        """Create the tenant (tier `free` unless given), or update the name/tier that are given.

        Leaving `tier` out never downgrades an existing premium tenant.
        """
        validate_id(tenant_id, "tenant")
        if tier is not None:
            _check_one_of(tier, TIERS, "tier")
        t = self.tables.tenants
        with self._write() as conn:
            self._insert_if_absent(conn, t, {"id": tenant_id, "name": name, "tier": tier or "free"})
            changes = {k: v for k, v in (("name", name), ("tier", tier)) if v is not None}
            if changes:
                conn.execute(t.update().where(t.c.id == tenant_id).values(changes))

    def tenant_tier(self, tenant_id: str) -> str:
        """The tenant's tier; an unknown tenant is `free`."""
        t = self.tables.tenants
        with self._read() as conn:
            tier = conn.execute(sa.select(t.c.tier).where(t.c.id == tenant_id)).scalar()
        return tier or "free"

    # -- videos --------------------------------------------------------------------------------
    def register_upload(
        self,
        *,
        video_id: str,
        tenant_id: str,
        storage_key: str,
        display_path: str | None,
        size_bytes: int,
        uploaded_at: datetime | None = None,
    ) -> dict:
        """Record an uploaded video (every stage `wait`), creating its tenant if missing."""
        validate_id(video_id, "video id")
        validate_id(tenant_id, "tenant")
        validate_key(storage_key, tenant_id)
        if isinstance(size_bytes, bool) or not isinstance(size_bytes, int) or size_bytes < 0:
            raise InputError(f"size_bytes {size_bytes!r} must be a non-negative integer")
        v = self.tables.videos
        with self._write() as conn:
            self._insert_if_absent(conn, self.tables.tenants, {"id": tenant_id, "name": None, "tier": "free"})
            if conn.execute(sa.select(v.c.id).where(v.c.id == video_id)).first() is not None:
                raise InputError(f"video id {video_id!r} is already registered: upload under a new id")
            conn.execute(
                v.insert().values(
                    id=video_id,
                    tenant_id=tenant_id,
                    storage_key=storage_key,
                    display_path=display_path,
                    size_bytes=size_bytes,
                    uploaded_at=uploaded_at or utc_now(),
                    layout_status="wait",
                    boundaries_status="wait",
                    text_status="wait",
                )
            )
            return _found(conn.execute(sa.select(v).where(v.c.id == video_id)).first())

    def get_video(self, video_id: str) -> dict | None:
        """The video's row (deleted ones included), or None."""
        validate_id(video_id, "video id")
        v = self.tables.videos
        with self._read() as conn:
            return _row(conn.execute(sa.select(v).where(v.c.id == video_id)).first())

    def require_video(self, video_id: str) -> dict:
        """The video's row; `InputError` if it is unknown or deleted."""
        row = self.get_video(video_id)
        if row is None:
            raise InputError(f"unknown video {video_id!r}: no such video in the catalog; check the id or upload it")
        if row["deleted_at"] is not None:
            raise InputError(
                f"unknown video {video_id!r}: it was deleted at {row['deleted_at'].isoformat()}; nothing runs for it"
            )
        return row

    def _update_video(self, conn: Connection, video_id: str, values: dict) -> None:
        v = self.tables.videos
        if conn.execute(v.update().where(v.c.id == video_id).values(values)).rowcount != 1:
            raise InputError(f"unknown video {video_id!r}: no such video in the catalog")

    def update_video(self, video_id: str, **fields) -> None:
        """Set whitelisted columns (probe results, statuses, current version)."""
        validate_id(video_id, "video id")
        unknown = set(fields) - UPDATABLE_VIDEO_COLUMNS
        if unknown:
            raise ValueError(f"update_video cannot set {sorted(unknown)}; allowed: {sorted(UPDATABLE_VIDEO_COLUMNS)}")
        for stage in STAGES:
            if f"{stage}_status" in fields:
                _check_one_of(fields[f"{stage}_status"], STAGE_STATUSES, f"{stage} status")
        if fields:
            with self._write() as conn:
                self._update_video(conn, video_id, fields)

    def set_stage_status(self, video_id: str, stage: str, status: str, error: str | None = None) -> None:
        """Move a stage to `status`; `error` goes into `{stage}_error_details` as JSON, else it is cleared."""
        validate_id(video_id, "video id")
        _check_one_of(stage, STAGES, "stage")
        _check_one_of(status, STAGE_STATUSES, f"{stage} status")
        if error is not None and status != "error":
            raise ValueError(f"an error message goes with status 'error', not {status!r}")
        details = None
        if status == "error":
            details = {"message": error or f"{stage} failed without a message", "at": utc_now().isoformat()}
        with self._write() as conn:
            self._update_video(conn, video_id, {f"{stage}_status": status, f"{stage}_error_details": details})

    def soft_delete(self, video_id: str) -> None:
        """Mark the video deleted (once; the first deletion time is kept)."""
        validate_id(video_id, "video id")
        v = self.tables.videos
        with self._write() as conn:
            if conn.execute(sa.select(v.c.id).where(v.c.id == video_id)).first() is None:
                raise InputError(f"unknown video {video_id!r}: no such video in the catalog")
            conn.execute(v.update().where(v.c.id == video_id, v.c.deleted_at.is_(None)).values(deleted_at=utc_now()))

    def list_new_videos(self, after: tuple[str, str] | None, limit: int) -> list[dict]:
        """Videos ordered by (uploaded_at, id), strictly after the cursor `(uploaded_at iso, id)`.

        Deleted videos are included (with `deleted_at`) so a sensor's cursor moves past them.
        """
        if limit < 1:
            raise ValueError(f"limit {limit!r} must be at least 1")
        v = self.tables.videos
        query = sa.select(v).order_by(v.c.uploaded_at, v.c.id).limit(int(limit))
        if after is not None:
            at, last_id = _cursor_time(after[0]), after[1]
            query = query.where(sa.or_(v.c.uploaded_at > at, sa.and_(v.c.uploaded_at == at, v.c.id > last_id)))
        with self._read() as conn:
            return [_found(r) for r in conn.execute(query)]

    # -- cropped frames versions ---------------------------------------------------------------
    def request_cropped_frames_version(
        self,
        video_id: str,
        region: Region | Sequence[Region],
        requested_by: str | None,
    ) -> dict:
        """Record a layout approval of one or two caption zones: version max+1 of the video, status
        `requested`, in one INSERT (a reader never sees half an approval)."""
        validate_id(video_id, "video id")
        columns = zones_to_row([region] if isinstance(region, Region) else list(region))
        v, cfv = self.tables.videos, self.tables.cropped_frames_versions
        with self._write() as conn:
            # FOR UPDATE serializes approvals of one video on Postgres; SQLite holds its write lock already.
            video = conn.execute(sa.select(v.c.id, v.c.deleted_at).where(v.c.id == video_id).with_for_update()).first()
            if video is None or video.deleted_at is not None:
                raise InputError(f"unknown video {video_id!r}: cannot approve a layout for a missing or deleted video")
            latest = conn.execute(sa.select(sa.func.max(cfv.c.version)).where(cfv.c.video_id == video_id)).scalar()
            version = (latest or 0) + 1
            conn.execute(
                cfv.insert().values(
                    video_id=video_id,
                    version=version,
                    **columns,
                    status="requested",
                    requested_by=requested_by,
                    requested_at=utc_now(),
                )
            )
            return _found(
                conn.execute(sa.select(cfv).where(cfv.c.video_id == video_id, cfv.c.version == version)).first()
            )

    def get_cropped_frames_version(self, video_id: str, version: int) -> dict | None:
        validate_id(video_id, "video id")
        cfv = self.tables.cropped_frames_versions
        with self._read() as conn:
            return _row(
                conn.execute(sa.select(cfv).where(cfv.c.video_id == video_id, cfv.c.version == version)).first()
            )

    def latest_cropped_frames_version(self, video_id: str) -> dict | None:
        """The highest-numbered version of the video, whatever its status."""
        validate_id(video_id, "video id")
        cfv = self.tables.cropped_frames_versions
        with self._read() as conn:
            return _row(
                conn.execute(
                    sa.select(cfv).where(cfv.c.video_id == video_id).order_by(cfv.c.version.desc()).limit(1)
                ).first()
            )

    def list_requested_versions(self, after_id: int | None, limit: int) -> list[dict]:
        """Pending approvals (status `requested`) with id > `after_id`, by id.

        Each row also carries the video's `tenant_id`, `display_path` and `video_deleted_at` (the caller skips deleted).
        """
        v, cfv = self.tables.videos, self.tables.cropped_frames_versions
        query = (
            sa.select(cfv, v.c.tenant_id, v.c.display_path, v.c.deleted_at.label("video_deleted_at"))
            .join(v, v.c.id == cfv.c.video_id)
            .where(cfv.c.status == "requested")
            .order_by(cfv.c.id)
            .limit(int(limit))
        )
        if after_id is not None:
            query = query.where(cfv.c.id > after_id)
        with self._read() as conn:
            return [_found(r) for r in conn.execute(query)]

    def set_version_status(self, video_id: str, version: int, status: str) -> None:
        """Move a version to `status`; `active` goes through `activate_version`."""
        validate_id(video_id, "video id")
        _check_one_of(status, VERSION_STATUSES, "cropped frames version status")
        if status == "active":
            self.activate_version(video_id, version)
            return
        cfv = self.tables.cropped_frames_versions
        with self._write() as conn:
            updated = conn.execute(
                cfv.update().where(cfv.c.video_id == video_id, cfv.c.version == version).values(status=status)
            ).rowcount
        if updated != 1:
            raise InputError(f"video {video_id!r} has no cropped frames version {version!r}")

    def activate_version(self, video_id: str, version: int, *, require_newest: bool = False) -> None:
        """Make `version` the video's active one, archive the previous, and point the video at it.

        This is the commit point of a video's captions. With `require_newest`, a newer
        approval that arrived meanwhile makes it fail with `SupersededVersionError` instead,
        in the same transaction, so a superseded version is never activated.
        """
        validate_id(video_id, "video id")
        v, cfv = self.tables.videos, self.tables.cropped_frames_versions
        this = sa.and_(cfv.c.video_id == video_id, cfv.c.version == version)
        with self._write() as conn:
            if conn.execute(sa.select(cfv.c.id).where(this).with_for_update()).first() is None:
                raise InputError(f"video {video_id!r} has no cropped frames version {version!r}")
            newest = conn.execute(sa.select(sa.func.max(cfv.c.version)).where(cfv.c.video_id == video_id)).scalar()
            superseded = require_newest and newest is not None and newest > version
            if superseded:
                conn.execute(cfv.update().where(this, cfv.c.status != "active").values(status="archived"))
            else:
                conn.execute(
                    cfv.update()
                    .where(cfv.c.video_id == video_id, cfv.c.status == "active", cfv.c.version != version)
                    .values(status="archived")
                )
                conn.execute(cfv.update().where(this).values(status="active", activated_at=utc_now()))
                conn.execute(v.update().where(v.c.id == video_id).values(current_cropped_frames_version=version))
        if superseded:
            raise SupersededVersionError(
                f"cropped frames version {version} of video {video_id!r} was superseded by version {newest}; "
                f"that version's run publishes instead"
            )

    def recover_interrupted(self, video_id: str, message: str, lock_holder: str) -> dict:
        """Undo what a run that died mid-way left behind, in one transaction; counts of what changed.

        Its `processing` stages go to `error` with `message`, its `processing` versions back to
        `requested` (a retry or rerun processes them again), and the server's editor locks are
        released so a person can take them at once.
        """
        validate_id(video_id, "video id")
        v, cfv, s = self.tables.videos, self.tables.cropped_frames_versions, self.tables.video_database_state
        details = {"message": message, "at": utc_now().isoformat()}
        changed = {"stages": 0, "versions": 0, "locks": 0}
        with self._write() as conn:
            for stage in STAGES:
                changed["stages"] += conn.execute(
                    v.update()
                    .where(v.c.id == video_id, v.c[f"{stage}_status"] == "processing")
                    .values({f"{stage}_status": "error", f"{stage}_error_details": details})
                ).rowcount
            changed["versions"] = conn.execute(
                cfv.update().where(cfv.c.video_id == video_id, cfv.c.status == "processing").values(status="requested")
            ).rowcount
            changed["locks"] = conn.execute(
                s.update()
                .where(s.c.video_id == video_id, s.c.lock_holder_user_id == lock_holder)
                .values(lock_holder_user_id=None, lock_type=None, locked_at=None)
            ).rowcount
        return changed

    # -- editor locks --------------------------------------------------------------------------
    def acquire_lock(
        self,
        video_id: str,
        database_name: str,
        holder: str,
        lock_type: str = "server",
        expiry_minutes: int = LOCK_EXPIRY_MINUTES,
    ) -> bool:
        """Take the lock on one of a video's databases; True if `holder` now holds it.

        One conditional UPDATE decides: it succeeds when nobody holds the lock, `holder`
        already does, or the holder's last activity is older than `expiry_minutes`.
        """
        validate_id(video_id, "video id")
        _check_one_of(database_name, DATABASE_NAMES, "database name")
        _check_one_of(lock_type, LOCK_TYPES, "lock type")
        if not isinstance(holder, str) or not holder:
            raise InputError("a lock holder must be a non-empty user or job id")
        v, s = self.tables.videos, self.tables.video_database_state
        now = utc_now()
        with self._write() as conn:
            if conn.execute(sa.select(v.c.id).where(v.c.id == video_id)).first() is None:
                raise InputError(f"unknown video {video_id!r}: cannot lock its {database_name} database")
            self._insert_if_absent(conn, s, {"video_id": video_id, "database_name": database_name})
            taken = conn.execute(
                s.update()
                .where(
                    s.c.video_id == video_id,
                    s.c.database_name == database_name,
                    sa.or_(
                        s.c.lock_holder_user_id.is_(None),
                        s.c.lock_holder_user_id == holder,
                        s.c.last_activity_at.is_(None),
                        s.c.last_activity_at < now - timedelta(minutes=expiry_minutes),
                    ),
                )
                .values(
                    lock_holder_user_id=holder,
                    lock_type=lock_type,
                    last_activity_at=now,
                    locked_at=sa.case(
                        (s.c.lock_holder_user_id == holder, s.c.locked_at),
                        else_=sa.literal(now, UtcDateTime()),
                    ),
                )
            ).rowcount
        return taken == 1

    def touch_lock(self, video_id: str, database_name: str, holder: str) -> None:
        """Record activity so the lock does not expire; `LockHeldError` if `holder` no longer holds it."""
        validate_id(video_id, "video id")
        s = self.tables.video_database_state
        with self._write() as conn:
            touched = conn.execute(
                s.update()
                .where(s.c.video_id == video_id, s.c.database_name == database_name, s.c.lock_holder_user_id == holder)
                .values(last_activity_at=utc_now())
            ).rowcount
        if touched != 1:
            raise LockHeldError(f"{holder!r} does not hold the {database_name} lock of video {video_id!r}")

    def release_lock(self, video_id: str, database_name: str, holder: str) -> None:
        """Free the lock if `holder` holds it; someone else's lock is left alone."""
        validate_id(video_id, "video id")
        s = self.tables.video_database_state
        with self._write() as conn:
            conn.execute(
                s.update()
                .where(s.c.video_id == video_id, s.c.database_name == database_name, s.c.lock_holder_user_id == holder)
                .values(lock_holder_user_id=None, lock_type=None, locked_at=None)
            )

    def lock_holder(self, video_id: str, database_name: str, expiry_minutes: int = LOCK_EXPIRY_MINUTES) -> str | None:
        """Who holds the lock now; None if free or expired."""
        validate_id(video_id, "video id")
        s = self.tables.video_database_state
        with self._read() as conn:
            row = conn.execute(
                sa.select(s.c.lock_holder_user_id, s.c.last_activity_at).where(
                    s.c.video_id == video_id, s.c.database_name == database_name
                )
            ).first()
        if row is None or row.lock_holder_user_id is None:
            return None
        if row.last_activity_at is None or row.last_activity_at < utc_now() - timedelta(minutes=expiry_minutes):
            return None
        return row.lock_holder_user_id

    # -- automation queries (sensors) ----------------------------------------------------------
    def databases_people_hold(
        self, video_ids: list[str], expiry_minutes: int = LOCK_EXPIRY_MINUTES
    ) -> dict[str, set[str]]:
        """The databases a person (a `client` lock, not expired) holds now, per video, in one query."""
        ids = sorted({validate_id(i, "video id") for i in video_ids})
        if not ids:
            return {}
        s = self.tables.video_database_state
        query = sa.select(s.c.video_id, s.c.database_name).where(
            s.c.video_id.in_(ids),
            s.c.lock_type == "client",
            s.c.lock_holder_user_id.is_not(None),
            s.c.last_activity_at >= utc_now() - timedelta(minutes=expiry_minutes),
        )
        held: dict[str, set[str]] = {}
        with self._read() as conn:
            for row in conn.execute(query):
                held.setdefault(row.video_id, set()).add(row.database_name)
        return held

    def get_videos(self, video_ids: list[str]) -> dict[str, dict]:
        """Rows of the given videos (deleted ones included) by id, in one query; unknown ids are absent."""
        ids = sorted({validate_id(i, "video id") for i in video_ids})
        if not ids:
            return {}
        v = self.tables.videos
        with self._read() as conn:
            return {r.id: _found(r) for r in conn.execute(sa.select(v).where(v.c.id.in_(ids)))}

    def tenant_tiers(self, tenant_ids: list[str]) -> dict[str, str]:
        """Tier of each tenant in one query; unknown tenants are `free`."""
        ids = sorted(set(tenant_ids))
        tiers = dict.fromkeys(ids, "free")
        if ids:
            t = self.tables.tenants
            with self._read() as conn:
                tiers.update({r.id: r.tier for r in conn.execute(sa.select(t.c.id, t.c.tier).where(t.c.id.in_(ids)))})
        return tiers

    def list_deleted_videos(self, after: tuple[str, str] | None, limit: int) -> list[dict]:
        """Soft-deleted videos ordered by (deleted_at, id), strictly after the cursor `(deleted_at iso, id)`."""
        if limit < 1:
            raise ValueError(f"limit {limit!r} must be at least 1")
        v = self.tables.videos
        query = (
            sa.select(v.c.id, v.c.tenant_id, v.c.deleted_at)
            .where(v.c.deleted_at.is_not(None))
            .order_by(v.c.deleted_at, v.c.id)
            .limit(int(limit))
        )
        if after is not None:
            at, last_id = _cursor_time(after[0]), after[1]
            query = query.where(sa.or_(v.c.deleted_at > at, sa.and_(v.c.deleted_at == at, v.c.id > last_id)))
        with self._read() as conn:
            return [_found(r) for r in conn.execute(query)]

    def supersede_versions(self, video_id: str, newest_version: int) -> int:
        """Archive the video's `requested`/`processing` versions older than `newest_version` (newest crop wins).

        Returns how many were archived. Active and failed versions are left as they are.
        """
        validate_id(video_id, "video id")
        cfv = self.tables.cropped_frames_versions
        with self._write() as conn:
            return conn.execute(
                cfv.update()
                .where(
                    cfv.c.video_id == video_id,
                    cfv.c.version < newest_version,
                    cfv.c.status.in_(("requested", "processing")),
                )
                .values(status="archived")
            ).rowcount

    # -- caption OCR requests (the editor's "Generate OCR"; docs/contracts.md) -----------------
    def request_caption_ocr(
        self,
        video_id: str,
        *,
        caption_ids: list[int] | None = None,
        frame_spans: list[tuple[int, int]] | None = None,
        requested_by: str | None = None,
    ) -> dict:
        """Record a request for the OCR of some captions again, as the web editor's INSERT does.

        `caption_ids` name captions.db rows; each of `frame_spans` is an inclusive `[start, end]`
        naming the row with exactly that span. Whether they exist is checked by the run that
        answers the request, against the captions.db it reads.
        """
        validate_id(video_id, "video id")
        ids = _request_caption_ids(caption_ids)
        spans = _request_frame_spans(frame_spans)
        if ids is None and spans is None:
            raise InputError("a caption OCR request names caption ids, frame spans or both")
        v, r = self.tables.videos, self.tables.caption_ocr_requests
        with self._write() as conn:
            video = conn.execute(sa.select(v.c.id, v.c.deleted_at).where(v.c.id == video_id)).first()
            if video is None or video.deleted_at is not None:
                raise InputError(
                    f"unknown video {video_id!r}: cannot request caption OCR of a missing or deleted video"
                )
            request_id = conn.execute(
                r.insert()
                .values(
                    video_id=video_id,
                    caption_ids=ids,
                    frame_spans=spans,
                    requested_by=requested_by,
                    requested_at=utc_now(),
                    status="requested",
                )
                .returning(r.c.id)
            ).scalar_one()
            return _found(conn.execute(sa.select(r).where(r.c.id == request_id)).first())

    def get_caption_ocr_request(self, request_id: int) -> dict | None:
        r = self.tables.caption_ocr_requests
        with self._read() as conn:
            return _row(conn.execute(sa.select(r).where(r.c.id == int(request_id))).first())

    def list_pending_caption_ocr_requests(self, after_id: int | None, limit: int) -> list[dict]:
        """Requests still `requested`, with id > `after_id`, by id: what the sensor has to answer.

        Each row also carries the video's `tenant_id` and `video_deleted_at`. Rows a run has
        claimed are `processing` and no longer listed, so the query stays on the few pending rows
        (index on status, id).
        """
        if limit < 1:
            raise ValueError(f"limit {limit!r} must be at least 1")
        v, r = self.tables.videos, self.tables.caption_ocr_requests
        query = (
            sa.select(r, v.c.tenant_id, v.c.deleted_at.label("video_deleted_at"))
            .join(v, v.c.id == r.c.video_id)
            .where(r.c.status == "requested")
            .order_by(r.c.id)
            .limit(int(limit))
        )
        if after_id is not None:
            query = query.where(r.c.id > int(after_id))
        with self._read() as conn:
            return [_found(row) for row in conn.execute(query)]

    def claim_caption_ocr_requests(
        self,
        video_id: str,
        request_ids: list[int],
        run_id: str,
        taking_over: str | None = None,
    ) -> list[dict]:
        """Move the video's requests among `request_ids` that are still `requested` to `processing`
        by `run_id`, atomically; returns every request that run now answers, by id.

        A request another run claimed is not returned (it is answered once); one this run
        claimed before (a retried step) is returned again, and so is one claimed by the run
        `taking_over` names (a dead run this one retries).
        """
        validate_id(video_id, "video id")
        ids = sorted({int(i) for i in request_ids})
        if not ids:
            return []
        r = self.tables.caption_ocr_requests
        mine = sa.and_(r.c.video_id == video_id, r.c.id.in_(ids))
        claimable = r.c.status == "requested"
        if taking_over:
            claimable = sa.or_(claimable, sa.and_(r.c.status == "processing", r.c.run_id == taking_over))
        with self._write() as conn:
            conn.execute(
                r.update()
                .where(mine, claimable)
                .values(status="processing", run_id=run_id, started_at=utc_now(), error=None)
            )
            return [
                _found(row)
                for row in conn.execute(
                    sa.select(r).where(mine, r.c.status == "processing", r.c.run_id == run_id).order_by(r.c.id)
                )
            ]

    def finish_caption_ocr_requests(self, request_ids: list[int], status: str, error: str | None = None) -> None:
        """Mark requests `completed`, or `error` with a message a person can act on."""
        _check_one_of(status, ("completed", "error"), "caption OCR request status")
        if (status == "error") != bool(error):
            raise ValueError("an error message goes with status 'error', and only with it")
        ids = sorted({int(i) for i in request_ids})
        if ids:
            r = self.tables.caption_ocr_requests
            with self._write() as conn:
                conn.execute(
                    r.update()
                    .where(r.c.id.in_(ids))
                    .values(
                        status=status,
                        error=error,
                        finished_at=utc_now(),
                    )
                )


def _request_caption_ids(caption_ids) -> list[int] | None:
    if caption_ids is None:
        return None
    if (
        not isinstance(caption_ids, (list, tuple))
        or not caption_ids
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in caption_ids)
    ):
        raise InputError(f"caption_ids {caption_ids!r} must be a non-empty list of integer captions.db row ids")
    return [int(i) for i in caption_ids]


def _request_frame_spans(frame_spans) -> list[list[int]] | None:
    if frame_spans is None:
        return None

    def is_span(span) -> bool:
        return (
            isinstance(span, (list, tuple))
            and len(span) == 2
            and all(isinstance(i, int) and not isinstance(i, bool) for i in span)
            and span[0] <= span[1]
        )

    if not isinstance(frame_spans, (list, tuple)) or not frame_spans or not all(is_span(s) for s in frame_spans):
        raise InputError(
            f"frame_spans {frame_spans!r} must be a non-empty list of [start, end] frame indices, start <= end (inclusive)"
        )
    return [[int(s), int(e)] for s, e in frame_spans]
