#!/bin/bash
# History: the directions of the FIRST default toyfaces-32 (8x8 bottleneck, step 3603, replaced in
# Round 18; its unet.onnx is `git show 2757118:models/toyfaces-32/unet.onnx`).  Against the shipped
# 16x16 package its direction files do not fit; tools/ship_round18.sh makes the shipped ones.
# Re-make and measure the directions of that model (docs/quality.md, Rounds 1-17).  Run from the repository root once models/toyfaces-32/{unet.onnx,
# attributes.onnx} are final:
#
#   SHIP="smile=smile-d ..." tools/ship_toyfaces_directions.sh [t_edit]
#
# The optimizer rebuilds the PyTorch UNet from models/toyfaces-32/unet.onnx itself
# (--model-dir; asyrp_tools.export.load_unet_from_package), so no training checkpoint is needed.
#
# Every direction is optimized (the method that measured better, docs/quality.md) in stages
# into tools/runs/directions/, each file carrying its evalTarget and the exact command in
# `source`; the stage files named by SHIP are copied into models/toyfaces-32/directions/ and
# measured with `asyrp eval --n 100` into tools/scratch/ship/.  t_edit (stage 1 and the 614
# directions) defaults to the learn rule's recommendation on the smile pairs (first t where
# P_t has lost >= 0.5 of the image); the shipped files used 614.
set -euo pipefail
T_EDIT=${1:-}
SHIP=${SHIP:-"smile=smile-R1 glasses=glasses-R5 eyes-closed=eyes-closed-l hair-red=hair-red-T2"}
MODEL=models/toyfaces-32
OUT=tools/scratch/ship
mkdir -p "$OUT" "$MODEL/directions"

if [ -z "$T_EDIT" ]; then
  node bin/asyrp.js directions learn smile-learned --model toyfaces-32 --positive tools/runs/examples/smile/pos \
    --negative tools/runs/examples/smile/neg --pairs --steps 40 --force > "$OUT/learn-smile.txt"
  mv "$MODEL/directions/smile-learned.safetensors" "$OUT/"
  T_EDIT=$(sed -n 's/^recommended t_edit \([0-9]*\).*/\1/p' "$OUT/learn-smile.txt")
fi
echo "t_edit $T_EDIT"

# Stage 1, the paper's loss (Asyrp §3.4: guide on P_t + L1, one step per editing timestep).
optimize() { # name target
  (cd tools && /usr/bin/python3 optimize_direction.py --model-dir ../$MODEL \
    --reader ../$MODEL/attributes.onnx --schema ../$MODEL/attributes.json --target "$2" \
    --name "$1" --t-edit "$T_EDIT" --faces 16 --epochs 6 --lr 0.1 --keep 5 --val 0 \
    --out "runs/directions/$1-paper.safetensors") 2>&1 | grep -v -i warn > "$OUT/optimize-$1.txt"
}
# Stage 2, the loss on the finished edit (asyrp_tools/optimize_final.py), from stage 1 or from zero.
# Commands exactly as run for the shipped files (docs/quality.md); each writes tools/runs/directions/<file>.
FINAL="--reader ../$MODEL/attributes.onnx --schema ../$MODEL/attributes.json --t-boost 100 --batch 8 --objective final --margin 0.5 --l1 3 --val 0"
final() { # out-file name target t_edit [more flags]
  local out=$1 name=$2 target=$3 t_edit=$4; shift 4
  (cd tools && /usr/bin/python3 optimize_direction.py --model-dir ../$MODEL $FINAL --target "$target" --name "$name" \
    --t-edit "$t_edit" "$@" --out "runs/directions/$out") 2>&1 | grep -v -i warn > "$OUT/final-$out.txt"
}
mkdir -p tools/runs/directions
optimize smile smile:+ & optimize glasses glasses:1 & wait
optimize eyes-closed eyes_open:0 & optimize hair-red hair_colour:red & wait
final glasses-a.safetensors glasses glasses:1 "$T_EDIT" --faces 32 --iterations 60 --lr 0.03 --keep 5 \
  --init runs/directions/glasses-paper.safetensors
