#!/bin/bash
# Makes, installs and measures the four reader-guided directions of toyfaces-32, the first files: the commands
# of docs/quality.md, "How they are made", in one place. No shipped file is its output any more: each was re-made
# from these against the rendered twins by tools/make_direction.sh (its recipe is in the file's `recipe` or
# `source` metadata), so `install` here puts the reader-guided files back. Run from the repository root:
#
#   tools/make_directions.sh                                 # pairs, optimize, install, measure faces 0-99
#   STEPS=optimize tools/make_directions.sh                  # one step only
#   PKG=/tmp/copy/toyfaces-32 tools/make_directions.sh       # on a copy of the package
#
# STEPS is any of: pairs optimize install measure. An optimizer round whose file is already in
# tools/runs/directions is kept (delete it to re-run the round), so a stopped run resumes where it was.
# About an hour per direction on two cores; needs Debian's PyTorch (tools/README.md, Install).
set -euo pipefail
PKG=$(cd "${PKG:-models/toyfaces-32}" && pwd)
STEPS=${STEPS:-"pairs optimize install measure"}
PY=${PYTHON:-/usr/bin/python3}
has() { [[ " $STEPS " == *" $1 "* ]]; }
mkdir -p tools/runs/directions

# The settings every round shares, fixed before any direction was measured (docs/quality.md).
BASE="--model-dir $PKG --reader $PKG/attributes.onnx --schema $PKG/attributes.json --objective final
  --keep-mode ce --margin 0.5 --l1 1 --keep 5 --t-boost 50 --batch 16 --lr-end 0.1 --val 0
  --cache runs/cache --t-edit 300"

round() { # out-name direction target pairs-folder [flags]: one optimizer round, kept if its file exists
  local out=$1 name=$2 target=$3 pairs=$4; shift 4
  if [ -f "tools/runs/directions/$out.safetensors" ]; then echo "kept tools/runs/directions/$out.safetensors"; return; fi
  # shellcheck disable=SC2086 # BASE is a list of flags
  (cd tools && "$PY" optimize_direction.py $BASE --target "$target" --name "$name" \
    --pairs "runs/$pairs/neg" "runs/$pairs/pos" "$@" --out "runs/directions/$out.safetensors")
}

acd() { # direction target pairs-folder [flags]: the three common rounds a -> c -> d
  local d=$1 target=$2 pairs=$3; shift 3
  round "$d-a" "$d" "$target" "$pairs" --lr 0.02 --pair-weight 80 --iterations 40 "$@"
  round "$d-c" "$d" "$target" "$pairs" --lr 0.007 --pair-weight 80 --keep 10 --keep-weight face_shape=4 \
    --iterations 30 --init "runs/directions/$d-a.safetensors" "$@"
  round "$d-d" "$d" "$target" "$pairs" --lr 0.003 --pair-weight 80 --keep 10 --keep-weight face_shape=4 \
    --pair-outside 0.25 --iterations 30 --init "runs/directions/$d-c.safetensors" "$@"
}

if has pairs; then
  # 512 rendered pairs per attribute, render seed 5151 (the pairs module's default; never used for evaluation).
  for p in smile=smile-pairs glasses=glasses-pairs eyes-closed=eyes-pairs hair-red=hair-red-pairs; do
    [ -d "tools/runs/${p#*=}" ] || (cd tools && "$PY" -m asyrp_tools.pairs --attribute "${p%%=*}" --out "runs/${p#*=}")
  done
fi

if has optimize; then
  acd eyes-closed eyes_open:0 eyes-pairs
  acd hair-red hair_colour:red hair-red-pairs
  acd smile smile:+ smile-pairs
  # Smile goes two rounds further from d with the guide pushed harder; g is shipped.
  round smile-e smile smile:+ smile-pairs --lr 0.007 --pair-weight 80 --keep 5 --guide-weight 2 \
    --iterations 30 --init runs/directions/smile-d.safetensors
  round smile-g smile smile:+ smile-pairs --lr 0.007 --pair-weight 40 --keep 5 --guide-weight 4 \
    --iterations 30 --init runs/directions/smile-e.safetensors
  # Glasses also trains on top of smile, so that the mix `smile:1 glasses:1` holds.
  acd glasses glasses:1 glasses-pairs --mix-with runs/directions/smile-e.safetensors
fi

if has install; then
  for pick in smile=smile-g glasses=glasses-d eyes-closed=eyes-closed-d hair-red=hair-red-d; do
    file=$PKG/directions/${pick%%=*}.safetensors
    cp "tools/runs/directions/${pick#*=}.safetensors" "$file"
    # The optimizer does not boost; tBoost 50 only labels the file (docs/research/directions.md, "tBoost").
    "$PY" tools/direction_meta.py "$file" tBoost=50 > /dev/null
  done
fi

if has measure; then
  # Faces 0-99 of the model's eval set (rendered by asyrp eval on first use); docs/quality.md, "How to reproduce the numbers", for the other sets.
  ev() { node bin/asyrp.js eval --model "$PKG" --n 100 "$@"; }
  ev --direction smile --strengths 0.25,0.5,1,1.5
  ev --direction glasses --strengths 1
  ev --direction eyes-closed --strengths 1
  ev --direction hair-red --strengths 1 --by hair_colour
  ev --direction "smile:1 glasses:1" --strengths 1
fi
