#!/bin/bash
# Re-make and measure the shipped directions of models/toyfaces-32 on the exported model
# (docs/quality.md).  Run from the repository root once models/toyfaces-32/{unet.onnx,
# attributes.onnx} are final:
#
#   tools/ship_toyfaces_directions.sh <checkpoint.pt the export came from> [t_edit]
#
# Every direction is optimized (the method that measured better, docs/quality.md) into
# models/toyfaces-32/directions/<name>.safetensors with its evalTarget and the exact command in
# `source`, two at a time (2 shared cores), then measured with `asyrp eval --n 100` into
# tools/scratch/ship/.  t_edit defaults to the learn rule's recommendation on the smile pairs
# (first t where P_t has lost >= 0.5 of the image).
set -euo pipefail
CKPT=$(realpath "${1:?checkpoint the final export came from}")
T_EDIT=${2:-}
MODEL=models/toyfaces-32
OUT=tools/scratch/ship
mkdir -p "$OUT" "$MODEL/directions"

# The optimizer needs the PyTorch weights behind unet.onnx: check they are the same network.
/usr/bin/python3 - "$CKPT" <<'EOF'
import sys
sys.path.insert(0, "tools")
from asyrp_tools.export import load_unet, parity
err = max(parity(load_unet(sys.argv[1]), "models/toyfaces-32/unet.onnx").values())
print("checkpoint vs unet.onnx, max abs error:", err)
sys.exit(0 if err < 1e-4 else "the checkpoint is not the one models/toyfaces-32/unet.onnx was exported from")
EOF

if [ -z "$T_EDIT" ]; then
  node bin/asyrp.js directions learn smile-learned --model toyfaces-32 --positive tools/runs/examples/smile/pos \
    --negative tools/runs/examples/smile/neg --pairs --steps 40 --force > "$OUT/learn-smile.txt"
  mv "$MODEL/directions/smile-learned.safetensors" "$OUT/"
  T_EDIT=$(sed -n 's/^recommended t_edit \([0-9]*\).*/\1/p' "$OUT/learn-smile.txt")
fi
echo "t_edit $T_EDIT"

optimize() { # name target
  (cd tools && /usr/bin/python3 optimize_direction.py --checkpoint "$CKPT" \
    --reader ../$MODEL/attributes.onnx --schema ../$MODEL/attributes.json --target "$2" \
    --name "$1" --t-edit "$T_EDIT" --faces 16 --epochs 6 --lr 0.1 --keep 5 --val 0 \
    --out "../$MODEL/directions/$1.safetensors") 2>&1 | grep -v -i warn > "$OUT/optimize-$1.txt"
}
optimize smile smile:+ & optimize glasses glasses:1 & wait
optimize eyes-closed eyes_open:0 & optimize hair-red hair_colour:red & wait

ev() { node bin/asyrp.js eval --model toyfaces-32 "$@"; }
ev --direction smile --n 100 > "$OUT/eval-smile.md" & ev --direction glasses --n 100 --strengths 1 > "$OUT/eval-glasses.md" & wait
ev --direction eyes-closed --n 100 --strengths 1 > "$OUT/eval-eyes-closed.md" & ev --direction hair-red --n 100 --strengths 1 > "$OUT/eval-hair-red.md" & wait
ev --direction "smile:1 glasses:1" --n 100 --strengths 1 > "$OUT/eval-smile-glasses.md"
cat "$OUT"/eval-*.md