CE="--eligible-only --keep-mode ce --faces 32 --lr 0.015 --keep 2"
final smile-c.safetensors smile smile:+ 300 $CE --iterations 50 &
final glasses-c.safetensors glasses glasses:1 "$T_EDIT" $CE --iterations 40 --init runs/directions/glasses-a.safetensors &
final eyes-closed-c.safetensors eyes-closed eyes_open:0 "$T_EDIT" $CE --iterations 30 --init runs/directions/eyes-closed-paper.safetensors &
final hair-red-c.safetensors hair-red hair_colour:red "$T_EDIT" $CE --iterations 30 --init runs/directions/hair-red-paper.safetensors &
wait
# Round d: the same loss on 128 eligible faces (round c overfitted its 32), from round c.
D="--eligible-only --keep-mode ce --faces 128 --lr 0.01 --keep 2 --iterations 40"
final smile-d.safetensors smile smile:+ 300 $D --init runs/directions/smile-c.safetensors &
final glasses-d.safetensors glasses glasses:1 "$T_EDIT" $D --init runs/directions/glasses-c.safetensors &
final eyes-closed-d.safetensors eyes-closed eyes_open:0 "$T_EDIT" $D --init runs/directions/eyes-closed-c.safetensors &
final hair-red-d.safetensors hair-red hair_colour:red "$T_EDIT" $D --init runs/directions/hair-red-c.safetensors &
wait
# Round e: twice the keep and L1 weights (argparse takes the later --l1), from the best earlier round.
E="--eligible-only --keep-mode ce --faces 128 --lr 0.01 --keep 4 --l1 6 --iterations 30"
final smile-e.safetensors smile smile:+ 300 $E --init runs/directions/smile-d.safetensors &
final glasses-e.safetensors glasses glasses:1 "$T_EDIT" $E --init runs/directions/glasses-d.safetensors &
final eyes-closed-e.safetensors eyes-closed eyes_open:0 "$T_EDIT" $E --init runs/directions/eyes-closed-c.safetensors &
final hair-red-e.safetensors hair-red hair_colour:red "$T_EDIT" $E --init runs/directions/hair-red-c.safetensors &
wait
# Round g: round e's settings, re-run after the engine inverts exactly (model.json
# defaults.inversionRefinement 2; the optimizer reads it from the package), from the installed round.
G="--eligible-only --keep-mode ce --faces 128 --lr 0.01 --keep 4 --l1 6 --iterations 30"
final glasses-g.safetensors glasses glasses:1 "$T_EDIT" $G --init runs/directions/glasses-d.safetensors &
final hair-red-g.safetensors hair-red hair_colour:red "$T_EDIT" $G --init runs/directions/hair-red-e.safetensors &
wait
final eyes-closed-g.safetensors eyes-closed eyes_open:0 "$T_EDIT" $G --init runs/directions/eyes-closed-e.safetensors &
final smile-g.safetensors smile smile:+ 300 $G --init runs/directions/smile-e.safetensors &
wait
# Round h: 30 more iterations with the step decayed to 0.1 (smile), own weights for hair-red (not shipped).
final smile-h.safetensors smile smile:+ 300 $G --lr-end 0.1 --init runs/directions/smile-g.safetensors &
final hair-red-h.safetensors hair-red hair_colour:red "$T_EDIT" --eligible-only --keep-mode ce --faces 128 --lr 0.01 --keep 2 --l1 3 --iterations 30 --init runs/directions/hair-red-e.safetensors &
wait
# Round i: 30 more iterations with the step decayed (smile's round-h recipe) for the others, from round g
# (hair-red from e, with twice the guide weight and 40 iterations; not shipped).  Round j: eyes-closed and
# hair-red moved to t_edit 300 (where the smile forms), the old direction kept for t >= 614 and zero below
# (align_init).  Round k: glasses also trained on top of smile (--mix-with), for `smile:1 glasses:1`.
# Round l: eyes-closed from j with twice the keep weight.  Smile round i: smile on top of glasses round k.
# hair-blonde-a: another hair colour, from zero (not shipped).
I="$G --t-boost 75 --lr-end 0.1"
final glasses-i.safetensors glasses glasses:1 "$T_EDIT" $I --keep 8 --init runs/directions/glasses-g.safetensors &
final eyes-closed-i.safetensors eyes-closed eyes_open:0 "$T_EDIT" $I --init runs/directions/eyes-closed-g.safetensors &
wait
final hair-red-i.safetensors hair-red hair_colour:red "$T_EDIT" $I --guide-weight 2 --iterations 40 --init runs/directions/hair-red-e.safetensors &
final eyes-closed-j.safetensors eyes-closed eyes_open:0 300 $I --init runs/directions/eyes-closed-g.safetensors &
wait
final glasses-k.safetensors glasses glasses:1 "$T_EDIT" $I --keep 8 --mix-with runs/directions/smile-h.safetensors --init runs/directions/glasses-i.safetensors &
final hair-red-j.safetensors hair-red hair_colour:red 300 $I --init runs/directions/hair-red-e.safetensors &
wait
final eyes-closed-l.safetensors eyes-closed eyes_open:0 300 $I --keep 8 --init runs/directions/eyes-closed-j.safetensors &
final hair-blonde-a.safetensors hair-blonde hair_colour:blonde "$T_EDIT" $I --lr 0.02 --iterations 40 &
wait
final smile-i.safetensors smile smile:+ 300 $I --mix-with runs/directions/glasses-k.safetensors --init runs/directions/smile-h.safetensors
# Smile rounds j, k: keep weight 6, from i and from h (not shipped: worse alone and in the mix).
final smile-j.safetensors smile smile:+ 300 $I --keep 6 --mix-with runs/directions/glasses-k.safetensors --init runs/directions/smile-i.safetensors &
final smile-k.safetensors smile smile:+ 300 $I --keep 6 --mix-with runs/directions/glasses-k.safetensors --init runs/directions/smile-h.safetensors &
wait
# Round m: hair-red from e on batches of 16 (black -> red 16/23, blonde -> red 5/33: not shipped);
# hair-black-a: the darkest colour, from zero (20 % on training batches; not shipped).
final hair-red-m.safetensors hair-red hair_colour:red "$T_EDIT" $I --t-boost 50 --batch 16 --init runs/directions/hair-red-e.safetensors &
final hair-black-a.safetensors hair-black hair_colour:black "$T_EDIT" $I --lr 0.02 --iterations 40 &
wait
# Round n (docs/quality.md, Round 7): a guide of two readers, the package's and a third training of the
# reader (seed 12; the judge, seed 11, stays unseen), 30 iterations from each installed round (not shipped:
# smile under the judge 75 % against 77 %, glasses and eyes-closed kept less).
N="$I --t-boost 50 --reader ../$MODEL/attributes.onnx,runs/judge/guide-s12.onnx"
(cd tools && mkdir -p runs/judge && /usr/bin/python3 -m asyrp_tools.reader --resolution 32 --steps 2000 --seed 12 --out runs/judge/guide-s12.onnx) > "$OUT/reader-s12.txt" 2>&1
final smile-n.safetensors smile smile:+ 300 $N --init runs/directions/smile-h.safetensors &
final glasses-n.safetensors glasses glasses:1 "$T_EDIT" $N --keep 8 --mix-with runs/directions/smile-h.safetensors --init runs/directions/glasses-k.safetensors &
wait
final eyes-closed-n.safetensors eyes-closed eyes_open:0 300 $N --keep 8 --init runs/directions/eyes-closed-l.safetensors
# Rounds o-s (docs/quality.md, Round 8): hair-red with an h-dependent part G (--h-gain), from e on batches
# of 16 (not shipped: r 52 % / 93 %, s 44 % / 88 %).  o and p ran with G's step scaled by 1/sqrt(C),
# since replaced by 1/C: --gain-lr 8 and 3 then are about 90 and 34 now.
H="$I --t-boost 50 --batch 16 --h-gain --init runs/directions/hair-red-e.safetensors"
final hair-red-o.safetensors hair-red hair_colour:red "$T_EDIT" $H --gain-lr 90 &
final hair-red-q.safetensors hair-red hair_colour:red "$T_EDIT" $H --gain-lr 1 --iterations 40 &
wait
final hair-red-r.safetensors hair-red hair_colour:red "$T_EDIT" $H --gain-lr 3 --iterations 40 &
final hair-red-s.safetensors hair-red hair_colour:red "$T_EDIT" $H --gain-lr 10 --iterations 40 &
wait
# Rounds u, v (Round 8's diagnosis): global hair-red from e on one source colour only, 128 rendered faces
# (render seed 5151) of blonde / black hair written as PNGs (u: 0/33 blonde faces turn red, v: 21/23 black).
/usr/bin/python3 - <<'PY'
import os, sys
import numpy as np
from PIL import Image
sys.path.insert(0, "tools")
from asyrp_tools.renderer import render_dataset
arr, labels = render_dataset(800, 32, seed=5151)
for cls in ("blonde", "black"):
    d = f"tools/runs/hair-{cls}"
    os.makedirs(d, exist_ok=True)
    picked = [i for i, l in enumerate(labels) if l["hair_colour"] == cls][:128]
    for k, i in enumerate(picked):
        Image.fromarray(((arr[i].transpose(1, 2, 0) + 1) * 127.5).clip(0, 255).round().astype(np.uint8)).save(f"{d}/{k:04d}.png")
