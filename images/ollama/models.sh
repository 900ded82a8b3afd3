# shellcheck shell=bash
# Which models the container must serve, and which of them the Ollama server already has.
# Sourced by entrypoint.sh and healthcheck.sh, so both judge "present" the same way.

# OLLAMA_PULL_MODELS, one per line. Commas or spaces separate names; a name without a tag gets
# ":latest", as Ollama itself names it in `ollama list`.
configured_models() {
    local model
    for model in ${OLLAMA_PULL_MODELS//,/ }; do
        [[ $model == *:* ]] || model+=":latest"
        printf '%s\n' "$model"
    done
}

# The models the server lists (GET /api/tags, through `ollama list`), one per line.
listed_models() {
    ollama list | awk 'NR > 1 { print $1 }'
}

# Whether the listing $1 (from listed_models) has model $2.
has_model() {
    grep -qxF -- "$2" <<<"$1"
}

# configured_models missing from the listing $1, one per line.
missing_models() {
    local model
    while IFS= read -r model; do
        has_model "$1" "$model" || printf '%s\n' "$model"
    done < <(configured_models)
}
