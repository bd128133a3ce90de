#!/bin/bash
# Makes one direction of toyfaces-32 guided by the rendered twins, the ground truth `asyrp eval` judges by,
# and installs it only if it is nearer the bars than the shipped one on faces that made nothing. From the repository
# root, after `npm run build`:
#
#   tools/make_direction.sh smile          # or glasses, eyes-closed, hair-red, frown (the smile's negative side)
#
# Three sets of faces, by render seed, never mixed:
#   make   (5151): PAIRS faces and their twins (pairs.py --attribute twin:<key>): the optimizer's only target;
#   choose (6161): CHOOSE faces with twins: the new direction against the shipped one, by the twin judge; the
#                  install is decided here and nowhere else;
#   report (8383): the faces docs/quality.md reports on (tools/quality_report.sh): both files are judged there
#                  after the decision, for the record. (Until 2026-12-07 the report set could also veto an
#                  install, which made it a second choose set: its numbers were then chosen on, not only reported.)
# "Beats" is by the bars (asyrp_tools/bars.py): the smaller total shortfall max(0, 0.90 − success) +
# max(0, 0.95 − preservation) + max(0, 0.80 − the worst group's success) at strength 1 wins, so more success bought
# with the rest of the face, or with one kind of face, does not
# (success first would have installed an eyes-closed at 61 % / 52 % over 52 % / 85 %).
# The loss is the pixel distance of the finished edit to the twin, |(edit − reconstruction) − (twin − face)|_1
# (optimize_final.pair_error), read as the twin judge reads an edit (BALANCE=1, --pair-balance): the mean error over
# the pixels the twin changes plus OUTSIDE times the mean over the pixels more than one pixel away from them, so a
# mouth of ~2 % of the image is not outweighed by the rest (BALANCE=0: one mean over all pixels, the unchanged ones
# weighted OUTSIDE times).  The attribute reader takes no part (--guide-weight 0 --keep 0: it is loaded only to log
# what it reads).  Bounded: ITER Adam steps of BATCH faces at one thread, and with BUDGET=S at most S seconds of them
# (--time-budget: the step's decay follows the larger of the steps' and the time's share, so a run on a busy machine
# ends on time, fully decayed, with fewer steps; the file's `source` metadata keeps the budget, the log the steps).  HNET=D also learns the paper's per-image
# f_t(h) with D hidden units (--h-net, asyrp_tools/hnet.py; the engine runs it, src/engine/directions/h-net.ts);
# an INIT whose net has fewer units is widened by units with zero output weights (the run starts exactly at INIT), one
# with more is refused.  HNET_KERNEL=K makes the net's first layer a KxK convolution over h (1: per position, as the
# paper's 1x1 convolutions), an INIT's smaller kernel widened around its centre (the run again starts exactly at INIT).
# HNET_LR=X multiplies the net's Adam steps (--h-net-lr): at 1 its output layer hardly moves
# in a run of 30-50 steps (eyes-closed: net_w2_rms 0.004 -> 0.006 in 33), so the shift stays nearly one for every face.
# An eval's JSON is kept under tools/runs/scores by the file's hash, so the shipped file is judged once per set.
# Smile also learns its negative strength: every second batch is generated with −Δh and judged against the face's
# frown twin (smile −1; --pairs-negative; FROWN=0: the grin only).
# MORE=LABEL=VALUE:N adds N make-set pairs of one kind of face after the PAIRS (pairs.py --where), so the batches
# over-draw a group the direction fails on (smile: MORE=skin_tone=dark:32, dark skin moved least); the make folder
# is then runs/make/<key>+<MORE>.
# OUTLINE=W weighs the outside pixels on the face's own edges 1 + W (--pair-outline; the outline's sub-pixel move is
# most of a failed preservation); WINDOW=CY,CX,SY,SX keeps Δh_t inside a Gaussian window over h (--window);
# RELATIVE=1 divides each face's region error by the size of the change its twin asks for (--pair-relative), as the
# judge's progress does (a grin on dark skin is a quarter of the change on light skin).  PROGRESS=W instead reads
# each face's region as the judge does, its L2 ratio 1 − progress, plus W times its shortfall from progress 0.6
# (--pair-progress: L1 forgave the few large errors, a frame pixel left out, that the judge's L2 counts most).
# FREE=U leaves a face's outside unpressed up to a mean change of U (0..255; the judge keeps up to 8; --pair-free).
# TEDIT=T edits at t >= T (--t-edit; the file records it as its tEdit and the engine edits from there,
# src/engine/pipeline/edit-plan.ts); an INIT made for another tEdit is resampled to the nearest of its timesteps
# (zero outside its range: a lower TEDIT starts the new low steps from nothing).
# The calibrate step sets what strength 1 means: the new file is judged on the choose set at every strength of
# SCALES (default 0.85 1 1.15 1.3 1.5) and scaled by the one nearest the bars (asyrp_tools/bars.py --best-strength;
# direction_meta.py --scale: every part of the edit is linear in the strength, so the scaled file at 1 is the old one
# at that strength up to float32 rounding), so a file whose edits stop
# just short of half-way is not judged at a strength it was not best at. Its metadata keeps the product of the
# scales applied since the file was optimized as strengthScale (the optimizer writes fresh metadata, so a file
# optimized from a scaled INIT starts again at 1; the INIT's scale is in its weights and its recipe). With STEPS="calibrate choose install" and no optimize, the INIT (by default the
# installed file) is calibrated as it is.
# Environment: PKG (models/toyfaces-32), PAIRS (96), TEDIT (300), MORE (none), OUTLINE (0), WINDOW (none), RELATIVE (0), PROGRESS (none), FREE (0), CHOOSE (60), ITER (50), BUDGET (none), BATCH (8), LR (0.03),
# OUTSIDE (2), BALANCE (1), HNET (32), HNET_LR (1), HNET_KERNEL (1), FROWN (1), INIT (the shipped file, or "none" to start from zero), TAG (a suffix of the
# run folder tools/runs/twin-<name>[-TAG], to keep several settings apart), SCALES, STEPS (make optimize calibrate choose install).
set -euo pipefail
# dist/ older than src/ would judge the last build's engine, not this checkout's (a stale one once ran smile at −1
# without its negative side and reported the result as the frown's).
built=dist/cli/main.js
[ -f "$built" ] || { echo "$built is missing: run npm run build first" >&2; exit 2; }
stale=$(find src -name '*.ts' -newer "$built" -print -quit)
[ -z "$stale" ] || { echo "dist/ is older than $stale: run npm run build first" >&2; exit 2; }
name=${1:?usage: tools/make_direction.sh smile|glasses|eyes-closed|hair-red|frown}
also=
case $name in
  smile) key=smile=1; target=smile:+; also=smile=-1 ;;
  glasses) key=glasses=1; target=glasses:1 ;;
  eyes-closed) key=eyes_open=0; target=eyes_open:0 ;;
  hair-red) key=hair_colour=red; target=hair_colour:red ;;
  # The smile's negative side as a direction of its own, judged against the frown twin: the smile file names
  # it (`negative` metadata) and the engine runs it for a smile at a negative strength.
  frown) key=smile=-1; target=smile:- ;;
  *) echo "unknown direction $name (smile, glasses, eyes-closed, hair-red, frown)" >&2; exit 2 ;;
