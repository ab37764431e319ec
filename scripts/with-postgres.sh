#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster:
#
#   scripts/with-postgres.sh cargo test -p unlockdesk-store-pg
#
# Starts a new cluster with Debian's pg_virtualenv (postgresql-common; installed here when
# missing), exports the PG* variables and
# UNLOCKDESK_DATABASE_URL=postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/$PGDATABASE,
# runs the command, then stops and removes the cluster whatever the command's exit; the
# command's exit code is this script's.
#
# - Works as root: `pg_virtualenv -t` keeps the cluster in its own temporary directory owned by
#   the postgres user (initdb refuses root), never in /etc/postgresql, so nothing left behind can
#   make the next run refuse ("Cluster 15/regress exists").
# - Two runs at once never collide: each reserves its port with a lock file
#   (/tmp/unlockdesk-pg-ports/N.lock, held by this script while it runs) after checking that
#   nothing listens there; pg_createcluster's own free-port search could give both the same.
# - A run killed with SIGKILL cannot clean up: its cluster directory records this script's pid,
#   and the next run stops and removes clusters whose script is gone (only those: other
#   pg_virtualenv users' clusters carry no such mark).
set -euo pipefail

if [ "${1:-}" = "--inside" ]; then
  # Inside pg_virtualenv: the cluster is up and PG* are exported.
  shift
  printf '%s\n' "${UNLOCKDESK_PG_OWNER:-}" >"$(dirname "$PG_CLUSTER_CONF_ROOT")/unlockdesk-owner"
  urlenc() {
    local LC_ALL=C s="$1" out="" c i
    for ((i = 0; i < ${#s}; i++)); do
      c="${s:i:1}"
      case "$c" in
        [A-Za-z0-9._~-]) out+="$c" ;;
        *) printf -v c '%%%02X' "'$c"; out+="$c" ;;
      esac
    done
    printf '%s' "$out"
  }
  auth="$(urlenc "$PGUSER"):$(urlenc "$PGPASSWORD")"
  if [ "${PGHOST:0:1}" = "/" ]; then
    # A socket directory: libpq's URL form names it in the query string.
    url="postgresql://$auth@/$(urlenc "$PGDATABASE")?host=$(urlenc "$PGHOST")&port=$PGPORT"
  else
    url="postgresql://$auth@$PGHOST:$PGPORT/$(urlenc "$PGDATABASE")"
  fi
  export UNLOCKDESK_DATABASE_URL="$url"
  "$@"
  exit
fi

if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]   (runs COMMAND with a throwaway PostgreSQL)" >&2
  exit 2
fi

if ! dpkg -s postgresql >/dev/null 2>&1 || ! command -v pg_virtualenv >/dev/null 2>&1; then
  echo "with-postgres: installing postgresql" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
    -o DPkg::Lock::Timeout=600 postgresql
fi

tmp="${TMPDIR:-/tmp}"

# The start time of process $1 (field 22 of /proc/PID/stat), so a reused pid is not taken for
# the script that made a cluster; empty when it is gone or a zombie (killed, not yet reaped).
started_at() { awk '$3 != "Z" {print $22}' "/proc/$1/stat" 2>/dev/null || true; }

# Stop and remove clusters left by runs of this script that were killed outright.
for d in "$tmp"/pg_virtualenv.*; do
  [ -f "$d/unlockdesk-owner" ] || continue
  read -r pid since <"$d/unlockdesk-owner" || true
  if [ -n "${pid:-}" ] && [ "$(started_at "$pid")" = "${since:-}" ]; then
    continue # its script still runs
  fi
  echo "with-postgres: removing the cluster of a killed run ($d)" >&2
  for conf in "$d"/postgresql/*/regress; do
    [ -d "$conf" ] || continue
    v="$(basename "$(dirname "$conf")")"
    PG_CLUSTER_CONF_ROOT="$d/postgresql" pg_ctlcluster --mode immediate "$v" regress stop \
      >/dev/null 2>&1 || true
  done
  rm -rf "$d"
done

# Reserve a port: a lock no other run of this script can take, and nothing listening.
lockfd=""
port=""
base=$((20000 + RANDOM % 20000))
mkdir -p /tmp/unlockdesk-pg-ports
for ((i = 0; i < 200; i++)); do
  p=$((base + i))
  exec {fd}>"/tmp/unlockdesk-pg-ports/$p.lock"
  if flock -n "$fd" \
    && ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null \
    && [ ! -e "/var/run/postgresql/.s.PGSQL.$p" ]; then
    lockfd=$fd
    port=$p
    break
  fi
  exec {fd}>&-
done
if [ -z "$port" ]; then
  echo "with-postgres: found no free port for PostgreSQL" >&2
  exit 1
fi

export UNLOCKDESK_PG_OWNER="$$ $(started_at $$)"
export PGPORT="$port"
self="$(realpath "$0")"
# The port lock stays with this script only (closed for the cluster's processes, which would
# otherwise hold it after a kill). A TERM or HUP to this script reaches pg_virtualenv, whose own
# trap stops and drops the cluster; the terminal's Ctrl-C reaches the whole group.
pg_virtualenv -t "$self" --inside "$@" {lockfd}>&- <&0 &
child=$!
signalled=""
trap 'signalled=143; kill -TERM "$child" 2>/dev/null || true' TERM
trap 'signalled=129; kill -TERM "$child" 2>/dev/null || true' HUP
trap 'signalled=130; kill -TERM "$child" 2>/dev/null || true' INT
rc=0
wait "$child" || rc=$?
while kill -0 "$child" 2>/dev/null; do
  rc=0
  wait "$child" || rc=$?
done
# Stopped by a signal: say so in the exit code, whatever the interrupted command returned.
exit "${signalled:-$rc}"
