#!/usr/bin/env bash
# Starts a Docker engine for the docker test tier, or reuses the one that already answers.
#
# CI machines and the development VMs have docker.io installed but no engine running, no bridge
# module and no iptables, so the daemon runs with --iptables=false --bridge=none and containers
# use host networking. overlay2 is tried first; vfs (slow, but works on any filesystem) is the
# fallback when the kernel or the backing filesystem refuses overlay mounts.
#
# The daemon is left running when this script exits: the test session and any later one share
# it, and CI runs once. Stop it with: kill "$(cat /var/run/docker.pid)"
set -euo pipefail

socket="${DOCKER_SOCKET:-/var/run/docker.sock}"
log="${DOCKERD_LOG:-/var/log/dualread-dockerd.log}"
timeout_s="${DOCKERD_START_TIMEOUT_S:-30}"

usage() {
    cat <<EOF
Usage: $(basename "$0") [--help]

Starts dockerd on unix://$socket unless an engine already answers there.
Environment: DOCKER_SOCKET (default /var/run/docker.sock), DOCKERD_LOG (default
/var/log/dualread-dockerd.log), DOCKERD_STORAGE_DRIVER (force one driver instead of
trying overlay2 then vfs), DOCKERD_START_TIMEOUT_S (default 30).
EOF
}

case "${1:-}" in
    -h | --help) usage; exit 0 ;;
    "") ;;
    *) echo "start-dockerd: unknown argument: $1 (try --help)" >&2; exit 2 ;;
esac

answers() {
    docker --host "unix://$socket" version --format '{{.Server.Version}}' >/dev/null 2>&1
}

if answers; then
    echo "start-dockerd: an engine already answers on $socket"
    exit 0
fi
for tool in dockerd docker; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "start-dockerd: $tool not found (install the docker.io package)" >&2
        exit 1
    fi
done
if [ "$(id -u)" -ne 0 ]; then
    echo "start-dockerd: dockerd must run as root (no engine answers on $socket)" >&2
    exit 1
fi

# Starts one daemon with the given storage driver; returns 0 once it answers, 1 if it died.
try_driver() {
    local driver="$1" pid deadline
    echo "start-dockerd: starting dockerd (storage driver $driver), log in $log"
    # setsid + nohup: the daemon must outlive this script and the test session that called it.
    setsid nohup dockerd --host "unix://$socket" --storage-driver "$driver" \
        --iptables=false --bridge=none >>"$log" 2>&1 </dev/null &
    pid=$!
    deadline=$((SECONDS + timeout_s))
    while ((SECONDS < deadline)); do
        if answers; then
            echo "start-dockerd: dockerd $pid answers on $socket (storage driver $driver)"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "start-dockerd: dockerd exited with storage driver $driver; last log lines:" >&2
            tail -n 2 "$log" >&2
            return 1
        fi
        sleep 0.5
    done
    echo "start-dockerd: dockerd did not answer within ${timeout_s}s; stopping it" >&2
    kill "$pid" 2>/dev/null || true
    return 1
}

read -r -a drivers <<<"${DOCKERD_STORAGE_DRIVER:-overlay2 vfs}"
for driver in "${drivers[@]}"; do
    try_driver "$driver" && exit 0
done
echo "start-dockerd: could not start dockerd (tried: ${drivers[*]}); see $log" >&2
exit 1
