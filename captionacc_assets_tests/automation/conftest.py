import pytest

from captionacc_assets_tests.automation.daemon import LightDaemon


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    """A real `dagster-daemon` on a fresh instance and catalog, shared by the tests of one module."""
    daemon = LightDaemon(tmp_path_factory.mktemp("light-daemon")).start()
    yield daemon
    daemon.stop()
