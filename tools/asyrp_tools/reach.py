"""What a reader reads on faces that have a scalar attribute at its extremes (attributes.json "reach").

`asyrp eval` counts a face as eligible for a scalar target only if it can still move by the success delta
(0.3) before the attribute runs out.  The reader's scale is not the renderer's: on toyfaces-32 a rendered
full grin (smile 1) reads 0.885 on average and a full frown (smile -1) -0.90, so a face read at 0.6 cannot
be moved by 0.3 by any edit, not even by rendering the same face with a full grin (docs/quality.md,
"What asyrp eval measures").  This measures the reach: the mean reading of n renders (a seed no training, evaluation or
example set uses) with the scalar set to the renderer's -1 and 1 and everything else as drawn.

  python3 -m asyrp_tools.reach --reader ../models/toyfaces-32/attributes.onnx \\
      --schema ../models/toyfaces-32/attributes.json [--n 500] [--write] \\
      [--rendered-edit <eval set>/labels.jsonl --skip 0 --faces 100]

(<eval set>: the folder `asyrp eval` renders the model's eval set into, data/eval-sets/toyfaces-32, or
`python3 -m asyrp_tools.renderer --out runs/eval-4242 --n 500 --seed 4242`.)
--rendered-edit scores the best edit there is, the same face rendered with a full smile, with eligibility
from a reach of 1 and from the measured reach: the most any direction can score on that set.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
from typing import Dict, Tuple

import numpy as np
import torch

from .guides import load_reader_onnx, load_schema
from .reader import OUTPUTS
from .renderer import FaceParams, params_for_seed, render, to_array

REACH_SEED = 7171
SCALAR_FIELDS = {f.name for f in dataclasses.fields(FaceParams) if f.type in (float, "float")}


def measure_reach(reader: torch.nn.Module, outputs, schema: dict, n: int = 500, resolution: int = 32,
                  seed: int = REACH_SEED) -> Dict[str, Tuple[float, float]]:
    """{scalar: (mean reading at the renderer's -1, mean reading at 1)} for each schema scalar the
    renderer draws."""
    if n < 1:
        raise ValueError("n must be 1 or more")
    reach: Dict[str, Tuple[float, float]] = {}
    faces = [params_for_seed(seed * 1_000_003 + i) for i in range(n)]
    for name in schema.get("scalars", []):
        if name not in SCALAR_FIELDS:
            raise ValueError(f'the renderer draws no scalar "{name}" (it draws {", ".join(sorted(SCALAR_FIELDS))})')
        if name not in outputs:
            raise ValueError(f'the reader has no output "{name}"')
        ends = []
        for value in (-1.0, 1.0):
            x = torch.from_numpy(np.stack([to_array(render(dataclasses.replace(p, **{name: value}), resolution))
                                           for p in faces]))
            with torch.no_grad():
                read = dict(zip(outputs, reader(x)))[name]
            ends.append(round(float(read.mean()), 3))
        reach[name] = (ends[0], ends[1])
    return reach


def rendered_edit_success(reader: torch.nn.Module, outputs, labels_path: str, attribute: str = "smile",
                          reach: Tuple[float, float] = (-1.0, 1.0), skip: int = 0, n: int = 100,
                          delta: float = 0.3) -> Dict[str, int]:
    """The best edit there is, on a labelled set of renders (labels.jsonl with each face's render seed):
    the same face rendered with the attribute at the renderer's 1.  Counts the faces eligible under
    `reach` (asyrp eval's rule) and how many of those this edit moves by delta: the most any direction
    can score on that set."""
    base = os.path.dirname(labels_path)
    with open(labels_path) as f:
        rows = [json.loads(line) for line in f if line.strip()][skip:skip + n]
    if not rows:
        raise ValueError(f"{labels_path} has no faces {skip}..{skip + n - 1}")
    faces = [params_for_seed(int(r["seed"])) for r in rows]
    for r, p in zip(rows, faces):
        if abs(getattr(p, attribute) - float(r[attribute])) > 1e-3:
            raise ValueError(f'{r["file"]}: its seed renders {attribute} {getattr(p, attribute):.4f}, the label says {r[attribute]}')

    def read(images):
        with torch.no_grad():
            return dict(zip(outputs, reader(torch.from_numpy(np.stack([to_array(i) for i in images])))))[attribute]
    from PIL import Image
    size = Image.open(os.path.join(base, rows[0]["file"])).size[0]
    before = read([Image.open(os.path.join(base, r["file"])).convert("RGB") for r in rows])
    after = read([render(dataclasses.replace(p, **{attribute: 1.0}), size) for p in faces])
    eligible = before < reach[1] - delta - 0.05
    moved = (after - before) >= delta
    return {"faces": len(rows), "eligible": int(eligible.sum()), "reached": int((eligible & moved).sum())}


def main(argv=None):
    ap = argparse.ArgumentParser(description="Measure the reader's reach on each scalar attribute.")
    ap.add_argument("--reader", required=True, help="attributes.onnx")
    ap.add_argument("--schema", required=True, help="attributes.json")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--write", action="store_true", help='store the result as "reach" in the schema file')
    ap.add_argument("--rendered-edit", metavar="LABELS", help="also score the best edit there is (the same face "
                    "rendered with smile 1) on this labels.jsonl, with a reach of 1 and with the measured one")
    ap.add_argument("--skip", type=int, default=0)
    ap.add_argument("--faces", type=int, default=100, help="faces of --rendered-edit's set, from --skip on")
    args = ap.parse_args(argv)
    schema = load_schema(args.schema)
    reader = load_reader_onnx(args.reader, args.resolution)
    try:
        reach = measure_reach(reader, list(OUTPUTS), schema, args.n, args.resolution)
    except ValueError as e:
        ap.error(str(e))
    print(json.dumps({"reach": reach}))
    if args.rendered_edit:
        for name, r in (("reach 1", (-1.0, 1.0)), ("measured reach", reach["smile"])):
            c = rendered_edit_success(reader, list(OUTPUTS), args.rendered_edit, "smile", r, args.skip, args.faces)
            print(f"rendered full smile, {name}: {c['reached']} / {c['eligible']} eligible faces move by 0.3"
                  f" ({100 * c['reached'] / max(1, c['eligible']):.1f} %) of {c['faces']}")
    if args.write:
        schema["reach"] = {k: list(v) for k, v in reach.items()}
        tmp = args.schema + ".tmp"
        with open(tmp, "w") as f:
            json.dump(schema, f, indent=2)
            f.write("\n")
        os.replace(tmp, args.schema)


if __name__ == "__main__":
    main()
