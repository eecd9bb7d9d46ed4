# Vårdflöde: `make run` serves the product, `make test` runs the whole suite. Both set up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 5000
# Test processes: one per core (each with its own database); TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= auto
export FLASK_APP := app

.PHONY: run test bench setup setup-test db lint clean translations

$(VENV)/.run-deps: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $@

# The test tools (pytest, Playwright's Python driver, ruff, …) on top of the run dependencies.
$(VENV)/.test-deps: $(VENV)/.run-deps pyproject.toml
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# Front-end libraries from npm, exactly as package-lock.json pins them (never vendored, no CDN).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The English catalogs (app/translations and app/<package>/translations), compiled for Flask-Babel;
# the .mo files are build output, not in git.
CATALOGS := $(wildcard app/translations app/*/translations)
PO_FILES := $(wildcard app/translations/*/LC_MESSAGES/messages.po app/*/translations/*/LC_MESSAGES/messages.po)
app/translations/.compiled: $(VENV)/.run-deps $(PO_FILES)
	for dir in $(CATALOGS); do $(VENV)/bin/pybabel -q compile --use-fuzzy -d $$dir || exit 1; done
	touch $@

# After changing texts: extract each area's texts into its catalog, then translate the new entries.
# A package with its own catalog is left out of the shell's.
OWN_CATALOG_PACKAGES := $(patsubst app/%/translations,%,$(wildcard app/*/translations))
translations: $(VENV)/.run-deps
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k lazy_gettext -k _l --no-location --sort-output \
		--ignore-dirs="$(OWN_CATALOG_PACKAGES) translations" -o app/translations/messages.pot app
	$(VENV)/bin/pybabel -q update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching --ignore-obsolete
	for package in $(OWN_CATALOG_PACKAGES); do \
		$(VENV)/bin/pybabel -q extract -F babel.cfg -k lazy_gettext -k _l --no-location --sort-output \
			-o app/$$package/translations/messages.pot app/$$package && \
		$(VENV)/bin/pybabel -q update -i app/$$package/translations/messages.pot -d app/$$package/translations \
			--no-fuzzy-matching --ignore-obsolete || exit 1; \
	done

setup: $(VENV)/.run-deps node_modules/.installed app/translations/.compiled

setup-test: $(VENV)/.test-deps node_modules/.installed app/translations/.compiled

# Migrations, demo data (on a new database it deploys processes/ as of the demo cases' morning),
# then processes/ again (changed files become new versions); safe to run again.
db: setup
	VARDFLODE_DEV_LOGIN=1 $(VENV)/bin/flask db upgrade
	$(VENV)/bin/flask demo seed
	$(VENV)/bin/flask processes deploy

run: db
	PORT=$(PORT) VARDFLODE_DEV_LOGIN=1 VARDFLODE_DEV_CLOCK_CONTROL=1 $(PY) -m app.devserver

test: setup-test
	$(VENV)/bin/ruff check app tasks tests bench
	$(VENV)/bin/ruff format --check app tasks tests bench
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: setup-test
	$(PY) -m bench

lint: setup-test
	$(VENV)/bin/ruff check app tasks tests bench
	$(VENV)/bin/ruff format --check app tasks tests bench

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache
