#!/usr/bin/env bash
# Fuzz the branch server from its own OpenAPI document with schemathesis.
#
#   scripts/fuzz-server.sh            # builds the server and the CLI first (cargo, debug)
#
# A branch with demo data on an embedded store in a temporary directory, a server on a free
# loopback port, then schemathesis against GET /api/v1/openapi.json in six runs (the main
# operations as admin and as a teller, then each route that can end its own session, alone:
# see MAIN below); the script exits non-zero on any failure of any run or any panic of the
# server, and leaves no process or file behind. About 90 s on 2 cores once installed.
#
# Environment: FUZZ_EXAMPLES (test cases per operation, default 100), FUZZ_SEED (a fixed seed
# to replay a run), FUZZ_NO_BUILD=1 (use target/debug as it is), UNLOCKDESK_FUZZ_VENV (where
# schemathesis is installed, default ~/.cache/unlockdesk/schemathesis-<version>-py<python>).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

ST_VERSION=4.32.5
EXAMPLES=${FUZZ_EXAMPLES:-100}
# pip as root (CI) warns that it may break the system's packages; it installs into our own
# virtual environment only, so the warning says nothing here.
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
# No telemetry, no colour codes in CI logs.
export SCHEMATHESIS_TELEMETRY=false NO_COLOR=1

start=$(date +%s)
say() { echo "fuzz-server: $*"; }

# ---------------------------------------------------------------- schemathesis, once
# The interpreter: CPython before 3.11.8 and 3.12.2 miscounts its AST recursion depth after a
# deep parse (CPython issue 106905), and hypothesis parses schemathesis's own sources deep in
# a test: "SystemError: AST constructor recursion depth mismatch" fails a run at random. So
# the newest fixed one there is: on PATH, else one of pyenv's, else python3 with a warning.
fixed='import sys; v = sys.version_info[:3]
sys.exit(0 if v >= (3, 13) or (3, 12, 2) <= v < (3, 13) or (3, 11, 8) <= v < (3, 12) else 1)'
PY=""
for c in python3.14 python3.13 \
  $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[1-9]*/bin/python3 2>/dev/null | sort -rV) \
  python3; do
  if "$c" -c "$fixed" >/dev/null 2>&1; then PY=$(command -v "$c"); break; fi
done
if [ -z "$PY" ]; then
  PY=$(command -v python3)
  say "warning: $("$PY" --version) has CPython issue 106905: a run may fail with" \
    "'AST constructor recursion depth mismatch' (use Python >= 3.11.8, 3.12.2 or 3.13)"
fi
PY_VERSION=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/unlockdesk
VENV=${UNLOCKDESK_FUZZ_VENV:-$CACHE/schemathesis-$ST_VERSION-py$PY_VERSION}

# The stamp is written after a complete install: an interrupted one is redone, a complete
# one is reused by every later run.
if [ ! -f "$VENV/.installed-$ST_VERSION" ]; then
  say "installing schemathesis $ST_VERSION with $("$PY" --version) into $VENV"
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  if ! "$PY" -m venv "$VENV" 2>/dev/null; then
    # Debian's python3 keeps venv (and ensurepip) in a package of its own.
    rm -rf "$VENV"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -q -o DPkg::Lock::Timeout=600
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
      -o DPkg::Lock::Timeout=600 python3-venv
    "$PY" -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install -q "schemathesis==$ST_VERSION"
  touch "$VENV/.installed-$ST_VERSION"
fi
ST="$VENV/bin/schemathesis"
say "$("$ST" --version) on $("$VENV/bin/python" --version)"

# ---------------------------------------------------------------- the server
if [ "${FUZZ_NO_BUILD:-}" != 1 ]; then
  cargo build -q -p unlockdesk-server -p unlockdesk-cli
fi
SERVER=$ROOT/target/debug/unlockdesk-server
CLI=$ROOT/target/debug/unlockdesk-cli

TMP=$(mktemp -d "${TMPDIR:-/tmp}/unlockdesk-fuzz.XXXXXX")
SERVER_PID=""
cleanup() {
  local rc=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -f "$TMP/server.log" ]; then
    echo "fuzz-server: the server's last log lines:" >&2
    tail -n 30 "$TMP/server.log" >&2 || true
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

