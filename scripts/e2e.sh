#!/usr/bin/env bash
# End-to-end specs against the built debug app (target/debug/unlockdesk) in a real WebKit window:
# Xvfb + tauri-driver + WebKitWebDriver, specs in plain Node (tests/e2e/*.spec.mjs).
#
#   scripts/e2e.sh                     run all specs (build the app first: cd ui && npm run app:build)
#   scripts/e2e.sh tests/e2e/x.spec.mjs   run some specs
#   E2E_SCREENSHOTS=docs/screenshots scripts/e2e.sh   also save PNGs of each screen
#
# Each run gets its own UNLOCKDESK_DATA_DIR; the run fails if the real app data directory
# (~/.local/share/org.unlockdesk.desk) was created or changed meanwhile.
#
#   E2E_MODE=branch scripts/e2e.sh     the same specs with the app as a branch terminal: a
#     throwaway PostgreSQL (scripts/with-postgres.sh), the demo loaded into it, an
#     unlockdesk-server on it (loopback, self-signed TLS), and the app and the specs' CLI
#     working through that server (UNLOCKDESK_SERVER, UNLOCKDESK_SERVER_FINGERPRINT)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MODE=${E2E_MODE:-alone}
case $MODE in
  alone) ;;
  branch)
    if [[ -z ${UNLOCKDESK_DATABASE_URL:-} ]]; then exec scripts/with-postgres.sh "$0" "$@"; fi ;;
  *) echo "e2e: E2E_MODE is alone or branch, not '$MODE'" >&2; exit 2 ;;
esac
export E2E_MODE=$MODE

APP=${E2E_APP:-$ROOT/target/debug/unlockdesk}
CLI=${E2E_CLI:-$ROOT/target/debug/unlockdesk-cli}
SERVER=${E2E_SERVER:-$ROOT/target/debug/unlockdesk-server}
SIM=${E2E_SIM:-$ROOT/target/debug/unlockdesk-operator-sim}
BINS=("$APP" "$CLI" "$SERVER" "$SIM")
for bin in "${BINS[@]}"; do
  [[ -x $bin ]] || { echo "e2e: $bin missing: build it (cd ui && npm run app:build; make cli-for-tests builds the CLI, the server and the operator simulator)" >&2; exit 2; }
done
for tool in Xvfb WebKitWebDriver node; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool missing (apt-get install xvfb webkit2gtk-driver; node 20)" >&2; exit 2; }
done
if ! command -v tauri-driver >/dev/null; then
  [[ -x $HOME/.cargo/bin/tauri-driver ]] || cargo install tauri-driver --locked
  export PATH=$HOME/.cargo/bin:$PATH
fi

REAL=${XDG_DATA_HOME:-$HOME/.local/share}/org.unlockdesk.desk
snapshot() { if [[ -e $REAL ]]; then find "$REAL" -printf '%p %s %T@\n' | sort; else echo absent; fi; }
BEFORE=$(snapshot)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/unlockdesk-e2e.XXXXXX")
export UNLOCKDESK_DATA_DIR=$WORK/data UNLOCKDESK_NO_VIEWER=1 TAURI_WEBVIEW_AUTOMATION=true
mkdir -p "$UNLOCKDESK_DATA_DIR" "$WORK/bin"
# Pin the binaries for the whole run: another build in the shared target dir may replace them.
for bin in "${BINS[@]}"; do ln "$bin" "$WORK/bin/" 2>/dev/null || cp "$bin" "$WORK/bin/"; done
export E2E_APP=$WORK/bin/$(basename "$APP") E2E_CLI=$WORK/bin/$(basename "$CLI") E2E_SERVER=$WORK/bin/$(basename "$SERVER")
export E2E_SIM=$WORK/bin/$(basename "$SIM")
CLI=$E2E_CLI
# The stores are encrypted at rest (SQLCipher alone; field encryption on the server's
# PostgreSQL) under one key file for the whole run; the passphrase spec starts its own app
# without it.
"$CLI" key new --out "$WORK/branch.key" >/dev/null
export UNLOCKDESK_KEY_FILE=$WORK/branch.key

PIDS=()
cleanup() {
  local rc=$?
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill "${PIDS[i]}" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -n ${STOP_CUPS:-} ]] && scripts/cups-test.sh stop
  rm -rf "$WORK/bin"
  if [[ $rc -ne 0 ]]; then
    echo "e2e: logs kept in $WORK (driver.log, xvfb.log, data/)" >&2
  elif [[ -z ${E2E_KEEP:-} ]]; then
    rm -rf "$WORK"
  fi
  exit $rc
}
trap cleanup EXIT INT TERM

