"""Does an h-space direction move a coarse attribute?  (The early go/no-go
check of issue #3, run a few hundred steps into training.)

Direction: for pairs of renders that differ only in the attribute, the mean
difference of h at each edited generation timestep, with both members of a
pair noised by the same epsilon (a per-timestep Δh_t^mean, docs/method.md §2.3).
It is added during the early reverse steps (t >= t_edit) of a 40-step DDIM
generation with the asymmetric step (paper Eq. 9), from the same x_T as an
unedited generation, and the image change is compared with the attribute's
pixel template (mean render difference).  `proj` is the least-squares
coefficient of the change on the template (1 = the full frown->grin change),
`inside` the share of the change's energy inside the template's support.

  python3 -m asyrp_tools.hcheck runs/toyfaces-32/checkpoint.pt [--grid out.png]
"""
from __future__ import annotations

import argparse
import dataclasses
import random

import numpy as np
import torch
from PIL import Image

from .diffusion import ABAR, asyrp_generate, ddim_invert, timestep_sequence
from .export import load_unet
from .renderer import params_for_seed, render, to_array

ATTRS = {
    "smile": lambda p, on: dataclasses.replace(p, smile=0.9 if on else -0.9),
    "glasses": lambda p, on: dataclasses.replace(p, glasses=on),
    "eyes": lambda p, on: dataclasses.replace(p, eyes_open=on),
    "hair": lambda p, on: dataclasses.replace(p, hair_length="long" if on else "short"),
}


def pair_images(attr: str, n: int, size: int, seed: int = 777):
    pos, neg = [], []
    for i in range(n):
        p = params_for_seed(seed * 1_000_003 + i)
        pos.append(to_array(render(ATTRS[attr](p, True), size)))
        neg.append(to_array(render(ATTRS[attr](p, False), size)))
    return torch.from_numpy(np.stack(pos)), torch.from_numpy(np.stack(neg))


@torch.no_grad()
def mean_delta_h(unet, pos, neg, timesteps, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = {}
    for t in timesteps:
        noise = torch.randn(pos.shape, generator=g)
        a = float(ABAR[t])
        tt = torch.full((pos.shape[0],), float(t))
        hp = unet.encode(a ** 0.5 * pos + (1 - a) ** 0.5 * noise, tt)[0]
        hn = unet.encode(a ** 0.5 * neg + (1 - a) ** 0.5 * noise, tt)[0]
        out[t] = (hp - hn).mean(0, keepdim=True)
    return out


def to_uint8(x: torch.Tensor) -> np.ndarray:
    return ((x.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()


def check(unet, attr="smile", n_pairs=32, n_gen=16, t_edit=500, steps=40, scale=1.0, seed=0):
    r = unet.cfg.resolution
    pos, neg = pair_images(attr, n_pairs, r)
    template = (pos - neg).mean(0)
    seq = [t for t in timestep_sequence(steps) if t >= t_edit]
    dh = mean_delta_h(unet, pos, neg, seq)
    x_T = torch.randn(n_gen, 3, r, r, generator=torch.Generator().manual_seed(seed + 1))
    base = asyrp_generate(unet, x_T, steps)
    res = {"attr": attr}
    imgs = [base]
    for sign in (1, -1):
        ed = asyrp_generate(unet, x_T, steps, lambda t: sign * scale * dh[t], t_edit=t_edit)
        imgs.append(ed)
        diff = (ed - base)
        proj = (diff * template).flatten(1).sum(1) / template.pow(2).sum()
        mask = (template.abs().sum(0) > 0.1).float()
        inside = (diff.pow(2).sum(1) * mask).flatten(1).sum(1) / diff.pow(2).sum(1).flatten(1).sum(1).clamp_min(1e-8)
        res["+" if sign > 0 else "-"] = {"proj": round(float(proj.mean()), 3),
                                          "inside": round(float(inside.mean()), 3),
                                          "rms_change": round(float(diff.pow(2).mean().sqrt()), 3)}
    res["mask_share"] = round(float((template.abs().sum(0) > 0.1).float().mean()), 3)
    return res, imgs


@torch.no_grad()
def recon_psnr(unet, n=16, steps=40, seed=4242):
    r = unet.cfg.resolution
    x0 = torch.from_numpy(np.stack([to_array(render(params_for_seed(seed * 1_000_003 + i), r)) for i in range(n)]))
    xT = ddim_invert(lambda x, t: unet(x, torch.full((x.shape[0],), float(t))), x0, steps)
    rec = asyrp_generate(unet, xT, steps)
    a = to_uint8(x0).astype(np.float64)
    b = to_uint8(rec).astype(np.float64)
    mse = ((a - b) ** 2).reshape(n, -1).mean(1)
    return float(np.mean(10 * np.log10(255.0 ** 2 / np.maximum(mse, 1e-10))))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--attrs", default="smile,glasses")
    ap.add_argument("--grid", help="PNG: rows = unedited, +dir, -dir")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--psnr", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    unet = load_unet(args.checkpoint, use_ema=not args.raw)
    rows = []
    for attr in args.attrs.split(","):
        res, imgs = check(unet, attr)
        print(res, flush=True)
        rows += imgs
    if args.psnr:
        print({"recon_psnr_db": round(recon_psnr(unet), 2)})
    if args.grid:
        r = unet.cfg.resolution
        n = rows[0].shape[0]
        g = np.zeros((len(rows) * r, n * r, 3), np.uint8)
        for i, row in enumerate(rows):
            for j, im in enumerate(to_uint8(row)):
                g[i * r:(i + 1) * r, j * r:(j + 1) * r] = im
        Image.fromarray(g).resize((n * r * 3, len(rows) * r * 3), Image.NEAREST).save(args.grid)


if __name__ == "__main__":
    main()
