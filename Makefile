# Thin wrappers around scripts/ (which work without make, too).
#   make test [ARGS="-k store -x"]   install, lint, types, tests (scripts/test)
#   make lint                        ruff check, ruff format --check, mypy
#   make demo [ARGS=...]             install and run `deskpulse demo` (scripts/demo)
#   make bench [BENCH=benchmarks/x.py] [BENCH_ARGS=...]
#                                    every benchmarks/*.py (not _*.py) with the venv, beside a
#                                    throwaway PostgreSQL 15 (DESKPULSE_BENCH_POSTGRES_URL)
#   make venv                        just the dev install

SHELL := bash
ARGS ?=
BENCH ?= $(sort $(filter-out benchmarks/_%,$(wildcard benchmarks/*.py)))
BENCH_ARGS ?=

.PHONY: help test lint demo bench venv

help:
	@sed -n '2,9p' Makefile | sed 's/^# \{0,1\}//'

test:
	bash scripts/test $(ARGS)

lint:
	bash scripts/test --lint-only

demo:
	bash scripts/demo $(ARGS)

venv:
	bash scripts/lib/venv.sh dev

bench: venv
	@if [ -z "$(strip $(BENCH))" ]; then echo "make bench: no benchmarks/*.py yet"; exit 0; fi; \
	bash scripts/postgres run -- bash -c 'set -e; export DESKPULSE_BENCH_POSTGRES_URL="$$DESKPULSE_TEST_POSTGRES_URL"; \
	  for f in "$$@"; do echo "==> $$f"; start=$$SECONDS; .venv/bin/python "$$f" $(BENCH_ARGS); \
	  echo "<== $$f: $$((SECONDS - start))s"; done' bench $(BENCH)
