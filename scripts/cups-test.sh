#!/usr/bin/env bash
# A real CUPS for the tests: `scripts/cups-test.sh start` starts cupsd (unless one is already
# answering) with Debian's virtual PDF printer as queue CUPS-PDF, and prints
# `export UNLOCKDESK_TEST_PRINTER=CUPS-PDF UNLOCKDESK_TEST_PRINT_DIR=DIR UNLOCKDESK_CUPSD_PID=PID`
# for the caller to eval (PID empty when a cupsd was already running);
# `scripts/cups-test.sh stop` then stops only the cupsd that this caller's `start` started
# ($UNLOCKDESK_CUPSD_PID), so two test runs sharing one cupsd never stop it under each other.
# Without that variable (by hand), `stop` stops the cupsd of the pid file.
#
#   eval "$(scripts/cups-test.sh start)"; trap 'scripts/cups-test.sh stop' EXIT
set -euo pipefail
PIDFILE=/tmp/unlockdesk-cupsd.pid
QUEUE=CUPS-PDF
PPD=/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd
# cups-pdf writes to ~/PDF of the job's owner (cups-pdf.conf `Out ${HOME}/PDF`).
OUTDIR="${HOME:-/root}/PDF"

case "${1:-}" in
start)
  if ! command -v cupsd >/dev/null 2>&1 && [ ! -x /usr/sbin/cupsd ]; then
    echo "cups-test: cupsd is not installed (make deps installs cups and printer-driver-cups-pdf)" >&2
    exit 1
  fi
  started=""
  if ! lpstat -r 2>/dev/null | grep -q "is running"; then
    /usr/sbin/cupsd -f >/tmp/unlockdesk-cupsd.log 2>&1 &
    started=$!
    echo "$started" >"$PIDFILE"
    for _ in $(seq 1 50); do
      lpstat -r 2>/dev/null | grep -q "is running" && break
      sleep 0.2
    done
    lpstat -r 2>/dev/null | grep -q "is running" || {
      echo "cups-test: cupsd did not start (see /tmp/unlockdesk-cupsd.log)" >&2
      exit 1
    }
  fi
  if ! lpstat -e 2>/dev/null | grep -qx "$QUEUE"; then
    # lpadmin warns that printer drivers are deprecated: show only real errors.
    lpadmin -p "$QUEUE" -v cups-pdf:/ -P "$PPD" -E 2>/tmp/unlockdesk-lpadmin.log ||
      { cat /tmp/unlockdesk-lpadmin.log >&2; exit 1; }
  fi
  cupsenable "$QUEUE" 2>/dev/null || true
  cupsaccept "$QUEUE" 2>/dev/null || true
  mkdir -p "$OUTDIR"
  echo "export UNLOCKDESK_TEST_PRINTER=$QUEUE UNLOCKDESK_TEST_PRINT_DIR=$OUTDIR UNLOCKDESK_CUPSD_PID=$started"
  ;;
stop)
  if [ -n "${UNLOCKDESK_CUPSD_PID+set}" ]; then
    pid=$UNLOCKDESK_CUPSD_PID # empty: this caller started none
  elif [ -f "$PIDFILE" ]; then
    pid=$(cat "$PIDFILE")
  else
    pid=""
  fi
  if [ -n "$pid" ]; then
    # Only a cupsd: a stale pid may have been reused by another process.
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = cupsd ]; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    if [ -f "$PIDFILE" ] && [ "$(cat "$PIDFILE")" = "$pid" ]; then rm -f "$PIDFILE"; fi
  fi
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
