# shellcheck shell=bash
# The project's virtualenv in $ROOT/.venv, Python 3.11, with an editable install.
#
#   ensure_venv [EXTRAS]   e.g. ensure_venv dev
#
# (Re)installs only when needed: no venv, a venv on another Python, an install
# that points at another checkout, pyproject.toml changed since the last install,
# or a requested extra that was never installed. A stamp file in .venv records
# the last successful install. DESKPULSE_REINSTALL=1 forces a reinstall.
#
# Also runnable on its own: bash scripts/lib/venv.sh [EXTRAS]

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

VENV="$ROOT/.venv"
VENV_PY="$VENV/bin/python"
VENV_STAMP="$VENV/.deskpulse-install"

# Never prompt (CI has no stdin); keep the machine's own pip configuration.
export PIP_NO_INPUT=1
export PIP_DISABLE_PIP_VERSION_CHECK=1

find_python311() {
    local candidate
    for candidate in "${PYTHON:-}" python3.11 python3; do
        [[ -n "$candidate" ]] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            printf '%s' "$candidate"
            return 0
        fi
    done
    return 1
}

_venv_hash() {
    # What the install depends on: the package metadata.
    sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1
}

_venv_is_current() {
    local want_extras="$1" hash extras
    [[ -x "$VENV_PY" && -f "$VENV_STAMP" ]] || return 1
    read -r hash extras <"$VENV_STAMP" || return 1
    [[ "$hash" == "$(_venv_hash)" ]] || return 1
    if [[ -n "$want_extras" ]]; then
        local e
        for e in ${want_extras//,/ }; do
            [[ ",${extras:-}," == *",$e,"* ]] || return 1
        done
    fi
    # The editable install must point at this checkout (a copied tree keeps a stale one).
    local where
    where="$("$VENV_PY" -c 'import deskpulse, os; print(os.path.realpath(deskpulse.__file__))' 2>/dev/null)" || return 1
    [[ "$where" == "$(realpath "$ROOT")/src/"* ]]
}

# pip, with the machine's notices about absent local index folders left out
# (they come from the machine's pip configuration, not from the project).
_pip() {
    "$VENV_PY" -m pip "$@" 2>&1 |
        { grep -v "^WARNING: Location '.*' is ignored: it is neither a file nor a directory\.$" || true; } >&2
    return "${PIPESTATUS[0]}"
}

ensure_venv() {
    local extras="${1:-}"
    if [[ "${DESKPULSE_REINSTALL:-0}" != 1 ]] && _venv_is_current "$extras"; then
        log "venv: $VENV is up to date (${extras:-no extras})"
        return 0
    fi

    if [[ -e "$VENV" ]] && ! { [[ -x "$VENV_PY" ]] && "$VENV_PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; }; then
        log "venv: $VENV is broken or not Python 3.11; recreating it"
        rm -rf "$VENV"
    fi
    if [[ ! -x "$VENV_PY" ]]; then
        local py
        py="$(find_python311)" || die "Python 3.11 not found (tried \$PYTHON, python3.11, python3)"
        log "venv: creating $VENV with $("$py" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
        "$py" -m venv "$VENV"
    fi

    # Keep extras already installed (a dev venv stays a dev venv after `scripts/demo`).
    local old_hash="" old_extras=""
    [[ -f "$VENV_STAMP" ]] && read -r old_hash old_extras <"$VENV_STAMP" || true
    local all="" e
    for e in ${old_extras//,/ } ${extras//,/ }; do
        [[ ",$all," == *",$e,"* ]] || all="${all:+$all,}$e"
    done

    local target="."
    [[ -n "$all" ]] && target=".[$all]"
    log "venv: pip install -e '$target'"
    rm -f "$VENV_STAMP"
    _pip install --quiet --progress-bar off --upgrade pip
    (cd "$ROOT" && _pip install --quiet --progress-bar off -e "$target")
    printf '%s %s\n' "$(_venv_hash)" "$all" >"$VENV_STAMP"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    ensure_venv "${1:-}"
fi
