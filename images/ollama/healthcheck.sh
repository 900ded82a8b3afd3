#!/bin/bash
# Docker health check: healthy when the server answers GET /api/tags (what `ollama list` calls)
# and lists every model of OLLAMA_PULL_MODELS. While the entrypoint is still pulling, the API
# already answers but cannot serve dualread's roles, so that counts as not healthy yet.
# The upstream image has no curl; the ollama CLI is the HTTP client it ships.
set -euo pipefail
# shellcheck source=images/ollama/models.sh
. "$(dirname "$0")/models.sh"

listed="$(listed_models)"
missing="$(missing_models "$listed")"
if [[ -n $missing ]]; then
    echo "not pulled yet: ${missing//$'\n'/ }"
    exit 1
fi
