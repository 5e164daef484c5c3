#!/usr/bin/env bash
# A private, throw-away PostgreSQL cluster for the tests (the storage contract suite, and later
# the multi-process tests). Nothing is installed system-wide and no running server is touched.
#
#   scripts/test-postgres.sh [start]      initdb into a new temp dir, start on a free port of
#                                         127.0.0.1 (unix sockets in the temp dir too), create the
#                                         database, and print on stdout:
#                                           export VECTORIZE_TEST_PG_URL=postgresql://…
#                                           export VECTORIZE_TEST_PG_DIR=/tmp/vz-pg.…
#                                         so that `eval "$(scripts/test-postgres.sh)"` works.
#   scripts/test-postgres.sh stop DIR     stops that cluster and deletes DIR.
#   scripts/test-postgres.sh run CMD…     start, run CMD with VECTORIZE_TEST_PG_URL set, stop;
#                                         exits with CMD's status.
#
# PostgreSQL refuses to run as root: when run as root, the server runs as the system user
# `vectorize-test` (created if missing). Needs Debian's `postgresql` package (initdb and pg_ctl
# under /usr/lib/postgresql/<version>/bin; PGBIN overrides). The cluster is tuned for tests
# (fsync off): never put data you want to keep in it.
set -euo pipefail

log() { echo "test-postgres: $*" >&2; }
die() { log "$*"; exit 1; }

find_pgbin() {
  if [[ -n "${PGBIN:-}" ]]; then echo "$PGBIN"; return; fi
  if [[ -x /usr/lib/postgresql/15/bin/initdb ]]; then echo /usr/lib/postgresql/15/bin; return; fi
  local d
  d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n "$d" && -x "$d/initdb" ]]; then echo "$d"; return; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  die "initdb not found: install PostgreSQL (apt-get install -y postgresql) or set PGBIN"
}

RUN_AS=()
setup_user() {
  if [[ $(id -u) -eq 0 ]]; then
    if ! id vectorize-test >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin vectorize-test ||
        die "cannot create the system user vectorize-test"
    fi
    RUN_AS=(runuser -u vectorize-test --)
  fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  local pgbin dir port url
  pgbin=$(find_pgbin)
  setup_user
  dir=$(mktemp -d "${TMPDIR:-/tmp}/vz-pg.XXXXXX")
  chmod 700 "$dir"
  if [[ ${#RUN_AS[@]} -gt 0 ]]; then chown vectorize-test: "$dir"; fi
  "${RUN_AS[@]}" "$pgbin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; rm -rf "$dir";
    die "initdb failed"; }
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + RANDOM % 40000))
    port_in_use "$port" && continue
    if "${RUN_AS[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null 2>&1; then
      break
    fi
    port=""
  done
  if [[ -z "$port" ]]; then
    tail -n 20 "$dir/server.log" >&2 || true
    rm -rf "$dir"
    die "could not start PostgreSQL on a free port"
  fi
  "${RUN_AS[@]}" "$pgbin/createdb" -h "$dir" -p "$port" -U postgres vectorize_test ||
    { stop "$dir"; die "createdb failed"; }
  url="postgresql://postgres@127.0.0.1:$port/vectorize_test"
  log "PostgreSQL $("$pgbin/pg_ctl" --version | awk '{print $3}') running in $dir on 127.0.0.1:$port"
  echo "export VECTORIZE_TEST_PG_URL=$url"
  echo "export VECTORIZE_TEST_PG_DIR=$dir"
}

stop() {
  local dir=${1:-${VECTORIZE_TEST_PG_DIR:-}}
  [[ -n "$dir" ]] || die "usage: $0 stop DIR"
  [[ -d "$dir/data" ]] || die "$dir is not a cluster made by this script"
  local pgbin
  pgbin=$(find_pgbin)
  setup_user
  "${RUN_AS[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 ||
    log "pg_ctl stop failed (already stopped?)"
  rm -rf "$dir"
  log "stopped and removed $dir"
}

case "${1:-start}" in
  start) start ;;
  stop) shift; stop "$@" ;;
  run)
    shift
    [[ $# -gt 0 ]] || die "usage: $0 run CMD..."
    env_lines=$(start)
    eval "$env_lines"
    trap 'stop "$VECTORIZE_TEST_PG_DIR"' EXIT
    set +e
    "$@"
    status=$?
    set -e
    exit "$status"
    ;;
  *) die "usage: $0 [start] | stop DIR | run CMD..." ;;
esac
