"""Reconstruction measured through the TypeScript engine (`asyrp edit`):
40-step DDIM inversion, 40-step generation, no direction, no boosting
(recipe `steps:40 t_boost:0`), on held-out renders; mean PSNR of the engine's
PNG output against the input.  Needs the built CLI (npm install builds dist/).

  python3 -m asyrp_tools.engine_check --model toyfaces-32 --n 16
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile

import numpy as np
from PIL import Image

from .renderer import params_for_seed, render
from .samples import EVAL_DATASET_SEED

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
    return 10 * np.log10(255.0 ** 2 / max(mse, 1e-10))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="toyfaces-32")
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--n", type=int, default=16)
    args = ap.parse_args(argv)
    vals = []
    with tempfile.TemporaryDirectory() as d:
        for i in range(args.n):
            src, dst = os.path.join(d, f"in{i}.png"), os.path.join(d, f"out{i}.png")
            img = render(params_for_seed(EVAL_DATASET_SEED * 1_000_003 + i), args.resolution)
            img.save(src)
            subprocess.run(["node", os.path.join(ROOT, "bin", "asyrp.js"), "edit", src, "steps:40", "t_boost:0",
                            "--model", args.model, "--out", dst], check=True, cwd=ROOT,
                           stdout=subprocess.DEVNULL)
            vals.append(psnr(np.asarray(img), np.asarray(Image.open(dst).convert("RGB"))))
    print(json.dumps({"engine_recon_psnr_db": round(float(np.mean(vals)), 2),
                      "min_db": round(float(np.min(vals)), 2), "n": args.n}))


if __name__ == "__main__":
    main()
