"""Faults of the machine or its configuration reach the CLI as `error: ...` naming the path or the
variable to fix, with exit 2: a full disk, read-only storage, a file size limit, an unreachable,
malformed or unmigrated catalog. Never a traceback, never Dagster's "Error occurred while executing op".

Full and read-only storage are real: the platform's storage root is its own small tmpfs (we are
root in the sandbox; skipped where mounting is not permitted). The file size limit is a real
RLIMIT_FSIZE on a `captionacc` subprocess, which needs no privilege.
"""

import json
import os
import resource
import subprocess
import sys
from types import SimpleNamespace

import dagster as dg
import pytest

from captionacc_assets.cli import main
from captionacc_assets.core.errors import EnvironmentFault
from captionacc_assets.platform import _failure_cause
from captionacc_assets.synthetic.generate import write_video
from captionacc_assets_tests.resources.test_profile import PRODUCTION
from captionacc_assets_tests.servers import postgres_server
from captionacc_assets_tests.test_cli import SPEC

WRAPPER = "DagsterExecutionStepExecutionError"


def _details(platform, video_id: str, stage: str) -> str:
    details = platform.catalog.get_video(video_id)[f"{stage}_error_details"]
    return (json.loads(details) if isinstance(details, str) else details)["message"]


def _only_video(platform) -> str:
    (row,) = platform.catalog.list_new_videos(None, 10)
    return row["id"]


@pytest.fixture
def storage_mount(platform):
    """Put the platform's storage root on a tmpfs of a given size; remount it read-only on demand."""
    root = platform.paths.storage_root
    root.mkdir(parents=True, exist_ok=True)

    def mount(size_bytes: int) -> None:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(root)], capture_output=True, text=True
        )
        if done.returncode:
            pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
        mounted.append(root)

    def read_only() -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(root)], check=True)

    mounted: list = []
    yield SimpleNamespace(root=root, mount=mount, read_only=read_only)
    for path in mounted:
        subprocess.run(["umount", "-l", str(path)], check=True)


def test_full_storage_during_processing_names_the_path_and_captionacc_home(platform, storage_mount, tmp_path, capsys):
    video = write_video(SPEC, tmp_path / "clip.mp4")
    storage_mount.mount(video.stat().st_size + 16 * 1024)  # the upload fits, its full frames do not
    assert main(["process", str(video)]) == 2
    err = capsys.readouterr().err
    assert f"error: storage at {storage_mount.root}" in err, err
    assert "is full (No space left on device): free space, or point CAPTIONACC_HOME elsewhere" in err
    assert WRAPPER not in err and "Traceback" not in err
    video_id = _only_video(platform)
    assert platform.catalog.get_video(video_id)["layout_status"] == "error"
    assert "is full (No space left on device)" in _details(platform, video_id, "layout")


def test_full_storage_at_upload_is_named_too(platform, storage_mount, tmp_path, capsys):
    video = write_video(SPEC, tmp_path / "clip.mp4")
    storage_mount.mount(64 * 1024)  # smaller than the video
    assert main(["upload", str(video)]) == 2
    err = capsys.readouterr().err
    assert f"error: storage at {storage_mount.root}" in err and "is full (No space left on device)" in err
    assert "CAPTIONACC_HOME" in err and "Traceback" not in err


def test_read_only_storage_in_the_approved_stage_prints_that_stages_cause(platform, storage_mount, tmp_path, capsys):
    video = write_video(SPEC, tmp_path / "clip.mp4")
    storage_mount.mount(64 * 1024 * 1024)
    assert main(["process", str(video), "--min-confidence", "1"]) == 3  # initial processing only
    storage_mount.read_only()
    capsys.readouterr()
    assert main(["process", str(video), "--approve", "always"]) == 2  # continues: approval, then boundaries
    out, err = capsys.readouterr()
    assert "initial processing     already published" in out
    assert f"error: storage at {storage_mount.root}" in err, err
    assert "is read-only (Read-only file system): make it writable, or point CAPTIONACC_HOME elsewhere" in err
    assert WRAPPER not in err
    row = platform.catalog.get_video(_only_video(platform))
    assert row["boundaries_status"] == "error"
    assert _details(platform, row["id"], "boundaries") in err


