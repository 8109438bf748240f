-- CaptionA.cc catalog: the web editor's caption OCR requests (docs/contracts.md, "Caption OCR requests").
--
-- Apply after 001 with:  psql "$CAPTIONACC_CATALOG_URL_PSQL" -v ON_ERROR_STOP=1 -f migrations/002_caption_ocr_requests.sql
--
-- Idempotent: every object is created only if absent, so running it twice is harmless.
-- It matches `caption_ocr_requests` as `captionacc_assets/resources/catalog.py` declares it;
-- a test applies 001 and 002 to a real server and compares the result with the declared tables.
--
-- The editor INSERTs one row per "Generate OCR": the captions.db row ids and/or the exact
-- inclusive frame spans of the rows whose median-frame OCR it wants again. The
-- `caption_ocr_requests` sensor reads rows with status 'requested' (index on status, id), and the
-- run it launches moves them to 'processing', then 'completed' or 'error' (with `error` saying why).

BEGIN;

CREATE TABLE IF NOT EXISTS captionacc.caption_ocr_requests (
    id           BIGSERIAL NOT NULL,
    video_id     VARCHAR(128) NOT NULL REFERENCES captionacc.videos (id),
    caption_ids  JSONB,        -- [id, ...] of captions.db rows
    frame_spans  JSONB,        -- [[start, end], ...], inclusive frame indices, each a row's exact span
    requested_by TEXT,
    requested_at TIMESTAMP WITH TIME ZONE NOT NULL,
    status       VARCHAR(16) NOT NULL DEFAULT 'requested',
    error        TEXT,
    run_id       VARCHAR(64),  -- the Dagster run that answers it
    started_at   TIMESTAMP WITH TIME ZONE,
    finished_at  TIMESTAMP WITH TIME ZONE,
    PRIMARY KEY (id),
    CONSTRAINT ck_caption_ocr_requests_status
        CHECK (status IN ('requested', 'processing', 'completed', 'error')),
    CONSTRAINT ck_caption_ocr_requests_target CHECK (caption_ids IS NOT NULL OR frame_spans IS NOT NULL)
);
-- The sensor reads pending requests by id after a cursor.
CREATE INDEX IF NOT EXISTS ix_caption_ocr_requests_status_id ON captionacc.caption_ocr_requests (status, id);
CREATE INDEX IF NOT EXISTS ix_caption_ocr_requests_video_id ON captionacc.caption_ocr_requests (video_id);

COMMIT;
