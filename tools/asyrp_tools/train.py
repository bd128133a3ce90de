"""Train the toy-face DDPM UNet on freshly rendered faces.

Seeded and resumable: batch k always renders the same faces and uses the
same noise, whatever the interruptions, and a checkpoint (model, EMA,
optimizer, step, wall time) is written atomically every few minutes.

  python3 -m asyrp_tools.train --run runs/toyfaces-32 [--steps N]

Re-running the same command resumes from runs/.../checkpoint.pt, or from
--resume <path> (a checkpoint.pt written by an earlier run).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import shlex
import sys
import time

import numpy as np
import torch

from .diffusion import q_sample
from .renderer import params_for_seed, render, to_array
from .unet import UNet, UNetConfig, count_params

# Training faces come from their own seed range; evaluation sets use
# renderer.render_dataset seeds (dataset_seed * 1_000_003 + i, small).
TRAIN_SEED_BASE = 10 ** 12


def render_batch(step: int, batch: int, size: int) -> torch.Tensor:
    xs = [to_array(render(params_for_seed(TRAIN_SEED_BASE + step * batch + i), size)) for i in range(batch)]
    return torch.from_numpy(np.stack(xs))


def save_atomic(obj, path: str):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def ema_decay(step: int, target: float) -> float:
    # Warm-up so that the EMA is useful after a few hundred steps already
    # (we check h-space editing early and may stop long before 100k steps).
    return min(target, (1 + step) / (10 + step))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="run directory (checkpoint.pt, log.jsonl, command.txt)")
    ap.add_argument("--resume", help="checkpoint to start from when the run has none")
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--base-channels", type=int, default=32)
    # 1,4: h is [128, 16, 16], the shipped toyfaces-32 (1,2,4, h 8x8, was the first default: docs/research/directions.md).
    ap.add_argument("--channel-mult", default="1,4")
    ap.add_argument("--prediction", default="v", choices=["v", "eps"])
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=4e-4)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--steps", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ckpt-every-s", type=float, default=300)
    ap.add_argument("--log-every", type=int, default=25)
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    os.makedirs(args.run, exist_ok=True)
    ckpt_path = os.path.join(args.run, "checkpoint.pt")
    with open(os.path.join(args.run, "command.txt"), "a") as f:
        f.write(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} cwd={os.getcwd()} "
                f"{shlex.join([sys.executable, '-m', 'asyrp_tools.train', *(argv if argv is not None else sys.argv[1:])])}\n")

    src = ckpt_path if os.path.exists(ckpt_path) else args.resume
    state = torch.load(src, map_location="cpu") if src else None
    if state:
        cfg = UNetConfig.from_dict(state["config"])
    else:
        cfg = UNetConfig(resolution=args.resolution, base_channels=args.base_channels,
                         channel_mult=tuple(int(v) for v in args.channel_mult.split(",")),
                         prediction=args.prediction)
    torch.manual_seed(args.seed)
    model = UNet(cfg)
    ema = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    step, wall = 0, 0.0
    if state:
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        opt.load_state_dict(state["opt"])
        step, wall = state["step"], state["wall_s"]
        print(f"resumed from {src} at step {step} ({wall:.0f} s)", flush=True)
    print(f"config {cfg.to_dict()} params {count_params(model)} hspace {cfg.hspace}", flush=True)

    def checkpoint():
        save_atomic({"config": cfg.to_dict(), "model": model.state_dict(), "ema": ema.state_dict(),
                     "opt": opt.state_dict(), "step": step, "wall_s": wall, "args": vars(args)}, ckpt_path)

    log = open(os.path.join(args.run, "log.jsonl"), "a")
    last_ckpt = time.time()
    losses = []
    while step < args.steps:
        t0 = time.time()
        # Per-step generator: the noise and timesteps of step k do not depend
        # on where training was interrupted.
        g = torch.Generator().manual_seed(args.seed * 1_000_003 + step)
        x0 = render_batch(step, args.batch, cfg.resolution)
        t = torch.randint(0, 1000, (args.batch,), generator=g)
        noise = torch.randn(x0.shape, generator=g)
        xt = q_sample(x0, t, noise)
        for pg in opt.param_groups:
            pg["lr"] = args.lr * min(1.0, (step + 1) / args.warmup)
        if cfg.prediction == "eps":
            # DDPM L_simple: MSE on epsilon.
            target = noise
        else:
            # MSE on v = sqrt(a) eps - sqrt(1-a) x0: epsilon-MSE weighted by
            # 1/abar, so the high-noise steps where coarse structure (and the
            # Asyrp edit interval) lives get a useful gradient.
            sa = model.sqrt_abar[t].view(-1, 1, 1, 1)
            target = sa * noise - (1 - sa * sa).sqrt() * x0
        loss = (model.raw(xt, t.float()) - target).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        d = ema_decay(step, args.ema)
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(pm, alpha=1 - d)
        step += 1
        wall += time.time() - t0
        losses.append(loss.item())
        if step % args.log_every == 0:
            rec = {"step": step, "loss": float(np.mean(losses)), "wall_s": round(wall, 1),
                   "time": time.strftime('%H:%M:%S', time.gmtime())}
            losses = []
            log.write(json.dumps(rec) + "\n")
            log.flush()
            print(rec, flush=True)
        if time.time() - last_ckpt > args.ckpt_every_s:
            checkpoint()
            last_ckpt = time.time()
    checkpoint()
    print("done", flush=True)


if __name__ == "__main__":
    main()
