"""How far a Δh_t made for ONE face can take that face toward its twin (issue #32: why a direction misses).

A shipped direction is one Δh_t (plus a small h-net) for every face. If even a Δh_t optimized for a single
face, with as many steps as it needs, cannot bring that face half-way to its twin (the twin judge's success),
no shared shift will: the limit is what h-space at this resolution and t_edit can express, not the training
budget or the method's sharing across faces. If the per-face shift gets there, the limit is the sharing.

Each face is drawn from the make set's sequence (render seed 5151, asyrp_tools/pairs.py), eligible for the
twin key and matching --where; its Δh_t is found by the same loss the directions are made with
(optimize_final.optimize_final with the balanced pair term, one face per batch, no h-net), then the face is
generated with it (no boosting) and judged by the twin judge's rules (src/engine/eval/twin-judge.ts): progress
1 - |e - w|_R / |x - w|_R over the twin's region, outside = mean largest channel change beyond its 1-px border.

  python3 tools/face_reach.py --model-dir models/toyfaces-32 --key eyes_open=0 --where skin_tone=light \\
      --faces 3 --iterations 60 [--t-edit 300] [--init models/toyfaces-32/directions/eyes-closed.safetensors]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from asyrp_tools.direction_io import read_direction  # noqa: E402
from asyrp_tools.export import load_unet_from_package  # noqa: E402
from asyrp_tools.optimize import prepare  # noqa: E402
from asyrp_tools.optimize_final import FinalConfig, generate, optimize_final  # noqa: E402
from asyrp_tools.pairs import PAIRS_SEED, matches, parse_where  # noqa: E402
from asyrp_tools.renderer import params_for_seed, render, to_array  # noqa: E402
from asyrp_tools.twins import outside_change, region_of, twin_of  # noqa: E402

SUCCESS_PROGRESS = 0.5   # TWIN_SUCCESS_PROGRESS, src/engine/eval/twin-judge.ts
TOLERANCE = 8.0          # TWIN_PRESERVE_TOLERANCE


def faces_for(key, where, count, first, size):
    """(index in the seed sequence, params, twin params) of the first `count` eligible faces matching `where`."""
    out, i = [], first
    while len(out) < count:
        p = params_for_seed(PAIRS_SEED * 1_000_003 + i)
        q = twin_of(p, key)
        if q is not None and matches(p, where):
            out.append((i, p, q))
        i += 1
        if i - first > 1000 * count:
            raise SystemExit(f"no {count} faces eligible for {key} match {where}")
    return out


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """[1,3,R,R] in [-1, 1] -> HWC uint8, as the engine writes an edit."""
    return ((x[0].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()


def judge(x: np.ndarray, e: np.ndarray, w: np.ndarray, region: np.ndarray):
    r = region > 0
    xf, ef, wf = (a.astype(np.float32) for a in (x, e, w))
    progress = 1 - np.sqrt(((ef - wf)[r] ** 2).sum() / ((xf - wf)[r] ** 2).sum())
    return float(progress), outside_change(x, e, r)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--key", required=True, help="twin key, e.g. eyes_open=0, hair_colour=red, smile=1")
    ap.add_argument("--where", action="append", default=[], metavar="LABEL=VALUE")
    ap.add_argument("--faces", type=int, default=3)
    ap.add_argument("--first", type=int, default=0, help="start at this face of the make set's sequence")
    ap.add_argument("--iterations", type=int, default=60)
    ap.add_argument("--time-budget", type=float, default=None, metavar="SECONDS",
                    help="at most this many seconds of Adam steps per face (optimize_final's time_budget_s)")
    ap.add_argument("--lr", type=float, default=0.05, help="Adam step relative to RMS(h), decayed to a tenth")
    ap.add_argument("--t-edit", type=int, default=300)
    ap.add_argument("--outside", type=float, default=2.0, help="weight of the outside pixels (--pair-outside)")
    ap.add_argument("--outline", type=float, default=0.0, help="extra weight on the face's edges (--pair-outline)")
    ap.add_argument("--init", help="start each face from this direction's global Δh_t (its h-net is not used)")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--cache", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "runs", "cache"))
    ap.add_argument("--json", help="also write the rows here")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    with open(os.path.join(args.model_dir, "model.json")) as f:
        refine = json.load(f).get("defaults", {}).get("inversionRefinement", 0)
    unet = load_unet_from_package(args.model_dir)
    size = unet.cfg.resolution
    init = init_ts = None
    if args.init:
        dh, ts, _ = read_direction(args.init)
        init, init_ts = torch.from_numpy(np.ascontiguousarray(dh)), [int(t) for t in ts]
    no_guide = lambda out, ref: torch.zeros(out.shape[0])  # noqa: E731  (the reader takes no part)
    rows = []
    print("| face | labels | reconstruction: progress / outside | start | per-face Δh: progress / outside | |Δh|/|h| | steps | s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for i, p, q in faces_for(args.key, parse_where(args.where), args.faces, args.first, size):
        x_img, w_img = np.asarray(render(p, size)), np.asarray(render(q, size))
        region = region_of(p, q, size)
        x0 = torch.from_numpy(to_array(render(p, size)))[None]
        pos = torch.from_numpy(to_array(render(q, size)))[None]
        cfg = FinalConfig(t_edit=args.t_edit, generation_steps=args.steps, inversion_steps=args.steps,
                          inversion_refine=refine, cache_dir=args.cache, batch=1, iterations=args.iterations,
                          lr=args.lr, lr_end=0.1, time_budget_s=args.time_budget, guide_weight=0.0, l1_weight=0.0, pair_weight=1.0,
                          pair_outside=args.outside, pair_balance=True, pair_outline=args.outline, augment_shift=0,
                          log_every=max(1, args.iterations // 4), log=lambda s: print("  " + s, file=sys.stderr, flush=True))
        t0 = time.time()
        res = optimize_final(unet, no_guide, x0, cfg, init=init, init_ts=init_ts, pos=pos)
        _, edit_ts, x_T, _ = prepare(unet, x0, cfg)
        index = {t: k for k, t in enumerate(res.timesteps)}
        rec = generate(unet, x_T, args.steps, args.t_edit)
        edit = generate(unet, x_T, args.steps, args.t_edit, lambda t: res.delta_h[index[t]][None])
        start = None
        if init is not None:
            from asyrp_tools.delta_timesteps import align_init
            d0 = align_init(init, init_ts, edit_ts)
            start = judge(x_img, to_uint8(generate(unet, x_T, args.steps, args.t_edit, lambda t: d0[edit_ts.index(t)][None])),
                          w_img, region)
        r_rec = judge(x_img, to_uint8(rec), w_img, region)
        r_edit = judge(x_img, to_uint8(edit), w_img, region)
        row = {"face": i, "labels": {"skin_tone": p.skin_tone, "hair_colour": p.hair_colour, "hair_length": p.hair_length,
                                     "glasses": p.glasses, "eyes_open": p.eyes_open},
               "reconstruction": r_rec, "start": start, "edit": r_edit,
               "delta_rms_over_h": res.history[-1]["delta_rms_over_h"], "steps": res.history[-1]["iteration"],
               "seconds": round(time.time() - t0)}
        rows.append(row)
        lab = f"{p.skin_tone} skin, {p.hair_colour} {p.hair_length} hair"
        st = f"{start[0]:.2f} / {start[1]:.1f}" if start else "zero"
        print(f"| {i} | {lab} | {r_rec[0]:.2f} / {r_rec[1]:.1f} | {st} | {r_edit[0]:.2f} / {r_edit[1]:.1f} | "
              f"{row['delta_rms_over_h']:.3f} | {row['steps']} | {row['seconds']} |", flush=True)
    ok = sum(r["edit"][0] >= SUCCESS_PROGRESS for r in rows)
    kept = sum(r["edit"][1] <= TOLERANCE for r in rows)
    print(f"per-face Δh at t_edit {args.t_edit}, at most {args.iterations} steps: {ok}/{len(rows)} half-way to the twin, "
          f"{kept}/{len(rows)} within the outside tolerance")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
