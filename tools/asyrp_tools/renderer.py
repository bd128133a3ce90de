"""Deterministic synthetic face renderer with known attributes.

Why it looks the way it does: Asyrp edits act through the UNet bottleneck h
(a few pixels wide) during the early, high-noise reverse steps, where only
coarse structure is being decided.  An attribute can only be moved through h
if it is a coarse, bold shape at the model's resolution, and a small model
trained for ~2 h on 2 CPU cores only learns the data well if the nuisance
variation is modest.  So: big flat shapes, a thick mouth spanning about 40 %
of the face width, big eyes and glasses, large hair masses, small position
and size jitter, a handful of flat backgrounds and a limited palette.  Shapes
are drawn at 4x the output size and box-downsampled so edges are smooth
(aliasing would be high-frequency detail the model must waste capacity on).
"""
from __future__ import annotations

import dataclasses
import json
import os
import random
from typing import Dict, List, Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw

SUPERSAMPLE = 4

HAIR_COLOURS = {
    "black": (38, 32, 30),
    "brown": (112, 68, 38),
    "blonde": (222, 190, 112),
    "red": (176, 66, 34),
}
SKIN_TONES = {
    "light": (240, 206, 180),
    "medium": (206, 156, 112),
    "dark": (128, 86, 58),
}
BACKGROUNDS = {
    "sky": (150, 186, 220),
    "mint": (168, 208, 170),
    "sand": (226, 214, 178),
    "grey": (170, 170, 176),
}
FACE_SHAPES = ("round", "oval", "square")
HAIR_LENGTHS = ("short", "long")
EYE_COLOUR = (30, 30, 40)
MOUTH_COLOUR = (140, 30, 44)
GLASSES_COLOUR = (20, 20, 24)


@dataclasses.dataclass
class FaceParams:
    """Everything that determines one face.  The first block are the labeled
    attributes; the rest is nuisance jitter."""
    smile: float          # -1 (frown) .. 1 (grin), continuous
    eyes_open: bool
    glasses: bool
    hair_colour: str
    hair_length: str
    skin_tone: str
    face_shape: str
    background: str
    dx: float = 0.0       # face centre offset, fraction of the canvas
    dy: float = 0.0
    scale: float = 1.0    # face size multiplier
    light: float = 1.0    # global brightness multiplier

    def labels(self) -> Dict[str, object]:
        return {
            "smile": round(self.smile, 4),
            "eyes_open": int(self.eyes_open),
            "glasses": int(self.glasses),
            "hair_colour": self.hair_colour,
            "hair_length": self.hair_length,
            "skin_tone": self.skin_tone,
            "face_shape": self.face_shape,
            "background": self.background,
        }


def sample_params(rng: random.Random) -> FaceParams:
    """Draw attributes uniformly and nuisance jitter in a small range."""
    return FaceParams(
        smile=rng.uniform(-1.0, 1.0),
        eyes_open=rng.random() < 0.5,
        glasses=rng.random() < 0.5,
        hair_colour=rng.choice(sorted(HAIR_COLOURS)),
        hair_length=rng.choice(HAIR_LENGTHS),
        skin_tone=rng.choice(sorted(SKIN_TONES)),
        face_shape=rng.choice(FACE_SHAPES),
        background=rng.choice(sorted(BACKGROUNDS)),
        dx=rng.uniform(-0.03, 0.03),
        dy=rng.uniform(-0.03, 0.03),
        scale=rng.uniform(0.95, 1.05),
        light=rng.uniform(0.94, 1.06),
    )


def params_for_seed(seed: int) -> FaceParams:
    return sample_params(random.Random(seed))


def _lit(colour, light: float):
    return tuple(int(max(0, min(255, round(c * light)))) for c in colour)


def _face_half_axes(p: FaceParams, s: int):
    """Half-width a and half-height b of the face, in canvas pixels."""
    base = {"round": (0.30, 0.31), "oval": (0.25, 0.35), "square": (0.30, 0.32)}[p.face_shape]
    return base[0] * s * p.scale, base[1] * s * p.scale


