# UnlockDesk: the one list of developer commands.
#   make run    install what is missing, build, start the app (platform data dir or $UNLOCKDESK_DATA_DIR)
#   make test   every test: lint (fmt, clippy, line width, svelte-check), Rust (unit, conformance
#               on SQLite and a throwaway PostgreSQL, integration, CLI, IPC on a real CUPS),
#               UI (Vitest, bindings drift), e2e
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo
APP := target/debug/unlockdesk

.PHONY: help deps build build-app build-cli cli-for-tests run run-branch run-release test test-rust test-pg test-ui test-e2e lint fmt bench bench-app bench-branch bindings deb clean-e2e

help:
	@echo "make run | run-branch | test | test-rust | test-ui | test-e2e | lint | fmt | bench | bench-app | bench-branch | deb"

deps:
	scripts/install-deps.sh

build-cli:
	$(CARGO) build -p unlockdesk-cli

# A debug build that serves the bundled UI (not the dev server): tauri build --debug.
build-app: deps
	cd ui && npm run app:build

build: build-cli build-app

run: build
	@echo "Starting UnlockDesk (data: $${UNLOCKDESK_DATA_DIR:-~/.local/share/org.unlockdesk.desk})"
	@if [ -n "$$DISPLAY" ] || [ -n "$$WAYLAND_DISPLAY" ]; then $(APP); \
	else echo "no display: running under Xvfb"; xvfb-run -a -s "-screen 0 1280x800x24" $(APP); fi

# A branch on this machine: PostgreSQL, the server and two windows (a teller's, a supervisor's).
run-branch: build
	$(CARGO) build -p unlockdesk-server
	scripts/branch-demo.sh

test: deps lint test-rust test-ui test-e2e

# The ts-rs exports run as tests: write them to a temp dir (never over the committed files) and
# diff, so a Rust type changed without regenerating ui/src/lib/bindings fails here.
# The store conformance suite runs on SQLite files and on a throwaway PostgreSQL cluster
# (scripts/with-postgres.sh: pg_virtualenv, works as root, dropped whatever the exit).
# Printing is tested on a real CUPS with Debian's virtual PDF printer (scripts/cups-test.sh
# starts cupsd unless one runs, and stops only the one it started).
# The CLI suite (tests/cli.rs, tests/appointments.rs) then runs once more with every test's
# store a fresh database on a throwaway cluster (UNLOCKDESK_CLI_TEST_STORE=postgres): about 20 s,
# 3 of them the cluster's own start and removal. Then tests/cli.rs once more through a branch
# server per test database (UNLOCKDESK_CLI_TEST_STORE=server, issue 14), about 20 s, and
# schemathesis over the server's OpenAPI document (scripts/fuzz-server.sh), about 2 minutes.
# The decision race on PostgreSQL runs 5,000 rounds (10,000 racing attempts, issue 13; about
# 90 s on two cores, a minute of it preparing the cases); a plain `cargo test` runs 200.
# Test data never touches real data: the run fails if the real data directory changed.
# Every cargo test here selects the whole workspace, so cargo resolves one feature set and
# builds each crate once: `-p unlockdesk-cli` alone resolved another and rebuilt ~185 crates
# (5 minutes on CI's two cores), as did the fuzzer's and the e2e's own `cargo build` of the
# server and the CLI. The later runs pick their tests with `--test`, the fuzzer and the e2e
# use the binaries the test build made (target/debug/unlockdesk-server, -cli).
WORKSPACE := --workspace --exclude unlockdesk-empty-window
REAL_DATA := $${XDG_DATA_HOME:-$$HOME/.local/share}/org.unlockdesk.desk
SNAPSHOT_REAL = if [ -e "$(REAL_DATA)" ]; then find "$(REAL_DATA)" -printf '%p %s %T@\n' | sort; else echo absent; fi
test-rust:
	@before=$$($(SNAPSHOT_REAL)); \
	eval "$$(scripts/cups-test.sh start)"; trap 'scripts/cups-test.sh stop' EXIT; \
	export UNLOCKDESK_REQUIRE_CUPS=1 UNLOCKDESK_REQUIRE_PG=1; \
	export UNLOCKDESK_RACE_ROUNDS=$${UNLOCKDESK_RACE_ROUNDS:-5000}; \
	tmp=$$(mktemp -d); \
	TS_RS_EXPORT_DIR=$$tmp scripts/with-postgres.sh $(CARGO) test $(WORKSPACE) --no-fail-fast || { rm -rf $$tmp; exit 1; }; \
	if ! diff -ru ui/src/lib/bindings $$tmp; then rm -rf $$tmp; \
	  echo "ui/src/lib/bindings is out of date: run 'make bindings' and commit" >&2; exit 1; fi; \
	rm -rf $$tmp; echo "bindings up to date"; \
	UNLOCKDESK_CLI_TEST_STORE=postgres scripts/with-postgres.sh \
	  $(CARGO) test $(WORKSPACE) --test cli --test appointments || exit 1; \
	UNLOCKDESK_CLI_TEST_STORE=server scripts/with-postgres.sh \
	  $(CARGO) test $(WORKSPACE) --test cli || exit 1; \
	FUZZ_NO_BUILD=1 scripts/fuzz-server.sh || exit 1; \
	if [ "$$before" != "$$($(SNAPSHOT_REAL))" ]; then \
	  echo "test-rust: the real data directory $(REAL_DATA) was created or changed by a test" >&2; exit 1; fi

test-ui:
	cd ui && npm run check && npm test

# The CLI (the e2e seeds its stores with it) and the branch server as the test build makes
# them: after test-rust a no-op, where `cargo build -p unlockdesk-cli` would rebuild for
# another feature set.
cli-for-tests:
	$(CARGO) test $(WORKSPACE) --no-run -q

# The specs twice: the app alone on its embedded store, then as a branch terminal through a
# branch server on a throwaway PostgreSQL (scripts/e2e.sh starts and stops both).
test-e2e: cli-for-tests build-app
	scripts/e2e.sh
	E2E_MODE=branch scripts/e2e.sh

lint:
	$(CARGO) fmt --all -- --check
	python3 scripts/check-line-width.py
	$(CARGO) clippy $(WORKSPACE) --all-targets -- -D warnings
	cd ui && npm run check

fmt:
	$(CARGO) fmt --all

# The PostgreSQL adapter alone, on its own throwaway cluster.
test-pg:
	scripts/with-postgres.sh $(CARGO) test -p unlockdesk-store-pg

bench:
	$(CARGO) bench -p unlockdesk-core --bench identity
	$(CARGO) bench -p unlockdesk-forms
	$(CARGO) bench -p unlockdesk-store
	scripts/with-postgres.sh $(CARGO) bench -p unlockdesk-store-pg --bench branch
	# 32 terminals through the release branch server (cargo bench builds it first), about 3
	# minutes: docs/server-benchmarks.md.
	scripts/with-postgres.sh $(CARGO) bench -p unlockdesk-server --bench load
	# The wallet operator's connector against its simulator: no faults, 30 % faults (≈ 1 min).
	$(CARGO) bench -p unlockdesk-operator-sim --bench connector
	# The authorization desk's live latency: 200 requests, 8 terminals, two servers.
	scripts/with-postgres.sh $(CARGO) bench -p unlockdesk-server --bench desk

bench-app:
	scripts/bench-app.sh

# Branch terminal: start-up against alone, and a counter step's round trip through the server.
bench-branch:
	scripts/bench-branch.sh

bindings:
	$(CARGO) test --workspace export_bindings

deb: deps
	cd ui && npm run tauri -- build --bundles deb
