#!/usr/bin/python3
"""Build test/models/analytic/: a tiny ONNX "UNet" whose epsilon is known exactly.

Why: the engine's inversion/generation must be checked against an independent
float64 computation (issue #2, "Tests").  A real UNet has no closed form, but a
per-pixel Gaussian data distribution does:

    x0 ~ N(mu, s^2) per pixel,  x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps
    => x_t ~ N(sqrt(abar) mu, abar s^2 + 1 - abar), and the MMSE noise predictor
    eps*(x_t, t) = E[eps | x_t] = sqrt(1-abar) (x_t - sqrt(abar) mu) / (abar s^2 + 1 - abar).

To exercise the h-space plumbing like a real UNet (docs/method.md 1.3: delta_h is
added after the middle block, skip connections untouched) the graph splits x_t
into a bottleneck h = AvgPool4x4(x_t) [3,4,4] and a "skip" r = x_t - Up(h):

    eps      = eps*(Up(h) + r, t)                    (= eps*(x_t, t))
    eps_edit = eps*(Up(h[:E] + delta_h) + r[:E], t[:E])

Model package format: issue #2 ("The model package format").  Inputs x [B,3,R,R],
t [B] (timestep index, float), delta_h [E,3,4,4] with 0 <= E <= B; outputs
eps [B,3,R,R], eps_edit [E,3,R,R], h [B,3,4,4].

Also writes two direction files (safetensors, written by hand; no package):
directions/shift.safetensors (K = 5, per-timestep) and directions/global.safetensors (K = 1).

Usage: /usr/bin/python3 tools/make_analytic_model.py [--out DIR]   (default test/models/analytic)
Deterministic: re-running produces byte-identical files.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "test", "models", "analytic")

RES = 16          # image resolution R
HS = (3, 4, 4)    # h-space [C, H, W]; pooling factor RES // 4 = 4
POOL = RES // HS[1]
T_TRAIN = 1000
BETA_START, BETA_END = 1e-4, 2e-2
OPSET = 17        # highest opset onnx 1.12 knows; onnxruntime-node 1.30 supports it
IR_VERSION = 8

MODEL_JSON = {
    "format": "asyrp-model/1",
    "id": "analytic",
    "title": "Analytic test model (per-pixel Gaussian data, exact epsilon)",
    "domain": "per-pixel Gaussian test images, 16 px",
    "resolution": RES,
    "schedule": {"type": "linear", "betaStart": BETA_START, "betaEnd": BETA_END, "trainSteps": T_TRAIN},
    "unet": "unet.onnx",
    "hspace": list(HS),
    "preprocess": "center-crop",
    "defaults": {"inversionSteps": 40, "generationSteps": 40, "tEdit": 500, "tBoost": 167},
    "directions": "directions",
}

# Direction metadata.  tEdit/tBoost deliberately differ from model.json's defaults
# so an engine test can tell which source it used (issue #2: recipe > direction
# metadata > model.json).  The engine fixtures always pass t_edit/t_boost explicitly.
SHIFT_TIMESTEPS = [0, 250, 500, 750, 999]
SHIFT_META = {
    "name": "shift",
    "description": "Analytic test direction: smooth per-timestep bottleneck shift (K=5, linearly interpolated in t)",
    "tEdit": "600",
    "tBoost": "200",
    "defaultStrength": "1",
    "source": "tools/make_analytic_model.py (synthetic, for engine tests)",
}
GLOBAL_TIMESTEPS = [0]
GLOBAL_META = {
    "name": "global",
    "description": "Analytic test direction: one timestep-independent bottleneck shift (K=1)",
    "tEdit": "400",
    "tBoost": "167",
    "defaultStrength": "1",
    "source": "tools/make_analytic_model.py (synthetic, for engine tests)",
}


def f32(a):
    """Round to float32 and back: constants shared by the float32 graph and the
    float64 reference are made exactly representable so both use identical values."""
    return np.asarray(a, dtype=np.float64).astype(np.float32).astype(np.float64)


def abar_table():
    """abar_t, t = 0..999, in float64 from float64 betas (docs/method.md 1.1)."""
    betas = np.linspace(BETA_START, BETA_END, T_TRAIN, dtype=np.float64)
    return np.cumprod(1.0 - betas)


def analytic_params():
    """mu [3,R,R] in ~[-0.5,0.5] and s2 = s^2 with s in ~[0.2,0.6]; smooth, fixed,
    float32-exact (returned as float64)."""
    c = np.arange(3, dtype=np.float64)[:, None, None]
    u = ((np.arange(RES) + 0.5) / RES)[None, :, None]
    v = ((np.arange(RES) + 0.5) / RES)[None, None, :]
    mu = 0.5 * np.sin(np.pi * (u + c / 3.0)) * np.cos(np.pi * (v - 0.25 * c))
    s = 0.4 + 0.2 * np.cos(2.0 * np.pi * (u * v + c / 5.0))
    return f32(mu), f32(s * s)


def _pattern(phase_i, phase_j, freq):
    c = np.arange(HS[0], dtype=np.float64)[:, None, None]
    i = ((np.arange(HS[1]) + 0.5) / HS[1])[None, :, None]
    j = ((np.arange(HS[2]) + 0.5) / HS[2])[None, None, :]
    return np.cos(np.pi * freq * (i + phase_i * (c + 1))) * np.sin(np.pi * freq * (j + phase_j) + c)


def shift_direction():
    """delta_h [5,3,4,4] float32-exact; the shape and the size both change with t,
    so linear interpolation between stored timesteps is actually exercised."""
    p1 = _pattern(0.15, 0.3, 1.0)
    p2 = _pattern(0.4, 0.1, 2.0)
    out = []
    for ts in SHIFT_TIMESTEPS:
        tau = ts / 999.0
        out.append((0.05 + 0.15 * (1.0 - tau)) * p1 + 0.12 * tau * tau * p2 + 0.03 * (tau - 0.5))
    return f32(np.stack(out))


def global_direction():
    return f32(0.1 * _pattern(0.25, 0.6, 1.5)[None] - 0.02)


# ---------------------------------------------------------------- safetensors

def write_safetensors(path, tensors, metadata):
    """safetensors layout: u64 little-endian header length N, N bytes of JSON
    header ({name: {dtype, shape, data_offsets:[begin,end]}}, offsets relative to
    the data section, plus "__metadata__" with string values), then raw
    little-endian tensor bytes.  The header is space-padded to a multiple of 8
    (as the reference implementation does) so the data stays aligned."""
    dtypes = {np.dtype(np.float32): "F32", np.dtype(np.int32): "I32"}
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    blobs, offset = [], 0
    for name, arr in tensors:
        arr = np.ascontiguousarray(arr)
        raw = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": dtypes[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((8 - len(hbytes) % 8) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(hbytes)))
        fh.write(hbytes)
        for raw in blobs:
            fh.write(raw)


def read_safetensors(path):
    """Inverse of write_safetensors; returns ({name: ndarray}, metadata)."""
    with open(path, "rb") as fh:
        buf = fh.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    data = buf[8 + n:]
    np_dtypes = {"F32": "<f4", "I32": "<i4", "F64": "<f8", "I64": "<i8"}
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(data[b:e], dtype=np_dtypes[info["dtype"]]).reshape(info["shape"])
    return out, meta


# ---------------------------------------------------------------- ONNX graph

def build_graph():
    abar = abar_table()
    mu, s2 = analytic_params()
    nodes, inits = [], []

    def const(name, arr, dtype=np.float32):
        inits.append(numpy_helper.from_array(np.asarray(arr, dtype=dtype), name))
        return name

    def node(op, ins, outs, **attrs):
        nodes.append(helper.make_node(op, ins, outs, name=outs[0] + "_" + op, **attrs))
        return outs[0]

    # Two float32 tables, both rounded from float64: abar and 1 - abar.  Forming
    # 1 - abar in float32 would lose ~6e-4 relative precision at t = 0
    # (abar = 0.9999), which is larger than the 1e-5 the tests ask for.
    const("abar_tbl", abar)
    const("one_minus_abar_tbl", 1.0 - abar)
    const("mu", mu[None])       # [1,3,R,R]
    const("s2", s2[None])       # [1,3,R,R]
    const("t_min", 0.0)
    const("t_max", float(T_TRAIN - 1))
    const("axes_123", [1, 2, 3], np.int64)
    const("zero_1d", [0], np.int64)
    const("axis0", [0], np.int64)
    # Nearest upsample by 4 as reshape -> expand -> reshape, with 0 ("copy this
    # dim") for the batch so it also works on an empty (E = 0) batch.
    const("shape_split", [0, HS[0], HS[1], 1, HS[2], 1], np.int64)
    const("shape_expand", [1, 1, 1, POOL, 1, POOL], np.int64)
    const("shape_img", [0, 3, RES, RES], np.int64)

    def upsample(src, tag):
        a = node("Reshape", [src, "shape_split"], [tag + "_split"])
        b = node("Expand", [a, "shape_expand"], [tag + "_expanded"])
        return node("Reshape", [b, "shape_img"], [tag + "_up"])

    def eps_star(xin, tidx, tag):
        """Closed form eps*(x, t) (module docstring), float32 ops on float32 tables."""
        a = node("Gather", ["abar_tbl", tidx], [tag + "_a1"], axis=0)
        oma = node("Gather", ["one_minus_abar_tbl", tidx], [tag + "_oma1"], axis=0)
        a4 = node("Unsqueeze", [a, "axes_123"], [tag + "_a"])          # [N,1,1,1]
        oma4 = node("Unsqueeze", [oma, "axes_123"], [tag + "_oma"])
        sa = node("Sqrt", [a4], [tag + "_sqrt_a"])
        soma = node("Sqrt", [oma4], [tag + "_sqrt_oma"])
        centre = node("Mul", [sa, "mu"], [tag + "_centre"])
        diff = node("Sub", [xin, centre], [tag + "_diff"])
        num = node("Mul", [soma, diff], [tag + "_num"])
        var_s = node("Mul", [a4, "s2"], [tag + "_as2"])
        den = node("Add", [var_s, oma4], [tag + "_den"])
        return node("Div", [num, den], [tag + "_eps"])

    # Timestep index: round(clip(t, 0, 999)) -> int64 (ONNX Round is half-to-even).
    node("Clip", ["t", "t_min", "t_max"], ["t_clip"])
    node("Round", ["t_clip"], ["t_round"])
    node("Cast", ["t_round"], ["t_idx"], to=TensorProto.INT64)

    # Encoder / middle block stand-in: h = AvgPool4x4(x); skip r = x - Up(h).
    node("AveragePool", ["x"], ["h"], kernel_shape=[POOL, POOL], strides=[POOL, POOL])
    up_h = upsample("h", "h")
    node("Sub", ["x", up_h], ["skip"])

    # Decoder on the unedited bottleneck.
    x_dec = node("Add", [up_h, "skip"], ["x_dec"])
    e = eps_star(x_dec, "t_idx", "plain")
    node("Identity", [e], ["eps"])

    # Decoder on h[:E] + delta_h, for the first E samples, with their own skips.
    node("Shape", ["delta_h"], ["e_count"], start=0, end=1)              # [E]
    h_e = node("Slice", ["h", "zero_1d", "e_count", "axis0"], ["h_first_e"])
    r_e = node("Slice", ["skip", "zero_1d", "e_count", "axis0"], ["skip_first_e"])
    t_e = node("Slice", ["t_idx", "zero_1d", "e_count", "axis0"], ["t_first_e"])
    h_ed = node("Add", [h_e, "delta_h"], ["h_edit"])
    up_ed = upsample(h_ed, "h_edit")
    x_ed = node("Add", [up_ed, r_e], ["x_dec_edit"])
    ee = eps_star(x_ed, t_e, "edit")
    node("Identity", [ee], ["eps_edit"])

    f = TensorProto.FLOAT
    inputs = [
        helper.make_tensor_value_info("x", f, ["B", 3, RES, RES]),
        helper.make_tensor_value_info("t", f, ["B"]),
        helper.make_tensor_value_info("delta_h", f, ["E", *HS]),
    ]
    outputs = [
        helper.make_tensor_value_info("eps", f, ["B", 3, RES, RES]),
        helper.make_tensor_value_info("eps_edit", f, ["E", 3, RES, RES]),
        helper.make_tensor_value_info("h", f, ["B", *HS]),
    ]
    graph = helper.make_graph(nodes, "asyrp_analytic", inputs, outputs, initializer=inits)
    model = helper.make_model(graph, producer_name="asyrp-bot tools/make_analytic_model.py",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    model.doc_string = ("Analytic Asyrp test model: per-pixel Gaussian data, exact epsilon; "
                        "h = AvgPool4x4(x), eps_edit replaces the bottleneck and keeps the skip.")
    onnx.checker.check_model(model, full_check=True)
    return model


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output directory (default: test/models/analytic)")
    args = ap.parse_args(argv)
    out = args.out
    os.makedirs(os.path.join(out, "directions"), exist_ok=True)

    with open(os.path.join(out, "model.json"), "w") as fh:
        json.dump(MODEL_JSON, fh, indent=2)
        fh.write("\n")
    with open(os.path.join(out, "unet.onnx"), "wb") as fh:
        fh.write(build_graph().SerializeToString())

    write_safetensors(os.path.join(out, "directions", "shift.safetensors"),
                      [("delta_h", shift_direction().astype(np.float32)),
                       ("timesteps", np.array(SHIFT_TIMESTEPS, dtype=np.int32))], SHIFT_META)
    write_safetensors(os.path.join(out, "directions", "global.safetensors"),
                      [("delta_h", global_direction().astype(np.float32)),
                       ("timesteps", np.array(GLOBAL_TIMESTEPS, dtype=np.int32))], GLOBAL_META)
    print(f"wrote {out}: model.json, unet.onnx, directions/shift.safetensors, directions/global.safetensors")


if __name__ == "__main__":
    sys.exit(main())
