"""Attribute reader: a small CNN that reads the renderer's attributes back
from an image, plus a 'face' score trained against non-faces.

It is the exact judge of whether an edit did what it claims (the paper could
only estimate that with CLIP), and of whether samples from noise are faces.

ONNX (attributes.onnx): input `image` float32 [B,3,R,R] in [-1,1];
outputs, all float32:
  face [B]         probability that the image is a face (0..1)
  smile [B]        -1 (frown) .. 1 (grin)
  eyes_open [B], glasses [B], hair_long [B]    probabilities (0..1)
  hair_colour [B,4], skin_tone [B,3], face_shape [B,3], background [B,4]
                   class probabilities, class order in CLASSES

  python3 -m asyrp_tools.reader --resolution 32 --out ../models/toyfaces-32/attributes.onnx
"""
from __future__ import annotations

import argparse
import json
import random
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image, ImageFilter

from .renderer import (BACKGROUNDS, FACE_SHAPES, HAIR_COLOURS, SKIN_TONES, params_for_seed, render,
                       sample_params, to_array)

CLASSES = {
    "hair_colour": sorted(HAIR_COLOURS),
    "skin_tone": sorted(SKIN_TONES),
    "face_shape": list(FACE_SHAPES),
    "background": sorted(BACKGROUNDS),
}
BINARY = ("eyes_open", "glasses", "hair_long")
OUTPUTS = ("face", "smile", *BINARY, *CLASSES)


class Reader(nn.Module):
    def __init__(self, resolution: int, width: int = 32):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(3, w, 3, padding=1), nn.ReLU(),
            nn.Conv2d(w, w, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, stride=2, padding=1), nn.ReLU(),
        )
        s = resolution // 8
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(2 * w * s * s, 128), nn.ReLU())
        self.head_bin = nn.Linear(128, 2 + len(BINARY))  # face, smile, binaries
        self.heads_cls = nn.ModuleDict({k: nn.Linear(128, len(v)) for k, v in CLASSES.items()})

    def logits(self, x):
        z = self.fc(self.features(x))
        return self.head_bin(z), {k: h(z) for k, h in self.heads_cls.items()}

    def forward(self, x):
        """Probabilities, in the order of OUTPUTS (the ONNX outputs)."""
        b, cls = self.logits(x)
        out = [torch.sigmoid(b[:, 0]), torch.tanh(b[:, 1])]
        out += [torch.sigmoid(b[:, 2 + i]) for i in range(len(BINARY))]
        out += [torch.softmax(cls[k], dim=1) for k in CLASSES]
        return tuple(out)


# ---- data -------------------------------------------------------------------

def _face(rng: random.Random, size: int):
    p = sample_params(rng)
    img = render(p, size)
    # Mild degradations so that imperfect model samples still read as faces.
    if rng.random() < 0.3:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 0.7) * size / 32))
    x = to_array(img)
    if rng.random() < 0.5:
        x = x + np.random.default_rng(rng.getrandbits(32)).normal(0, rng.uniform(0, 0.06), x.shape).astype(np.float32)
    lab = p.labels()
    y = {"face": 1.0, "smile": p.smile, "eyes_open": float(p.eyes_open), "glasses": float(p.glasses),
         "hair_long": float(p.hair_length == "long")}
    y.update({k: CLASSES[k].index(lab[k]) for k in CLASSES})
    return x, y


