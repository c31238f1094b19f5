#!/bin/sh
# On the GPU machine, the second call of the managed-start run (docs/gpu-image.md), right after
# stage-python.sh. Carries .device/node/: Node 22 and the image's worker folder (the bundle, sharp,
# and dist/bench/ as bench/), and a static ffmpeg (the image has Debian's). Then runs the worker as
# the image does (its environment, below) under the local pipeline: bench/managed-start.ts.
set -eu
carry=.device/node
mkdir -p /opt/heritage "$OUT"
xz -dc "$carry/node.xz" > /usr/local/bin/node && chmod +x /usr/local/bin/node
xz -dc "$carry/ffmpeg.xz" > /usr/local/bin/ffmpeg && chmod +x /usr/local/bin/ffmpeg
tar xJf "$carry/worker.tar.xz" -C /opt/heritage
cp -r gpu-container/workflows /opt/heritage/workflows
# The image's environment (gpu-container/Dockerfile), but for this machine's Python and the synthetic
# model manifest (the real one's checksums would refuse the synthetic files).
export PYTHONPATH=/opt/h/site PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 NODE_ENV=production \
  HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 COMFYUI_DIR=/opt/comfyui MODEL_CACHE_DIR=/models \
  WORKFLOW=wan22-flf2v-rife WORKFLOWS_DIR=/opt/heritage/workflows MODEL_MANIFEST=/opt/h/synthetic-models.json \
  WORK_DIR=/scratch COMFYUI_PYTHON=python3 COMFYUI_PORT=8188 FFMPEG_PATH=/usr/local/bin/ffmpeg COMFYUI_ATTENTION=sage
node --version
node /opt/heritage/worker/bench/managed-start.mjs --worker /opt/heritage/worker/main.mjs \
  --models /dev/shm/models-src --warm "${WARM:-5}" --drop-caches --out "$OUT/managed-start.json" 2>&1 \
  | tee "$OUT/managed-start.log" | grep -v '^{"level"' | tail -n 40 || true
(cd /tmp && tar cJf "$OUT/worker-logs.tar.xz" heritage-local-*/workers/*.log) || true
