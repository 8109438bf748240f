"""`captionacc ui` stops cleanly: SIGINT or SIGTERM ends it and every process it started, also
when started in the background (where the shell makes it ignore SIGINT)."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from captionacc_assets_tests.automation.daemon import REPO, wait_for
from captionacc_assets_tests.automation.test_dagster_dev_system import answers, free_port

CAPTIONACC = str(Path(sys.executable).with_name("captionacc"))

pytestmark = pytest.mark.timeout(600)


def ignore_sigint_like_a_background_job() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_ui_stops_on_a_signal_with_its_children_and_leaves_no_code_server(tmp_path, signum):
    home = tmp_path / "home"
    env = {
        **os.environ,
        "CAPTIONACC_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "CAPTIONACC_AUTOMATION": "off",
    }
    port = free_port()
    out = tmp_path / "ui.out"
    with out.open("w") as sink:
        ui = subprocess.Popen(
            [CAPTIONACC, "ui", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=ignore_sigint_like_a_background_job,
        )
    try:
        wait_for(
            lambda: ui.poll() is not None or answers(f"http://127.0.0.1:{port}/server_info"),
            300,
            "the Dagster webserver",
        )
        assert ui.poll() is None, out.read_text()
        tree = psutil.Process(ui.pid).children(recursive=True)
        commands = [" ".join(p.cmdline()) for p in tree]
        assert any("dagster_webserver" in c for c in commands) and any("dagster._daemon" in c for c in commands)
        assert any("code-server" in c or "api grpc" in c for c in commands), commands

        os.kill(ui.pid, signum)
        assert ui.wait(timeout=120) == 0, out.read_text()
        _, alive = psutil.wait_procs(tree, timeout=30)
        assert not alive, [" ".join(p.cmdline()) for p in alive]
        assert not answers(f"http://127.0.0.1:{port}/server_info")
    finally:
        if ui.poll() is None:
            os.killpg(ui.pid, signal.SIGKILL)
            ui.wait()

    lines = out.read_text().splitlines()
    assert lines[0].startswith(f"captionacc ui: the Dagster UI at http://127.0.0.1:{port}"), lines[:3]
    assert not any("superseded" in line or "warning" in line.lower() for line in lines), lines
    assert lines[-1] == "captionacc ui: stopped; no Dagster process is left running"
    assert "Serving dagster-webserver" in (home / "logs" / "ui.log").read_text()
