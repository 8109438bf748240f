-- CaptionA.cc catalog: a second caption zone per approval (SPEC §3 "Zones", docs/contracts.md).
--
-- Apply after 002 with:  psql "$CAPTIONACC_CATALOG_URL_PSQL" -v ON_ERROR_STOP=1 -f migrations/003_second_caption_zone.sql
--
-- Idempotent: columns are added only if absent and the constraint only if missing.
-- It matches `cropped_frames_versions` as `captionacc_assets/resources/catalog.py` declares it;
-- a test applies 001, 002 and 003 to a real server and compares the result with the declared tables.
--
-- An approval covers one or two caption zones (for example dialogue at the bottom and signs at
-- the top). Zone 0 stays in crop_left/top/right/bottom, so every existing row and reader is
-- unchanged; zone 1 is crop2_left/top/right/bottom, all four NULL for a one-zone approval. The
-- editor writes both zones in the same INSERT, so the approvals sensor never sees half of one.
-- The platform also refuses two zones that overlap; the database checks each zone's bounds.

BEGIN;

ALTER TABLE captionacc.cropped_frames_versions ADD COLUMN IF NOT EXISTS crop2_left DOUBLE PRECISION;
ALTER TABLE captionacc.cropped_frames_versions ADD COLUMN IF NOT EXISTS crop2_top DOUBLE PRECISION;
ALTER TABLE captionacc.cropped_frames_versions ADD COLUMN IF NOT EXISTS crop2_right DOUBLE PRECISION;
ALTER TABLE captionacc.cropped_frames_versions ADD COLUMN IF NOT EXISTS crop2_bottom DOUBLE PRECISION;

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE n.nspname = 'captionacc' AND c.conname = 'ck_cropped_frames_versions_second_zone'
    ) THEN
        ALTER TABLE captionacc.cropped_frames_versions ADD CONSTRAINT ck_cropped_frames_versions_second_zone
            CHECK ((crop2_left IS NULL AND crop2_top IS NULL AND crop2_right IS NULL AND crop2_bottom IS NULL) OR
                   (crop2_left IS NOT NULL AND crop2_top IS NOT NULL AND crop2_right IS NOT NULL AND crop2_bottom IS NOT NULL
                    AND crop2_left >= 0 AND crop2_top >= 0 AND crop2_right <= 1 AND crop2_bottom <= 1
                    AND crop2_left < crop2_right AND crop2_top < crop2_bottom));
    END IF;
END
$$;

COMMIT;
