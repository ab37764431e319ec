# UnlockDesk: the one list of developer commands.
#   make run    install what is missing, build, start the app (platform data dir or $UNLOCKDESK_DATA_DIR)
#   make test   every test: Rust (unit, integration, CLI), UI (type check, Vitest, bindings drift), e2e
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo
APP := target/debug/unlockdesk

.PHONY: help deps build build-app build-cli run run-release test test-rust test-ui test-e2e lint fmt bench bench-app bindings deb clean-e2e

help:
	@echo "make run | test | test-rust | test-ui | test-e2e | lint | fmt | bench | bench-app | deb"

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

test: deps test-rust test-ui test-e2e

test-rust:
	$(CARGO) test --workspace --no-fail-fast

test-ui:
	cd ui && npm run check && npm test
	ui/scripts/check-bindings.sh

test-e2e: build
	scripts/e2e.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	cd ui && npm run check

fmt:
	$(CARGO) fmt --all

bench:
	$(CARGO) bench -p unlockdesk-core --bench identity
	$(CARGO) bench -p unlockdesk-forms
	$(CARGO) bench -p unlockdesk-store

bench-app:
	scripts/bench-app.sh

bindings:
	$(CARGO) test --workspace export_bindings

deb: deps
	cd ui && npm run tauri -- build --bundles deb
