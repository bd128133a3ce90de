#!/bin/bash
# Make, install and measure the directions of toyfaces-32 with the 16x16 bottleneck (docs/quality.md,
# Round 18; it replaces tools/ship_toyfaces_directions.sh when that model becomes the default).
# Run from the repository root:
#
#   PKG=/tmp/c18/toyfaces-32 tools/ship_round18.sh                  # optimize, install, measure faces 0-99
#   PKG=/tmp/c18/toyfaces-32 STEPS=optimize tools/ship_round18.sh   # one step only
#
# tools/candidates/toyfaces-32-h16/README.md assembles the candidate package PKG.
#
# The optimizer rebuilds the PyTorch UNet from the package's unet.onnx (--model-dir;
# asyrp_tools.export.load_unet_from_package), so no training checkpoint is needed.  The model itself:
#
#   cd tools && OMP_WAIT_POLICY=PASSIVE python3 -m asyrp_tools.train --run runs/toyfaces-32-h16 \
#     --channel-mult 1,4 --steps 4000 --threads 2
#   python3 -m asyrp_tools.export --checkpoint runs/toyfaces-32-h16/checkpoint.pt --out <package copy> --update
#
# Every direction is made from zero by the same three rounds (Round 17's hair-red rounds HA -> HC -> HD,
# fixed before any of them was measured; only the target and the rendered pairs differ): Asyrp's loss on
# the finished edit (asyrp_tools/optimize_final.py) guided by the package's attribute reader, plus the
# pixel pair term |(edit - reconstruction) - (with - without)|_1 over 512 rendered pairs, tEdit 300.
# Glasses also learns on top of smile (--mix-with) so that `smile:1 glasses:1` holds.  Each file keeps
# the exact command in its `source`.  The 8x8 model's rounds (1-17) are in tools/ship_toyfaces_directions.sh.
set -euo pipefail
PKG=${PKG:?set PKG to the assembled candidate package (tools/candidates/toyfaces-32-h16/README.md)}
PKGA=$(cd "$PKG" && pwd)
MODEL_ID=$(basename "$PKGA")
STEPS=${STEPS:-"optimize install measure"}
OUT=tools/scratch/ship
mkdir -p "$OUT" tools/runs/directions

# The loss and its fixed settings (docs/quality.md, Rounds 10-17): guide = the package's reader, keep the
# other attributes (cross-entropy to their source class, weight 5 then 10), L1 to the unedited P_t (1).
BASE="--model-dir $PKGA --reader $PKGA/attributes.onnx --schema $PKGA/attributes.json --objective final
  --keep-mode ce --margin 0.5 --l1 1 --keep 5 --t-boost 50 --batch 16 --lr-end 0.1 --val 0 --cache runs/cache"
KEEP="--pair-weight 80 --keep 10 --keep-weight face_shape=4"
final() { # out-file name target [more flags]; a round whose file exists is kept (delete it to re-run)
  local out=$1 name=$2 target=$3; shift 3
  if [ -f "tools/runs/directions/$out" ]; then echo "kept tools/runs/directions/$out"; return; fi
  (cd tools && /usr/bin/python3 optimize_direction.py $BASE --target "$target" --name "$name" --t-edit 300 "$@" \
    --out "runs/directions/$out") 2>&1 | grep -v -i warn > "$OUT/final-$out.txt"
}
later() { # name letter: a round file of that letter or a later one exists
  compgen -G "tools/runs/directions/$1-[$2-z].safetensors" > /dev/null
}
rounds() { # name target pairs-folder [more flags]
  local name=$1 target=$2 pairs=$3; shift 3
  local P="--pairs runs/$pairs/neg runs/$pairs/pos"
  # A later round's file stands for the earlier ones (tools/candidates keeps only the latest round).
  later "$name" c ||
  final "$name-a.safetensors" "$name" "$target" $P --lr 0.02 --pair-weight 80 --iterations 40 "$@"
  later "$name" d ||
  final "$name-c.safetensors" "$name" "$target" $P --lr 0.007 $KEEP --iterations 30 \
    --init "runs/directions/$name-a.safetensors" "$@"
  later "$name" e ||
  final "$name-d.safetensors" "$name" "$target" $P --lr 0.003 $KEEP --pair-outside 0.25 --iterations 30 \
    --init "runs/directions/$name-c.safetensors" "$@"
}

if [[ " $STEPS " == *" optimize "* ]]; then
  (cd tools && for a in smile glasses eyes-closed hair-red; do
    [ -d "runs/${a%-closed}-pairs" ] || /usr/bin/python3 -m asyrp_tools.pairs --attribute "$a" --out "runs/${a%-closed}-pairs"
  done)
  # Two at a time (one thread each); glasses waits for the smile it is trained on top of.
  (rounds smile smile:+ smile-pairs
   # Smile under the common rounds: 78 % success at strength 1 on faces 0-99 with 99 % kept (bar 90 / 95).
   # Round e pushes it harder from d: the guide 2x, the keep term back to round a's 5, no face-shape weight.
   final smile-e.safetensors smile smile:+ --pairs runs/smile-pairs/neg runs/smile-pairs/pos --lr 0.007 \
     --pair-weight 80 --keep 5 --guide-weight 2 --iterations 30 --init runs/directions/smile-d.safetensors
   rounds glasses glasses:1 glasses-pairs --mix-with runs/directions/smile-e.safetensors) &
  (rounds hair-red hair_colour:red hair-red-pairs
   rounds eyes-closed eyes_open:0 eyes-pairs) &
  wait
fi

if [[ " $STEPS " == *" install "* ]]; then
  for pick in smile=smile-e glasses=glasses-d eyes-closed=eyes-closed-d hair-red=hair-red-d; do
    d=${pick%%=*}
    cp "tools/runs/directions/${pick#*=}.safetensors" "$PKGA/directions/$d.safetensors"
    # tBoost by the measured rule (docs/quality.md, round 6: boosting keeps a zero edit's attributes and
    # does not undo an edit); the optimizer does not boost, so this only labels the file.
    /usr/bin/python3 tools/direction_meta.py "$PKGA/directions/$d.safetensors" tBoost=50 > /dev/null
  done
fi

if [[ " $STEPS " == *" measure "* ]]; then
  ev() { ASYRP_MODELS_DIR=$(dirname "$PKGA") node bin/asyrp.js eval --model "$MODEL_ID" "$@"; }
  ev --direction smile --n 100 > "$OUT/eval-smile.md" & ev --direction glasses --n 100 --strengths 1 > "$OUT/eval-glasses.md" & wait
  ev --direction eyes-closed --n 100 --strengths 1 > "$OUT/eval-eyes-closed.md" & ev --direction hair-red --n 100 --strengths 1 > "$OUT/eval-hair-red.md" & wait
  ev --direction "smile:1 glasses:1" --n 100 --strengths 1 > "$OUT/eval-smile-glasses.md"
  cat "$OUT"/eval-*.md
fi