PY
U="$I --t-boost 50 --batch 16 --init runs/directions/hair-red-e.safetensors"
final hair-red-u.safetensors hair-red hair_colour:red "$T_EDIT" $U --images runs/hair-blonde &
final hair-red-v.safetensors hair-red hair_colour:red "$T_EDIT" $U --images runs/hair-black &
wait
# Round 9 (docs/quality.md): the keep / L1 weights (4 / 6), not blonde hair, held hair-red back.  y, z:
# blonde faces only with keep 2 / L1 1 at tEdit 614 and 300; A, B: every colour with those weights at 300
# and 614; C: A with keep 4; D: A on 256 faces with keep 3.
W="$I --t-boost 50 --batch 16 --keep 2 --l1 1 --init runs/directions/hair-red-e.safetensors"
final hair-red-y.safetensors hair-red hair_colour:red "$T_EDIT" $W --images runs/hair-blonde &
final hair-red-z.safetensors hair-red hair_colour:red 300 $W --images runs/hair-blonde &
wait
final hair-red-A.safetensors hair-red hair_colour:red 300 $W &
final hair-red-B.safetensors hair-red hair_colour:red "$T_EDIT" $W &
wait
final hair-red-C.safetensors hair-red hair_colour:red 300 $W --lr 0.005 --keep 4 --iterations 20 --init runs/directions/hair-red-A.safetensors &
final hair-red-D.safetensors hair-red hair_colour:red 300 $W --faces 256 --lr 0.007 --keep 3 --init runs/directions/hair-red-A.safetensors &
wait
# E, F: from D on 512 faces (keep 5, step 0.005 / keep 3, step 0.007); G (shipped), H: from F with keep 5 / 8.
final hair-red-E.safetensors hair-red hair_colour:red 300 $W --faces 512 --lr 0.005 --keep 5 --init runs/directions/hair-red-D.safetensors &
final hair-red-F.safetensors hair-red hair_colour:red 300 $W --faces 512 --lr 0.007 --keep 3 --init runs/directions/hair-red-D.safetensors &
wait
final hair-red-G.safetensors hair-red hair_colour:red 300 $W --faces 512 --lr 0.004 --keep 5 --init runs/directions/hair-red-F.safetensors &
final hair-red-H.safetensors hair-red hair_colour:red 300 $W --faces 512 --lr 0.003 --keep 8 --init runs/directions/hair-red-F.safetensors &
wait
# I: an h-dependent part (Round 8) on top of G (not shipped: 96 % / 90 %).
final hair-red-I.safetensors hair-red hair_colour:red 300 $W --faces 512 --lr 0.003 --keep 5 --iterations 20 --h-gain --gain-lr 3 --init runs/directions/hair-red-G.safetensors
# Round 10 (docs/quality.md): a pixel target from rendered pairs.  512 training faces (render seed 5151,
# every colour but red) and the same faces rendered with red hair; the pair term
# |(edit - reconstruction) - (red - original)|_1 asks for the colour change inside the hair and none outside.
(cd tools && /usr/bin/python3 -m asyrp_tools.pairs --attribute hair-red --out runs/hair-red-pairs)
X="$W --keep 5 --pairs runs/hair-red-pairs/neg runs/hair-red-pairs/pos --cache runs/cache"
final hair-red-P3.safetensors hair-red hair_colour:red 300 $X --lr 0.004 --pair-weight 3 --init runs/directions/hair-red-G.safetensors &
final hair-red-P10.safetensors hair-red hair_colour:red 300 $X --lr 0.004 --pair-weight 10 --init runs/directions/hair-red-G.safetensors &
wait
final hair-red-Q1.safetensors hair-red hair_colour:red 300 $X --lr 0.007 --pair-weight 40 --init runs/directions/hair-red-G.safetensors &
final hair-red-Q2.safetensors hair-red hair_colour:red 300 $X --lr 0.007 --pair-weight 40 --h-gain --gain-lr 3 --init runs/directions/hair-red-G.safetensors &
wait
final hair-red-R1.safetensors hair-red hair_colour:red 300 $X --iterations 20 --lr 0.004 --pair-weight 40 --guide-weight 1.5 --init runs/directions/hair-red-Q1.safetensors &
final hair-red-R2.safetensors hair-red hair_colour:red 300 $X --lr 0.007 --pair-weight 20 --init runs/directions/hair-red-G.safetensors &
wait
final hair-red-S1.safetensors hair-red hair_colour:red 300 $X --iterations 20 --lr 0.003 --pair-weight 80 --init runs/directions/hair-red-R1.safetensors &
final hair-red-S2.safetensors hair-red hair_colour:red 300 $X --iterations 20 --lr 0.003 --pair-weight 40 --guide-weight 1.2 --init runs/directions/hair-red-Q1.safetensors &
wait
final hair-red-T1.safetensors hair-red hair_colour:red 300 $X --iterations 20 --lr 0.003 --pair-weight 160 --init runs/directions/hair-red-S1.safetensors &
final hair-red-T2.safetensors hair-red hair_colour:red 300 $X --iterations 20 --lr 0.003 --pair-weight 80 --init runs/directions/hair-red-S2.safetensors &
wait
# Round 11 (docs/quality.md; none installed): five more levers from T2, chosen on eval faces 100-299 and not
# on 0-99: a preservation margin in the keep term (V), the pair term weighing unchanged pixels 4x (W), the
# edit confined to t <= 650 (X), tEdit 150 (ZA) and a lighter guide (ZB).
T2I="--init runs/directions/hair-red-T2.safetensors"
final hair-red-V1.safetensors hair-red hair_colour:red 300 $X --iterations 30 --lr 0.003 --pair-weight 80 --keep-goal 0.99 $T2I &
final hair-red-V2.safetensors hair-red hair_colour:red 300 $X --iterations 30 --lr 0.003 --pair-weight 80 --keep-goal 0.99 --keep 10 $T2I &
wait
final hair-red-W1.safetensors hair-red hair_colour:red 300 $X --iterations 30 --lr 0.003 --pair-weight 80 --pair-outside 4 $T2I &
final hair-red-W2.safetensors hair-red hair_colour:red 300 $X --iterations 30 --lr 0.006 --pair-weight 80 --pair-outside 4 $T2I &
wait
final hair-red-X1.safetensors hair-red hair_colour:red 300 $X --t-max 650 --iterations 40 --lr 0.006 --pair-weight 80 $T2I &
final hair-red-X2.safetensors hair-red hair_colour:red 300 $X --t-max 650 --iterations 40 --lr 0.006 --pair-weight 40 --guide-weight 1.5 $T2I &
wait
final hair-red-ZA.safetensors hair-red hair_colour:red 150 $X --iterations 30 --lr 0.003 --pair-weight 80 $T2I &
final hair-red-ZB.safetensors hair-red hair_colour:red 300 $X --iterations 30 --lr 0.003 --pair-weight 80 --guide-weight 0.7 $T2I &
wait
# Round 12 (docs/quality.md): Round 10's pixel target for glasses and smile.  512 training faces (render
# seed 5151) without glasses / with smile <= 0.2, and the same faces rendered with glasses / smile + 0.8.
(cd tools && for a in glasses smile; do /usr/bin/python3 -m asyrp_tools.pairs --attribute $a --out runs/$a-pairs; done)
R="$I --t-boost 50 --batch 16 --lr-end 0.1 --cache runs/cache --pair-weight 20"
RG="$R --keep 8 --pairs runs/glasses-pairs/neg runs/glasses-pairs/pos --mix-with runs/directions/smile-h.safetensors --init runs/directions/glasses-k.safetensors"
final glasses-R1.safetensors glasses glasses:1 "$T_EDIT" $RG --iterations 20 --lr 0.003 &
final glasses-R2.safetensors glasses glasses:1 "$T_EDIT" $RG --iterations 20 --lr 0.003 --pair-weight 60 &
wait
final smile-R1.safetensors smile smile:+ 300 $R --pairs runs/smile-pairs/neg runs/smile-pairs/pos --iterations 20 --lr 0.003 --init runs/directions/smile-h.safetensors &
final glasses-R4.safetensors glasses glasses:1 300 $RG --iterations 30 --lr 0.01 &
wait
# R5: glasses trained again on top of the new smile (the mix with R1 and glasses k kept 85.5 % on faces 100-299).
final glasses-R5.safetensors glasses glasses:1 "$T_EDIT" $R --keep 8 --pairs runs/glasses-pairs/neg runs/glasses-pairs/pos \
  --mix-with runs/directions/smile-R1.safetensors --init runs/directions/glasses-k.safetensors --iterations 30 --lr 0.006
