"""Turn a released Asyrp DeltaBlock into a fixed per-timestep direction.

The released directions are networks f_t(h_t, temb_t) (docs/method.md §2.1); the
engine applies a stored Δh_t instead.  The paper's §5.3 shows that the mean
over samples, Δh_t^mean = E_x[f_t(h_t(x), temb_t)], edits almost like the
per-sample f_t (homogeneity of h-space); the official `--num_mean_of_delta_hs`
computes the same average.  Here it is taken over n calibration trajectories
(random x_T, or DDIM-inverted images) at every generation timestep of an
n_steps schedule, following the official editing run: Asyrp steps at
t >= t_edit, plain DDIM below (tools/official_calibrate.mjs).
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from typing import Optional

import numpy as np
import torch

from . import safetensors
from .ckpt import load_direction_block
from .deltablock import deltablock_for
from .strict import load_strict

DRIVER = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      "official_calibrate.mjs")


def timesteps(n: int) -> np.ndarray:
    """trunc(linspace(0, 1, n)·999 + 1e-6) (docs/method.md §1.6)."""
    return (np.linspace(0.0, 1.0, n) * 999 + 1e-6).astype(np.int64)


def alpha_bar() -> np.ndarray:
    betas = np.linspace(1e-4, 0.02, 1000, dtype=np.float64)
    return np.cumprod(1.0 - betas)


def load_block(ckpt: str, hspace, temb_dim: int, family: Optional[str] = None) -> torch.nn.Module:
    """The DeltaBlock, loaded strictly and checked against the backbone: same
    family (a DDPM block on an ADM backbone has matching shapes but was
    trained on another h-space), C = h channels, temb width = the MLP's."""
    sd = load_direction_block(ckpt)
    block = deltablock_for(sd)
    load_strict(block, sd, ckpt)
    if family is not None and block.family != family:
        raise ValueError(f"{ckpt}: a {block.family.upper()} DeltaBlock cannot edit a {family.upper()} backbone "
                         "(it was trained on another model's h-space)")
    c = next(iter(p for n, p in block.named_parameters() if n.endswith("weight") and p.dim() == 4)).shape[0]
    if c != hspace[0]:
        raise ValueError(f"{ckpt}: DeltaBlock is {c} channels wide but the model's h-space is {hspace}")
    t = [p for n, p in block.named_parameters() if p.dim() == 2][0].shape[1]
    if t != temb_dim:
        raise ValueError(f"{ckpt}: DeltaBlock takes a {t}-wide time embedding, the model's is {temb_dim}")
    return block.eval()


def export_block(block, hspace, temb_dim: int, path: str) -> None:
    class G(torch.nn.Module):
        def __init__(self, b):
            super().__init__()
            self.b = b

        def forward(self, h, temb):
            return self.b(h, temb)

    h = torch.randn(2, *hspace)
    t = torch.randn(2, temb_dim)
    torch.onnx.export(G(block), (h, t), path, opset_version=14, input_names=["h", "temb"],
                      output_names=["delta_h"], dynamic_axes={"h": {0: "N"}, "temb": {0: "N"}, "delta_h": {0: "N"}})


def mean_delta_h(model_dir: str, block, n: int, steps: int, t_edit: int, seed: int = 0,
                 images: Optional[np.ndarray] = None, batch: int = 4, provider: str = "cpu") -> np.ndarray:
    """Δh_t^mean [K, C, H, W] at the K = steps generation timesteps (ascending)."""
    with open(os.path.join(model_dir, "model.json")) as f:
        meta = json.load(f)
    hspace, r = meta["hspace"], meta["resolution"]
    tensors, _ = safetensors.read(os.path.join(model_dir, meta.get("official", {}).get("temb", "temb.safetensors")))
    temb_all = tensors["temb"]
    seq = timesteps(steps)
    with tempfile.TemporaryDirectory() as d:
        export_block(block, hspace, temb_all.shape[1], os.path.join(d, "delta.onnx"))
        if images is None:
            g = torch.Generator().manual_seed(seed)
            x = torch.randn(n, 3, r, r, generator=g).numpy()
            mode = "noise"
        else:
            x, mode, n = images, "invert", len(images)
        np.ascontiguousarray(x, dtype="<f4").tofile(os.path.join(d, "x.bin"))
        np.ascontiguousarray(temb_all[seq], dtype="<f4").tofile(os.path.join(d, "temb.bin"))
        req = {"unet": os.path.abspath(os.path.join(model_dir, meta["unet"])), "delta": os.path.join(d, "delta.onnx"),
               "x": {"dims": [n, 3, r, r], "file": "x.bin"}, "mode": mode, "seq": seq.tolist(),
               "alphaBar": alpha_bar().tolist(), "tEdit": int(t_edit), "hspace": hspace,
               "temb": {"dims": [len(seq), int(temb_all.shape[1])], "file": "temb.bin"}, "batch": batch,
               "executionProviders": [provider]}
        with open(os.path.join(d, "request.json"), "w") as f:
            json.dump(req, f)
        subprocess.run(["node", DRIVER, d], check=True)
        return np.fromfile(os.path.join(d, "mean.bin"), dtype="<f4").reshape(len(seq), *hspace)
