# Two entry points: `make demo` (a video in, timed captions out) and `make test`.
# Both set themselves up on a fresh Debian machine: fonts, a Python 3.11 venv, the package.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test setup

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@if [ ! -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf ] \
		|| [ ! -f /usr/share/fonts/truetype/arphic/uming.ttc ] || [ ! -f /usr/share/fonts/truetype/arphic/ukai.ttc ] \
		|| [ ! -f /usr/share/fonts/opentype/kaushanscript/KaushanScript-Regular.otf ] || ! command -v ffmpeg >/dev/null; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			fonts-wqy-microhei fonts-dejavu-core fonts-dejavu-extra fonts-arphic-uming fonts-arphic-ukai \
			fonts-kaushanscript ffmpeg; \
	fi
	@# The browser test drives the Dagster UI with Playwright on Debian's chromium (Playwright's own
	@# browser download is not used).
	@if [ ! -x /usr/bin/chromium ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; \
	fi
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c constraints.txt -e ".[test]"
	@# The package is installed editable, so pip compiles none of its bytecode, and where PYTHONDONTWRITEBYTECODE
	@# is set (as on this project's machines) nothing caches it: every command would compile its ~100
	@# modules again, ~0.15 s of each start-up (docs/benchmarks.md, 2026-12-06). An edited file is compiled anew.
	$(VENV)/bin/python -m compileall -q captionacc_assets
	touch $(STAMP)

demo: setup
	$(VENV)/bin/captionacc demo

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/python -m mypy
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile -q --durations=20
