"""Rendered example pairs for a direction's pixel target (optimize_direction.py --pairs NEG POS).

The same face rendered without and with one attribute: the renderer's parameters are the face's
identity, so only the attribute differs (docs/research/directions.md).  Faces come
from render seed 5151, which no training, evaluation or example set uses; faces that already
have the attribute are skipped, so every pair is an edit the direction must make.

  python3 -m asyrp_tools.pairs --attribute eyes-closed --out runs/eyes-pairs

--where LABEL=VALUE keeps only faces with that label (repeatable), --first I starts at the I-th face of
the seed sequence and --number-from K names the first pair K: together they add more pairs of one kind
of face to a copy of a set (hair-red's hard case, blonde hair on medium skin: docs/research/directions.md).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
from typing import Callable, Dict, Optional

from .renderer import FaceParams, params_for_seed, render
from .twins import CHANGES, DEFAULT_KEYS, parse_key, twin_of

PAIRS_SEED = 5151

# attribute -> the face with it, or None when the face already has it (skipped).
EDITS: Dict[str, Callable[[FaceParams], Optional[FaceParams]]] = {
    "hair-red": lambda p: None if p.hair_colour == "red" else dataclasses.replace(p, hair_colour="red"),
    "hair-blonde": lambda p: None if p.hair_colour == "blonde" else dataclasses.replace(p, hair_colour="blonde"),
    "glasses": lambda p: None if p.glasses else dataclasses.replace(p, glasses=True),
    "eyes-closed": lambda p: None if not p.eyes_open else dataclasses.replace(p, eyes_open=False),
    # The smile is a scalar: faces at most 0.2 get 0.8 more (capped at 1), a clear smile from a neutral mouth.
    "smile": lambda p: None if p.smile > 0.2 else dataclasses.replace(p, smile=min(1.0, p.smile + 0.8)),
    # Every face `asyrp eval` counts as eligible for a smile (below 0.65) gets 0.8 more, capped at 1:
    # a direction trained on "smile" pairs alone never saw a face that already half-smiles and moved
    # only half of those (docs/research/directions.md).
    "smile-wide": lambda p: None if p.smile >= 0.65 else dataclasses.replace(p, smile=min(1.0, p.smile + 0.8)),
}
# The twins (twins.py) as pairs: the face and its twin, exactly what an edit is judged against.
EDITS.update({f"twin:{k}": (lambda p, k=k: twin_of(p, k)) for k in DEFAULT_KEYS})


LABELS = tuple(f.name for f in dataclasses.fields(FaceParams))
# A filter that matches nothing would loop forever: give up after this many faces per pair asked for.
MAX_DRAWS_PER_PAIR = 1000


def parse_where(items) -> Dict[str, str]:
    """["hair_colour=blonde", ...] -> {"hair_colour": "blonde"}; unknown labels are refused by name."""
    where: Dict[str, str] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not value:
            raise ValueError(f"--where {item!r}: expected LABEL=VALUE, e.g. skin_tone=medium")
        if name not in LABELS:
            raise ValueError(f"--where {item!r}: unknown label {name!r}; known: {', '.join(LABELS)}")
        where[name] = value
    return where


def matches(p: FaceParams, where: Dict[str, str]) -> bool:
    # Booleans as labels.jsonl writes them (eyes_open=0), not as Python prints them (False).
    def label(v):
        return str(int(v)) if isinstance(v, bool) else str(v)
    return all(label(getattr(p, name)) == value for name, value in where.items())


def changed(p: FaceParams, key: str) -> FaceParams:
    """The face with every change of a twin key, whether or not it is eligible for them (a face that
    already frowns gets the full frown)."""
    for k in parse_key(key):
        p = CHANGES[k][1](p)
    return p


def write_pairs(attribute: str, out: str, count: int = 512, size: int = 32,
                where: Optional[Dict[str, str]] = None, first: int = 0, number_from: int = 0,
                also: Optional[str] = None) -> int:
    """Writes out/neg/NNNN.png (without) and out/pos/NNNN.png (with), NNNN from number_from on;
    with `also` (a twin key), out/<also>/NNNN.png too: the same face changed by that key (a smile
    direction's frown at strength -1, optimize_direction.py --pairs-negative).  Returns the index
    after the last face drawn."""
    if attribute not in EDITS:
        raise ValueError(f"unknown attribute {attribute!r}; known: {', '.join(sorted(EDITS))}")
    if count < 1:
        raise ValueError("count must be 1 or more")
    if first < 0 or number_from < 0:
        raise ValueError("first and number_from must be 0 or more")
    where = where or {}
    edit = EDITS[attribute]
    if also is not None:
        parse_key(also)  # refuses an unknown key before anything is drawn
    for side in ("neg", "pos") + ((also,) if also else ()):
        os.makedirs(os.path.join(out, side), exist_ok=True)
    k, i = 0, first
    while k < count:
        if i - first >= MAX_DRAWS_PER_PAIR * count:
            raise ValueError(f"only {k} of {count} faces match {where} in {i - first} drawn")
        p = params_for_seed(PAIRS_SEED * 1_000_003 + i)
        i += 1
        q = edit(p)
        if q is None or not matches(p, where):
            continue
        render(p, size).save(os.path.join(out, "neg", f"{number_from + k:04d}.png"))
        render(q, size).save(os.path.join(out, "pos", f"{number_from + k:04d}.png"))
        if also:
            render(changed(p, also), size).save(os.path.join(out, also, f"{number_from + k:04d}.png"))
        k += 1
    return i


def main(argv=None):
    ap = argparse.ArgumentParser(description="Render example pairs (the same face without and with an attribute).")
    ap.add_argument("--attribute", required=True, choices=sorted(EDITS))
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=512)
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--where", action="append", default=[], metavar="LABEL=VALUE",
                    help="only faces with this label, e.g. skin_tone=medium (repeatable)")
    ap.add_argument("--first", type=int, default=0, help="start at this face of the seed sequence")
    ap.add_argument("--number-from", type=int, default=0, help="file number of the first pair written")
    ap.add_argument("--also", metavar="KEY", help="also write out/KEY/: each face changed by this twin key "
                    "(e.g. smile=-1, the frown a smile direction makes at strength -1)")
    args = ap.parse_args(argv)
    try:
        end = write_pairs(args.attribute, args.out, args.count, args.resolution, parse_where(args.where),
                          args.first, args.number_from, args.also)
    except ValueError as e:
        ap.error(str(e))
    print(f"wrote {args.count} {args.attribute} pairs to {args.out} (faces {args.first}..{end - 1} of the sequence)")


if __name__ == "__main__":
    main()
