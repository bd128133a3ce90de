"""Export an official backbone to the #2 model package.

  unet.onnx: x [B,3,R,R], t [B], delta_h [E,C,H,W] -> eps [B,3,R,R],
             eps_edit [E,3,R,R], h [B,C,H,W]

Same one-graph contract as asyrp_tools/export.py: the encoder and middle
block run once; the decoder runs once over [h ; h[:E] + delta_h] with the
skips and time embeddings of the first E rows repeated, so skips are
unchanged by the edit (docs/method.md §1.3) and E = 0 costs one decoder pass.

Next to it, temb.safetensors holds the backbone's time embedding (after its
MLP) for t = 0..999: the DeltaBlock needs it (docs/method.md §2.1) and the ONNX
graph does not output it, so convert_direction reads it from here.
"""
from __future__ import annotations

import os
from typing import Dict, Optional

import numpy as np
import torch

from . import safetensors

OPSET = 14
ONNX_PROTO_LIMIT = 1_800_000_000  # protobuf caps a model at 2 GiB; leave headroom


class EditGraph(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x, t, delta_h):
        return forward_edit(self.model, x, t, delta_h)


def forward_edit(model, x, t, delta_h):
    """(eps, eps_edit, h) with one decoder pass over B + E rows."""
    h, skips, temb = model.encode(x, t)
    b, e = x.shape[0], delta_h.shape[0]
    h_all = torch.cat([h, h[:e] + delta_h.to(h.dtype)], dim=0)
    skips_all = [torch.cat([s, s[:e]], dim=0) for s in skips]
    temb_all = torch.cat([temb, temb[:e]], dim=0)
    out = model.decode(h_all, skips_all, temb_all).float()
    return out[:b], out[b:], h.float()


def export_onnx(model, path: str) -> None:
    """Trace with B=2, E=1 so no batch size is folded into a constant."""
    model = model.eval()
    r = model.cfg.resolution
    c, hh, ww = model.hspace
    x = torch.randn(2, 3, r, r)
    t = torch.tensor([10.0, 900.0])
    dh = torch.randn(1, c, hh, ww)
    big = sum(p.numel() * p.element_size() for p in model.parameters()) > ONNX_PROTO_LIMIT
    target = path if not big else path + ".parts/unet.onnx"
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(EditGraph(model), (x, t, dh), target, opset_version=OPSET,
                          input_names=["x", "t", "delta_h"], output_names=["eps", "eps_edit", "h"],
                          dynamic_axes={"x": {0: "B"}, "t": {0: "B"}, "delta_h": {0: "E"},
                                        "eps": {0: "B"}, "eps_edit": {0: "E"}, "h": {0: "B"}},
                          do_constant_folding=True)
    finish_onnx(target, path, r, model.hspace, external=big)


def finish_onnx(src: str, dst: str, r: int, hspace, external: bool) -> None:
    """Pin the outputs' fixed dims (the engine checks them against
    model.json) and, above protobuf's 2 GiB limit (ImageNet fp32), gather all
    weights into one side file unet.onnx.data (still one copy of the weights)."""
    import onnx
    import shutil
    m = onnx.load(src)
    fixed = {"eps": [3, r, r], "eps_edit": [3, r, r], "h": list(hspace)}
    for out in m.graph.output:
        for d, v in zip(out.type.tensor_type.shape.dim[1:], fixed[out.name]):
            d.Clear()
            d.dim_value = v
    if external:
        onnx.save_model(m, dst, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(dst) + ".data")
        onnx.checker.check_model(dst)
        shutil.rmtree(os.path.dirname(src))
    else:
        onnx.checker.check_model(m)
        onnx.save(m, dst)


def temb_table(model) -> np.ndarray:
    with torch.no_grad():
        return model.embed_time(torch.arange(1000, dtype=torch.float32)).float().numpy()


def write_temb(model, path: str, meta: Optional[Dict[str, str]] = None) -> None:
    safetensors.write(path, {"temb": temb_table(model)}, meta or {})


def parity(model, onnx_path: str, batch: int = 2, seed: int = 0, runner=None) -> Dict[str, float]:
    """Max |ONNX - PyTorch| per output for E = 0 and E = B on random inputs,
    run by onnxruntime-node (tools/onnx_run.mjs)."""
    if runner is None:
        from ..ortcheck import run_onnx as runner
    model = model.eval()
    g = torch.Generator().manual_seed(seed)
    r = model.cfg.resolution
    c, hh, ww = model.hspace
    x = torch.randn(batch, 3, r, r, generator=g)
    t = torch.randint(0, 1000, (batch,), generator=g).float()
    result: Dict[str, float] = {}
    for e in (0, batch):
        dh = torch.randn(e, c, hh, ww, generator=g)
        with torch.no_grad():
            ref = forward_edit(model, x, t, dh)
        out = runner(onnx_path, {"x": x.numpy(), "t": t.numpy(), "delta_h": dh.numpy()})
        for name, want in zip(("eps", "eps_edit", "h"), ref):
            got = out[name]
            if tuple(got.shape) != tuple(want.shape):
                raise AssertionError(f"E={e} {name}: ONNX shape {got.shape}, PyTorch {tuple(want.shape)}")
            if want.numel():
                scale = max(1.0, float(want.abs().max()))
                result[f"E={e} {name}"] = float(np.abs(got - want.numpy()).max()) / scale
    return result
