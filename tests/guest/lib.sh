# shellcheck shell=bash disable=SC2034
# Common helpers of the guest harness (sourced, not run).
# SPDX-License-Identifier: GPL-2.0-or-later

GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$GUEST_DIR/../.." && pwd)
CACHE=${QEMU_IOASID_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/qemu-ioasid}
KCACHE=$CACHE/kernels

# Messages go to stderr: stdout of the fetch/build scripts is their result.
log() { echo "${LOG_TAG:-guest}: $*" >&2; }
die() { echo "${LOG_TAG:-guest}: error: $*" >&2; exit 1; }

# norm_arch ARCH -> sets QARCH (x86_64|aarch64) and DARCH (amd64|arm64)
norm_arch() {
    case "$1" in
    x86_64|amd64|x86)  QARCH=x86_64  DARCH=amd64 ;;
    aarch64|arm64)     QARCH=aarch64 DARCH=arm64 ;;
    *) die "unknown ARCH '$1' (x86_64 or aarch64)" ;;
    esac
}

# as_root CMD...: run CMD as root (directly, or with sudo -n).
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@"
    else return 1
    fi
}

# ensure_host_deps: run scripts/install-deps.sh when something is missing
# (it adds the Debian suites, the arm64 dpkg architecture and the toolchains).
ensure_host_deps() {
    "$TOP/scripts/install-deps.sh" --check >/dev/null 2>&1 && return 0
    log "host packages missing: running scripts/install-deps.sh"
    "$TOP/scripts/install-deps.sh" >&2
}

# ensure_pkg PKG [SUITE]: install a Debian package if it is missing.
ensure_pkg() {
    dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed' && return 0
    log "installing $1${2:+ from $2}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends ${2:+-t "$2"} "$1" >&2 || return 1
}

# sha_of FILE...: short content hash
sha_of() { cat "$@" | sha256sum | cut -c1-16; }
