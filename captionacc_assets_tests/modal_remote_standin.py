"""`captionacc` with Modal's client edge replaced by child processes: what a run process in Modal
mode holds when each Modal function really runs elsewhere.

`python modal_remote_standin.py process VIDEO ...` runs the CLI with `modal.Cls.from_name` answering
`.remote(**kwargs)` by running that Modal function's own body (`.local()`) in a child Python
process, its arguments and result passed as JSON, as Modal serializes them. The run process itself
therefore loads no OCR engine and no extents model. At exit it prints one line to stderr:
`run process: torch=False onnxruntime=False peak_rss_mb=...`.
"""

import atexit
import json
import subprocess
import sys

import modal

from captionacc_assets.cli import peak_rss_mb

CHILD = (
    "import json, sys\n"
    "from captionacc_assets import modal_app\n"
    "name, kwargs = json.loads(sys.stdin.read())\n"
    "print(json.dumps(modal_app.local_function(name).local(**kwargs)))\n"
)


class _Method:
    def __init__(self, name: str):
        self.name = name

    def remote(self, **kwargs):
        done = subprocess.run(
            [sys.executable, "-c", CHILD],
            input=json.dumps([self.name, kwargs]),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"Modal function {self.name} failed:\n{done.stderr[-4000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


class _Deployed:
    def __init__(self, app: str, class_name: str):
        self.app, self.class_name = app, class_name

    def __call__(self):
        return self

    def __getattr__(self, method: str) -> _Method:
        return _Method(method)


def _report() -> None:
    peak = peak_rss_mb()
    print(
        f"run process: torch={'torch' in sys.modules} onnxruntime={'onnxruntime' in sys.modules} "
        f"peak_rss_mb={peak:.0f}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    modal.Cls.from_name = staticmethod(lambda app, name, **_: _Deployed(app, name))
    atexit.register(_report)
    from captionacc_assets.cli import main

    sys.exit(main(sys.argv[1:]))
