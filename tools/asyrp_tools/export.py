"""Export a UNet to the engine's model package (issue #2):

  models/<id>/model.json + unet.onnx
  unet.onnx: x [B,3,R,R], t [B], delta_h [E,C,H,W] (0 <= E <= B)
          -> eps [B,3,R,R], eps_edit [E,3,R,R], h [B,C,H,W]

One graph, one copy of the weights.  The decoder runs once over the
concatenated batch [h ; h[:E] + delta_h] (skips and time embeddings
concatenated the same way), so E = 0 costs one decoder pass and an edit step
costs one encoder plus a decoder over B + E rows (docs/method.md §1.3, §5).

  python3 -m asyrp_tools.export --checkpoint runs/toyfaces-32/checkpoint.pt --out ../models/toyfaces-32
"""
from __future__ import annotations

import argparse
import json
import os
from typing import Optional

import numpy as np
import torch

from .unet import UNet, UNetConfig

OPSET = 14


class _EditGraph(torch.nn.Module):
    def __init__(self, unet: UNet):
        super().__init__()
        self.unet = unet

    def forward(self, x, t, delta_h):
        return self.unet.forward_edit(x, t, delta_h)


def export_onnx(unet: UNet, path: str, input_names=("x", "t", "delta_h")):
    """Trace with B=2, E=1 so no size is folded into a constant by accident."""
    unet = unet.eval()
    cfg = unet.cfg
    r = cfg.resolution
    c, hh, ww = cfg.hspace
    x = torch.randn(2, 3, r, r)
    t = torch.tensor([10.0, 900.0])
    dh = torch.randn(1, c, hh, ww)
    xn, tn, dn = input_names
    torch.onnx.export(
        _EditGraph(unet), (x, t, dh), path, opset_version=OPSET,
        input_names=list(input_names), output_names=["eps", "eps_edit", "h"],
        dynamic_axes={xn: {0: "B"}, tn: {0: "B"}, dn: {0: "E"},
                      "eps": {0: "B"}, "eps_edit": {0: "E"}, "h": {0: "B"}},
        do_constant_folding=True)
    _pin_output_shapes(path, r, cfg.hspace)


def _pin_output_shapes(path: str, r: int, hspace):
    """The tracer leaves the slice outputs' channel/spatial dims symbolic; the
    engine checks fixed dims against model.json, so write them down."""
    import onnx
    m = onnx.load(path)
    fixed = {"eps": [3, r, r], "eps_edit": [3, r, r], "h": list(hspace)}
    for out in m.graph.output:
        dims = out.type.tensor_type.shape.dim
        for d, v in zip(dims[1:], fixed[out.name]):
            d.Clear()
            d.dim_value = v
    onnx.checker.check_model(m)
    onnx.save(m, path)


def model_json(model_id: str, title: str, cfg: UNetConfig, extra: Optional[dict] = None) -> dict:
    d = {
        "format": "asyrp-model/1",
        "id": model_id,
        "title": title,
        "resolution": cfg.resolution,
        "schedule": {"type": "linear", "betaStart": 0.0001, "betaEnd": 0.02, "trainSteps": 1000},
        "unet": "unet.onnx",
        "hspace": cfg.hspace,
        "preprocess": "center-crop",
        "defaults": {"inversionSteps": 40, "generationSteps": 40, "tEdit": 500, "tBoost": 167},
        "directions": "directions",
        # Not read by the engine (unknown fields are ignored): lets tools/ rebuild the PyTorch
        # network from unet.onnx alone (load_unet_from_package), e.g. to optimize a direction.
        "unetConfig": cfg.to_dict(),
    }
    if extra:
        d.update(extra)
    return d


def _with_reader(out_dir: str, extra: Optional[dict]) -> Optional[dict]:
    """Name the attribute reader (optional "attributes" field the engine's
    `asyrp eval` reads) when the package ships one."""
    if os.path.exists(os.path.join(out_dir, "attributes.onnx")):
        return {"attributes": "attributes.onnx", **(extra or {})}
    return extra


def export_package(unet: UNet, out_dir: str, model_id: str, title: str, extra: Optional[dict] = None,
                   input_names=("x", "t", "delta_h")):
    os.makedirs(out_dir, exist_ok=True)
    export_onnx(unet, os.path.join(out_dir, "unet.onnx"), input_names)
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(model_json(model_id, title, unet.cfg, _with_reader(out_dir, extra)), f, indent=2)
        f.write("\n")


