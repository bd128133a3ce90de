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
