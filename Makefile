# Quick start: `make run` (demo server on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000

.PHONY: install run demo-reset test lint bench messages

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $@

# A local .env with a fresh random webhook secret for every configured provider (config/demo_env.py), so the
# demo can sign its own deliveries.
.env:
	$(BIN)/python -m config.demo_env

run: install .env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py setup_demo --address $(HOST)
	$(BIN)/python manage.py runserver $(HOST)

# The demo from scratch (after its erasure, say): its SQLite database is deleted and made again. Refused when
# DATABASE_URL points elsewhere (in the environment or .env): that database is not the demo's to drop.
demo-reset: install .env
	@if [ -n "$$DATABASE_URL" ] || grep -q '^DATABASE_URL=' .env; then \
	  echo "demo-reset only resets the demo's SQLite database; DATABASE_URL is set" >&2; exit 1; fi
	rm -f db.sqlite3
	$(MAKE) run

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

# The ingest benchmark against the floor (needs PostgreSQL and wrk; see docs/performance.md).
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# After changing translatable strings: refresh locale/pt_BR/LC_MESSAGES/django.po, translate the new
# entries there, then `make messages` again to compile the .mo (both are committed; docs/admin.md).
# References name files without line numbers, so an unchanged tree leaves both files byte for byte as
# they are (msgmerge keeps the header's date when nothing else changed); tests/config/test_translations.py
# runs this same makemessages line.
messages: install
	$(BIN)/python manage.py makemessages -l pt_BR --ignore=.venv --ignore=tests --ignore=bench --no-obsolete --add-location=file
	$(BIN)/python manage.py compilemessages -l pt_BR --ignore=.venv
