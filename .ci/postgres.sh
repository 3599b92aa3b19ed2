#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests and the benchmarks, from the machine's own packages.
#
#   .ci/postgres.sh start DIR [--durable]   initdb in DIR, start on a free loopback port (unix socket
#                                           in DIR too), create database ppa_test, print its URL
#   .ci/postgres.sh stop DIR                stop the server started in DIR (safe to call twice)
#
# Installs Debian's `postgresql` with apt when initdb/pg_ctl are missing, and fails loudly when it
# cannot. initdb refuses to run as root, so as root the server runs as the `postgres` system user
# (created if missing). Without --durable, fsync is off: fast for tests, useless for anything real.
set -euo pipefail

die() { echo "postgres.sh: $*" >&2; exit 1; }

find_bin() {
    local dir
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return 0
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$dir/pg_ctl" && -x "$dir/initdb" ]]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

install_postgres() {
    echo "postgres.sh: initdb/pg_ctl not found; installing Debian's postgresql with apt" >&2
    local sudo=""
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "PostgreSQL is missing and we are not root: install the 'postgresql' package"
        sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    { $sudo apt-get update -qq && $sudo apt-get install -y -qq postgresql; } >&2 \
        || die "apt-get install postgresql failed: the PostgreSQL tests cannot run"
}

# Run a command as the server's owner: ourselves, or `postgres` when we are root.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        (cd / && runuser -u "$OWNER" -- "$@")
    else
        "$@"
    fi
}

free_port() {
    python3 - <<'EOF'
import socket
for port in list(range(55432, 55500)):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(port)
        break
else:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])
EOF
}

start() {
    local dir=$1 durable=${2:-}
    [[ -n "$dir" ]] || die "usage: postgres.sh start DIR [--durable]"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    local bin
    bin=$(find_bin) || { install_postgres; bin=$(find_bin) || die "PostgreSQL installed but initdb/pg_ctl still not found"; }
    OWNER=$(id -un)
    if [[ $(id -u) -eq 0 ]]; then
        OWNER=postgres
        id -u "$OWNER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$OWNER" \
            || die "could not create the postgres system user"
        chown "$OWNER" "$dir"
    fi
    chmod 700 "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    local port options
    port=$(free_port)
    options="-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c shared_buffers=128MB"
    if [[ "$durable" != "--durable" ]]; then
        options="$options -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    fi
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$options" start >/dev/null \
        || { cat "$dir/server.log" >&2; die "pg_ctl start failed"; }
    echo "$bin" >"$dir/bin"
    as_owner "$bin/createdb" -h "$dir" -p "$port" -U postgres ppa_test || die "createdb failed"
    echo "postgresql+asyncpg://postgres@127.0.0.1:$port/ppa_test"
}

stop() {
    local dir=$1
    [[ -n "$dir" && -f "$dir/bin" && -d "$dir/data" ]] || return 0
    local bin
    bin=$(cat "$dir/bin")
    OWNER=$(stat -c %U "$dir/data")
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

case "${1:-}" in
    start) start "${2:-}" "${3:-}" ;;
    stop) stop "${2:-}" ;;
    *) die "usage: postgres.sh start DIR [--durable] | stop DIR" ;;
esac
