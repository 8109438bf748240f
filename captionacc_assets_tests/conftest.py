"""Shared fixtures: an isolated CAPTIONACC_HOME per test, with a real Dagster instance in it."""

import pytest


@pytest.fixture
def platform(tmp_path, monkeypatch):
    """A fresh embedded-default platform (SQLite catalog, local storage, Dagster instance)."""
    from captionacc_assets.platform import LocalPlatform

    monkeypatch.setenv("CAPTIONACC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home" / "dagster"))
    platform = LocalPlatform.open()
    yield platform
    platform.instance.dispose()


# System tests with real processes: the daemon, `dagster dev`, kills and races. `-m "not slow"` skips them.
SLOW_MODULES = {
    "test_dagster_dev_system",
    "test_load_100_uploads",
    "test_run_queue_daemon",
    "test_fault_injection",
    "test_ui_browser",
    "test_ui_shutdown",
}


def pytest_collection_modifyitems(items):
    for item in items:
        if "daemon" in item.fixturenames or item.module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
