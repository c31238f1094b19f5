#!/bin/sh
# On the GPU machine, the first of the two calls of the managed-start run (docs/gpu-image.md): the
# image's Python side and the synthetic model set. Carries .device/py/: the wheels this machine's
# Python lacks (the lock's versions, for its Python 3.12), the image's /opt/comfyui, and SageAttention
# at the pinned commit (sm90 and fused extensions: the image's wheel is built for Python 3.13).
# Leaves /opt/comfyui, /opt/h/site (PYTHONPATH), /dev/shm/models-src and /opt/h/synthetic-models.json
# for the second call, stage-node.sh + managed-start, on the still-warm machine.
set -eu
carry=.device/py
site=/opt/h/site
source_dir=/dev/shm/models-src
mkdir -p /opt/h /models "$OUT"
exec > "$OUT/stage-python.log" 2>&1
set -x
python3 -m pip install -q --no-index --no-deps --no-compile --target "$site" "$carry"/*.whl
tar xJf "$carry/comfyui.tar.xz" -C /opt
tar xJf "$carry/sage.tar.xz" -C /opt/h
export PYTHONPATH="$site"
(
  cd /opt/h/sageattention
  TORCH_CUDA_ARCH_LIST=9.0 EXT_PARALLEL=2 MAX_JOBS=12 python3 -m pip wheel -q --no-build-isolation --no-deps -w /opt/h/wheels . \
    && python3 -m pip install -q --no-index --no-deps --target "$site" /opt/h/wheels/sageattention-*.whl
  echo "sage build exit $?"
) > /opt/h/sage-build.log 2>&1 &
sage=$!
# The source copy lives in RAM: the disk holds the model cache the worker fills.
if [ "$(df -BG --output=size /dev/shm | tail -1 | tr -dc 0-9)" -lt 45 ]; then mount -o remount,size=60G /dev/shm; fi
time python3 gpu-container/smoke/synthesize_models.py --manifest gpu-container/models.json \
  --models-dir "$source_dir" --comfyui-dir /opt/comfyui \
  --frame-interpolation-dir /opt/comfyui/custom_nodes/ComfyUI-Frame-Interpolation \
  --write-manifest /opt/h/synthetic-models.json
wait "$sage" || true
cat /opt/h/sage-build.log | tail -n 20
python3 -c "import sageattention, importlib.metadata as m; print('sageattention', m.version('sageattention'))"
cp /opt/h/synthetic-models.json "$OUT/"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
df -h / /dev/shm; free -g
