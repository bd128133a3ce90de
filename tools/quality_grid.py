"""Picture grid for docs/quality.md: a few held-out faces edited by the engine
(`asyrp edit`) at several strengths, one row per face and direction.

  python3 tools/quality_grid.py --model toyfaces-32 --directions smile,glasses \
      --faces 0,1,2 --strengths 0,0.5,1,1.5 --out docs/img/toyfaces-32-directions.png

Faces come from models/<id>/eval/images (the held-out set `asyrp eval` uses).
Strength 0 is the plain inversion + regeneration (the reconstruction).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

from PIL import Image, ImageDraw

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="toyfaces-32")
    ap.add_argument("--models-dir", default=os.environ.get("ASYRP_MODELS_DIR", os.path.join(ROOT, "models")))
    ap.add_argument("--directions", required=True)
    ap.add_argument("--faces", default="0,1,2")
    ap.add_argument("--strengths", default="0,0.5,1,1.5")
    ap.add_argument("--scale", type=int, default=2, help="nearest-neighbour upscale per cell")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    env = dict(os.environ, ASYRP_MODELS_DIR=args.models_dir)
    eval_dir = os.path.join(args.models_dir, args.model, "eval", "images")
    files = sorted(os.listdir(eval_dir))
    faces = [os.path.join(eval_dir, files[int(i)]) for i in args.faces.split(",")]
    strengths = [float(s) for s in args.strengths.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for d in args.directions.split(","):
            for fi, face in enumerate(faces):
                cells = [Image.open(face).convert("RGB")]
                for s in strengths:
                    out = os.path.join(tmp, f"{d}-{fi}-{s}.png")
                    subprocess.run(["node", os.path.join(ROOT, "bin", "asyrp.js"), "edit", face, f"{d} strength:{s:g}",
                                    "--model", args.model, "-o", out], check=True, env=env, cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    cells.append(Image.open(out).convert("RGB"))
                rows.append((d, cells))
    r = rows[0][1][0].width * args.scale
    label_w, head_h, pad = 64, 14, 2
    ncol = len(strengths) + 1
    grid = Image.new("RGB", (label_w + ncol * (r + pad), head_h + len(rows) * (r + pad)), "white")
    draw = ImageDraw.Draw(grid)
    for j, title in enumerate(["input"] + [f"{s:g}" for s in strengths]):
        draw.text((label_w + j * (r + pad) + 2, 1), title, fill="black")
    for i, (d, cells) in enumerate(rows):
        y = head_h + i * (r + pad)
        draw.text((2, y + r // 2 - 5), d, fill="black")
        for j, c in enumerate(cells):
            grid.paste(c.resize((r, r), Image.NEAREST), (label_w + j * (r + pad), y))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    grid.save(args.out, optimize=True)
    print(f"wrote {args.out} ({grid.width}x{grid.height})")


if __name__ == "__main__":
    sys.exit(main())