def _nonface(rng: random.Random, size: int):
    """Noise, heavy blur, shuffled patches, smooth colour fields, or a face
    with its parts rearranged: things that share colours with faces but not
    their layout."""
    nr = np.random.default_rng(rng.getrandbits(32))
    kind = rng.randrange(5)
    if kind == 0:
        x = nr.normal(0, rng.uniform(0.3, 1.0), (3, size, size)) + nr.uniform(-0.5, 0.5, (3, 1, 1))
    elif kind == 1:
        low = nr.normal(0, 0.6, (3, 4, 4)).astype(np.float32)
        x = F.interpolate(torch.from_numpy(low)[None], size=(size, size), mode="bilinear",
                          align_corners=False)[0].numpy()
    elif kind == 2:
        img = render(sample_params(rng), size).filter(ImageFilter.GaussianBlur(rng.uniform(2.5, 5) * size / 32))
        x = to_array(img)
    else:
        x = to_array(render(sample_params(rng), size))
        k = rng.choice([2, 4, 8]) if kind == 3 else 2
        ps = size // k
        patches = [x[:, i * ps:(i + 1) * ps, j * ps:(j + 1) * ps] for i in range(k) for j in range(k)]
        order = list(range(len(patches)))
        while order == sorted(order):
            rng.shuffle(order)
        rows = [np.concatenate([patches[order[i * k + j]] for j in range(k)], axis=2) for i in range(k)]
        x = np.concatenate(rows, axis=1)
    y = {"face": 0.0, "smile": 0.0, "eyes_open": 0.0, "glasses": 0.0, "hair_long": 0.0}
    y.update({k: -1 for k in CLASSES})
    return np.clip(x, -1.5, 1.5).astype(np.float32), y


def make_batch(rng: random.Random, n: int, size: int, face_share: float = 0.6):
    xs, ys = [], []
    for _ in range(n):
        x, y = _face(rng, size) if rng.random() < face_share else _nonface(rng, size)
        xs.append(x)
        ys.append(y)
    x = torch.from_numpy(np.stack(xs))
    y = {k: torch.tensor([d[k] for d in ys]) for k in ys[0]}
    return x, y


def loss_fn(model: Reader, x, y):
    b, cls = model.logits(x)
    face = y["face"] > 0.5
    loss = F.binary_cross_entropy_with_logits(b[:, 0], y["face"].float())
    if face.any():
        loss = loss + 2 * F.l1_loss(torch.tanh(b[face, 1]), y["smile"][face].float())
        for i, k in enumerate(BINARY):
            loss = loss + F.binary_cross_entropy_with_logits(b[face, 2 + i], y[k][face].float())
        for k in CLASSES:
            loss = loss + F.cross_entropy(cls[k][face], y[k][face].long())
    return loss


@torch.no_grad()
def evaluate(model: Reader, size: int, n: int = 2000, seed: int = 99):
    """Held-out accuracy (rng seed disjoint from training's)."""
    model.eval()
    x, y = make_batch(random.Random(seed), n, size, face_share=0.5)
    out = dict(zip(OUTPUTS, model(x)))
    face = y["face"] > 0.5
    res = {"face_acc": float(((out["face"] > 0.5) == face).float().mean()),
           "smile_mae": float((out["smile"][face] - y["smile"][face]).abs().mean())}
    for k in BINARY:
        res[f"{k}_acc"] = float(((out[k][face] > 0.5) == (y[k][face] > 0.5)).float().mean())
    for k in CLASSES:
        res[f"{k}_acc"] = float((out[k][face].argmax(1) == y[k][face]).float().mean())
    model.train()
    return {k: round(v, 4) for k, v in res.items()}


def export(model: Reader, path: str, size: int):
    model.eval()
    torch.onnx.export(model, torch.randn(2, 3, size, size), path, opset_version=14,
                      input_names=["image"], output_names=list(OUTPUTS),
                      dynamic_axes={"image": {0: "B"}, **{k: {0: "B"} for k in OUTPUTS}})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--width", type=int, default=32,
                    help="base channel count; a judge independent of the guide uses another width and seed")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", help="attributes.onnx path")
    ap.add_argument("--metrics", help="write held-out metrics JSON here")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = Reader(args.resolution, args.width)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps)
    rng = random.Random(args.seed)
    t0 = time.time()
    for step in range(1, args.steps + 1):
        x, y = make_batch(rng, args.batch, args.resolution)
        loss = loss_fn(model, x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0:
            print({"step": step, "loss": round(loss.item(), 4), "wall_s": round(time.time() - t0, 1)}, flush=True)
    metrics = evaluate(model, args.resolution)
    metrics["train_steps"] = args.steps
    metrics["wall_s"] = round(time.time() - t0, 1)
    print(metrics, flush=True)
    if args.metrics:
        with open(args.metrics, "w") as f:
            json.dump(metrics, f, indent=2)
    if args.out:
        export(model, args.out, args.resolution)


if __name__ == "__main__":
    main()