# Round 13 (docs/quality.md): eyes-closed with its own pairs (the same 512 training faces with eyes open,
# rendered again with them closed), and glasses R5's command again after the pair term was fixed to be
# measured from the other direction's edit on mixed batches (R6).  Chosen on 400 fresh faces (render
# seed 5152: python3 -m asyrp_tools.renderer --out <folder> --n 400 --seed 5152; asyrp eval --faces).
(cd tools && /usr/bin/python3 -m asyrp_tools.pairs --attribute eyes-closed --out runs/eyes-pairs)
RE="$R --keep 8 --pairs runs/eyes-pairs/neg runs/eyes-pairs/pos --init runs/directions/eyes-closed-l.safetensors"
final eyes-closed-R1.safetensors eyes-closed eyes_open:0 300 $RE --iterations 20 --lr 0.003
final eyes-closed-R2.safetensors eyes-closed eyes_open:0 300 $RE --iterations 30 --lr 0.006
final glasses-R6.safetensors glasses glasses:1 "$T_EDIT" $R --keep 8 --pairs runs/glasses-pairs/neg runs/glasses-pairs/pos \
  --mix-with runs/directions/smile-R1.safetensors --init runs/directions/glasses-k.safetensors --iterations 30 --lr 0.006
# Hair-red from T2 with Round 8's h-dependent part G·h (H1: gain step 3·lr/C; H2: 30·lr/C).
final hair-red-H1.safetensors hair-red hair_colour:red 300 $X --iterations 20 --lr 0.003 --pair-weight 80 $T2I --h-gain --gain-lr 3 &
final hair-red-H2.safetensors hair-red hair_colour:red 300 $X --iterations 20 --lr 0.003 --pair-weight 80 $T2I --h-gain --gain-lr 30 &
wait
# Round 14 (docs/quality.md): hair-red from T2 with the paper's nonlinear f_t(h, t) (--h-net: 64 hidden units,
# the DDPM timestep embedding; N10 / N30: the net's step 10x / 30x its default).
final hair-red-N10.safetensors hair-red hair_colour:red 300 $X --iterations 30 --lr 0.003 --pair-weight 80 $T2I --h-net 64 --h-net-lr 10 &
final hair-red-N30.safetensors hair-red hair_colour:red 300 $X --iterations 30 --lr 0.003 --pair-weight 80 $T2I --h-net 64 --h-net-lr 30 &
wait
# N10b: N10 for 30 more iterations; N10k: N10 with the keep term at 10 instead of 5.
final hair-red-N10b.safetensors hair-red hair_colour:red 300 $X --iterations 30 --lr 0.003 --pair-weight 80 \
  --init runs/directions/hair-red-N10.safetensors --h-net 64 --h-net-lr 10 &
