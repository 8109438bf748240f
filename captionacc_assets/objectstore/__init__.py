"""Plain object stores (local directory, S3), no Dagster: what the jobs and the Modal App use."""