def update_package(unet: UNet, package_dir: str) -> list:
    """Replace the UNet of an existing package (e.g. a retrained default model), keeping its id,
    title, defaults and files: only unet.onnx and model.json's network fields change.  Returns the
    package's direction files, which were made for the old weights and must be re-made (a
    direction is an offset in one network's h-space, docs/method.md §2), so the caller can say so."""
    path = os.path.join(package_dir, "model.json")
    if not os.path.exists(path):
        raise ValueError(f"{package_dir} has no model.json: not a model package (export without --update)")
    with open(path) as f:
        manifest = json.load(f)
    if manifest.get("resolution") != unet.cfg.resolution:
        raise ValueError(f"{package_dir} is a {manifest.get('resolution')}px package; this UNet makes "
                         f"{unet.cfg.resolution}px images, so its samples and eval set would not fit")
    export_onnx(unet, os.path.join(package_dir, manifest.get("unet", "unet.onnx")))
    manifest["hspace"] = list(unet.cfg.hspace)
    manifest["unetConfig"] = unet.cfg.to_dict()
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    ddir = os.path.join(package_dir, manifest.get("directions", "directions"))
    return sorted(n for n in os.listdir(ddir) if n.endswith(".safetensors")) if os.path.isdir(ddir) else []


def parity(unet: UNet, onnx_path: str, batch: int = 3, seed: int = 0) -> dict:
    """Max |ONNX - PyTorch| over all outputs, for E = 0 and E = B, random inputs."""
    from .ortcheck import run_onnx
    unet = unet.eval()
    g = torch.Generator().manual_seed(seed)
    r = unet.cfg.resolution
    c, hh, ww = unet.cfg.hspace
    x = torch.randn(batch, 3, r, r, generator=g)
    t = torch.randint(0, 1000, (batch,), generator=g).float()
    result = {}
    for e in (0, batch):
        dh = torch.randn(e, c, hh, ww, generator=g)
        with torch.no_grad():
            ref = unet.forward_edit(x, t, dh)
        out = run_onnx(onnx_path, {"x": x.numpy(), "t": t.numpy(), "delta_h": dh.numpy()})
        err = 0.0
        for name, r_ in zip(("eps", "eps_edit", "h"), ref):
            assert out[name].shape == tuple(r_.shape), (name, out[name].shape, r_.shape)
            if r_.numel():
                err = max(err, float(np.abs(out[name] - r_.numpy()).max()))
        result[f"E={e}"] = err
    return result


def load_unet_from_package(model_dir: str) -> UNet:
    """The PyTorch UNet of a package exported by this module, with the exact weights of its
    unet.onnx: torch.onnx keeps parameter names ("unet." + state-dict key) as initializer names.
    Needs model.json's "unetConfig" (written by export_package); strict: every weight present."""
    import onnx
    from onnx import numpy_helper
    with open(os.path.join(model_dir, "model.json")) as f:
        manifest = json.load(f)
    if "unetConfig" not in manifest:
        raise ValueError(f"{model_dir}/model.json has no unetConfig: not exported by asyrp_tools.export "
                         "(pass the training checkpoint instead)")
    unet = UNet(UNetConfig.from_dict(manifest["unetConfig"]))
    graph = onnx.load(os.path.join(model_dir, manifest.get("unet", "unet.onnx"))).graph
    arrays = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.initializer}
    weights = {k[len("unet."):]: v for k, v in arrays.items() if k.startswith("unet.")}
    state = unet.state_dict()
    # GroupNorm's affine weights are exported as the constant operands of the "<module>/Mul" and
    # "<module>/Add" nodes that follow its InstanceNormalization (shape [C,1,1], anonymous names).
    for node in graph.node:
        if node.op_type in ("Mul", "Add") and node.name.count("/") >= 2 and len(node.input) == 2:
            module = node.name.rsplit("/", 1)[0].strip("/").replace("/", ".")
            key = f"{module}.{'weight' if node.op_type == 'Mul' else 'bias'}"
            if key in state and key not in weights and node.input[1] in arrays and node.name.endswith(("/Mul", "/Add")):
                weights[key] = arrays[node.input[1]].reshape(state[key].shape)
    missing = [k for k in state if k not in weights]
    if missing:
        raise ValueError(f"{model_dir}: unet.onnx lacks {len(missing)} weights of the config's network, e.g. {missing[:3]}")
    unet.load_state_dict({k: weights[k] for k in state})
    return unet.eval()


def load_unet(checkpoint: str, use_ema: bool = True) -> UNet:
    state = torch.load(checkpoint, map_location="cpu")
    unet = UNet(UNetConfig.from_dict(state["config"]))
    unet.load_state_dict(state["ema" if use_ema else "model"])
    return unet.eval()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--id", default=None)
    ap.add_argument("--title", default="Toy faces (synthetic, trained here)")
    ap.add_argument("--raw", action="store_true", help="export the raw weights instead of the EMA")
    ap.add_argument("--update", action="store_true",
                    help="--out is an existing package: replace its UNet, keep its model.json settings and files")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    unet = load_unet(args.checkpoint, use_ema=not args.raw)
    if args.update:
        stale = update_package(unet, args.out)
        print("parity (max abs error):", parity(unet, os.path.join(args.out, "unet.onnx")))
        if stale:
            print(f"directions made for the previous UNet, re-make them: {', '.join(stale)}")
        return
    model_id = args.id or os.path.basename(os.path.normpath(args.out))
    export_package(unet, args.out, model_id, args.title)
    print("parity (max abs error):", parity(unet, os.path.join(args.out, "unet.onnx")))


if __name__ == "__main__":
    main()