final hair-red-N10k.safetensors hair-red hair_colour:red 300 $X --iterations 30 --lr 0.003 --pair-weight 80 $T2I --h-net 64 --h-net-lr 10 --keep 10 &
wait
# N10f: N10 with face shape's keep term 4x (the attribute most of hair-red's flips are).
final hair-red-N10f.safetensors hair-red hair_colour:red 300 $X --iterations 30 --lr 0.003 --pair-weight 80 $T2I --h-net 64 --h-net-lr 10 \
  --keep-weight face_shape=4
# Round 15 (docs/quality.md): hair-red's flips are mostly blonde hair beside medium skin (asyrp eval --by
# hair_colour,skin_tone).  The 512 pairs plus 256 more of exactly those faces (render seed 5151, from face 100000).
rm -rf tools/runs/hair-red-pairs-bm && cp -r tools/runs/hair-red-pairs tools/runs/hair-red-pairs-bm
(cd tools && /usr/bin/python3 -m asyrp_tools.pairs --attribute hair-red --where hair_colour=blonde --where skin_tone=medium \
  --first 100000 --number-from 512 --count 256 --out runs/hair-red-pairs-bm)
# After $X, whose --pairs it replaces (argparse keeps the last).
BM="--pairs runs/hair-red-pairs-bm/neg runs/hair-red-pairs-bm/pos"
final hair-red-B1.safetensors hair-red hair_colour:red 300 $X $BM --iterations 30 --lr 0.003 --pair-weight 80 $T2I &
final hair-red-B2.safetensors hair-red hair_colour:red 300 $X $BM --iterations 30 --lr 0.003 --pair-weight 80 $T2I --h-net 64 --h-net-lr 10 &
wait
# B2b: B2 for 30 more iterations; F16: T2 fitted to 16 of those blonde, medium-skinned pairs alone (can one
# direction keep them all? On its 16 faces, yes; on other faces of the same kind, no).
final hair-red-B2b.safetensors hair-red hair_colour:red 300 $X $BM --iterations 30 --lr 0.003 --pair-weight 80 \
  --init runs/directions/hair-red-B2.safetensors --h-net 64 --h-net-lr 10 &
