"""Example sets for direction learning on the default toy-face model.

  schema: models/toyfaces-<R>/attributes.json - the attribute reader's outputs and class orders.
  pairs: <out>/<direction>/{pos,neg}/NNNN.png - matched pairs: the same face (same nuisance jitter and
         other attributes) with and without the attribute, for `asyrp directions learn --pairs`.

The held-out faces `asyrp eval` measures on are not written here: model.json "evalSet" names them (render
seed 4242, the evaluation range the training never draws from) and `asyrp eval` renders them on demand.

    /usr/bin/python3 tools/make_example_sets.py --resolution 32 --pairs 64 --out tools/runs/examples
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from asyrp_tools.reader import BINARY, CLASSES  # noqa: E402
from asyrp_tools.renderer import render, sample_params  # noqa: E402

PAIRS_SEED = 777_000

# direction -> (how to set the attribute on, how to set it off)
PAIR_EDITS = {
    "smile": (lambda p, r: dataclasses.replace(p, smile=r.uniform(0.75, 1.0)), lambda p, r: dataclasses.replace(p, smile=r.uniform(-0.2, 0.2))),
    "glasses": (lambda p, r: dataclasses.replace(p, glasses=True), lambda p, r: dataclasses.replace(p, glasses=False)),
    "eyes-closed": (lambda p, r: dataclasses.replace(p, eyes_open=False), lambda p, r: dataclasses.replace(p, eyes_open=True)),
    "hair-red": (lambda p, r: dataclasses.replace(p, hair_colour="red"), lambda p, r: dataclasses.replace(p, hair_colour=r.choice(["black", "blonde", "brown"]))),
}


def write_pairs(out: str, n: int, size: int) -> None:
    for name, (on, off) in PAIR_EDITS.items():
        rng = random.Random(f"{PAIRS_SEED}-{name}")
        for side in ("pos", "neg"):
            os.makedirs(os.path.join(out, name, side), exist_ok=True)
        for i in range(n):
            base = sample_params(rng)
            render(on(base, rng), size).save(os.path.join(out, name, "pos", f"{i:04d}.png"))
            render(off(base, rng), size).save(os.path.join(out, name, "neg", f"{i:04d}.png"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--pairs", type=int, default=64, help="matched pairs per direction")
    ap.add_argument("--out", default="tools/runs/examples")
    ap.add_argument("--model-dir", default=None)
    a = ap.parse_args()
    model_dir = a.model_dir or os.path.join("models", f"toyfaces-{a.resolution}")
    # The reader's output schema, for the TypeScript evaluator (class order = the reader's output order).
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, "attributes.json"), "w") as f:
        json.dump({"scalars": ["smile"], "binary": list(BINARY), "classes": {k: list(v) for k, v in CLASSES.items()}}, f, indent=2)
        f.write("\n")
    if a.pairs:
        write_pairs(a.out, a.pairs, a.resolution)
    print(json.dumps({"pairs": a.pairs, "out": a.out}))


if __name__ == "__main__":
    main()
