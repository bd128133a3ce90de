"""Optimize an h-space direction Asyrp's way and write it as a direction file.

  cd tools && python3 optimize_direction.py --checkpoint runs/toyfaces-32/checkpoint.pt \
      --reader ../models/toyfaces-32/attributes.onnx --schema ../models/toyfaces-32/attributes.json \
      --target smile:+ --name smile --t-edit 538 --out ../models/toyfaces-32/directions/smile.safetensors

The loss (asyrp_tools/optimize.py) is the paper's: a guide on P_t(eps_edit)
plus an L1 term to the unedited P_t(eps), at every editing timestep.  The
guide here is the model's attribute reader (asyrp_tools/guides.py); any
callable guide(x_edit, x_src) -> loss[B] can replace it.  Training faces are
rendered (toy models, --faces) or read from a folder (--images).  Seeded and
deterministic; single-threaded by default (shared CPUs).
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from asyrp_tools.direction_io import write_direction  # noqa: E402
from asyrp_tools.export import load_unet, load_unet_from_package  # noqa: E402
from asyrp_tools.guides import ReaderGuide, load_readers, load_schema, parse_target  # noqa: E402
from asyrp_tools.direction_io import read_direction, read_h_gain, read_h_net  # noqa: E402
from asyrp_tools.delta_window import parse_window  # noqa: E402
from asyrp_tools.optimize import OptimizeConfig, edit_images, optimize_direction  # noqa: E402
from asyrp_tools.optimize_final import FinalConfig, optimize_final  # noqa: E402
from asyrp_tools.reader import OUTPUTS  # noqa: E402

# render_dataset seeds for the optimizer's faces: disjoint from the eval set (4242),
# the example pairs (777_000) and the UNet's training range (1e12 + k).
TRAIN_FACES_SEED = 5151
VAL_FACES_SEED = 5152


def load_images(folder: str, resolution: int) -> torch.Tensor:
    from PIL import Image
    files = sorted(f for f in os.listdir(folder) if f.lower().endswith((".png", ".jpg", ".jpeg")))
    if not files:
        raise SystemExit(f"{folder}: no images")
    xs = []
    for f in files:
        img = Image.open(os.path.join(folder, f)).convert("RGB")
        s = min(img.size)   # center-crop then resize, as the engine's "center-crop" preprocess
        left, top = (img.width - s) // 2, (img.height - s) // 2
        img = img.crop((left, top, left + s, top + s)).resize((resolution, resolution), Image.BICUBIC)
        xs.append(np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 127.5 - 1.0)
    return torch.from_numpy(np.stack(xs))


def package_defaults(model_dir: str) -> dict:
    with open(os.path.join(model_dir, "model.json")) as f:
        return json.load(f).get("defaults", {})


def rendered_faces(n: int, resolution: int, seed: int) -> torch.Tensor:
    from asyrp_tools.renderer import render_dataset
    arr, _ = render_dataset(n, resolution, seed=seed)
    return torch.from_numpy(arr)


def repo_relative(arg):
    """The recorded command names files inside the repository relative to tools/, where it runs, so a shipped
    direction's metadata does not carry the path of the checkout that made it."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    return arg.replace(root, ".." + os.sep)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="UNet training checkpoint (asyrp_tools.train)")
    src.add_argument("--model-dir", help="an exported model package (models/<id>): the weights of its unet.onnx")
    ap.add_argument("--raw", action="store_true", help="use the raw weights instead of the EMA (the export's default)")
    ap.add_argument("--reader", required=True,
                    help="attribute reader ONNX (the guide); several, comma-separated, are read as their mean")
    ap.add_argument("--schema", required=True, help="attributes.json of the model")
    ap.add_argument("--target", required=True, help='evalTarget syntax: "smile:+", "glasses:1", "eyes_open:0", "hair_colour:red"')
    ap.add_argument("--name", required=True)
    ap.add_argument("--description", default="")
    ap.add_argument("--out", required=True, help="directions/<name>.safetensors")
    ap.add_argument("--t-edit", type=int, default=500)
    ap.add_argument("--t-boost", type=int, default=167)
    ap.add_argument("--default-strength", type=float, default=1.0)
    ap.add_argument("--faces", type=int, default=64, help="rendered training faces (toy models)")
    ap.add_argument("--images", help="folder of training images instead of rendered faces")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=0.05, help="Adam step relative to RMS(h)")
    ap.add_argument("--l1", type=float, default=3.0, help="weight of |P_t(eps_edit) - P_t(eps)|_1 (paper: 3)")
    ap.add_argument("--keep", type=float, default=1.0, help="weight of the guide's keep-other-attributes term")
    ap.add_argument("--face", type=float, default=0.0, help="weight of -log(face score) of P_t (0: off)")
    ap.add_argument("--param", choices=("per-t", "global"), default="per-t")
    ap.add_argument("--objective", choices=("paper", "final"), default="paper",
                    help="paper: loss on P_t at each editing step (§3.4); final: loss on the finished "
                         "generation, differentiated through every step (asyrp_tools/optimize_final.py)")
    ap.add_argument("--iterations", type=int, default=60, help="Adam steps (--objective final)")
    ap.add_argument("--time-budget", type=float, default=None, metavar="SECONDS",
                    help="--objective final: stop the Adam steps after this many seconds, the step's decay following "
                         "the larger of the steps' and the time's share (a shared machine's step time varies)")
    ap.add_argument("--margin", type=float, default=None,
                    help="stop pushing the target once reached with this margin (scalars; binaries: p 0.95)")
    ap.add_argument("--pairs", nargs=2, metavar=("NEG", "POS"),
                    help="matched example pairs (folders, same file order): optimize on NEG toward what "
                         "POS changes (--objective final)")
    ap.add_argument("--pairs-negative", metavar="FOLDER",
                    help="what each NEG image of --pairs should become at strength -1 (same file order), e.g. a smile's "
                         "frown twins: every second batch is generated with -Δh and judged against it (--objective final)")
    ap.add_argument("--pair-weight", type=float, default=10.0, help="weight of the pair term")
    ap.add_argument("--pair-outside", type=float, default=1.0,
                    help="pair term weight on the pixels a pair leaves unchanged, relative to the changed ones "
                         "(above 1: hold background and outline harder)")
    ap.add_argument("--pair-balance", action="store_true",
                    help="the pair term as two means, as the twin judge reads an edit: the pixels a pair changes, plus "
                         "--pair-outside times those more than one pixel from them (else one mean over all pixels)")
    ap.add_argument("--pair-outline", type=float, default=0.0,
                    help="with --pair-balance: outside pixels on the face's own edges (head outline, hair line, eyes) "
                         "weigh 1 + this (asyrp_tools/pair_loss.py; 0: as the judge, all alike)")
    ap.add_argument("--pair-relative", action="store_true",
                    help="with --pair-balance: each face's region error divided by the size of the change its pair asks for "
                         "(relative to the batch), as the judge's progress is (asyrp_tools/pair_loss.py)")
    ap.add_argument("--pair-free", type=float, default=0.0, metavar="UNITS",
                    help="with --pair-balance: a face's outside term counts only above this mean change, in 0..255 units "
                         "(the judge keeps a face up to 8; asyrp_tools/pair_loss.py; 0: every change counts)")
    ap.add_argument("--pair-progress", type=float, default=None, metavar="HINGE",
                    help="with --pair-balance, instead of --pair-relative: each face's region term is the judge's own L2 ratio "
                         "(1 - progress) plus HINGE times its shortfall from progress 0.6 (asyrp_tools/pair_loss.py)")
    ap.add_argument("--window", metavar="CY,CX,SY,SX",
                    help="--objective final: Δh_t times a Gaussian window over h's positions, centre (CY, CX) and widths "
                         "(SY, SX) in h coordinates, e.g. 12,8,3,3.5 for toyfaces-32's mouth (asyrp_tools/delta_window.py)")
    ap.add_argument("--t-max", type=int, default=None,
                    help="--objective final: edit only for t-edit <= t <= t-max (Δh zero above)")
    ap.add_argument("--guide-weight", type=float, default=1.0, help="weight of the guide (reader) loss")
    ap.add_argument("--keep-mode", choices=("abs", "ce"), default="abs",
                    help="keep term: abs = Σ|Δ reader outputs|; ce = cross-entropy toward the unedited labels")
    ap.add_argument("--keep-goal", type=float, default=0.95,
                    help="--keep-mode ce: a kept label costs nothing once held with this probability; above 0.95 "
                         "it is a preservation margin for faces read near a class boundary")
    ap.add_argument("--keep-weight", action="append", default=[], metavar="ATTR=W",
                    help="a factor on one attribute's keep term (others 1), e.g. face_shape=4; repeatable")
    ap.add_argument("--eligible-only", action="store_true",
                    help="train only on faces that lack the target (rendered faces: render 4x and filter)")
    ap.add_argument("--time-basis", type=int, default=0,
                    help="--objective final: Δh_t as a combination of this many Legendre polynomials of t "
                         "(0: free per timestep; 2 kept held-out results with 1/8-1/14 of the values)")
    ap.add_argument("--lr-end", type=float, default=1.0,
                    help="--objective final: cosine-decay the step to this fraction by the last iteration")
    ap.add_argument("--mix-with", help="--objective final: also train the direction on top of this one (strength 1, "
                    "every second batch, referenced to the generation edited by it alone), for recipes that mix them")
    ap.add_argument("--h-gain", action="store_true",
                    help="--objective final: also learn an h-dependent part G (Δh_t + G·h, a 1x1 convolution of h "
                         "from the previous step) for edits a global Δh cannot carry (hair colour)")
    ap.add_argument("--gain-lr", type=float, default=1.0, help="Adam step of G relative to --lr / C (1: a step of G moves Δh about as much as a step of Δh)")
    ap.add_argument("--h-net", type=int, default=0, metavar="D",
                    help="--objective final: also learn the paper's nonlinear f_t(h, t) with D hidden units "
                         "(W2·SiLU(W1·h + b1 + Wt·e(t)) at every position of h from the previous step; 0: none)")
    ap.add_argument("--h-net-lr", type=float, default=1.0, help="Adam step of the h-net relative to its default")
    ap.add_argument("--h-net-kernel", type=int, default=1, metavar="K",
                    help="the h-net's first layer a KxK convolution over h (K odd; 1: per position); an --init with a "
                         "smaller kernel is widened around its centre, so the run starts exactly at it")
    ap.add_argument("--init", help="start from this direction file, e.g. a paper-loss result; made for another --t-edit, "
                    "its Δh_t is resampled to the nearest timestep (zero outside its range)")
    ap.add_argument("--steps", type=int, default=40, help="generation (and inversion) steps")
    ap.add_argument("--inversion-refine", type=int, default=None,
                    help="fixed-point refinements per inversion step, as the engine inverts (default: the "
                         "package's defaults.inversionRefinement with --model-dir, else 0)")
    ap.add_argument("--val", type=int, default=32, help="held-out faces for a quick Python-side check (0: none)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", help="folder that keeps the training images' inversion and reconstruction between runs "
                    "(keyed by a hash of the weights, images and settings; asyrp_tools/run_cache.py)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    if args.h_gain and args.objective != "final":
        ap.error("--h-gain needs --objective final")
    if args.h_net and args.objective != "final":
        ap.error("--h-net needs --objective final")
    if args.h_net < 0:
        ap.error(f"--h-net must be 0 (none) or a number of hidden units, not {args.h_net}")
    if args.h_net_kernel < 1 or args.h_net_kernel % 2 == 0:
        ap.error(f"--h-net-kernel must be odd and at least 1, not {args.h_net_kernel}")
    torch.set_num_threads(args.threads)
    t0 = time.time()

    unet = load_unet_from_package(args.model_dir) if args.model_dir else load_unet(args.checkpoint, use_ema=not args.raw)
    refine = args.inversion_refine
    if refine is None:
        refine = package_defaults(args.model_dir).get("inversionRefinement", 0) if args.model_dir else 0
    r = unet.cfg.resolution
    schema = load_schema(args.schema)
    target = parse_target(args.target, schema)
    keep_weights = {}
    for item in args.keep_weight:
        name, eq, value = item.partition("=")
        try:
            keep_weights[name] = float(value) if eq else float("nan")
        except ValueError:
            keep_weights[name] = float("nan")
        if keep_weights[name] != keep_weights[name]:
            raise SystemExit(f'--keep-weight "{item}": expected ATTR=W with W a number, e.g. face_shape=4')
    guide = ReaderGuide(load_readers(args.reader, r), list(OUTPUTS), schema, target, keep=args.keep, face=args.face,
                        margin=args.margin, keep_mode=args.keep_mode, keep_goal=args.keep_goal,
                        keep_weights=keep_weights)
    pos = pos_negative = None
    if args.pairs_negative and not args.pairs:
        raise SystemExit("--pairs-negative needs --pairs")
    if args.pairs:
        x0, pos = load_images(args.pairs[0], r), load_images(args.pairs[1], r)
        if len(x0) != len(pos):
            raise SystemExit(f"--pairs: {len(x0)} images without and {len(pos)} with the attribute; they must pair up")
        if args.pairs_negative:
            pos_negative = load_images(args.pairs_negative, r)
            if len(pos_negative) != len(x0):
                raise SystemExit(f"--pairs-negative: {len(pos_negative)} images for {len(x0)} pairs; they must pair up")
    else:
        x0 = load_images(args.images, r) if args.images else rendered_faces(args.faces * (4 if args.eligible_only else 1), r, TRAIN_FACES_SEED)
        if args.eligible_only:
            # Faces that already have the target teach nothing but "keep": train on the ones
            # asyrp eval counts (eligible), as many as --faces asks for.
            keep_idx = guide.eligible(x0).nonzero().flatten()[: args.faces]
            if len(keep_idx) == 0:
                raise SystemExit("--eligible-only: none of the training faces lacks the target")
            x0 = x0[keep_idx]
    log = lambda s: print(s, flush=True)  # noqa: E731
    if args.objective == "final":
        init = init_ts = init_gain = init_net = None
        if args.init:
            dh, init_ts, _ = read_direction(args.init)
            init = torch.from_numpy(np.ascontiguousarray(dh))
            g = read_h_gain(args.init)
            if g is not None and not args.h_gain:
                raise SystemExit(f"--init {args.init} has an h-dependent part (h_gain): continue it with --h-gain")
            init_gain = torch.from_numpy(g) if g is not None else None
            init_net = read_h_net(args.init)
            if init_net is not None and not args.h_net:
                raise SystemExit(f"--init {args.init} has an h-net: continue it with --h-net "
                                 f"{init_net['hnet_w1'].shape[0]}")
        try:
            window = parse_window(args.window) if args.window else None
        except ValueError as e:
            ap.error(str(e))
        fcfg = FinalConfig(t_edit=args.t_edit, generation_steps=args.steps, inversion_steps=args.steps, inversion_refine=refine,
                           batch=args.batch, iterations=args.iterations, time_budget_s=args.time_budget, lr=args.lr, l1_weight=args.l1,
                           guide_weight=args.guide_weight, pair_weight=args.pair_weight, pair_outside=args.pair_outside, pair_balance=args.pair_balance,
                           pair_outline=args.pair_outline, pair_relative=args.pair_relative, pair_progress=args.pair_progress, pair_free=args.pair_free, window=window,
                           t_max=args.t_max, seed=args.seed, time_basis=args.time_basis, lr_end=args.lr_end, h_gain=args.h_gain, gain_lr=args.gain_lr,
                           h_net=args.h_net, h_net_lr=args.h_net_lr, h_net_kernel=args.h_net_kernel,
                           cache_dir=args.cache, log=log)
        mix_with = None
        if args.mix_with:
            mdh, mts, mmeta = read_direction(args.mix_with)
            if read_h_gain(args.mix_with) is not None or read_h_net(args.mix_with) is not None:
                raise SystemExit(f"--mix-with {args.mix_with} has an h-dependent part (h_gain or h-net); only global directions "
                                 "can be mixed in during training")
            mix_t = int(mmeta.get("tEdit", min(int(t) for t in mts)))
            mix_with = ({int(t): torch.from_numpy(np.ascontiguousarray(mdh[i])) for i, t in enumerate(mts)}, mix_t)
        res = optimize_final(unet, guide, x0, fcfg, init=init, init_ts=[int(t) for t in init_ts] if init is not None else None,
                             judge=guide, pos=pos, mix_with=mix_with, init_gain=init_gain, init_net=init_net,
                             pos_negative=pos_negative)
        shape = (f"Δh_t a combination of {args.time_basis} Legendre polynomials of t" if args.time_basis
                 else "global per-timestep Δh")
        if args.h_gain:
            shape += " + G·h, h from the previous step"
        if args.h_net:
            # The kernel the file holds: an --init's larger kernel is kept whatever --h-net-kernel says.
            w1 = res.h_net["hnet_w1"]
            w1h = "W1·h" if w1.ndim == 2 else f"W1⋆h ({w1.shape[2]}x{w1.shape[3]})"
            shape += f" + W2·SiLU({w1h} + b1 + Wt·e(t)) with {args.h_net} hidden units, h from the previous step"
        method = (f"optimized ({shape}; loss on the finished generation: guide + L1 to the "
                  "reconstruction" + (" + the change of matched example pairs" if pos is not None else "") +
                  (" and, at strength -1, of their negative twins" if pos_negative is not None else "") +
                  ", differentiated through every step)")
    else:
        cfg = OptimizeConfig(t_edit=args.t_edit, generation_steps=args.steps, inversion_steps=args.steps, inversion_refine=refine,
                             batch=args.batch, epochs=args.epochs, lr=args.lr, l1_weight=args.l1,
                             param=args.param, seed=args.seed, cache_dir=args.cache, log=log)
        res = optimize_direction(unet, guide, x0, cfg)
        method = "optimized (Asyrp loss: guide on P_t(eps_edit) + L1 to P_t(eps), global per-timestep Δh)"

    meta = {
        "name": args.name,
        "description": args.description or f"optimized toward {args.target} with the attribute reader as guide",
        "tEdit": args.t_edit,
        "tBoost": args.t_boost,
        "defaultStrength": args.default_strength,
        "evalTarget": args.target,
        "method": method,
        "source": "cd tools && python3 optimize_direction.py " + shlex.join(repo_relative(a) for a in argv),
        "trainingImages": str(len(x0)),
        "guideLoss": f"{res.history[-1]['guide']:.4f}",
        "l1": f"{res.history[-1]['l1']:.4f}",
        "rmsOverH": f"{res.history[-1]['delta_rms_over_h']:.4f}",
        "wallSeconds": f"{res.wall_s:.0f}",
    }
    if res.history and "iteration" in res.history[-1]:
        meta["adamSteps"] = str(res.history[-1]["iteration"])  # fewer than --iterations when --time-budget ran out
    if args.val and (res.h_gain is not None or res.h_net is not None):
        print("validation skipped: the Python-side check runs global directions only; measure with asyrp eval",
              flush=True)
    elif args.val:
        xv = rendered_faces(args.val, r, VAL_FACES_SEED)
        for s in (0.0, 1.0):
            out = edit_images(unet, xv, res, s, args.t_edit, args.steps, args.steps, args.batch, refine)
            ok = guide.success(xv, out).float().mean().item()
            kept = guide.preserved(xv, out).float().mean().item()
            print(f"validation ({args.val} faces, python, no boosting): strength {s:g}: success {ok:.2f}, "
                  f"preservation {kept:.2f}", flush=True)
            meta[f"pythonVal{s:g}"] = f"success {ok:.3f} preservation {kept:.3f}"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_direction(args.out, res.delta_h.numpy(), res.timesteps, meta,
                    h_gain=res.h_gain.numpy() if res.h_gain is not None else None, h_net=res.h_net)
    print(f"wrote {args.out}: {len(res.timesteps)} timesteps >= {args.t_edit}, "
          f"|Δh|/|h| {res.history[-1]['delta_rms_over_h']:.3f}, {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