mkdir -p tools/runs/hair-red-pairs-bm16/neg tools/runs/hair-red-pairs-bm16/pos
for i in $(seq 512 527); do for s in neg pos; do cp tools/runs/hair-red-pairs-bm/$s/0$i.png tools/runs/hair-red-pairs-bm16/$s/; done; done
final hair-red-F16.safetensors hair-red hair_colour:red 300 $X --pairs runs/hair-red-pairs-bm16/neg runs/hair-red-pairs-bm16/pos \
  --iterations 40 --lr 0.003 --pair-weight 80 $T2I &
wait
# O1 / O2: the pair term weighing the pixels a pair leaves unchanged 0.25x, i.e. the hair 4x (Round 11's W1
# was the opposite, 4x outside): on the 512 pairs (O1) and with the blonde, medium-skinned ones added (O2).
final hair-red-O1.safetensors hair-red hair_colour:red 300 $X --iterations 30 --lr 0.003 --pair-weight 80 --pair-outside 0.25 $T2I &
final hair-red-O2.safetensors hair-red hair_colour:red 300 $X $BM --iterations 30 --lr 0.003 --pair-weight 80 --pair-outside 0.25 $T2I &
wait
# Round 16 (docs/quality.md): another hair colour, blonde, with hair-red's recipe (tEdit 300, 512 rendered pairs,
# the pixel pair term), from zero, to test whether hair-red's shortfall is the red-from-blonde case (blonde sits
# far from dark and medium skin).  It is not: BL10 flips face shape and hair length on every kind of face
# (93.9 % kept where not chosen); not shipped.  Files are named BLn as they were run (their `source` says so).
(cd tools && /usr/bin/python3 -m asyrp_tools.pairs --attribute hair-blonde --out runs/hair-blonde-pairs)
BX="$I --t-boost 50 --batch 16 --keep 5 --l1 1 --faces 512 --pairs runs/hair-blonde-pairs/neg runs/hair-blonde-pairs/pos --cache runs/cache"
BLF="$BX --lr 0.003 --pair-weight 80 --keep 10 --keep-weight face_shape=4"
final BL1.safetensors hair-blonde hair_colour:blonde 300 $BX --lr 0.02 --pair-weight 40 --iterations 40 &
final BL2.safetensors hair-blonde hair_colour:blonde 300 $BX --lr 0.02 --pair-weight 80 --iterations 40 &
wait
final BL3.safetensors hair-blonde hair_colour:blonde 300 $BX --lr 0.007 --pair-weight 80 --keep 10 --iterations 30 --init runs/directions/BL2.safetensors &
final BL4.safetensors hair-blonde hair_colour:blonde 300 $BX --lr 0.007 --pair-weight 200 --iterations 30 --init runs/directions/BL2.safetensors &
wait
final BL5.safetensors hair-blonde hair_colour:blonde 300 $BX --lr 0.004 --pair-weight 80 --keep 10 --iterations 30 --init runs/directions/BL3.safetensors
final BL6.safetensors hair-blonde hair_colour:blonde 300 $BX --lr 0.004 --pair-weight 80 --keep 20 --iterations 30 --init runs/directions/BL5.safetensors &
final BL7.safetensors hair-blonde hair_colour:blonde 300 $BX --lr 0.004 --pair-weight 80 --keep 10 --keep-weight face_shape=4 --iterations 30 \
  --init runs/directions/BL5.safetensors &
