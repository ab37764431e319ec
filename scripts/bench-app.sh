#!/usr/bin/env bash
# make bench-app: release builds of the app (with its .deb) and of the empty-window fixture,
# then scripts/bench_app.py measures start-up and memory of both under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >/dev/null
(cd ui && npm run tauri -- build --bundles deb)
cargo build --release -p unlockdesk-cli
cargo build --release -p unlockdesk-empty-window --features custom-protocol
python3 scripts/bench_app.py
