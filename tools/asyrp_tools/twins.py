"""Rendered twins: the same face drawn with the target attribute on, the ground truth an edit is judged by.

The renderer draws a face from its parameters (renderer.FaceParams), so the face an edit should produce
is known exactly: the same parameters with the target switched on.  A twin is named by the label changes
it makes, joined with "," in sorted order ("smile=1", "glasses=1,smile=1"): the same key `asyrp eval`
derives from a direction's evalTarget (src/engine/eval/twin-judge.ts).

A face is eligible for a twin when it is far from having the target already (the edit has something to
show): no glasses for glasses=1, open eyes for eyes_open=0, hair not red for hair_colour=red, smile at
most 0.5 for smile=1 (the twin is a full grin, smile 1) and at least -0.5 for smile=-1 (a full frown).

The attribute's region is the set of pixels the twin's drawing changes: both faces are drawn at the
renderer's 4x supersampling and a pixel of the output belongs to the region when any of its 16
subpixels differs.  That is the renderer's geometry (the mouth band of both smiles, the eye shapes, the
rings and bridge, the hair mass), not a threshold on colours, and no network takes part.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
from PIL import Image

from .renderer import SUPERSAMPLE, FaceParams

# One label change: label -> (is the face eligible?, the face with the change).
Change = Tuple[Callable[[FaceParams], bool], Callable[[FaceParams], FaceParams]]

CHANGES: Dict[str, Change] = {
    "smile=1": (lambda p: p.smile <= 0.5, lambda p: dataclasses.replace(p, smile=1.0)),
    "smile=-1": (lambda p: p.smile >= -0.5, lambda p: dataclasses.replace(p, smile=-1.0)),
    "glasses=1": (lambda p: not p.glasses, lambda p: dataclasses.replace(p, glasses=True)),
    "eyes_open=0": (lambda p: p.eyes_open, lambda p: dataclasses.replace(p, eyes_open=False)),
    "hair_colour=red": (lambda p: p.hair_colour != "red", lambda p: dataclasses.replace(p, hair_colour="red")),
}

# The twins a package's directions are judged by: each shipped direction at strength 1, smile at -1
# (the frown), and the mix docs/quality.md reports.
DEFAULT_KEYS = ("smile=1", "smile=-1", "glasses=1", "eyes_open=0", "hair_colour=red", "glasses=1,smile=1")


def parse_key(key: str) -> List[str]:
    """"glasses=1,smile=1" -> its changes, refused by name when one is unknown."""
    parts = [k.strip() for k in key.split(",") if k.strip()]
    if not parts:
        raise ValueError("an empty twin key")
    for k in parts:
        if k not in CHANGES:
            raise ValueError(f"unknown twin change {k!r}; known: {', '.join(sorted(CHANGES))}")
    if len({k.split('=')[0] for k in parts}) != len(parts):
        raise ValueError(f"twin key {key!r} sets one label twice")
    return sorted(parts)


def canonical(key: str) -> str:
    return ",".join(parse_key(key))


def twin_of(p: FaceParams, key: str) -> Optional[FaceParams]:
    """The face with every change of key, or None when the face is not eligible for one of them."""
    q = p
    for k in parse_key(key):
        ok, change = CHANGES[k]
        if not ok(p):
            return None
        q = change(q)
    return q


def region_of(p: FaceParams, q: FaceParams, size: int) -> np.ndarray:
    """uint8 [size, size], 255 where the twin q's drawing differs from p's in any subpixel."""
    from .renderer import render_supersampled
    a = np.asarray(render_supersampled(p, size), dtype=np.int16)
    b = np.asarray(render_supersampled(q, size), dtype=np.int16)
    diff = np.abs(a - b).max(axis=2) > 0
    s = SUPERSAMPLE
    blocks = diff.reshape(size, s, size, s).any(axis=(1, 3))
    return (blocks * 255).astype(np.uint8)


def region_image(p: FaceParams, q: FaceParams, size: int) -> Image.Image:
    return Image.fromarray(region_of(p, q, size), mode="L")


# Unwanted changes a preserved edit must not make, each one step of a render parameter that is not the target:
# what the preservation tolerance of the twin judge is measured against (docs/quality.md, "The twin judge").
def _unwanted():
    from .renderer import BACKGROUNDS, FACE_SHAPES, HAIR_COLOURS, SKIN_TONES
    r = dataclasses.replace
    return {
        "face shape": lambda p: r(p, face_shape=next(s for s in FACE_SHAPES if s != p.face_shape)),
        "hair length": lambda p: r(p, hair_length="short" if p.hair_length == "long" else "long"),
        "background": lambda p: r(p, background=next(s for s in sorted(BACKGROUNDS) if s != p.background)),
        "skin tone": lambda p: r(p, skin_tone=next(s for s in sorted(SKIN_TONES) if s != p.skin_tone)),
        "hair colour": lambda p: r(p, hair_colour=next(s for s in sorted(HAIR_COLOURS) if s not in (p.hair_colour, "red"))),
        "eyes open/closed": lambda p: r(p, eyes_open=not p.eyes_open),
        "glasses on/off": lambda p: r(p, glasses=not p.glasses),
        "face moved 1 px": lambda p: r(p, dx=p.dx + 1 / 32),
        "face 5 % larger": lambda p: r(p, scale=p.scale * 1.05),
        "light 3 % brighter": lambda p: r(p, light=p.light * 1.03),
    }


def outside_change(x: np.ndarray, e: np.ndarray, region: np.ndarray, border: int = 1) -> float:
    """The twin judge's outside measure (src/engine/eval/twin-judge.ts): mean over pixels farther than `border`
    from the region of the largest channel change, 0..255 units; x, e HWC uint8, region HW bool."""
    near = region.copy()
    for dy in range(-border, border + 1):
        for dx in range(-border, border + 1):
            shifted = np.zeros_like(region)
            ys, xs = slice(max(dy, 0), region.shape[0] + min(dy, 0)), slice(max(dx, 0), region.shape[1] + min(dx, 0))
            yd, xd = slice(max(-dy, 0), region.shape[0] + min(-dy, 0)), slice(max(-dx, 0), region.shape[1] + min(-dx, 0))
            shifted[ys, xs] = region[yd, xd]
            near |= shifted
    d = np.abs(e.astype(np.float32) - x.astype(np.float32)).max(axis=2)
    return float(d[~near].mean())


def calibrate(n: int = 200, seed: int = 9999, size: int = 32):
    """Per twin key and unwanted change: the 10th percentile and median of the outside change it causes."""
    from .renderer import params_for_seed, render
    rows = {}
    for key in DEFAULT_KEYS:
        for i in range(n):
            p = params_for_seed(seed * 1_000_003 + i)
            q = twin_of(p, key)
            if q is None:
                continue
            region = region_of(p, q, size) > 0
            x = np.asarray(render(p, size))
            for name, change in _unwanted().items():
                rows.setdefault(name, {}).setdefault(key, []).append(outside_change(x, np.asarray(render(change(p), size)), region))
    return rows


def main(argv=None):
    """python3 -m asyrp_tools.twins --calibrate: how far each unwanted change moves the outside measure."""
    import argparse
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--calibrate", action="store_true", required=True)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=9999, help="render seed of the faces (9999: used for nothing else)")
    args = ap.parse_args(argv)
    rows = calibrate(args.n, args.seed)
    print("| unwanted change | " + " | ".join(DEFAULT_KEYS) + " |")
    print("|---|" + "---:|" * len(DEFAULT_KEYS))
    for name, by_key in rows.items():
        cells = [f"{np.percentile(by_key[k], 10):.1f} / {np.median(by_key[k]):.1f}" for k in DEFAULT_KEYS]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
