# Two commands do all the set-up on a fresh machine with Python 3.11+ and make:
#   make run    serve the most advanced stage on the embedded fake MQ, with steady synthetic
#               traffic and a live status line (make run STAGE=3 for stage 3; Ctrl-C stops)
#   make test   lint, then the whole test suite (it also checks that exercises/ is fresh)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

STAGE ?=
STAGE_DIR := $(if $(STAGE),$(firstword $(wildcard stage$(shell printf '%02d' $(STAGE))_*)),$(lastword $(sort $(wildcard stage[0-9][0-9]_*))))

.PHONY: run test lint format lock clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP)
	@test -n "$(STAGE_DIR)" || { echo "no stage $(STAGE)"; exit 2; }
	$(BIN)/course run $(STAGE_DIR)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-pin requirements.lock from pyproject.toml (needs the network).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e '.[dev]' setuptools wheel
	(echo "# Exact versions for 'make' (regenerate with 'make lock')"; \
	  .lock-venv/bin/python -m pip freeze --all --exclude-editable | grep -v '^pip==') > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
