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