esac
PKG=$(cd "${PKG:-models/toyfaces-32}" && pwd)
PAIRS=${PAIRS:-96}; CHOOSE=${CHOOSE:-60}; ITER=${ITER:-50}; BATCH=${BATCH:-8}; LR=${LR:-0.03}; OUTSIDE=${OUTSIDE:-2}
BALANCE=${BALANCE:-1}; HNET=${HNET:-32}; FROWN=${FROWN:-1}; MORE=${MORE:-}; TEDIT=${TEDIT:-300}
if [ -n "$MORE" ] && [[ ! "$MORE" =~ ^[a-z_]+=[a-z0-9.]+:[0-9]+$ ]]; then
  echo "MORE=$MORE: expected LABEL=VALUE:N, e.g. skin_tone=dark:32" >&2; exit 2
fi
[ "$FROWN" = 1 ] || also=
PY=${PYTHON:-/usr/bin/python3}
INIT=${INIT:-$PKG/directions/$name.safetensors}
if [ "$name" = frown ] && [ ! -f "$INIT" ]; then
  # No frown yet: start from the smile with its sign flipped, which edits exactly as smile at −1 does.
  mkdir -p tools/runs/twin-frown
  "$PY" tools/direction_meta.py "$PKG/directions/smile.safetensors" --negate --out tools/runs/twin-frown/from-smile.safetensors \
    name=frown evalTarget=smile:- "description=a frown: the smile's negative side, made against the frown twins" > /dev/null
  INIT=tools/runs/twin-frown/from-smile.safetensors
