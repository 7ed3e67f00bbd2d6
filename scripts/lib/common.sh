# shellcheck shell=bash
# Shared helpers for scripts/*. Source it; it defines functions and ROOT only.
#
#   ROOT            the repository root (absolute)
#   log/die         messages on stderr
#   now / elapsed   wall-clock timing for step footers

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

log() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Seconds since the epoch with a fraction (bash >= 5 has EPOCHREALTIME).
now() {
    if [[ -n "${EPOCHREALTIME:-}" ]]; then printf '%s' "${EPOCHREALTIME/,/.}"; else date +%s; fi
}

# elapsed START -> "12.3s" (or "2m05s")
elapsed() {
    awk -v s="$1" -v e="$(now)" 'BEGIN {
        d = e - s; if (d < 0) d = 0
        if (d < 60) printf "%.1fs", d; else printf "%dm%02ds", int(d / 60), int(d) % 60 }'
}