def test_a_file_size_limit_is_named(platform, tmp_path):
    """RLIMIT_FSIZE on a real `captionacc upload`: the copy into storage fails with EFBIG."""
    big = write_video(SPEC, tmp_path / "clip.mp4")
    limit = big.stat().st_size // 2

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(
        [sys.executable, "-m", "captionacc_assets.cli", "upload", str(big)],
        capture_output=True,
        text=True,
        preexec_fn=limit_file_size,
        env=os.environ.copy(),
    )
    assert done.returncode == 2, done.stderr
    assert "refused a file this large (File too large): raise the file size limit (ulimit -f)" in done.stderr
    assert "CAPTIONACC_HOME" in done.stderr and "Traceback" not in done.stderr


@pytest.fixture
def production_env(monkeypatch, tmp_path):
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DAGSTER_PG_URL", "postgresql+psycopg2://svc:pg-secret-4Jd9@127.0.0.1:1/postgres")
    monkeypatch.setenv("CAPTIONACC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.modal.toml
    return monkeypatch


def _upload_error(tmp_path, capsys) -> str:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"any file: the catalog is reached first")
    assert main(["upload", str(video)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert "pg-secret-4Jd9" not in err, "never print the password"
    return err


def test_an_unreachable_catalog_names_its_variable_without_the_password(production_env, tmp_path, capsys):
    err = _upload_error(tmp_path, capsys)
    assert "the catalog at postgresql+psycopg://svc:***@127.0.0.1:1/postgres cannot be reached" in err
    assert "Connection refused" in err and "check CAPTIONACC_CATALOG_URL" in err


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgres//svc:pg-secret-4Jd9@db.example:5432/postgres", "it cannot be parsed"),
        ("postgres://svc:pg-secret-4Jd9@db.example:5432/postgres", "no database dialect is called 'postgres'"),
    ],
)
def test_a_malformed_catalog_url_names_its_variable_without_the_password(
    production_env, tmp_path, capsys, url, problem
):
    production_env.setenv("CAPTIONACC_CATALOG_URL", url)
    err = _upload_error(tmp_path, capsys)
    assert f"CAPTIONACC_CATALOG_URL is not a usable catalog URL ({problem})" in err
    assert "postgresql+psycopg://USER:PASSWORD@HOST:5432/postgres" in err


def test_an_unmigrated_catalog_says_which_migration_to_apply(production_env, tmp_path, capsys):
    with postgres_server() as server:
        production_env.setenv("CAPTIONACC_CATALOG_URL", server.url())
        err = _upload_error(tmp_path, capsys)
    assert "catalog tables" in err and "are missing from schema 'captionacc'" in err
    assert "migrations/001_captionacc_schema.sql" in err


def test_a_fault_outside_a_stage_reports_its_cause_not_dagsters_wrapper():
    """A step that fails before its stage is recorded (e.g. the catalog is gone) still says why."""

    @dg.asset
    def reads_the_catalog():
        raise EnvironmentFault("the catalog at sqlite:////gone/catalog.sqlite cannot be reached: check CAPTIONACC_HOME")

    @dg.asset
    def has_a_bug():
        raise KeyError("frame_index")

    causes = []
    for asset in (reads_the_catalog, has_a_bug):
        result = dg.materialize([asset], raise_on_error=False)
        (failure,) = [event for event in result.all_events if event.is_step_failure]
        assert WRAPPER in failure.event_specific_data.error.message  # what the CLI used to print
        causes.append(_failure_cause(failure.event_specific_data))
    assert causes == [
        ("the catalog at sqlite:////gone/catalog.sqlite cannot be reached: check CAPTIONACC_HOME", "environment"),
        ("KeyError: 'frame_index'", None),
    ]
