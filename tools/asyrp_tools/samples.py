"""Write held-out sample inputs for a model package: models/<id>/samples/.

The faces come from the evaluation seed range (render_dataset seed 4242),
never seen in training (training renders seeds >= 10**12).

  python3 -m asyrp_tools.samples --out ../models/toyfaces-32/samples --resolution 32
"""
import argparse
import json
import os

from .renderer import params_for_seed, render

EVAL_DATASET_SEED = 4242


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--count", type=int, default=8)
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "labels.jsonl"), "w") as f:
        for i in range(args.count):
            seed = EVAL_DATASET_SEED * 1_000_003 + i
            p = params_for_seed(seed)
            name = f"face-{i + 1}.png"
            render(p, args.resolution).save(os.path.join(args.out, name))
            f.write(json.dumps({"file": name, "seed": seed, **p.labels()}) + "\n")


if __name__ == "__main__":
    main()
