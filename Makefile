# Inkwell. `make run` serves the site; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Links in mail and the sign-in hint follow the port `make run` serves on.
SITE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: install run test lint e2e bench serve

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
	SITE_URL=$(SITE_URL) $(BIN)/python manage.py migrate --noinput
	SITE_URL=$(SITE_URL) $(BIN)/python manage.py prepare_site
	@# The task worker (email) runs beside the server, is started again if it
	@# ever exits (bin/keep-running), and stops with the server.
	SITE_URL=$(SITE_URL) bin/keep-running $(BIN)/python manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	SITE_URL=$(SITE_URL) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run

# Two test processes (pytest-xdist) by default; TEST_PROCESSES=0 runs one.
TEST_PROCESSES ?= 2

test: lint
	$(BIN)/pytest -n $(TEST_PROCESSES)

# Browser, accessibility and HTML checks (tests/e2e); reports in e2e-artifacts/.
e2e: install
	./.ci/browser-deps
	$(BIN)/pytest tests/e2e

# Production mode: static files collected (hashed, compressed), gunicorn with
# blog/gunicorn.py. Refuses to start without a secret key rather than invent one.
serve: install
	@if [ -z "$$DJANGO_SECRET_KEY" ]; then \
	  echo "make serve runs in production mode (DJANGO_DEBUG=0) and needs DJANGO_SECRET_KEY,"; \
	  echo "plus SITE_URL (https://your.host) and, if other names reach it, DJANGO_ALLOWED_HOSTS."; \
	  echo "Keep one secret key per site, outside the repository. For a local trial over http:"; \
	  echo '  export DJANGO_SECRET_KEY="$$(python3 -c "import secrets; print(secrets.token_urlsafe(50))")"'; \
	  echo "  make serve      (SITE_URL defaults to http://127.0.0.1:$(PORT))"; \
	  exit 1; \
	fi
	DJANGO_DEBUG=0 SITE_URL=$(SITE_URL) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	DJANGO_DEBUG=0 SITE_URL=$(SITE_URL) $(BIN)/python manage.py migrate --noinput
	@# The task worker (email) runs beside gunicorn, is started again if it ever
	@# exits (bin/keep-running), and stops with it; a real deployment runs
	@# `manage.py db_worker` as a service of its own (systemd: Restart=always).
	DJANGO_DEBUG=0 SITE_URL=$(SITE_URL) bin/keep-running $(BIN)/python manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DJANGO_DEBUG=0 SITE_URL=$(SITE_URL) PORT=$(PORT) $(BIN)/gunicorn -c blog/gunicorn.py blog.wsgi

# The performance harness (bench/run.py): its own data in a fresh database,
# server time per page, then gunicorn under wrk, then nginx in front; writes
# bench/results.json. Then bench/scale.py: every page's server time at 10,
# 1,000 and 20,000 posts (200,000 comments); writes bench/scale.json; with
# SCALE_DATABASE_URL (a PostgreSQL database of the bench's own, named
# inkwell_bench...; it is emptied) the same again on PostgreSQL. Then
# bench/subscriptions.py: a new post mailed to 1,000 and 10,000 subscribers
# through the worker (time, peak memory); writes bench/subscriptions.json.
SCALE_DATABASE_URL ?=

bench: install
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } \
	  || { echo "make bench needs Debian's wrk: apt-get install wrk"; exit 1; }
	./.ci/nginx-deps
	$(BIN)/python bench/run.py
	$(BIN)/python bench/scale.py
	@if [ -n "$(SCALE_DATABASE_URL)" ]; then \
	  $(BIN)/python bench/scale.py --database "$(SCALE_DATABASE_URL)"; fi
	$(BIN)/python bench/subscriptions.py
