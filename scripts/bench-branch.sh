#!/usr/bin/env bash
# Branch terminal benchmarks (issue 15 item 5), release builds:
#  1. start-up to a usable sign-in screen as a branch terminal against the app alone, in the
#     same run (scripts/bench_app.py, its branch rows);
#  2. a counter step's round trip as the window sees it, p50/p99 over 200 steps, alone and
#     through the branch server on a throwaway PostgreSQL (tests/e2e/z-bench-round-trip.spec.mjs
#     under scripts/e2e.sh, which starts and stops the cluster and the server).
# Prints the numbers; never fails on them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >/dev/null
(cd ui && npm run tauri -- build --no-bundle)
cargo build --release -p unlockdesk-cli -p unlockdesk-server
cargo build --release -p unlockdesk-empty-window --features custom-protocol
T=${CARGO_TARGET_DIR:-target}/release
# Start-up: the server of the branch rows serves the embedded demo store (nothing is read from
# the store before the sign-in screen).
env -u UNLOCKDESK_DATABASE_URL python3 scripts/bench_app.py
export E2E_APP=$T/unlockdesk E2E_CLI=$T/unlockdesk-cli E2E_SERVER=$T/unlockdesk-server E2E_BENCH=1
OUT=$(mktemp -d)
for mode in alone branch; do
  E2E_MODE=$mode E2E_BENCH_OUT=$OUT/$mode.json scripts/e2e.sh tests/e2e/z-bench-round-trip.spec.mjs \
    | grep '^# BENCH' || true
done
echo "round trip of one counter step (ms), $(date -u +%FT%TZ):"
for mode in alone branch; do echo "  $mode: $(cat "$OUT/$mode.json" 2>/dev/null || echo 'no result')"; done
rm -rf "$OUT"
