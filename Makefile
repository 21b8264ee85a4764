# Portal IdP developer commands. `make help` lists them.
# The README's two commands are `make run` and `make test`: keep them working on a fresh machine.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export IDP_INSTANCE_PATH ?= $(CURDIR)/instance
# Development-only client secrets for the shipped registrations in clients/ (make run).
# Production sets its own through the environment; these never leave a developer machine.
export IDP_CLIENT_SECRET_GRADES ?= dev-only-grades-secret-0123456789abcdef
export IDP_CLIENT_SECRET_ATTENDANCE ?= dev-only-attendance-secret-0123456789abcdef
export IDP_CLIENT_SECRET_DISTRICT_REPORTS ?= dev-only-district-reports-secret-0123456789
export IDP_CLIENT_SECRET_LIBRARY ?= dev-only-library-secret-0123456789abcdef

.DEFAULT_GOAL := help
.PHONY: help install fmt lint typecheck translations translations-check compile-translations \
        policy-check db demo clients run portal audit test test-unit test-integration test-sqlite \
        test-postgresql check clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-22s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed compile-translations ## Install app, CLI and test tools into .venv

compile-translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d translations --statistics

fmt: install ## Format the code (ruff)
	$(BIN)/ruff format idp clients tests translations wsgi.py gunicorn.conf.py .ci
	$(BIN)/ruff check --fix idp clients tests translations wsgi.py gunicorn.conf.py .ci

lint: install ## Lint (ruff) without changing files
	$(BIN)/ruff check idp clients tests translations wsgi.py gunicorn.conf.py .ci
	$(BIN)/ruff format --check idp clients tests translations wsgi.py gunicorn.conf.py .ci

typecheck: install ## mypy --strict on idp/ and clients/
	$(BIN)/mypy

translations: install ## Re-extract messages.pot and update the catalogs
	$(BIN)/python translations/check.py --update
	$(MAKE) compile-translations

translations-check: install ## Fail if messages.pot is stale or a catalog is incomplete
	$(BIN)/python translations/check.py

policy-check: install ## Load and validate policies/*.toml
	$(BIN)/idp policies check

db: install ## Create or upgrade the database schema
	$(BIN)/idp db upgrade

demo: db ## Load the demo district (idempotent)
	$(BIN)/idp demo load

clients: db ## Register the relying parties of clients/*.toml
	$(BIN)/idp clients sync

# The sample portal apps (clients/sample_portal/) listen where clients/grades.toml and
# clients/attendance.toml register them, and find the provider at IDP_ISSUER (default :5000).
PORTAL_URLS := Grades on http://127.0.0.1:5001/, Attendance on http://127.0.0.1:5002/
PORTAL := $(BIN)/python -m clients.sample_portal

run: demo clients ## Serve the provider with demo data on http://127.0.0.1:5000, the sample apps beside it
	@echo "Portal IdP on http://$(HOST):$(PORT)/ (Ctrl+C to stop); outbox worker alongside"
	@echo "Sample portal apps: $(PORTAL_URLS)"
	$(BIN)/idp worker & worker=$$!; \
	$(PORTAL) --app grades & grades=$$!; \
	$(PORTAL) --app attendance & attendance=$$!; \
	trap "kill $$worker $$grades $$attendance" EXIT INT TERM; \
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers 2 --access-logfile - wsgi:app

portal: install ## Only the sample portal apps (Grades, Attendance), for a provider already running
	@echo "Sample portal apps: $(PORTAL_URLS) (Ctrl+C to stop)"
	$(PORTAL) --app grades & grades=$$!; trap "kill $$grades" EXIT INT TERM; \
	$(PORTAL) --app attendance

test-unit: install ## Unit tests only
	$(BIN)/python -m pytest tests/unit -q

test-sqlite: install ## All tests on SQLite, with branch coverage
	$(BIN)/python -m pytest -q --db sqlite --cov=idp --cov-branch --cov-report=term-missing:skip-covered --cov-fail-under=90

test-postgresql: install ## Integration tests on a throwaway PostgreSQL database
	$(BIN)/python -m pytest tests/integration -q --db postgresql

test-integration: test-sqlite test-postgresql ## Integration tests on both databases

# pip-audit on the installed packages (the project itself, installed editable, is skipped). A known
# vulnerability fails; an advisory service that cannot be reached is a WARNING, not a failure
# (.ci/audit_dependencies.py says how it tells them apart). AUDIT_SERVICE=pypi asks PyPI instead.
AUDIT_SERVICE ?= osv
audit: install ## Known vulnerabilities in the installed packages (pip-audit; offline-safe)
	$(BIN)/python .ci/audit_dependencies.py --service $(AUDIT_SERVICE)

test: lint typecheck policy-check translations-check audit test-sqlite test-postgresql ## Everything CI runs

check: test ## Alias of test: what CI runs

clean: ## Remove the virtualenv, caches and the development instance
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage instance
