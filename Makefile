# The two commands that matter: `make run` and `make test` (see README.md).
SHELL := /bin/bash
UV_VERSION := 0.13.9
BUF_VERSION := 1.75.0
# uv from PATH, else the one pip installs (python3 -m uv works wherever pip put it).
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
BUF := .tools/node_modules/.bin/buf

.PHONY: help install stores-tools run test test-fast proto proto-check lint bench deploy-check clean

help:
	@echo "make run          start stores, services and gateway with demo data (Ctrl-C stops)"
	@echo "make test         install what is needed and run every test against real FerretDB and Redis"
	@echo "make bench        seed 100,000 customers and measure (writes bench/results/); SUITE=customer for one suite"
	@echo "make proto        regenerate Python code from proto/"
	@echo "make lint         buf lint + generated code up to date"

# uv, the locked virtual environment, FerretDB (built once into .tools/) and redis-server.
install:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen --all-packages
	bash tools/build-ferretdb.sh
	@command -v redis-server >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null); \
	  else echo "redis-server is missing: sudo apt-get install redis-server" >&2; exit 1; fi; }
	@# Debian starts a system redis on :6379; ours run on their own ports, so stop it to save memory.
	@-[ "$$(id -u)" = 0 ] && command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null && systemctl stop redis-server || true

run: install
	$(UV) run crm run

test: install proto-check
	$(UV) run pytest

test-fast:
	$(UV) run pytest tests/unit tests/service tests/gateway

proto: install
	$(UV) run python tools/protogen.py

proto-check: install
	$(UV) run python tools/protogen.py --check

$(BUF):
	npm install --silent --no-save --no-package-lock --prefix .tools @bufbuild/buf@$(BUF_VERSION)

lint: $(BUF) proto-check
	$(BUF) lint proto

# SUITE=customer runs one suite (bench/suites/); every run measures the floors too.
SUITE ?= all
bench: install
	$(UV) run python bench/run.py --suite $(SUITE)

deploy-check:
	bash deploy/validate.sh

clean:
	rm -rf .venv .pytest_cache var/bench
