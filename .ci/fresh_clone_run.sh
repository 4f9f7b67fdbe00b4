#!/usr/bin/env bash
# CI: a new user's first minutes. Clone the repository into a temporary directory and run the
# README's `make run` there with no DATABASE_URL / REDIS_URL (embedded PostgreSQL and Redis),
# a fresh data directory and a free port; wait for the page, sign in with the printed
# credentials, run an example graph through the API, kill the worker and check that serve
# restarts it, stop with SIGTERM (as Ctrl-C would), and check that a second `make run` starts
# and tells how to reset the password. Prints how long each step took.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/patchbay-fresh-XXXXXX)"
clone="$work/clone"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
group=""
step_start=$SECONDS
log() { printf '\n== [fresh clone, %3ds] %s\n' "$((SECONDS - step_start))" "$*"; }

stop_app() {  # SIGTERM to make and serve (their own process group), as Ctrl-C would; wait for serve to end
  [ -n "$group" ] || return 0
  kill -TERM -- "-$group" 2>/dev/null || true
  for _ in $(seq 1 120); do pgrep -g "$group" >/dev/null || break; sleep 0.5; done
  if pgrep -g "$group" >/dev/null; then echo "serve did not stop within 60 s"; kill -KILL -- "-$group"; return 1; fi
  group=""
}
finish() {
  status=$?
  stop_app || status=1
  if [ "$status" -ne 0 ]; then
    for f in "$work"/run*.log; do [ -f "$f" ] && { echo "--- last lines of $f"; tail -n 60 "$f"; }; done
  fi
  rm -rf "$work"
  exit "$status"
}
trap finish EXIT

start_app() {  # $1: log file
  setsid make run >"$1" 2>&1 &
  group=$!
}
wait_for_line() {  # $1: pattern, $2: log file, $3: timeout in seconds
  for _ in $(seq 1 "$(( $3 * 2 ))"); do
    grep -qs -- "$1" "$2" && return 0
    pgrep -g "$group" >/dev/null || { echo "make run exited before printing '$1'"; return 1; }
    sleep 0.5
  done
  echo "no '$1' in $2 after $3 s"; return 1
}

log "git clone $repo -> $clone"
git clone -q "$repo" "$clone"
cd "$clone"
unset DATABASE_URL REDIS_URL CELERY_BROKER_URL PATCHBAY_STATIC_ROOT
export PORT="$port" PATCHBAY_DATA_DIR="$work/data"

log "first make run (installs .venv and the canvas, starts embedded PostgreSQL and Redis)"
start_app "$work/run1.log"
wait_for_line "Patchbay is running at" "$work/run1.log" 1800
wait_for_line "manage.py changepassword" "$work/run1.log" 30
log "first make run: up; the end of its output:"
sed -n '/Patchbay is running at/,$p' "$work/run1.log"
grep -q "password:" "$work/run1.log" || { echo "the first user's credentials were not printed"; exit 1; }

log "sign in, run an example graph, kill the worker, run again"
.venv/bin/python "$repo/.ci/fresh_clone_check.py" --url "http://127.0.0.1:$port" --log "$work/run1.log" \
  --serve-group "$group" --data-dir "$PATCHBAY_DATA_DIR" --graph graphs/chain.json --input '{"text": "I was charged twice, please refund one"}'

log "stop (SIGTERM)"
stop_app
if python3 -c "import socket, sys; s = socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $port)) != 0)"; then
  echo "something still answers on port $port after serve stopped"; exit 1
fi
[ ! -e "$PATCHBAY_DATA_DIR/postgres/postmaster.pid" ] || { echo "the embedded PostgreSQL is still running"; exit 1; }
log "stopped"

log "second make run"
start_app "$work/run2.log"
wait_for_line "Patchbay is running at" "$work/run2.log" 300
grep -q "manage.py changepassword" "$work/run2.log" || { echo "the second run did not say how to reset the password"; exit 1; }
curl -fsS -o /dev/null "http://127.0.0.1:$port/"
log "second make run: up, and it tells how to reset the password:"
grep "changepassword" "$work/run2.log"
stop_app
log "fresh clone passed"
