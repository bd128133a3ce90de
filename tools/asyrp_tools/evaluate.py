"""Measure a trained UNet the way the model card reports it (Python side):

- reconstruction: 40-step DDIM inversion then 40-step generation, no edit, no
  boosting, of held-out renders; mean PSNR over the uint8 images;
- samples from noise (40 steps): share read as faces by attributes.onnx, and
  a grid PNG of them;
- h-space smile direction (per-timestep mean Δh, see hcheck.py) applied to
  the held-out reconstructions: mean change of the reader's smile score.

  python3 -m asyrp_tools.evaluate --checkpoint runs/toyfaces-32/checkpoint.pt \
      --reader ../models/toyfaces-32/attributes.onnx --grid ../docs/img/toyfaces-32-generated-100.png
"""
from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from PIL import Image

from .diffusion import asyrp_generate, ddim_invert, timestep_sequence
from .export import load_unet
from .hcheck import mean_delta_h, pair_images, to_uint8
from .ortcheck import run_onnx
from .renderer import params_for_seed, render, to_array
from .samples import EVAL_DATASET_SEED


def read(reader_path: str, x: torch.Tensor) -> dict:
    # The reader sees what the engine would output: uint8-quantised images.
    q = torch.from_numpy(to_uint8(x)).permute(0, 3, 1, 2).float() / 127.5 - 1
    return run_onnx(reader_path, {"image": q.numpy()})


def grid(x: torch.Tensor, cols: int, path: str, zoom: int = 2):
    imgs = to_uint8(x)
    n, r = imgs.shape[0], imgs.shape[1]
    rows = (n + cols - 1) // cols
    g = np.full((rows * r, cols * r, 3), 255, np.uint8)
    for i, im in enumerate(imgs):
        g[(i // cols) * r:(i // cols + 1) * r, (i % cols) * r:(i % cols + 1) * r] = im
    Image.fromarray(g).resize((cols * r * zoom, rows * r * zoom), Image.NEAREST).save(path)


@torch.no_grad()
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--reader", required=True)
    ap.add_argument("--grid")
    ap.add_argument("--n-recon", type=int, default=32)
    ap.add_argument("--n-gen", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", help="metrics JSON")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    unet = load_unet(args.checkpoint)
    r = unet.cfg.resolution
    steps = 40
    eps_fn = lambda x, t: unet(x, torch.full((x.shape[0],), float(t)))  # noqa: E731
    state = torch.load(args.checkpoint, map_location="cpu")
    m = {"train_step": state["step"], "train_wall_s": round(state["wall_s"])}

    x0 = torch.from_numpy(np.stack([to_array(render(params_for_seed(EVAL_DATASET_SEED * 1_000_003 + i), r))
                                    for i in range(args.n_recon)]))
    xT = ddim_invert(eps_fn, x0, steps)
    rec = asyrp_generate(unet, xT, steps)
    a, b = to_uint8(x0).astype(np.float64), to_uint8(rec).astype(np.float64)
    mse = ((a - b) ** 2).reshape(len(a), -1).mean(1)
    m["recon_psnr_db"] = round(float(np.mean(10 * np.log10(255.0 ** 2 / np.maximum(mse, 1e-10)))), 2)

    gen = asyrp_generate(unet, torch.randn(args.n_gen, 3, r, r, generator=torch.Generator().manual_seed(0)), steps)
    out = read(args.reader, gen)
    m["generated_face_rate"] = float((out["face"] > 0.5).mean())
    if args.grid:
        grid(gen, 10, args.grid)

    # Smile direction through h, applied to the inverted held-out faces.
    pos, neg = pair_images("smile", 32, r)
    t_edit = 500
    dh = mean_delta_h(unet, pos, neg, [t for t in timestep_sequence(steps) if t >= t_edit])
    base = read(args.reader, rec)["smile"]
    for s in (0.5, -0.5):
        ed = asyrp_generate(unet, xT, steps, lambda t: s * dh[t], t_edit=t_edit)
        sm = read(args.reader, ed)
        m[f"smile_edit_{s:+}"] = {"reader_smile_change": round(float((sm["smile"] - base).mean()), 3),
                                  "still_face": float((sm["face"] > 0.5).mean()),
                                  "glasses_kept": float(((sm["glasses"] > 0.5) == (read(args.reader, rec)["glasses"] > 0.5)).mean())}
    print(json.dumps(m, indent=2))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(m, f, indent=2)


if __name__ == "__main__":
    main()
