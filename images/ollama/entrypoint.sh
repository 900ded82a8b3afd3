#!/bin/bash
# Container start-up (the seed's "Container Startup Flow"): start `ollama serve`, wait until it
# answers, pull each model of OLLAMA_PULL_MODELS that the model store (the volume on
# /root/.ollama) lacks, then keep serving.
#
# This script stays PID 1 and forwards SIGTERM/SIGINT to the server and to a pull in progress.
# Pulls run in the background and are waited for, because bash runs a trap only between
# commands: a foreground pull of several GB would hold `docker stop` until its 10 s SIGKILL.
set -euo pipefail
# shellcheck source=images/ollama/models.sh
. "$(dirname "$0")/models.sh"

ready_timeout_s="${OLLAMA_READY_TIMEOUT_S:-60}"
server_pid=""
pull_pid=""

log() {
    printf 'dualread-entrypoint: %s\n' "$*"
}

# Stops the server (and a pull), then exits with the server's status.
# shellcheck disable=SC2329  # invoked by the trap below
stop() {
    trap - TERM INT
    log "stopping"
    if [[ -n $pull_pid ]]; then
        kill -TERM "$pull_pid" 2>/dev/null || true
    fi
    kill -TERM "$server_pid" 2>/dev/null || true
    local status=0
    wait "$server_pid" || status=$?
    exit "$status"
}

fail() {
    log "error: $*"
    trap - TERM INT
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" || true
    exit 1
}

trap stop TERM INT
ollama serve &
server_pid=$!

deadline=$((SECONDS + ready_timeout_s))
until ollama list >/dev/null 2>&1; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        status=0
        wait "$server_pid" || status=$?
        log "error: ollama serve exited with status $status before it answered"
        exit 1
    fi
    ((SECONDS < deadline)) || fail "ollama serve did not answer within ${ready_timeout_s}s"
    sleep 1
done
log "ollama answers on ${OLLAMA_HOST:-127.0.0.1:11434}"

listed="$(listed_models)"
while IFS= read -r model; do
    if has_model "$listed" "$model"; then
        log "$model: present in the model store, not pulling"
        continue
    fi
    log "$model: missing from the model store, pulling"
    ollama pull "$model" &
    pull_pid=$!
    wait "$pull_pid" || fail "pulling $model failed"
    pull_pid=""
    log "$model: pulled"
done < <(configured_models)

log "ready: serving $(configured_models | paste -sd ' ' -)"
status=0
wait "$server_pid" || status=$?
log "ollama serve exited with status $status"
exit "$status"
