# ppa-bot: two commands do everything on a fresh machine with Python 3.11+.
#   make run   create .venv, install, migrate, import regions, run the bot (SQLite by default)
#   make test  create .venv, install with dev extras, lint, type-check and run every test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test test-slow lint typecheck bench screenshots i18n-extract i18n-update schema clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP) $@

run: $(STAMP)
	$(BIN)/ppa-bot run

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

test: $(DEV_STAMP) lint typecheck
	$(BIN)/pytest

test-slow: $(DEV_STAMP)
	$(BIN)/pytest -m slow

bench: $(DEV_STAMP)
	$(BIN)/python -m bench

# The guides' pictures (docs/img/*.png), drawn from the bot's real messages in test scenarios.
# Run again after the bot's texts or buttons change. Colour emoji need a system emoji font
# (Debian: apt-get install fonts-noto-color-emoji); without one they are drawn plain.
screenshots: $(DEV_STAMP)
	$(BIN)/python -m tests.screenshots docs/img

# Translators: extract new messages, then merge them into id and en catalogues.
i18n-extract: $(DEV_STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ --no-location --sort-output \
	  --project ppa-bot -o bot/locales/ppa_bot.pot .

i18n-update: i18n-extract
	$(BIN)/pybabel update -i bot/locales/ppa_bot.pot -d bot/locales -D ppa_bot --no-fuzzy-matching

# Before the first release the schema is one migration, regenerated from the models.
schema: $(DEV_STAMP)
	rm -f models/migrations/versions/0001_initial_schema.py
	tmp=$$(mktemp -d) && $(BIN)/python -c "import sys; from alembic import command; \
	  from bot.db import alembic_config; command.revision(alembic_config(sys.argv[1]), \
	  message='initial schema', autogenerate=True, rev_id='0001')" "sqlite+aiosqlite:///$$tmp/s.db"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
