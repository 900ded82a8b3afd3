#!/bin/bash
# Starts vLLM's OpenAI-compatible server for MODEL_NAME with the settings from the image's ENV
# (see the Dockerfile for how each is sized). Arguments given to `docker run` are appended, so
# any other `vllm serve` flag can be added without rebuilding.
#
# exec: vLLM becomes PID 1 and gets `docker stop`'s SIGTERM itself, and shuts down gracefully.
# The flags are those of dualread/runtime/servers.py (vllm_flags), in the same order; a test runs
# this script with a stand-in `vllm` and compares the two.
# --limit-mm-per-prompt: one page image per request, as dualread sends them, and no video; vLLM
# then reserves memory for one image, not several.
set -euo pipefail

exec vllm serve "$MODEL_NAME" \
    --host "$SERVER_HOST" \
    --port "$SERVER_PORT" \
    --max-model-len "$MAX_MODEL_LEN" \
    --gpu-memory-utilization "$GPU_MEMORY_UTILIZATION" \
    --limit-mm-per-prompt '{"image": 1, "video": 0}' \
    --mm-processor-kwargs "{\"max_pixels\": $MAX_IMAGE_PIXELS}" \
    --enable-sleep-mode \
    "$@"
