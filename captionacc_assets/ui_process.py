"""`captionacc ui`: Dagster's UI and daemon (`dagster dev`) as one child that stops cleanly.

Dagster 1.13 marks `dagster dev` superseded by `dg dev` (the `dagster-dg-cli` package), which is
a wrapper that starts this same `dagster dev` in the project's environment. That package is not
a dependency here, so `captionacc ui` starts `dagster dev` itself (through this module, which
drops only that supersession notice) and supervises it:
- the first line a person sees is ours: the URL, the home, where the logs go, how to stop;
- Dagster's own output goes to `$CAPTIONACC_HOME/logs/ui.log`; the terminal gets it too, less the
  daemon's per-tick "checking sensor ..." chatter, unless `--verbose` shows everything;
- SIGINT and SIGTERM (also when started in the background, where a shell ignores SIGINT) stop
  `dagster dev` gracefully; anything of its process tree still running after it (a code server,
  a run worker) is terminated, then killed, so nothing is left behind.
"""

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import psutil

GRACE_S = 60.0  # what `dagster dev` itself allows its webserver and daemon to shut down
NOISE = re.compile(
    r"Checking for new runs for sensor|No run requests returned for|Sensor .* skipped|"
    r"is superseded and its usage is discouraged|warnings\.warn\("
)


def dagster_dev_command(workspace: Path, port: int) -> list[str]:
    return [sys.executable, "-m", "captionacc_assets.ui_process", "dev", "-w", str(workspace), "-p", str(port)]


def _forward_output(stream, log_file, verbose: bool) -> None:
    for line in iter(stream.readline, ""):
        log_file.write(line)
        log_file.flush()
        if verbose or not NOISE.search(line):
            sys.stdout.write(line)
            sys.stdout.flush()


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _end_all(processes: list[psutil.Process], grace_s: float = 10.0) -> None:
    """Terminate what is still alive, then kill what does not stop within `grace_s`."""
    alive = [p for p in processes if p.is_running()]
    for process in alive:
        try:
            process.terminate()
        except psutil.NoSuchProcess:
            pass
    _, still = psutil.wait_procs(alive, timeout=grace_s)
    for process in still:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(still, timeout=grace_s)


def supervise(command: list[str], *, cwd: Path, log_path: Path, verbose: bool) -> int:
    """Run `command` until it exits or SIGINT/SIGTERM arrives; then stop it and all it started."""
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum, _frame) -> None:
        received.append(signum)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a", encoding="utf-8") as log_file:
        # Its own session: a terminal's Ctrl-C reaches only this supervisor, which stops the child in order.
        child = subprocess.Popen(
            command,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        reader = threading.Thread(target=_forward_output, args=(child.stdout, log_file, verbose), daemon=True)
        reader.start()
        try:
            while child.poll() is None and not stop.wait(0.5):
                pass
            tree = _descendants(child.pid)
            if child.poll() is None:
                print(f"captionacc ui: stopping ({signal.Signals(received[0]).name} received) ...", flush=True)
                child.send_signal(signal.SIGINT)  # `dagster dev` shuts its webserver and daemon down on SIGINT
                try:
                    child.wait(timeout=GRACE_S)
                except subprocess.TimeoutExpired:
                    _end_all([psutil.Process(child.pid)])
            _end_all(tree)  # a code server or run worker that outlived `dagster dev`
            child.wait()
            reader.join(timeout=5)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    if received:
        print("captionacc ui: stopped; no Dagster process is left running", flush=True)
        return 0
    return child.returncode


def _run_dagster_cli() -> None:
    """`python -m captionacc_assets.ui_process dev ...`: Dagster's own CLI, without the notice that
    `dagster dev` is superseded by `dg dev` (which would only start this same command)."""
    import warnings

    import dagster as dg

    warnings.filterwarnings("ignore", category=dg.SupersessionWarning)
    from dagster._cli import main

    sys.argv = ["dagster", *sys.argv[1:]]
    main()


if __name__ == "__main__":
    _run_dagster_cli()