fi
# The optimizer runs in tools/: a relative INIT is read from where the command was given.
[ "$INIT" = none ] || INIT=$(realpath "$INIT")
# What the new file must beat: the installed file, or where none is installed yet (a first frown) the INIT.
shipped=$PKG/directions/$name.safetensors
[ -f "$shipped" ] || shipped=$INIT
[ "$shipped" != none ] || { echo "no $name installed and INIT=none: nothing to judge a new file against; give an INIT" >&2; exit 2; }
STEPS=${STEPS:-"make optimize calibrate choose install"}
SCALES=${SCALES:-"0.85 1 1.15 1.3 1.5"}
has() { [[ " $STEPS " == *" $1 "* ]]; }
RUNS=tools/runs/twin-$name${TAG:+-$TAG}
mkdir -p "$RUNS"
new=$RUNS/$name.safetensors

make=runs/make/$key${MORE:++$MORE}
if has make && [ ! -d "tools/$make/${also:-pos}" ]; then
  drawn=$(cd tools && "$PY" -m asyrp_tools.pairs --attribute "twin:$key" --out "$make" --count "$PAIRS" ${also:+--also "$also"})
  echo "$drawn"
  if [ -n "$MORE" ]; then
    # The extra faces continue the seed sequence after the last face drawn, numbered after the PAIRS.
    last=$(sed -n 's/.*(faces [0-9]*\.\.\([0-9]*\) of the sequence).*/\1/p' <<< "$drawn")
    (cd tools && "$PY" -m asyrp_tools.pairs --attribute "twin:$key" --out "$make" --count "${MORE##*:}" \
      --where "${MORE%:*}" --first $((last + 1)) --number-from "$PAIRS" ${also:+--also "$also"})
  fi
fi

