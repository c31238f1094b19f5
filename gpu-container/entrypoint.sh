#!/usr/bin/env bash
# Starts ComfyUI in the background (unless COMFYUI_URL names one already running), then replaces
# itself with the worker, so the worker is tini's child and receives SIGTERM directly.
set -euo pipefail
mkdir -p "${COMFYUI_INPUT_DIR:-/scratch/input}" "${COMFYUI_OUTPUT_DIR:-/scratch/output}"
if [ -z "${COMFYUI_URL:-}" ]; then
  # shellcheck disable=SC2086 # COMFYUI_ARGS is a list of flags
  (cd "$COMFYUI_DIR" && exec python3 main.py $COMFYUI_ARGS) &
  export COMFYUI_PID=$!
  export COMFYUI_URL="http://127.0.0.1:8188"
fi
exec "$@"
