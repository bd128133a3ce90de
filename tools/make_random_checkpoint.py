#!/usr/bin/env python3
"""Random-weight checkpoints in the format of each official backbone, for tests of `asyrp models add`.

  /usr/bin/python3 tools/make_random_checkpoint.py --backbone celeba-hq --width wide \
      --out /tmp/celeba_hq.ckpt --config-out /tmp/celeba_hq.json

The file is what the published one is (a bare state_dict of float32 tensors written by torch.save, the
official key names of the backbone's family), with random weights; --width picks the size:
  official  the real hyper-parameters (hundreds of MB; the slow tests of tools/tests)
  wide      middle block and time embedding 512 wide like the real ones (the released directions fit),
            8 px images, one level of channels: a few MB
  tiny      32 channels, 16 px: well under 1 MB; the directions do not fit
For wide and tiny, --config-out writes the hyper-parameters convert_checkpoint.py --config needs.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from asyrp_tools.official import configs  # noqa: E402
from asyrp_tools.official.adm import ADMConfig  # noqa: E402
from asyrp_tools.official.ddpm import DDPMConfig  # noqa: E402
from asyrp_tools.official.strict import random_state_dict, shapes_of  # noqa: E402

# model id (config/model-sources.json) -> (--dataset, --arch) of convert_checkpoint.py
BACKBONES = {
    "celeba-hq": ("celeba", "ddpm"), "church": ("church", "ddpm"), "bedroom": ("bedroom", "ddpm"),
    "afhq-dog": ("afhq", "iddpm"), "ffhq": ("ffhq", "iddpm"), "metfaces": ("metfaces", "adm"),
    "celeba-hq-p2": ("celeba", "adm"), "imagenet": ("imagenet", "adm"),
}
REDUCED = {
    "tiny": {
        "ddpm": dict(ch=32, ch_mult=[1, 2], num_res_blocks=1, attn_resolutions=[8], resolution=16),
        "adm": dict(model_channels=32, channel_mult=[1, 2], num_res_blocks=1, attention_ds=[2],
                    num_head_channels=16, resolution=16),
    },
    "wide": {
        "ddpm": dict(ch=128, ch_mult=[1, 4], num_res_blocks=1, attn_resolutions=[], resolution=8),
        "adm": dict(model_channels=128, channel_mult=[1, 4], num_res_blocks=1, attention_ds=[],
                    num_head_channels=64, resolution=8),
    },
}


def family(arch: str) -> str:
    return "ddpm" if arch == "ddpm" else "adm"


def config_for(backbone: str, width: str):
    dataset, arch = BACKBONES[backbone]
    if width == "official":
        return configs.official_config(dataset, arch), None
    d = dict(REDUCED[width][family(arch)])
    if backbone == "imagenet" and width != "official":
        # ImageNet's ADM has two res blocks per level; keep that trait at reduced width
        d["num_res_blocks"] = 2
    kw = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
    return (DDPMConfig(**kw) if family(arch) == "ddpm" else ADMConfig(**kw)), d


def make(backbone: str, width: str, out: str, config_out: str | None, seed: int = 0, legacy: bool = False,
         scale: float = 0.05) -> dict:
    cfg, d = config_for(backbone, width)
    model = configs.build(cfg)
    sd = random_state_dict(shapes_of(model.state_dict()).items(), seed=seed, scale=scale)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    torch.save(sd, out, _use_new_zipfile_serialization=not legacy)
    if config_out and d is not None:
        with open(config_out, "w") as f:
            json.dump(d, f)
    dataset, arch = BACKBONES[backbone]
    return {"out": out, "bytes": os.path.getsize(out), "tensors": len(sd), "dataset": dataset, "arch": arch,
            "config": config_out if d is not None else None}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backbone", required=True, choices=sorted(BACKBONES))
    ap.add_argument("--width", default="tiny", choices=["official", "wide", "tiny"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--config-out", default=None, help="architecture JSON for convert_checkpoint.py --config")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--legacy", action="store_true", help="torch's pre-1.6 (non-zip) format")
    ap.add_argument("--scale", type=float, default=0.05,
                    help="weight scale (default 0.05; 1e5 overflows fp16, to test the parity check)")
    args = ap.parse_args(argv)
    print(json.dumps(make(args.backbone, args.width, args.out, args.config_out, args.seed, args.legacy, args.scale)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
