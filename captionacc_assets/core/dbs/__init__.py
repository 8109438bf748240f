"""The per-video SQLite artifacts of SPEC §3, each written gzip'd (`.db.gz`).

One module per database; each holds its schema as one SQL string with a
`SCHEMA_VERSION`, a writer and a reader. Shared rules (atomic gzip'd writes,
`database_metadata`, a DEFAULT on every NOT NULL column so the web editor can
sync the tables with CR-SQLite) live in `sqlite_artifact`.
"""
