#!/usr/bin/env bash
# README screenshots, taken by the e2e run in the real window under Xvfb (so they stay current):
# each screen of the flow as docs/screenshots/NAME.png. Build the app first (cd ui && npm run app:build).
set -euo pipefail
cd "$(dirname "$0")/.."
E2E_SCREENSHOTS=docs/screenshots exec scripts/e2e.sh "$@"
