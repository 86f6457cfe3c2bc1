# Trellis CRM. `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi

.PHONY: run dev test test-fast test-browser migrate demo bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

migrate: $(VENV)/.installed
	$(BIN)/flask db upgrade

## Serve the app and its worker on http://127.0.0.1:$(PORT) (SQLite in instance/ by default).
run: migrate
	PORT=$(PORT) $(BIN)/honcho start -f Procfile

## The same with Flask's reloader and debugger (and the worker).
dev: migrate
	PORT=$(PORT) $(BIN)/honcho start -f Procfile.dev

## Fill a demo business (sign in as demo@greenleaf.example / demo-password).
demo: migrate
	$(BIN)/flask demo-data

## The whole suite (browser tests skip with a reason when Chromium is missing).
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q

test-browser: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q tests/e2e

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check app tests bench

clean:
	rm -rf $(VENV) .pytest_cache