def render(p: FaceParams, size: int) -> Image.Image:
    """Render one face as an RGB image of size x size."""
    return render_supersampled(p, size).resize((size, size), Image.BOX)


def render_supersampled(p: FaceParams, size: int) -> Image.Image:
    """The face drawn at SUPERSAMPLE x size before the box filter (twins.py reads its geometry here)."""
    s = size * SUPERSAMPLE
    img = Image.new("RGB", (s, s), _lit(BACKGROUNDS[p.background], p.light))
    d = ImageDraw.Draw(img)
    cx, cy = (0.5 + p.dx) * s, (0.53 + p.dy) * s
    a, b = _face_half_axes(p, s)
    hair = _lit(HAIR_COLOURS[p.hair_colour], p.light)
    skin = _lit(SKIN_TONES[p.skin_tone], p.light)

    # Hair behind the head: long hair is a big mass reaching the shoulders,
    # short hair only a cap slightly larger than the skull.
    if p.hair_length == "long":
        d.rounded_rectangle([cx - 1.3 * a, cy - 1.18 * b, cx + 1.3 * a, cy + 1.25 * b],
                            radius=int(0.9 * a), fill=hair)
    else:
        d.ellipse([cx - 1.1 * a, cy - 1.2 * b, cx + 1.1 * a, cy + 0.3 * b], fill=hair)

    box = [cx - a, cy - b, cx + a, cy + b]
    if p.face_shape == "square":
        d.rounded_rectangle(box, radius=int(0.45 * a), fill=skin)
    else:
        d.ellipse(box, fill=skin)

    # Fringe: covers the top of the face so hair frames it from the front.
    d.chord([cx - 1.08 * a, cy - 1.25 * b, cx + 1.08 * a, cy - 0.25 * b], 180, 360, fill=hair)

    _draw_eyes(d, p, cx, cy, a, b, skin)
    _draw_mouth(d, p, cx, cy, a, b)
    return img


def _draw_eyes(d: ImageDraw.ImageDraw, p: FaceParams, cx, cy, a, b, skin):
    ey = cy - 0.05 * b
    for side in (-1, 1):
        ex = cx + side * 0.42 * a
        rx, ry = 0.2 * a, 0.15 * a
        if p.eyes_open:
            d.ellipse([ex - rx, ey - ry, ex + rx, ey + ry], fill=(250, 250, 250))
            pr = 0.1 * a
            d.ellipse([ex - pr, ey - pr, ex + pr, ey + pr], fill=EYE_COLOUR)
        else:
            # A closed eye is a thick downward arc (lid), same width as an open eye.
            t = max(1, int(0.13 * a))
            d.arc([ex - rx, ey - ry, ex + rx, ey + ry], 10, 170, fill=EYE_COLOUR, width=t)
        if p.glasses:
            gr = 0.3 * a
            w = max(1, int(0.09 * a))
            d.ellipse([ex - gr, ey - gr, ex + gr, ey + gr], outline=GLASSES_COLOUR, width=w)
    if p.glasses:
        w = max(1, int(0.09 * a))
        d.line([cx - 0.12 * a, ey - 0.05 * a, cx + 0.12 * a, ey - 0.05 * a], fill=GLASSES_COLOUR, width=w)


def _draw_mouth(d: ImageDraw.ImageDraw, p: FaceParams, cx, cy, a, b):
    """A thick curved band.  Its centre line bends by `smile` (corners up for a
    grin, down for a frown); a grin also opens, so the attribute changes both
    shape and dark area, continuously in `smile`."""
    my = cy + 0.5 * b
    half_w = 0.42 * a
    bend = 0.28 * a * p.smile
    th = 0.2 * a
    opening = 0.22 * a * max(0.0, p.smile)
    n = 24
    upper, lower = [], []
    for i in range(n + 1):
        u = -1 + 2 * i / n
        c = my + bend * (1 - u * u) - 0.5 * bend
        upper.append((cx + half_w * u, c - th / 2))
        lower.append((cx + half_w * u, c + th / 2 + opening * (1 - u * u)))
    d.polygon(upper + lower[::-1], fill=MOUTH_COLOUR)


