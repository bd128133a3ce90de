#!/bin/bash
# The numbers and pictures of docs/quality.md, from the repository root, after `npm run build`:
#
#   tools/quality_report.sh            # report set: 40 faces of render seed 8383, used to make or choose nothing
#
# Renders the report set with its twins (tools/asyrp_tools/twins.py), runs `asyrp eval` on it for every shipped
# direction, smile at -1 (the frown) and the mix, keeping JSON and the judged edits under tools/runs/report, and
# draws docs/img/quality-<name>.png; prints the table of docs/quality.md and the model's ceiling (each twin inverted
# and regenerated, judged as an edit: quality_ceiling.py).  A finished eval (its JSON present) is kept, so a run can be resumed.
# ONLY="eyes-closed hair-red" re-runs just those edits (smile, frown, glasses, eyes-closed, hair-red, mix: their evals
# are done again even if kept) and skips the ceiling: after re-making one direction, its row and grid without the
# other edits' 5 minutes each (grids and rows are drawn for every edit whose JSON is in OUT).
# Environment: SEED (8383), N (40), OUT (tools/runs/report), IMG (docs/img), MODEL (toyfaces-32), ONLY (every edit).
set -euo pipefail
cd "$(dirname "$0")/.."
# dist/ older than src/ would judge the last build's engine, not this checkout's (a stale one once ran smile at −1
# without its negative side and reported the result as the frown's).
built=dist/cli/main.js
[ -f "$built" ] || { echo "$built is missing: run npm run build first" >&2; exit 2; }
stale=$(find src -name '*.ts' -newer "$built" -print -quit)
[ -z "$stale" ] || { echo "dist/ is older than $stale: run npm run build first" >&2; exit 2; }
SEED=${SEED:-8383}
N=${N:-40}
OUT=${OUT:-tools/runs/report}
IMG=${IMG:-docs/img}
MODEL=${MODEL:-toyfaces-32}
ONLY=${ONLY:-}
FACES=tools/runs/report-$SEED
PY=${PYTHON:-/usr/bin/python3}
mkdir -p "$OUT"
[ -s "$FACES/labels.jsonl" ] || (cd tools && $PY -m asyrp_tools.renderer --out "runs/report-$SEED" --n "$N" --seed "$SEED" --twins)
for spec in "smile|smile|1" "frown|smile|-1" "glasses|glasses|1" "eyes-closed|eyes-closed|1" "hair-red|hair-red|1" "mix|smile:1 glasses:1|1"; do
  IFS='|' read -r name recipe strength <<< "$spec"
  if [ -n "$ONLY" ]; then
    [[ " $ONLY " == *" $name "* ]] || continue
    rm -rf "$OUT/$name.json" "$OUT/edits-$name"
  fi
  [ -s "$OUT/$name.json" ] && continue
  node bin/asyrp.js eval --model "$MODEL" --direction "$recipe" --faces "$FACES" --n "$N" --strengths "$strength" \
    --json --save "$OUT/edits-$name" > "$OUT/$name.json.tmp"
  mv "$OUT/$name.json.tmp" "$OUT/$name.json"
done
# The ceiling: every twin (10 per edit) inverted and regenerated, judged as the face's edit (quality_ceiling.py).
if [ -z "$ONLY" ]; then
  CEIL=tools/runs/ceiling-$SEED
  [ -s "$CEIL/labels.jsonl" ] || $PY tools/quality_ceiling.py prepare --faces "$FACES" --out "$CEIL" --per-key 10
  if [ ! -d "$OUT/edits-ceiling/strength-0" ]; then
    n=$(wc -l < "$CEIL/labels.jsonl")
    node bin/asyrp.js eval --model "$MODEL" --direction smile --faces "$CEIL" --n "$n" --strengths 0 --json \
      --save "$OUT/edits-ceiling" > /dev/null
  fi
  $PY tools/quality_ceiling.py judge --faces "$FACES" --ceiling "$CEIL" --edits "$OUT/edits-ceiling/strength-0"
fi
$PY tools/quality_grid.py --faces "$FACES" --report "$OUT" --out "$IMG"
$PY tools/quality_table.py "$OUT" --faces "$FACES"
