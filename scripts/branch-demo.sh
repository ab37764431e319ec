#!/usr/bin/env bash
# make run-branch: a branch on one machine, to try it out. A throwaway PostgreSQL with the demo
# data, a branch server on it, and two app windows working through that server: a teller's
# counter and a supervisor's desk (each window has its own terminal data directory). Work a case
# in one window and authorize it in the other. Ctrl-C (or closing both windows) stops
# everything and drops the database.
#
#   BRANCH_PORT      the server's port (default 8443)
#   BRANCH_WINDOWS   how many app windows (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z ${UNLOCKDESK_DATABASE_URL:-} ]]; then exec scripts/with-postgres.sh "$0" "$@"; fi
APP=${BRANCH_APP:-target/debug/unlockdesk}
CLI=${BRANCH_CLI:-target/debug/unlockdesk-cli}
SERVER=${BRANCH_SERVER:-target/debug/unlockdesk-server}
for bin in "$APP" "$CLI" "$SERVER"; do
  [[ -x $bin ]] || { echo "run-branch: $bin missing (make run-branch builds it)" >&2; exit 2; }
done
PORT=${BRANCH_PORT:-8443}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/unlockdesk-branch.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# The branch's personal data encrypted at field level under a key file of this run (kept in
# $WORK, removed with it; a real branch keeps its key file apart from the database).
"$CLI" key new --out "$WORK/branch.key" >/dev/null
export UNLOCKDESK_KEY_FILE=$WORK/branch.key
"$CLI" --db "$UNLOCKDESK_DATABASE_URL" demo >/dev/null
"$SERVER" --db "$UNLOCKDESK_DATABASE_URL" --listen "127.0.0.1:$PORT" --data-dir "$WORK/server" \
  >"$WORK/server.out" 2>"$WORK/server.log" &
PIDS+=($!)
for _ in $(seq 300); do grep -q '^UNLOCKDESK_SERVER_READY ' "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^UNLOCKDESK_SERVER_READY //p' "$WORK/server.out")
[[ -n $URL ]] || { echo "run-branch: the server did not start:" >&2; cat "$WORK/server.log" >&2; exit 1; }
echo "branch server: $URL (PostgreSQL: a throwaway cluster; log: $WORK/server.log)"
echo "demo accounts: tel01, tel02 (tellers), sup01, sup02 (supervisors), admin; password Demo#Pass2026"

RUN=()
if [[ -z ${DISPLAY:-} && -z ${WAYLAND_DISPLAY:-} ]]; then
  echo "no display: the windows run under Xvfb (nothing to see; use a desktop session)"
  RUN=(xvfb-run -a -s "-screen 0 1280x800x24")
fi
# Terminals hold no database credentials (nor the branch key): only the server knows the store.
unset UNLOCKDESK_DATABASE_URL UNLOCKDESK_KEY_FILE
APPS=()
for i in $(seq "${BRANCH_WINDOWS:-2}"); do
  case $i in 1) name=teller ;; 2) name=supervisor ;; *) name=desk$i ;; esac
  mkdir -p "$WORK/$name"
  UNLOCKDESK_DATA_DIR=$WORK/$name "${RUN[@]}" "$APP" --data-dir "$WORK/$name" --server "$URL" \
    >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  APPS+=($!)
  echo "window $i ($name): terminal data in $WORK/$name"
done
echo "Ctrl-C stops the windows, the server and the database."
for pid in "${APPS[@]}"; do wait "$pid" 2>/dev/null || true; done