DB=$TMP/branch.db
export UNLOCKDESK_DATA_DIR=$TMP/data
"$CLI" --db "$DB" demo >"$TMP/demo.out" 2>&1 || { cat "$TMP/demo.out" >&2; exit 1; }
# The fuzzer's generated wrong passwords are not an attack: the per-address flood limit (tested
# in crates/server/tests/http.rs) would refuse the next run's sign-in with 429.
UNLOCKDESK_FLOOD_FAILURES=1000000 UNLOCKDESK_LOG=warn "$SERVER" --db "$DB" --listen 127.0.0.1:0 --data-dir "$TMP/data" \
  >"$TMP/server.out" 2>"$TMP/server.log" &
SERVER_PID=$!
URL=""
for _ in $(seq 1 300); do
  URL=$(sed -n 's/^UNLOCKDESK_SERVER_READY //p' "$TMP/server.out")
  [ -n "$URL" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "fuzz-server: the server stopped" >&2; exit 1; }
  sleep 0.1
done
[ -n "$URL" ] || { echo "fuzz-server: the server did not become ready in 30 s" >&2; exit 1; }
SPEC=$URL/api/v1/openapi.json
say "server at $URL"

# POST /api/v1/sessions as $1 with password $2: the session token.
sign_in() {
  curl -sS --fail-with-body -H 'Content-Type: application/json' \
    -d "{\"staff_id\":\"$1\",\"password\":\"$2\"}" "$URL/api/v1/sessions" |
    "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
DEMO_PASSWORD='Demo#Pass2026'

# Every check but one:
# * positive_data_acceptance expects a 2xx for any input the schema allows, but a schema
#   cannot say the use cases' rules: a well-formed request is refused for a case id that does
#   not exist (404), a role that may not (403), a staff id or phone number that breaks its
#   rule (400), a case in another state (409). Those answers are right and documented.
# Kept, among others: not_a_server_error (no 5xx at all: 503 is documented, for a store that
# cannot be reached, but the store here is a healthy local file, so a 503 means a storage
# fault or a panic caught as `internal`), status_code_conformance and
# content_type_conformance (every answer is in the document), response_schema_conformance
# and response_headers_conformance (the bodies and the version header are as documented),
# negative_data_rejection (input the schema refuses gets a 4xx), ignored_auth (a route behind
# the session check answers 401 without a token), unsupported_method and
# allow_header_conformance (405 with an Allow header for a method the path does not take).
fuzz() {
  local seed=()
  [ -n "${FUZZ_SEED:-}" ] && seed=(--seed "$FUZZ_SEED")
  # In the temporary directory: nothing (.hypothesis, reports) lands in the work tree.
  (cd "$TMP" && timeout 600 "$ST" run "$SPEC" \
    --checks all --exclude-checks positive_data_acceptance \
    --max-examples "$EXAMPLES" --workers 2 --generation-database none \
    --request-timeout 30 --no-color "${seed[@]}" "$@")
}

# Left out of the main runs, because each ends the run's own session: sign-out ends the
# token; a fuzzed sign-in as `admin` or a fuzzed change of the own password (a wrong old
# password counts as a failed sign-in) locks the account after the branch's 5 failures; a
# reset password ends every session of its account (the fuzzer takes real staff ids from
# GET /api/v1/staff); and the three steps that carry a supervisor's credentials count a wrong
# password against the account they name, which the fuzzer takes from the cases it read
# (`opened_by`: the teller of the run). From then on the session check would answer 401 to
# everything. Each gets a run of its own below, with a session nothing else needs any more.
# The live event stream (GET /api/v1/events) never ends by itself: each generated request would
# hold the run for the request timeout. The stream, its bad positions (400) and its 401 are
# tested in crates/server/tests/http.rs; its polling twin, /authorizations/events, is fuzzed.
MAIN=(--exclude-operation-id signIn --exclude-operation-id signOut
  --exclude-operation-id changeOwnPassword --exclude-operation-id resetPassword
  --exclude-operation-id cocheck --exclude-operation-id authorize
  --exclude-operation-id confirmUnlock --exclude-operation-id events)

api() { # METHOD PATH [BODY]: as admin, failing on an error status
  curl -sS --fail-with-body -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: application/json' -X "$1" ${3:+-d "$3"} "$URL/api/v1$2"
}
# Whether the session of run $1 (token $2) still works: a main run must keep it to the end
# (else it tested the session check only); for the others it is a note.
check_session() {
  local code
  code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $2" \
    "$URL/api/v1/sessions/current")
  [ "$code" = 200 ] && return 0
  if [ "${3:-}" = strict ]; then
    echo "fuzz-server: $1's session ended during the run (HTTP $code)" >&2
    exit 1
  fi
  say "note: $1's session ended during the run (HTTP $code), as it may"
}

# 1. As the branch's administrator: the staff, branch and terminal routes answer in full.
say "run 1: the main operations as admin"
ADMIN=$(sign_in admin "$DEMO_PASSWORD")
BRANCH=$(api GET /branch)
fuzz -H "Authorization: Bearer $ADMIN" "${MAIN[@]}"
check_session "run 1" "$ADMIN" strict
# Run 1 may have changed the branch (its idle minutes, failed sign-ins before a lock) and
# disabled or locked staff: the next runs need the demo's branch and accounts again.
api PUT /branch "$BRANCH" >/dev/null
for id in tel01 aud01; do
  api POST "/staff/$id/disabled" '{"disabled":false}' >/dev/null
  api POST "/staff/$id/unlock" >/dev/null
done

# 2. As a teller: the case steps get past the role check (opened cases, their ids reused).
say "run 2: the main operations as a teller"
TELLER=$(sign_in tel01 "$DEMO_PASSWORD")
fuzz -H "Authorization: Bearer $TELLER" "${MAIN[@]}"
check_session "run 2" "$TELLER" strict

# 2b. The steps with a supervisor's credentials, as the teller, with the cases to take ids
#     from (opened here); a wrong password under the teller's own id may lock it, and end
#     this session.
say "run 2b: the steps with a supervisor's credentials, as a teller"
fuzz -H "Authorization: Bearer $TELLER" --include-operation-id openCase \
  --include-operation-id cocheck --include-operation-id authorize \
  --include-operation-id confirmUnlock
check_session "run 2b" "$TELLER"

# 3. Sign-out with a session of its own: the first sign-out ends it, and every later request
#    must then get 401, as documented.
say "run 3: sign-out"
AUDITOR=$(sign_in aud01 "$DEMO_PASSWORD")
fuzz -H "Authorization: Bearer $AUDITOR" --include-operation-id signOut

# 4. Sign-in and the own password, as a throwaway teller made for it (a new account must
#    change its password first, which is what this route is for). Fuzzed sign-ins may lock
#    accounts and hit the flood limit (429), fuzzed password changes lock the throwaway: all
#    documented answers. Run 5's session is opened before, while sign-in still answers.
say "run 4: sign-in and the own password, as a throwaway teller"
api POST /staff \
  "{\"id\":\"fuzz01\",\"name\":\"Fuzz\",\"role\":\"teller\",\"password\":\"$DEMO_PASSWORD\"}" \
  >/dev/null
THROWAWAY=$(sign_in fuzz01 "$DEMO_PASSWORD")
ADMIN=$(sign_in admin "$DEMO_PASSWORD")
fuzz -H "Authorization: Bearer $THROWAWAY" \
  --include-operation-id signIn --include-operation-id changeOwnPassword

# 5. Last, password resets as admin, with the staff list to take real ids from: a reset of
#    admin's own password ends this session too (401 from then on, as documented).
say "run 5: password resets as admin"
fuzz -H "Authorization: Bearer $ADMIN" \
  --include-operation-id resetPassword --include-operation-id listStaff

# A panic in a use case is answered 503 (`internal`) like a store fault; the fuzzing store is
# healthy, so every 503 above already failed a run (not_a_server_error), and any panic that
# was answered otherwise still fails here.
if grep -q 'panicked at' "$TMP/server.log"; then
  echo "fuzz-server: the server panicked:" >&2
  grep -A5 'panicked at' "$TMP/server.log" >&2
  exit 1
fi
say "passed in $(( $(date +%s) - start )) s"