wait
final BL8.safetensors hair-blonde hair_colour:blonde 300 $BLF --pair-outside 0.25 --iterations 30 --init runs/directions/BL7.safetensors &
final BL9.safetensors hair-blonde hair_colour:blonde 300 $BLF --h-net 64 --h-net-lr 10 --iterations 30 --init runs/directions/BL7.safetensors &
wait
final BL10.safetensors hair-blonde hair_colour:blonde 300 $BLF --pair-outside 0.25 --iterations 30 --init runs/directions/BL8.safetensors &
final BL11.safetensors hair-blonde hair_colour:blonde 300 $BLF --pair-outside 0.1 --iterations 30 --init runs/directions/BL7.safetensors &
wait
# Round 17 (docs/quality.md): a candidate UNet with a 16x16 bottleneck (channel mult 1,4: h is [128,16,16]),
# trained 4000 steps, and hair-red made on it from zero with Round 16's recipe.  Not installed: the candidate
# package lives outside models/ (H16, built as docs/quality.md Round 17 says); files are named Hn as run.
H16=${H16:-/tmp/h16/toyfaces-32}
# Round 16's BX with hair-red's pairs, on the candidate package (`final` takes the later --model-dir/--reader/--schema).
HX="$I --t-boost 50 --batch 16 --keep 5 --l1 1 --faces 512 --pairs runs/hair-red-pairs/neg runs/hair-red-pairs/pos --cache runs/cache
  --model-dir $H16 --reader $H16/attributes.onnx --schema $H16/attributes.json"
