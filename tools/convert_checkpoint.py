#!/usr/bin/env python3
"""Convert an official Asyrp backbone checkpoint to a model package (#2, #9).

  /usr/bin/python3 tools/convert_checkpoint.py --arch ddpm --ckpt celeba_hq.ckpt \
      --dataset celeba --out models/celeba-hq [--fp16]

Steps: read the checkpoint with the allow-listed unpickler (no code runs),
load it strictly into the architecture written here (every key used, none
missing, same shapes, or an error listing the differences), export
unet.onnx (x, t, delta_h -> eps, eps_edit, h; learned-variance channels
dropped; h = output of the whole middle block), write temb.safetensors and
model.json with the dataset's defaults (docs/method.md §1.7), then check the ONNX
graph against PyTorch on random inputs for E = 0 and E = B through
onnxruntime-node.  Exit status 1 if the parity check fails.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from asyrp_tools.official import configs, export, fp16, lpips  # noqa: E402
from asyrp_tools.official.adm import ADMConfig  # noqa: E402
from asyrp_tools.official.ckpt import load_checkpoint, state_dict_of  # noqa: E402
from asyrp_tools.official.ddpm import DDPMConfig  # noqa: E402
from asyrp_tools.official.strict import load_strict, strip_module_prefix  # noqa: E402

TOL_FP32 = 1e-3   # max |ONNX - torch| / max(1, max|torch|)
TOL_FP16 = 3e-2


def config_from_json(arch: str, path: str):
    """A non-official size of the same family (tests, custom backbones)."""
    with open(path) as f:
        d = json.load(f)
    tup = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
    return DDPMConfig(**tup) if arch == "ddpm" else ADMConfig(**tup)


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_json(model_id, title, cfg, ds: configs.Dataset, extra) -> dict:
    d = {
        "format": "asyrp-model/1",
        "id": model_id,
        "title": title,
        "resolution": cfg.resolution,
        "schedule": {"type": "linear", "betaStart": 0.0001, "betaEnd": 0.02, "trainSteps": 1000},
        "unet": "unet.onnx",
        "hspace": list(cfg.hspace),
        "preprocess": ds.preprocess,
        "defaults": {"inversionSteps": 40, "generationSteps": 40, "tEdit": ds.t_edit, "tBoost": ds.t_boost},
        "directions": "directions",
    }
    d.update(extra)
    return d


def convert(args) -> dict:
    t0 = time.time()
    cfg = config_from_json(args.arch, args.config) if args.config else configs.official_config(args.dataset, args.arch)
    ds = configs.DATASETS[args.dataset]
    print(f"reading {args.ckpt} (allow-listed unpickler)", flush=True)
    sd = strip_module_prefix(state_dict_of(load_checkpoint(args.ckpt), args.ckpt))
    model = configs.build(cfg)
    load_strict(model, sd, args.ckpt)
    del sd
    model.eval()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"loaded {len(model.state_dict())} tensors ({n_params:,} parameters) strictly", flush=True)

    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, "unet.onnx")
    for stale in (onnx_path, onnx_path + ".data"):
        if os.path.exists(stale):
            os.remove(stale)
    export.export_onnx(model, onnx_path)
    if args.fp16:
        # ImageNet's fp32 graph is above protobuf's 2 GiB and was saved with
        # external data; with fp16 weights (1.1 GB) it fits in one file again.
        n = fp16.convert(onnx_path, onnx_path)
        if os.path.exists(onnx_path + ".data"):
            os.remove(onnx_path + ".data")
        print(f"fp16: {n} conv/linear nodes carry fp16 weights", flush=True)
    export.write_temb(model, os.path.join(args.out, "temb.safetensors"),
                      {"family": model.family, "note": "time embedding after the MLP, row t = timestep t"})

    result = {"seconds_export": round(time.time() - t0, 1)}
    if not args.no_parity:
        err = export.parity(model, onnx_path, batch=args.parity_batch)
        tol = TOL_FP16 if args.fp16 else TOL_FP32
        result["parity"] = err
        result["parity_ok"] = all(v <= tol for v in err.values())
        print("parity (max |onnx - torch| / max(1, max|torch|)):", json.dumps(err), flush=True)

    attrs = lpips.attribute_t_edits(ds.lpips_table) if ds.lpips_table and os.path.isdir(lpips.tables_dir()) else {}
    official = {
        "arch": args.arch, "family": model.family, "dataset": args.dataset,
        "config": cfg.to_dict(), "parameters": n_params,
        "checkpoint": os.path.basename(args.ckpt), "checkpointSha256": sha256(args.ckpt),
        "dtype": "float16-weights" if args.fp16 else "float32",
        "temb": "temb.safetensors",
        "lpipsTable": ds.lpips_table,
        "attributeTEdit": attrs,
        "parity": result.get("parity"),
    }
    model_id = args.id or os.path.basename(os.path.normpath(args.out))
    meta = model_json(model_id, args.title or ds.title, cfg, ds, {"official": official})
    os.makedirs(os.path.join(args.out, "directions"), exist_ok=True)
    with open(os.path.join(args.out, "model.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    result["seconds_total"] = round(time.time() - t0, 1)
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", required=True, choices=["ddpm", "iddpm", "adm"])
    ap.add_argument("--ckpt", required=True, help="official backbone checkpoint (.ckpt / .pt)")
    ap.add_argument("--dataset", required=True, choices=sorted(configs.DATASETS))
    ap.add_argument("--out", required=True, help="model package folder, e.g. models/celeba-hq")
    ap.add_argument("--fp16", action="store_true", help="fp16 conv/linear weights (GPU hosts)")
    ap.add_argument("--id", default=None, help="model id (default: the --out folder name)")
    ap.add_argument("--title", default=None)
    ap.add_argument("--config", default=None, help="JSON of architecture hyper-parameters overriding the "
                    "official ones (same module names, other sizes; for tests and custom backbones)")
    ap.add_argument("--parity-batch", type=int, default=2)
    ap.add_argument("--no-parity", action="store_true", help="skip the ONNX vs PyTorch check")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        result = convert(args)
    except Exception as e:  # a clean message, not a traceback, for the expected failures
        if isinstance(e, (ValueError, OSError, pickle.UnpicklingError)):
            print(f"error: {e}", file=sys.stderr)
            return 2
        raise
    print(json.dumps(result))
    if result.get("parity_ok") is False:
        print("error: the exported graph does not match PyTorch (see parity above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
