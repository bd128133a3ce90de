"""Rendered example pairs for a direction's pixel target (optimize_direction.py --pairs NEG POS).

The same face rendered without and with one attribute: the renderer's parameters are the face's
identity, so only the attribute differs (docs/quality.md, Rounds 10, 12 and 13).  Faces come
from render seed 5151, which no training, evaluation or example set uses; faces that already
have the attribute are skipped, so every pair is an edit the direction must make.

  python3 -m asyrp_tools.pairs --attribute eyes-closed --out runs/eyes-pairs
"""
from __future__ import annotations

import argparse
import dataclasses
import os
from typing import Callable, Dict, Optional

from .renderer import FaceParams, params_for_seed, render

PAIRS_SEED = 5151

# attribute -> the face with it, or None when the face already has it (skipped).
EDITS: Dict[str, Callable[[FaceParams], Optional[FaceParams]]] = {
    "hair-red": lambda p: None if p.hair_colour == "red" else dataclasses.replace(p, hair_colour="red"),
    "glasses": lambda p: None if p.glasses else dataclasses.replace(p, glasses=True),
    "eyes-closed": lambda p: None if not p.eyes_open else dataclasses.replace(p, eyes_open=False),
    # The smile is a scalar: faces at most 0.2 get 0.8 more (capped at 1), a clear smile from a neutral mouth.
    "smile": lambda p: None if p.smile > 0.2 else dataclasses.replace(p, smile=min(1.0, p.smile + 0.8)),
}


def write_pairs(attribute: str, out: str, count: int = 512, size: int = 32) -> int:
    """Writes out/neg/NNNN.png (without) and out/pos/NNNN.png (with); returns the faces drawn."""
    if attribute not in EDITS:
        raise ValueError(f"unknown attribute {attribute!r}; known: {', '.join(sorted(EDITS))}")
    if count < 1:
        raise ValueError("count must be 1 or more")
    edit = EDITS[attribute]
    for side in ("neg", "pos"):
        os.makedirs(os.path.join(out, side), exist_ok=True)
    k = i = 0
    while k < count:
        p = params_for_seed(PAIRS_SEED * 1_000_003 + i)
        i += 1
        q = edit(p)
        if q is None:
            continue
        render(p, size).save(os.path.join(out, "neg", f"{k:04d}.png"))
        render(q, size).save(os.path.join(out, "pos", f"{k:04d}.png"))
        k += 1
    return i


def main(argv=None):
    ap = argparse.ArgumentParser(description="Render example pairs (the same face without and with an attribute).")
    ap.add_argument("--attribute", required=True, choices=sorted(EDITS))
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=512)
    ap.add_argument("--resolution", type=int, default=32)
    args = ap.parse_args(argv)
    try:
        drawn = write_pairs(args.attribute, args.out, args.count, args.resolution)
    except ValueError as e:
        ap.error(str(e))
    print(f"wrote {args.count} {args.attribute} pairs to {args.out} (from {drawn} faces)")


if __name__ == "__main__":
    main()