HK="--pair-weight 80 --keep 10 --keep-weight face_shape=4"
if [ -f "$H16/unet.onnx" ]; then
  final HA.safetensors hair-red hair_colour:red 300 $HX --lr 0.02 --pair-weight 80 --iterations 40 &
  final HB.safetensors hair-red hair_colour:red 300 $HX --lr 0.02 $HK --pair-outside 0.25 --iterations 40 &
  wait
  final HC.safetensors hair-red hair_colour:red 300 $HX --lr 0.007 $HK --iterations 30 --init runs/directions/HA.safetensors
  final HD.safetensors hair-red hair_colour:red 300 $HX --lr 0.003 $HK --pair-outside 0.25 --iterations 30 \
    --init runs/directions/HC.safetensors
fi
for pick in $SHIP; do   # SHIP="smile=smile-c glasses=glasses-c ..." : which stage file each shipped direction is
  cp "tools/runs/directions/${pick#*=}.safetensors" "$MODEL/directions/${pick%%=*}.safetensors"
  # tBoost by the measured rule (docs/quality.md, round 6: boosting keeps a zero edit's attributes and
  # does not undo an edit); the optimizer does not boost, so this only labels the file.
  /usr/bin/python3 tools/direction_meta.py "$MODEL/directions/${pick%%=*}.safetensors" tBoost=${T_BOOST:-50} > /dev/null
done

ev() { node bin/asyrp.js eval --model toyfaces-32 "$@"; }
ev --direction smile --n 100 > "$OUT/eval-smile.md" & ev --direction glasses --n 100 --strengths 1 > "$OUT/eval-glasses.md" & wait
ev --direction eyes-closed --n 100 --strengths 1 > "$OUT/eval-eyes-closed.md" & ev --direction hair-red --n 100 --strengths 1 > "$OUT/eval-hair-red.md" & wait
ev --direction "smile:1 glasses:1" --n 100 --strengths 1 > "$OUT/eval-smile-glasses.md"
cat "$OUT"/eval-*.md
