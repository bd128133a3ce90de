#!/usr/bin/env python3
"""Convert a released Asyrp direction (a DeltaBlock f_t) into a #2 direction file.

  /usr/bin/python3 tools/convert_direction.py \
      --ckpt smiling_LC_CelebA_HQ_t999_ninv40_ngen40_0.pth --model models/celeba-hq [--n 32]

Reads the DeltaBlock (entry "0") with the allow-listed unpickler, checks it
against the model's h-space and time embedding, averages f_t(h_t, temb_t)
over n calibration trajectories at each of the --steps generation timesteps
(Δh_t^mean, paper §5.3; docs/method.md §2.3) and writes
models/<id>/directions/<name>.safetensors: delta_h float32 [K,C,H,W],
timesteps int32 [K] ascending, metadata name, description, tEdit, tBoost,
defaultStrength, source.  tEdit / tBoost come from the dataset's LPIPS tables
(docs/method.md §1.7: smallest t with x0_t LPIPS >= 0.33·cos, smallest t with
x LPIPS >= 1.2), cos from the published per-attribute values (or --cos).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from asyrp_tools.official import calibrate, configs, lpips, safetensors  # noqa: E402

# prompt pairs of utils/text_dic.py that docs/method.md quotes; others get a generic text
PROMPTS = {"smiling": ("face", "smiling face"), "pixar": ("Human", "3D render in the style of Pixar"),
           "happy": ("Dog", "Happy Dog"), "gothic": ("Church", "Gothic Church")}
DOMAIN_PREFIXES = ("dog_", "church_", "bedroom_", "metface_", "metfaces_")


def attribute_of(path: str) -> str:
    """'dog_happy_LC_dog_t999_ninv40_ngen40_0.pth' -> 'happy' (docs/method.md §2.5 naming)."""
    stem = os.path.basename(path)
    stem = stem.split("_LC_")[0] if "_LC_" in stem else os.path.splitext(stem)[0]
    for p in DOMAIN_PREFIXES:
        if stem.startswith(p):
            stem = stem[len(p):]
            break
    return re.sub(r"[^a-z0-9_-]", "_", stem.lower())[:32]


def load_images(folder: str, r: int) -> np.ndarray:
    """Centre-crop, resize to r, scale to [-1, 1] (the engine's preprocessing)."""
    from PIL import Image
    out = []
    for name in sorted(os.listdir(folder)):
        if not name.lower().endswith((".png", ".jpg", ".jpeg", ".webp")):
            continue
        im = Image.open(os.path.join(folder, name)).convert("RGB")
        s = min(im.size)
        left, top = (im.width - s) // 2, (im.height - s) // 2
        im = im.crop((left, top, left + s, top + s)).resize((r, r), Image.BICUBIC)
        out.append(np.asarray(im, dtype=np.float32).transpose(2, 0, 1) / 127.5 - 1.0)
    if not out:
        raise ValueError(f"{folder}: no images")
    return np.stack(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True, help="released direction .pth (DeltaBlock under key \"0\")")
    ap.add_argument("--model", required=True, help="model package folder made by convert_checkpoint.py")
    ap.add_argument("--n", type=int, default=32, help="calibration trajectories from random x_T")
    ap.add_argument("--images", default=None, help="folder of images to invert instead of random x_T")
    ap.add_argument("--steps", type=int, default=40, help="generation steps (released files: 40)")
    ap.add_argument("--name", default=None, help="direction name (default: from the file name)")
    ap.add_argument("--cos", type=float, default=None, help="CLIP text cosine of the prompt pair")
    ap.add_argument("--global", dest="global_", action="store_true",
                    help="store one global Δh (mean over t >= tEdit; K = 1) instead of Δh_t")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=4, help="trajectories per onnxruntime call")
    ap.add_argument("--provider", default="cpu", choices=["cpu", "cuda"],
                    help="onnxruntime-node execution provider for the calibration run")
    args = ap.parse_args(argv)
    try:
        return convert(args)
    except (ValueError, OSError, pickle.UnpicklingError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def convert(args) -> int:
    t0 = time.time()
    with open(os.path.join(args.model, "model.json")) as f:
        meta = json.load(f)
    official = meta.get("official")
    if not official:
        raise ValueError(f"{args.model}/model.json has no \"official\" section: convert the backbone with "
                         "tools/convert_checkpoint.py first (it writes temb.safetensors)")
    ds = configs.DATASETS[official["dataset"]]
    attr = attribute_of(args.ckpt)
    name = args.name or attr
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,31}", name):
        raise ValueError(f"direction name {name!r} must match [a-z0-9][a-z0-9_-]{{0,31}}; pass --name")

    # t_edit / t_boost (docs/method.md §1.7)
    cos = args.cos if args.cos is not None else lpips.ATTRIBUTE_COS.get(ds.lpips_table or "", {}).get(attr)
    if ds.lpips_table and os.path.isdir(lpips.tables_dir()):
        t_edit = lpips.t_edit(ds.lpips_table, cos if cos is not None else 1.0)
        t_boost = lpips.t_boost(ds.lpips_table)
        how = f"LPIPS tables {ds.lpips_table}, cos {cos if cos is not None else '1 (unknown)'}"
    else:
        t_edit, t_boost = ds.t_edit, ds.t_boost
        how = "dataset defaults (no LPIPS table available)"

    block = calibrate.load_block(args.ckpt, meta["hspace"], _temb_dim(args.model, official), official["family"])
    images = load_images(args.images, meta["resolution"]) if args.images else None
    dh = calibrate.mean_delta_h(args.model, block, args.n, args.steps, t_edit, seed=args.seed,
                                images=images, batch=args.batch, provider=args.provider)
    seq = calibrate.timesteps(args.steps).astype(np.int32)
    if args.global_:
        dh = dh[seq >= t_edit].mean(axis=0, keepdims=True)
        seq = np.array([t_edit], dtype=np.int32)
    if not np.all(np.isfinite(dh)):
        raise ValueError("calibration produced NaN/inf: is the backbone checkpoint the right one?")

    src, tgt = PROMPTS.get(attr, (None, None))
    desc = (f"{tgt!r} (from {src!r})" if tgt else attr.replace("_", " ")) + \
        f" — official Asyrp direction for {ds.title}, Δh_t averaged over {len(images) if images is not None else args.n} " \
        f"{'inverted images' if images is not None else 'random trajectories'}"
    with open(args.ckpt, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    metadata = {
        "name": name, "description": desc, "tEdit": str(t_edit), "tBoost": str(t_boost),
        "defaultStrength": "1", "source": f"kwonminki/Asyrp_official checkpoint/{os.path.basename(args.ckpt)} (MIT)",
        "sourceSha256": digest, "tEditFrom": how,
        # f_t was trained for this many generation steps; the official code
        # scales Δh by trainSteps / steps when sampling with more (docs/method.md §1.4)
        "trainSteps": str(_train_steps(args.ckpt)),
        "calibration": json.dumps({"n": len(images) if images is not None else args.n,
                                   "mode": "invert" if images is not None else "noise", "seed": args.seed,
                                   "steps": args.steps, "global": bool(args.global_)}),
    }
    os.makedirs(os.path.join(args.model, meta.get("directions", "directions")), exist_ok=True)
    out = os.path.join(args.model, meta.get("directions", "directions"), f"{name}.safetensors")
    safetensors.write(out, {"delta_h": dh.astype(np.float32), "timesteps": seq}, metadata)
    print(json.dumps({"out": out, "name": name, "tEdit": t_edit, "tBoost": t_boost, "K": int(len(seq)),
                      "norm_mean": float(np.sqrt((dh ** 2).sum(axis=(1, 2, 3))).mean()),
                      "seconds": round(time.time() - t0, 1)}))
    return 0


def _train_steps(path: str) -> int:
    m = re.search(r"_ngen(\d+)_", os.path.basename(path))
    return int(m.group(1)) if m else 40


def _temb_dim(model_dir: str, official: dict) -> int:
    tensors, _ = safetensors.read(os.path.join(model_dir, official.get("temb", "temb.safetensors")))
    return int(tensors["temb"].shape[1])


if __name__ == "__main__":
    sys.exit(main())
