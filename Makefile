# Inkwell. `make run` serves the site; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Links in mail and the sign-in hint follow the port `make run` serves on.
SITE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: install run test lint e2e bench

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $@

# Refresh requirements.lock after changing pyproject.toml's dependencies.
lock: install
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

run: install
	$(BIN)/python manage.py migrate --noinput
	SITE_URL=$(SITE_URL) $(BIN)/python manage.py prepare_site
	@# The task worker (email) runs beside the server and stops with it.
	SITE_URL=$(SITE_URL) $(BIN)/python manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	SITE_URL=$(SITE_URL) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run

test: lint
	$(BIN)/pytest

# Browser, accessibility and HTML checks (tests/e2e); reports in e2e-artifacts/.
e2e: install
	./.ci/browser-deps
	$(BIN)/pytest tests/e2e