# The app prints on a real CUPS queue (Debian's virtual PDF printer), as a counter does (set before
# the driver starts: the app inherits the driver's environment); the
# specs find the printed PDFs in UNLOCKDESK_TEST_PRINT_DIR.
eval "$(scripts/cups-test.sh start)"
STOP_CUPS=1
export UNLOCKDESK_PRINTER=$UNLOCKDESK_TEST_PRINTER UNLOCKDESK_TEST_PRINTER UNLOCKDESK_TEST_PRINT_DIR

# Branch mode: the demo goes into the PostgreSQL store, and a branch server serves it. The app
# and the specs' CLI inherit UNLOCKDESK_SERVER (set before the driver starts).
if [[ $MODE == branch ]]; then
  "$CLI" --db "$UNLOCKDESK_DATABASE_URL" demo >"$WORK/demo.log" 2>&1
  mkdir -p "$WORK/server"
  "$E2E_SERVER" --db "$UNLOCKDESK_DATABASE_URL" --listen 127.0.0.1:0 --tls-self-signed \
    --data-dir "$WORK/server" >"$WORK/server.out" 2>"$WORK/server.log" &
  PIDS+=($!)
  for _ in $(seq 300); do grep -q '^UNLOCKDESK_SERVER_READY ' "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
  URL=$(sed -n 's/^UNLOCKDESK_SERVER_READY //p' "$WORK/server.out")
  FP=$(sed -n 's/^certificate SHA-256 fingerprint: //p' "$WORK/server.out")
  [[ -n $URL && -n $FP ]] || { echo "e2e: the branch server did not start:" >&2; cat "$WORK/server.log" >&2; exit 1; }
  export UNLOCKDESK_SERVER=$URL UNLOCKDESK_SERVER_FINGERPRINT=$FP
  # Terminals hold no database credentials: only the server (and a spec that starts another
  # server on the same store, E2E_DATABASE_URL) knows the store.
  export E2E_DATABASE_URL=$UNLOCKDESK_DATABASE_URL
  unset UNLOCKDESK_DATABASE_URL
  echo "e2e: branch mode: server $URL on a throwaway PostgreSQL"
fi

# A free display number.
DISP=${E2E_DISPLAY:-99}
while [[ -e /tmp/.X$DISP-lock || -e /tmp/.X11-unix/X$DISP ]]; do DISP=$((DISP + 1)); done
Xvfb ":$DISP" -screen 0 1280x800x24 -nolisten tcp >"$WORK/xvfb.log" 2>&1 &
PIDS+=($!)
export DISPLAY=:$DISP
for _ in $(seq 50); do [[ -e /tmp/.X11-unix/X$DISP ]] && break; sleep 0.1; done

# A free pair of ports for tauri-driver and WebKitWebDriver (two runs at once must not meet
# on one driver): from 4444 up, skipping ports something already listens on.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=${E2E_PORT:-4444}
if [[ -z ${E2E_PORT:-} ]]; then
  while port_busy "$PORT" || port_busy "$((PORT + 1))"; do PORT=$((PORT + 2)); done
fi
tauri-driver --port "$PORT" --native-port "$((PORT + 1))" >"$WORK/driver.log" 2>&1 &
PIDS+=($!)
export E2E_DRIVER_PID=$! E2E_DRIVER_URL=http://127.0.0.1:$PORT
for _ in $(seq 100); do
  curl -sf --max-time 1 "$E2E_DRIVER_URL/status" >/dev/null 2>&1 && break
  # tauri-driver answers /status only with a session; a refused connection means not up yet
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done

# The demo branch, staff and today's appointments, through the real use cases (branch mode:
# loaded into PostgreSQL above).
[[ $MODE == branch ]] || "$CLI" demo >"$WORK/demo.log" 2>&1

START=$(date +%s)
set +e
if [[ $# -gt 0 ]]; then SPECS=("$@"); else SPECS=(tests/e2e/*.spec.mjs); fi
node --test --test-concurrency=1 --test-timeout=240000 "${SPECS[@]}"
RC=$?
set -e
echo "e2e: specs ($MODE) finished in $(($(date +%s) - START)) s (rc=$RC)"

AFTER=$(snapshot)
if [[ $BEFORE != "$AFTER" ]]; then
  echo "e2e: FAIL: the real app data directory $REAL was created or changed during the run:" >&2
  diff <(echo "$BEFORE") <(echo "$AFTER") >&2 || true
  RC=1
fi
exit $RC
