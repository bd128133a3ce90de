#!/bin/sh
# GPU check (issue #35) for a machine with an NVIDIA GPU and a Vulkan driver: times the shipped default
# model and a full-size random-weight DDPM 256² (the official CelebA-HQ shapes, converted by the real
# converter) on cpu and webgpu — UNet call at B = 1 and 8, one whole edit — and webgpu's difference from
# cpu, as a Markdown table (also $OUT/gpu-check.json). Needs `npm ci` and Debian's PyTorch (tools/).
# A few minutes on a 16-core host: the conversion is most of it.
#
#   sh bench/gpu-check.sh            # OUT=/tmp/asyrp-gpu-check STEPS=20 to change where / how long
set -eu
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/asyrp-gpu-check}
STEPS=${STEPS:-20}
PY=${PYTHON:-/usr/bin/python3}
mkdir -p "$OUT"
echo "== machine"
nproc; (nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "nvidia-smi: none") 2>&1
(vulkaninfo --summary 2>/dev/null | grep -E "deviceName|driverName" || echo "vulkaninfo: not installed") 2>&1
node -e "console.log('onnxruntime-node', require('onnxruntime-node/package.json').version, JSON.stringify(require('onnxruntime-node').listSupportedBackends()))"
if [ ! -f "$OUT/ddpm256/model.json" ]; then
  echo "== full-size random-weight DDPM 256 (official CelebA-HQ keys and shapes)"
  t0=$(date +%s)
  "$PY" tools/make_random_checkpoint.py --backbone celeba-hq --width official --out "$OUT/celeba_hq.ckpt"
  "$PY" tools/convert_checkpoint.py --arch ddpm --ckpt "$OUT/celeba_hq.ckpt" --dataset celeba \
      --out "$OUT/ddpm256" --id ddpm256-random --title "random-weight DDPM 256 (GPU check)" --parity-batch 1
  echo "conversion: $(( $(date +%s) - t0 )) s"
  rm -f "$OUT/celeba_hq.ckpt"
fi
echo "== timings (median of 3 after a warm-up; one edit = inversion + generation at $STEPS steps)"
node --import tsx bench/gpu-check.ts --steps "$STEPS" --json "$OUT/gpu-check.json" models/toyfaces-32 "$OUT/ddpm256"
