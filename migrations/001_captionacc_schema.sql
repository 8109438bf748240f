-- CaptionA.cc catalog (SPEC §4) on Supabase Postgres: schema `captionacc`.
--
-- Apply with:  psql "$CAPTIONACC_CATALOG_URL_PSQL" -v ON_ERROR_STOP=1 -f migrations/001_captionacc_schema.sql
-- (a plain postgresql:// URL; psql does not take SQLAlchemy's postgresql+psycopg:// form).
--
-- Idempotent: every object is created only if absent, so running it twice is harmless.
-- It matches the tables `captionacc_assets/resources/catalog.py` declares (names, types,
-- constraints and indexes); a test applies it to a real server and runs the catalog
-- contract suite on the result, and compares it column by column with the declared tables.

BEGIN;

CREATE SCHEMA IF NOT EXISTS captionacc;

CREATE TABLE IF NOT EXISTS captionacc.tenants (
    id   VARCHAR(128) NOT NULL,
    name TEXT,
    tier VARCHAR(16) NOT NULL DEFAULT 'free',
    PRIMARY KEY (id),
    CONSTRAINT ck_tenants_tier CHECK (tier IN ('free', 'premium', 'enterprise'))
);

CREATE TABLE IF NOT EXISTS captionacc.videos (
    id                             VARCHAR(128) NOT NULL,
    tenant_id                      VARCHAR(128) NOT NULL REFERENCES captionacc.tenants (id),
    storage_key                    TEXT NOT NULL,
    display_path                   TEXT,
    size_bytes                     BIGINT,
    uploaded_at                    TIMESTAMP WITH TIME ZONE NOT NULL,
    deleted_at                     TIMESTAMP WITH TIME ZONE,
    duration_seconds               DOUBLE PRECISION,
    width                          INTEGER,
    height                         INTEGER,
    total_frames                   INTEGER,
    layout_status                  VARCHAR(16) NOT NULL DEFAULT 'wait',
    boundaries_status              VARCHAR(16) NOT NULL DEFAULT 'wait',
    text_status                    VARCHAR(16) NOT NULL DEFAULT 'wait',
    -- JSON holding a message a person can act on, e.g. {"message": "...", "stage": "..."}.
    layout_error_details           JSONB,
    boundaries_error_details       JSONB,
    text_error_details             JSONB,
    current_cropped_frames_version INTEGER,
    PRIMARY KEY (id),
    CONSTRAINT ck_videos_layout_status
        CHECK (layout_status IN ('wait', 'processing', 'annotate', 'done', 'error')),
    CONSTRAINT ck_videos_boundaries_status
        CHECK (boundaries_status IN ('wait', 'processing', 'annotate', 'done', 'error')),
    CONSTRAINT ck_videos_text_status
        CHECK (text_status IN ('wait', 'processing', 'annotate', 'done', 'error')),
    CONSTRAINT ck_videos_size_bytes CHECK (size_bytes IS NULL OR size_bytes >= 0)
);
CREATE INDEX IF NOT EXISTS ix_captionacc_videos_tenant_id ON captionacc.videos (tenant_id);
-- The sensor pages new uploads by (uploaded_at, id).
CREATE INDEX IF NOT EXISTS ix_videos_uploaded_at_id ON captionacc.videos (uploaded_at, id);

-- A row with status 'requested' is a layout approval.
CREATE TABLE IF NOT EXISTS captionacc.cropped_frames_versions (
    id           BIGSERIAL NOT NULL,
    video_id     VARCHAR(128) NOT NULL REFERENCES captionacc.videos (id),
    version      INTEGER NOT NULL,
    crop_left    DOUBLE PRECISION NOT NULL,
    crop_top     DOUBLE PRECISION NOT NULL,
    crop_right   DOUBLE PRECISION NOT NULL,
    crop_bottom  DOUBLE PRECISION NOT NULL,
    status       VARCHAR(16) NOT NULL DEFAULT 'requested',
    requested_by TEXT,
    requested_at TIMESTAMP WITH TIME ZONE NOT NULL,
    activated_at TIMESTAMP WITH TIME ZONE,
    PRIMARY KEY (id),
    CONSTRAINT uq_cropped_frames_versions_video_version UNIQUE (video_id, version),
    CONSTRAINT ck_cropped_frames_versions_status
        CHECK (status IN ('requested', 'processing', 'active', 'archived', 'failed')),
    CONSTRAINT ck_cropped_frames_versions_version CHECK (version >= 1),
    CONSTRAINT ck_cropped_frames_versions_region
        CHECK (crop_left >= 0 AND crop_top >= 0 AND crop_right <= 1 AND crop_bottom <= 1
               AND crop_left < crop_right AND crop_top < crop_bottom)
);
-- The approval sensor reads requested versions by id after a cursor.
CREATE INDEX IF NOT EXISTS ix_cropped_frames_versions_status_id
    ON captionacc.cropped_frames_versions (status, id);
-- At most one active version per video, guarded by the database itself.
CREATE UNIQUE INDEX IF NOT EXISTS ux_cropped_frames_versions_one_active
    ON captionacc.cropped_frames_versions (video_id) WHERE status = 'active';

-- The editor's locks on `layout` and `captions`. Taking one is a single conditional UPDATE;
-- a lock expires 30 minutes after last_activity_at.
CREATE TABLE IF NOT EXISTS captionacc.video_database_state (
    video_id            VARCHAR(128) NOT NULL REFERENCES captionacc.videos (id),
    database_name       VARCHAR(32) NOT NULL,
    lock_holder_user_id TEXT,
    lock_type           VARCHAR(16),
    locked_at           TIMESTAMP WITH TIME ZONE,
    last_activity_at    TIMESTAMP WITH TIME ZONE,
    PRIMARY KEY (video_id, database_name),
    CONSTRAINT ck_video_database_state_database_name CHECK (database_name IN ('layout', 'captions')),
    CONSTRAINT ck_video_database_state_lock_type CHECK (lock_type IS NULL OR lock_type IN ('server', 'client'))
);

COMMIT;
