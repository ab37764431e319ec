#!/usr/bin/env bash
# Drift check for the TypeScript types generated from Rust (ts-rs): regenerate every binding
# of the workspace into a temporary directory and compare it with the committed
# ui/src/lib/bindings. Any difference (changed, new or removed type) fails.
# Regenerate the committed files with: cargo test --workspace export_bindings
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$root"
# An explicit environment variable wins over .cargo/config.toml's [env] default.
TS_RS_EXPORT_DIR="$tmp" cargo test --workspace --quiet export_bindings >"$tmp.log" 2>&1 || {
  cat "$tmp.log" >&2
  rm -f "$tmp.log"
  exit 1
}
rm -f "$tmp.log"
if ! diff -ru "$root/ui/src/lib/bindings" "$tmp"; then
  echo "ui/src/lib/bindings is out of date: run 'cargo test --workspace export_bindings' and commit." >&2
  exit 1
fi
echo "bindings up to date ($(ls "$tmp" | wc -l) files)"
