# leadbridge: `make run` serves the demo (PORT=5000), `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The port `make run` serves on and `make app` connects to: `make run PORT=5050`.
PORT ?= 5000
# Where alert links and the pairing QR code send people: this server, unless set.
PUBLIC_URL ?= $(or $(LEADBRIDGE_PUBLIC_URL),http://127.0.0.1:$(PORT))

.PHONY: install run app test lint format clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "leadbridge needs Python 3.11 or newer (set PYTHON=python3.x)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/leadbridge db upgrade
	LEADBRIDGE_PUBLIC_URL='$(PUBLIC_URL)' $(BIN)/leadbridge seed-demo
	LEADBRIDGE_PUBLIC_URL='$(PUBLIC_URL)' $(BIN)/leadbridge serve --port $(PORT)

app: $(STAMP)
	$(BIN)/python -m mobile --server http://127.0.0.1:$(PORT)

test: $(STAMP) lint
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