if has optimize && [ ! -f "$new" ]; then
  extra=(); [ "$INIT" = none ] || extra=(--init "$INIT")
  [ "$BALANCE" = 1 ] && extra+=(--pair-balance)
  [ "$HNET" = 0 ] || extra+=(--h-net "$HNET")
  [ "${HNET_LR:-1}" = 1 ] || extra+=(--h-net-lr "$HNET_LR")
  [ "${HNET_KERNEL:-1}" = 1 ] || extra+=(--h-net-kernel "$HNET_KERNEL")
  [ "${OUTLINE:-0}" = 0 ] || extra+=(--pair-outline "$OUTLINE")
  [ -z "${WINDOW:-}" ] || extra+=(--window "$WINDOW")
  [ -z "${BUDGET:-}" ] || extra+=(--time-budget "$BUDGET")
  [ "${RELATIVE:-0}" = 0 ] || extra+=(--pair-relative)
  [ -z "${PROGRESS:-}" ] || extra+=(--pair-progress "$PROGRESS")
  [ "${FREE:-0}" = 0 ] || extra+=(--pair-free "$FREE")
  [ -z "${also:-}" ] || extra+=(--pairs-negative "$make/$also")
  (cd tools && OMP_NUM_THREADS=1 "$PY" optimize_direction.py --model-dir "$PKG" --reader "$PKG/attributes.onnx" \
    --schema "$PKG/attributes.json" --objective final --target "$target" --name "$name" --t-edit "$TEDIT" --t-boost 50 \
    --guide-weight 0 --keep 0 --l1 0 --pairs "$make/neg" "$make/pos" --pair-weight 1 \
    --pair-outside "$OUTSIDE" --lr "$LR" --lr-end 0.1 --iterations "$ITER" --batch "$BATCH" --val 0 \
    --cache runs/cache --threads 1 "${extra[@]}" --out "../$new")
  # The optimizer writes its own metadata (its description names the reader as guide, which it is not here); the
  # INIT's description and negative side (smile -> frown) say what the file does, and still do.
  if [ "$INIT" != none ]; then
    mapfile -t keep < <("$PY" -c 'import sys; sys.path.insert(0, "tools"); from asyrp_tools.direction_io import read_direction as r
m = r(sys.argv[1])[2]
for k in ("description", "negative"):
    if m.get(k): print(f"{k}={m[k]}")' "$INIT")
    [ "${#keep[@]}" = 0 ] || "$PY" tools/direction_meta.py "$new" "${keep[@]}" > /dev/null
  fi
fi

# `asyrp eval --json` of a direction file on a face set: a copy of the package with the file installed; the JSON is
# kept by the file's hash, the faces, n and the strengths (an eval is minutes).
judge() { # file faces-folder n strengths -> path of the eval's JSON
  local memo; memo=tools/runs/scores/$(cat "$1" "$2/labels.jsonl" | sha256sum | cut -c1-16)-$3-$name
  [ "$4" = 1 ] || memo=$memo-s$4
  if [ ! -s "$memo.json" ]; then
    local tmp; tmp=$(mktemp -d); mkdir -p tools/runs/scores
    cp -r "$PKG" "$tmp/toyfaces-32" && cp "$1" "$tmp/toyfaces-32/directions/$name.safetensors"
    ASYRP_MODELS_DIR=$tmp node bin/asyrp.js eval --model toyfaces-32 --direction "$name" --faces "$2" --n "$3" \
      --strengths "$4" --json > "$memo.tmp" && mv "$memo.tmp" "$memo.json"
    rm -rf "$tmp"
  fi
  echo "$memo.json"
}
# Twin-judge success, preservation and the worst group's success of a direction file on a face set at strength 1.
score() { # file faces-folder n -> "success preservation worst"
  local json; json=$(judge "$1" "$2" "$3" 1)
  (cd tools && "$PY" -c 'import json,sys; from asyrp_tools.bars import row_score as s; print(*s([r for r in json.load(open(sys.argv[1]))["rows"] if r["boosting"]][0]))' "../$json")
}
choose_set() {
  [ -d tools/runs/choose-6161 ] || (cd tools && "$PY" -m asyrp_tools.renderer --out runs/choose-6161 --n "$CHOOSE" --seed 6161 --twins)
}
# "success preservation" a nearer the bars than b (asyrp_tools/bars.py); exit 2 on a malformed score stops the script.
better() {
  local rc=0; (cd tools && "$PY" -m asyrp_tools.bars "$1" "$2") || rc=$?
  [ "$rc" -le 1 ] || { echo "could not compare '$1' with '$2'" >&2; exit 2; }
  return "$rc"
}

if has calibrate && [ ! -s "$RUNS/calibrated.txt" ]; then
  if [ ! -f "$new" ]; then
    has optimize && { echo "no $new to calibrate: the optimize step made none" >&2; exit 1; }
    [ "$INIT" != none ] || { echo "calibrate without optimize needs a file: INIT=none gives none" >&2; exit 2; }
    cp "$INIT" "$new"
  fi
  choose_set
  cp "$new" "$RUNS/$name-uncalibrated.safetensors"
  json=$(judge "$new" tools/runs/choose-6161 "$CHOOSE" "$(tr ' ' ',' <<< "$SCALES")")
  best=$(cd tools && "$PY" -m asyrp_tools.bars --best-strength "../$json")
  read -r k s p w <<< "$best"
  [ "$k" = 1 ] || "$PY" tools/direction_meta.py "$new" --scale "$k" > /dev/null
  echo "$k $s $p ${w:-}" > "$RUNS/calibrated.txt"
  echo "calibrated on the choose set (seed 6161) over strengths $SCALES: strength $k is nearest the bars (success $s, preservation $p, worst group ${w:-none}); $([ "$k" = 1 ] && echo "the file is kept as it is" || echo "the file is scaled by it")"
fi

if has choose; then
  choose_set
  score "$new" tools/runs/choose-6161 "$CHOOSE" > "$RUNS/choose-new.txt"
  score "$shipped" tools/runs/choose-6161 "$CHOOSE" > "$RUNS/choose-shipped.txt"
  echo "choose set (seed 6161), twin success, preservation and worst group's success: new $(cat "$RUNS/choose-new.txt"), shipped $(cat "$RUNS/choose-shipped.txt")"
fi

if has install; then
  if ! better "$(cat "$RUNS/choose-new.txt")" "$(cat "$RUNS/choose-shipped.txt")"; then
    echo "kept the shipped $name: the new one is not nearer the bars on the choose set"; exit 0
  fi
  # Judged on the report set before it is copied over the shipped one (the score of the old file needs it).
  [ -d tools/runs/report-8383 ] || (cd tools && "$PY" -m asyrp_tools.renderer --out runs/report-8383 --n 40 --seed 8383 --twins)
  n=$(wc -l < tools/runs/report-8383/labels.jsonl)
  r_new=$(score "$new" tools/runs/report-8383 "$n"); r_old=$(score "$shipped" tools/runs/report-8383 "$n")
  cp "$new" "$PKG/directions/$name.safetensors" && echo "installed $PKG/directions/$name.safetensors"
  echo "report set (seed 8383, for the record), twin success, preservation and worst group's success: new $r_new, shipped before $r_old" | tee "$RUNS/report.txt"
fi