def to_array(img: Image.Image) -> np.ndarray:
    """uint8 HWC image -> float32 CHW in [-1, 1], the engine's convention."""
    return np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 127.5 - 1.0


def render_dataset(n: int, size: int, seed: int, out_dir: Optional[str] = None,
                   return_arrays: bool = True, twins: Sequence[str] = ()):
    """Render faces for seeds seed*1_000_003 + i (disjoint per dataset seed).

    Returns (images float32 [n,3,size,size] in [-1,1], labels list).  With
    out_dir, also writes out_dir/images/NNNNNN.png and out_dir/labels.jsonl, and for each
    twin key (twins.py) out_dir/twins/<key>/NNNNNN.png (the face with the target on) and
    out_dir/regions/<key>/NNNNNN.png (white where the twin's drawing differs) for every
    face eligible for it: what `asyrp eval --faces out_dir` judges edits against.
    """
    from .twins import canonical, region_image, twin_of
    keys = [canonical(k) for k in twins]
    if twins and not out_dir:
        raise ValueError("twins are written beside the images: give out_dir")
    labels: List[Dict[str, object]] = []
    arr = np.empty((n, 3, size, size), dtype=np.float32) if return_arrays else None
    if out_dir:
        os.makedirs(os.path.join(out_dir, "images"), exist_ok=True)
    for i in range(n):
        face_seed = seed * 1_000_003 + i
        p = params_for_seed(face_seed)
        img = render(p, size)
        lab = {"file": f"images/{i:06d}.png", "seed": face_seed, **p.labels()}
        labels.append(lab)
        if arr is not None:
            arr[i] = to_array(img)
        if out_dir:
            img.save(os.path.join(out_dir, lab["file"]))
        for key in keys:
            q = twin_of(p, key)
            if q is None:
                continue
            for folder, picture in (("twins", render(q, size)), ("regions", region_image(p, q, size))):
                os.makedirs(os.path.join(out_dir, folder, key), exist_ok=True)
                picture.save(os.path.join(out_dir, folder, key, os.path.basename(lab["file"])))
    if out_dir:
        with open(os.path.join(out_dir, "labels.jsonl"), "w") as f:
            for lab in labels:
                f.write(json.dumps(lab) + "\n")
    return arr, labels


def main(argv=None):
    """A labelled face set in the layout `asyrp eval --faces` reads, from a render seed no
    other set uses (4242: the model's eval set, model.json "evalSet"; 5151: the example pairs):

      python3 -m asyrp_tools.renderer --out /tmp/faces-5152 --n 400 --seed 5152

    --twins also draws each face's twins (twins.py), so the set is judged by the twin judge:
      python3 -m asyrp_tools.renderer --out runs/report --n 200 --seed 6262 --twins
    """
    import argparse
    ap = argparse.ArgumentParser(description="Render a labelled face set (labels.jsonl + images/).")
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--twins", nargs="?", const="default", default=None, metavar="KEY;KEY",
                    help="also draw twins and regions: the default keys (every shipped direction, the frown and "
                         "the mix) or keys separated by ';', e.g. 'smile=1;glasses=1,smile=1'")
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("--n must be 1 or more")
    from .twins import DEFAULT_KEYS
    keys = [] if args.twins is None else list(DEFAULT_KEYS) if args.twins == "default" else args.twins.split(";")
    try:
        render_dataset(args.n, args.resolution, args.seed, out_dir=args.out, return_arrays=False, twins=keys)
    except ValueError as e:
        ap.error(str(e))
    print(f"wrote {args.n} faces (render seed {args.seed}) to {args.out}" + (f", twins {'; '.join(keys)}" if keys else ""))


if __name__ == "__main__":
    main()
