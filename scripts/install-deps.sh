#!/usr/bin/env bash
# Install the host dependencies of qemu-ioasid on Debian 12 (bookworm).
#
# Idempotent: re-running it changes nothing that is already in place.
# It says what it does.  Extra suites are pinned at priority 100 so that
# nothing already installed on the host is upgraded from them; packages we
# need from them are requested explicitly with -t SUITE.
#
# Usage: scripts/install-deps.sh [--check]
#   --check   only report what is missing (exit 1 if anything is); no root.
set -euo pipefail

MIRROR=${QEMU_IOASID_MIRROR:-http://deb.debian.org/debian}
SRC_LIST=/etc/apt/sources.list.d/qemu-ioasid.sources
PIN_FILE=/etc/apt/preferences.d/qemu-ioasid
STAMP_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/qemu-ioasid

# Packages from bookworm itself.
PKGS_BOOKWORM=(
    build-essential dpkg-dev git pkg-config ccache
    libglib2.0-dev libfdt-dev libpixman-1-dev libslirp-dev zlib1g-dev
    ninja-build flex bison python3-venv python3-setuptools
    busybox-static cpio gzip xz-utils
    clang llvm libclang-rt-14-dev
    bc libelf-dev libssl-dev kmod rsync
    gcc-aarch64-linux-gnu libc6-dev-arm64-cross
    seabios
)
# Package -> suite for what bookworm lacks or has too old.
declare -A PKGS_SUITE=(
    [meson]=bookworm-backports       # QEMU 10.0 needs meson >= 1.5
    [python3-pycotap]=trixie         # QEMU's test harness (TAP)
    [qemu-system-data]=trixie        # option ROMs (linuxboot_dma.bin, ...)
)

say() { echo "install-deps: $*"; }

missing_pkgs() {
    local p
    for p in "${PKGS_BOOKWORM[@]}" "${!PKGS_SUITE[@]}"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' \
            || echo "$p"
    done
}

meson_ok() {
    command -v meson >/dev/null 2>&1 || return 1
    local v
    v=$(meson --version 2>/dev/null) || return 1
    [ "$(printf '%s\n1.5.0\n' "$v" | sort -V | head -1)" = 1.5.0 ]
}

if [ "${1:-}" = --check ]; then
    m=$(missing_pkgs | tr '\n' ' ')
    dpkg --print-foreign-architectures | grep -qx arm64 || m="$m (dpkg architecture arm64)"
    if [ -n "$m" ] || ! meson_ok; then
        echo "missing host packages: ${m:-none}"
        meson_ok || echo "meson >= 1.5 is missing (Debian bookworm-backports has it)"
        echo "install them with: sudo scripts/install-deps.sh"
        exit 1
    fi
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        exec sudo -E "$0" "$@"
    fi
    echo "install-deps: must run as root (or with sudo)" >&2
    exit 1
fi

if [ ! -f "$SRC_LIST" ]; then
    say "adding Debian suites (bookworm deb-src, bookworm-backports, trixie, trixie-backports) to $SRC_LIST"
    cat >"$SRC_LIST" <<SRC
# Added by qemu-ioasid scripts/install-deps.sh
Types: deb-src
URIs: $MIRROR
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: $MIRROR
Suites: bookworm-backports trixie trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    rm -f "$STAMP_DIR/apt-updated"
fi
if [ ! -f "$PIN_FILE" ]; then
    say "pinning the extra suites at priority 100 in $PIN_FILE"
    cat >"$PIN_FILE" <<PIN
# Added by qemu-ioasid scripts/install-deps.sh: never upgrade host packages
# from these suites; qemu-ioasid asks for what it needs with -t SUITE.
Package: *
Pin: release n=bookworm-backports
Pin-Priority: 100

Package: *
Pin: release n=trixie
Pin-Priority: 90

Package: *
Pin: release n=trixie-backports
Pin-Priority: 90
PIN
fi

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    say "adding the arm64 architecture (for arm64 guest kernels and busybox; nothing is installed from it)"
    dpkg --add-architecture arm64
    rm -f "$STAMP_DIR/apt-updated"
fi

mkdir -p "$STAMP_DIR"
# Refresh the package lists at most once a day.
if [ -z "$(find "$STAMP_DIR/apt-updated" -mmin -1440 2>/dev/null)" ]; then
    say "apt-get update"
    apt-get update -q -o Acquire::Retries=3 >/dev/null
    touch "$STAMP_DIR/apt-updated"
fi

export DEBIAN_FRONTEND=noninteractive
need=$(missing_pkgs | tr '\n' ' ')
if [ -z "$need" ] && meson_ok; then
    say "all host packages present"
    exit 0
fi
base=()
for p in "${PKGS_BOOKWORM[@]}"; do
    case " $need " in *" $p "*) base+=("$p");; esac
done
if [ ${#base[@]} -gt 0 ]; then
    say "installing from bookworm: ${base[*]}"
    apt-get install -y -q --no-install-recommends "${base[@]}" >/dev/null
fi
for p in "${!PKGS_SUITE[@]}"; do
    if [ "$p" = meson ] && meson_ok && dpkg -s meson >/dev/null 2>&1; then
        continue
    fi
    case " $need " in *" $p "*) ;; *) [ "$p" = meson ] || continue;; esac
    say "installing $p from ${PKGS_SUITE[$p]}"
    # PKG/SUITE takes only that package from the suite (not -t, which would
    # prefer the suite for its dependencies too and could upgrade the host).
    apt-get install -y -q --no-install-recommends "$p/${PKGS_SUITE[$p]}" >/dev/null
done
say "done"
