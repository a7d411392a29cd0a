# clipvi-tui developer commands. Every target creates the virtualenv first if it is missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test check bench clean

$(STAMP): pyproject.toml
	@echo "clipvi-tui: creating $(VENV) and installing the app with the Inference server (first time: ~3-5 min, ~7 GB)..."
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[server,test]"
	@touch $(STAMP)

install: $(STAMP)

# Plays data/sample.mp4 with the demo prompts (see config.yaml). No Inference server running?
# The app starts one itself on a free loopback port, serving the demo model offline.
demo: $(STAMP)
	@echo "clipvi-tui: opening data/sample.mp4; a local Inference server with the demo model starts in the background (~10 s) and the chart fills in as frames are embedded."
	$(VENV)/bin/clipvi-tui

test: $(STAMP)
	$(PY) -m pytest -q

LINTED := clipvi_tui tests bench $(wildcard training)

check: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/mypy clipvi_tui

bench: $(STAMP)
	$(PY) bench/run_all.py
	$(PY) bench/cache_size.py
	$(PY) bench/segment_iou.py
	$(PY) bench/servers.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
