#!/usr/bin/env bash
# Install the Debian packages for a local single-node Slurm test cluster
# (Slurm daemons + client tools, munge for authentication, slurmdbd + MariaDB
# for accounting, which submitit needs to read job states via sacct).
#
# Idempotent: returns at once when everything is already installed.
# Must run as root (apt-get). Usage: slurm/install.sh
set -euo pipefail

PACKAGES=(slurmctld slurmd slurm-client munge slurmdbd mariadb-server)

log() { echo "[slurm/install] $*"; }

# Is every package installed? (dpkg status "install ok installed")
all_installed() {
    local pkg status
    for pkg in "${PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        [[ "$status" == "install ok installed" ]] || return 1
    done
}

# Fast path: nothing to do.
if all_installed; then
    log "already installed: ${PACKAGES[*]}"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "[slurm/install] ERROR: must run as root to apt-get install ${PACKAGES[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# The package lists are needed only if apt does not know a candidate version
# for one of the packages (fresh image with empty /var/lib/apt/lists).
needs_update() {
    local pkg
    for pkg in "${PACKAGES[@]}"; do
        apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [^(]' || return 0
    done
    return 1
}

# Without systemd, package scripts may still try to start daemons through
# invoke-rc.d; forbid that (we start them ourselves, with our own config).
# Only add a policy-rc.d if there is none, and remove it again afterwards.
POLICY=/usr/sbin/policy-rc.d
if [[ ! -e $POLICY ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$POLICY"
    chmod 755 "$POLICY"
    trap 'rm -f "$POLICY"' EXIT
fi

apt_install() {
    apt-get install -y --no-install-recommends "${PACKAGES[@]}"
}

if needs_update; then
    log "apt-get update (package lists missing)"
    apt-get update
fi

log "apt-get install ${PACKAGES[*]}"
# Stale package lists (mirror moved on) make downloads 404: update once, retry.
if ! apt_install; then
    log "install failed; apt-get update and retry once"
    apt-get update
    apt_install
fi

all_installed || { echo "[slurm/install] ERROR: packages still missing after install" >&2; exit 1; }
log "done"
