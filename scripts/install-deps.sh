#!/usr/bin/env bash
# Install what UnlockDesk needs on Debian/Ubuntu, skipping whatever is already present, so a
# second `make run` stays fast. System packages: Tauri's build deps, the run/test tools
# (Xvfb, WebKitWebDriver, poppler, qpdf, sqlite3, CUPS with its virtual PDF printer, PostgreSQL
# for scripts/with-postgres.sh) and a CJK font. npm packages: `npm ci` in ui/.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PKGS="libwebkit2gtk-4.1-dev build-essential curl wget file libxdo-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev pkg-config"
RUN_PKGS="xvfb xauth webkit2gtk-driver xdg-utils imagemagick x11-utils xdotool poppler-utils qpdf sqlite3 fonts-noto-cjk fonts-dejavu-core cups cups-client cups-bsd printer-driver-cups-pdf jq postgresql"

missing=()
for p in $BUILD_PKGS $RUN_PKGS; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs npm); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q -o DPkg::Lock::Timeout=600
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}"
else
  echo "install-deps: system packages present"
fi

command -v cargo >/dev/null 2>&1 || { echo "install-deps: Rust (cargo) is required: https://rustup.rs" >&2; exit 1; }
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "install-deps: Node.js >= 20 is required (found $(node --version))" >&2
  exit 1
fi

# npm packages: reinstall only when the lock file changed since the last install.
stamp=ui/node_modules/.package-lock.stamp
if [ ! -f "$stamp" ] || ! cmp -s ui/package-lock.json "$stamp"; then
  (cd ui && npm ci --no-audit --no-fund)
  cp ui/package-lock.json "$stamp"
else
  echo "install-deps: npm packages present"
fi
