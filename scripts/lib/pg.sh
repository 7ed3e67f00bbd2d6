# shellcheck shell=bash
# A private PostgreSQL 15 server in a directory of its own, for tests and development.
#
#   pg_start DIR [PORT]   initdb DIR/data if needed, start on 127.0.0.1:PORT (default:
#                         a free port), socket in DIR; prints nothing, sets PG_URL
#   pg_stop DIR           stop it (data kept)
#   pg_destroy DIR        stop it and remove DIR
#   pg_url DIR            the URL of a server started in DIR
#
# Layout of DIR: data/ (the cluster), port, postgres.log, and the unix socket.
# PostgreSQL refuses to run as root: as root, the server runs as the `postgres`
# system user (created if missing) and DIR is handed to that user.
# Settings are for throwaway servers: trust auth, fsync=off.

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PG_VERSION_WANTED=15

# Where initdb, pg_ctl, postgres, pg_isready live: $DESKPULSE_PG_BIN, Debian's
# /usr/lib/postgresql/15/bin, or pg_config's. As a last resort (fresh machine
# without the server, as root) Debian's postgresql-15 package is installed.
pg_bindir() {
    local dir
    for dir in "${DESKPULSE_PG_BIN:-}" "/usr/lib/postgresql/$PG_VERSION_WANTED/bin" \
               "$(pg_config --bindir 2>/dev/null || true)"; do
        if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/pg_isready" ]]; then
            printf '%s' "$dir"
            return 0
        fi
    done
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        log "postgres: PostgreSQL $PG_VERSION_WANTED server not found; installing Debian's postgresql-$PG_VERSION_WANTED"
        # Don't let the package create and start its own cluster on port 5432.
        mkdir -p /etc/postgresql-common/createcluster.d
        echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.d/deskpulse.conf
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "postgresql-$PG_VERSION_WANTED" >&2
        dir="/usr/lib/postgresql/$PG_VERSION_WANTED/bin"
        [[ -x "$dir/initdb" ]] && { printf '%s' "$dir"; return 0; }
    fi
    die "PostgreSQL $PG_VERSION_WANTED binaries not found (set DESKPULSE_PG_BIN to the bin directory)"
}

# Run a PostgreSQL command as the server's owner: `postgres` when we are root.
_pg_as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

_pg_ensure_user() {
    [[ "$(id -u)" == 0 ]] || return 0
    id postgres >/dev/null 2>&1 && return 0
    log "postgres: creating the postgres system user"
    useradd --system --user-group --no-create-home --home-dir /var/lib/postgresql \
        --shell /usr/sbin/nologin postgres
}

_pg_free_port() {
    python3 - <<'PY'
import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
PY
}

_pg_running() {
    local dir="$1" bin
    [[ -f "$dir/data/postmaster.pid" ]] || return 1
    bin="$(pg_bindir)"
    _pg_as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

pg_url() {
    local dir="$1"
    [[ -f "$dir/port" ]] || die "no server in $dir (no $dir/port)"
    printf 'postgresql://postgres@127.0.0.1:%s/postgres' "$(cat "$dir/port")"
}

pg_start() {
    local dir="$1" port="${2:-}" bin
    bin="$(pg_bindir)"
    _pg_ensure_user
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd -P)"
    if [[ "$(id -u)" == 0 ]]; then
        chown postgres: "$dir"
        chmod 700 "$dir"
        runuser -u postgres -- test -w "$dir" ||
            die "the postgres user cannot write to $dir (is a parent directory closed to it?)"
    fi

    if _pg_running "$dir"; then
        PG_URL="$(pg_url "$dir")"
        log "postgres: already running in $dir"
        return 0
    fi

    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
        _pg_as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust \
            --encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
            cat "$dir/initdb.log" >&2
            die "initdb failed in $dir/data"
        }
    fi

    # The unix socket goes in DIR unless its path is too long for a socket (107 bytes).
    local sockdir="$dir"
    if (( ${#dir} + 16 > 107 )); then
        log "postgres: $dir is too long for a unix socket path; TCP only"
        sockdir=""
    fi

    local attempt
    for attempt in 1 2 3 4 5; do
        local try_port="${port:-$(_pg_free_port)}"
        if _pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
            -o "-p $try_port -k '$sockdir' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            start >/dev/null; then
            port="$try_port"
            break
        fi
        # Most likely the port was taken between choosing and binding it: try another.
        [[ -n "${2:-}" || "$attempt" == 5 ]] && {
            tail -n 20 "$dir/postgres.log" >&2 || true
            die "PostgreSQL did not start in $dir (log: $dir/postgres.log)"
        }
        log "postgres: start on port $try_port failed; retrying on another port"
    done
    printf '%s\n' "$port" >"$dir/port"

    local i
    for ((i = 0; i < 60; i++)); do
        "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 2 && break
        sleep 0.5
    done
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 2 || {
        tail -n 20 "$dir/postgres.log" >&2 || true
        die "PostgreSQL in $dir does not accept connections on port $port"
    }
    PG_URL="$(pg_url "$dir")"
}

pg_stop() {
    local dir="$1" bin pid
    [[ -f "$dir/data/postmaster.pid" ]] || return 0
    dir="$(cd "$dir" && pwd -P)"
    bin="$(pg_bindir)"
    _pg_as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 && return 0
    _pg_as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 10 stop >/dev/null 2>&1 && return 0
    # Last resort: the postmaster of this directory only.
    pid="$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)"
    if [[ "$pid" =~ ^[0-9]+$ ]] && [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == "$dir/data" ]]; then
        kill -9 "$pid" 2>/dev/null || true
    fi
    ! _pg_running "$dir"
}

pg_destroy() {
    local dir="$1"
    [[ -d "$dir" ]] || return 0
    pg_stop "$dir" || log "postgres: could not stop the server in $dir"
    rm -rf "$dir"
}
