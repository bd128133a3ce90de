#!/usr/bin/python3
"""Write float64 reference fixtures for the TypeScript engine to test/fixtures/engine/.

This is an independent NumPy (float64) re-statement of the engine's process as
specified in issue #2 and docs/method.md 1.1-1.6; it does not run ONNX.  The engine,
going through onnxruntime in float32, is expected to match to ~1e-4.

Files (schema: engine_fixtures_readme.md, also written as README.md next to them):
  schedule.json        abar_t and timestep sequences
  step.json            single DDIM / asymmetric steps
  analytic-model.json  the analytic model's parameters and a few exact model calls
  analytic-n{40,10}-{recon,shift,shift-0.7,global,shift-boost,shift-edges}.json
                       full inversion + generation with the analytic model
  h-net.json           a direction's nonlinear f(h, t) as the training tools compute it
  h-net-conv.json      the same for a net whose first layer is a 3x3 convolution over h

Usage: /usr/bin/python3 tools/make_engine_fixtures.py [--out DIR] [--model DIR]
Deterministic: fixed seeds, no timestamps; re-running gives byte-identical files.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
# Only the data distribution's parameters (mu, s^2) are shared with the model
# builder; they are checked below against the initializers of the committed ONNX.
from make_analytic_model import analytic_params  # noqa: E402

DEFAULT_OUT = os.path.join(ROOT, "test", "fixtures", "engine")
DEFAULT_MODEL = os.path.join(ROOT, "test", "models", "analytic")

T_TRAIN = 1000
T0 = 999          # last timestep index (docs/method.md 1.6: t_0 = 999)
RES = 16
POOL = 4

# The fixtures' schema, written as README.md beside them (kept as text, not code).
FIXTURES_README_PATH = os.path.join(HERE, "engine_fixtures_readme.md")


# ---------------------------------------------------------------- schedule

def abar_all():
    """docs/method.md 1.1: float64 betas, linear 1e-4 -> 2e-2 over 1000 steps; abar = cumprod(1 - beta)."""
    betas = np.linspace(1e-4, 2e-2, T_TRAIN, dtype=np.float64)
    return np.cumprod(1.0 - betas)


ABAR = abar_all()


def abar(t):
    """abar at timestep index t, with abar(-1) = 1 for the final generation step (docs/method.md 1.2)."""
    return 1.0 if t < 0 else float(ABAR[t])


def timestep_seq(n):
    """docs/method.md 1.6: linspace(0, 1, n) * t_0, truncated to int after adding 1e-6 (official code)."""
    seq = [int(s + 1e-6) for s in (np.linspace(0, 1, n) * T0)]
    # The same list from integer arithmetic, so a JS port has an unambiguous target.
    assert seq == [(k * T0) // (n - 1) for k in range(n)] if n > 1 else seq == [0]
    return seq


# ---------------------------------------------------------------- the step

def ddim_step(x, eps, eps_edit, t, t_next, eta=0.0, z=None):
    """One (asymmetric) DDIM step t -> t_next, float64.

    P_t uses eps_edit, the direction term the unedited eps (Asyrp Eq. 9; docs/method.md 1.3);
    with eps_edit = eps this is DDIM Eq. 12.  sigma per docs/method.md 1.2; t_next = -1 has
    abar = 1, so sigma = 0 there.  Also used for inversion (t_next > t, eta = 0)."""
    a, an = abar(t), abar(t_next)
    pred_x0 = (x - np.sqrt(1.0 - a) * eps_edit) / np.sqrt(a)
    sigma = eta * np.sqrt((1.0 - a / an) * (1.0 - an) / (1.0 - a)) if eta else 0.0
    x_next = np.sqrt(an) * pred_x0 + np.sqrt(1.0 - an - sigma * sigma) * eps
    if sigma:
        x_next = x_next + sigma * z
    return x_next, pred_x0, float(sigma)


# ---------------------------------------------------------------- analytic model (float64)

MU, S2 = analytic_params()


def upsample(h):
    """Nearest x4 upsample of [..., 3, 4, 4] to [..., 3, 16, 16]."""
    return np.repeat(np.repeat(h, POOL, axis=-2), POOL, axis=-1)


def eps_star(x, t):
    """Exact optimal epsilon for x0 ~ N(mu, s^2): sqrt(1-abar)(x - sqrt(abar) mu)/(abar s^2 + 1 - abar)."""
    a = abar(t)
    return np.sqrt(1.0 - a) * (x - np.sqrt(a) * MU) / (a * S2 + 1.0 - a)


def eps_star_edit(x, t, dh):
    """Bottleneck h = AvgPool(x) replaced by h + dh, skip r = x - Up(h) kept:
    Up(h + dh) + r = x + Up(dh)."""
    return eps_star(x + upsample(dh), t)


def read_safetensors(path):
    """Minimal safetensors reader (u64 LE header length, JSON header, raw LE data)."""
    with open(path, "rb") as fh:
        buf = fh.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    meta = header.pop("__metadata__", {})
    dt = {"F32": "<f4", "I32": "<i4"}
    out = {k: np.frombuffer(buf[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]],
                            dtype=dt[v["dtype"]]).reshape(v["shape"]) for k, v in header.items()}
    return out, meta


def load_direction(model_dir, name):
    tensors, meta = read_safetensors(os.path.join(model_dir, "directions", name + ".safetensors"))
    return {"name": name, "delta_h": tensors["delta_h"].astype(np.float64),
            "timesteps": [int(v) for v in tensors["timesteps"]],
            "defaultStrength": float(meta.get("defaultStrength", "1"))}


def delta_h_at(direction, t):
    """Issue #2: linear interpolation between the two nearest stored timesteps,
    clamped at the ends (K = 1 is constant)."""
    ts, d = direction["timesteps"], direction["delta_h"]
    if t <= ts[0]:
        return d[0].copy()
    if t >= ts[-1]:
        return d[-1].copy()
    k = int(np.searchsorted(ts, t, side="right")) - 1        # ts[k] <= t < ts[k+1]
    w = (t - ts[k]) / (ts[k + 1] - ts[k])
    return (1.0 - w) * d[k] + w * d[k + 1]


def check_model_constants(model_dir):
    """Guard against drift between the committed unet.onnx and the parameters used here."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(os.path.join(model_dir, "unet.onnx"))
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    assert np.array_equal(inits["mu"][0].astype(np.float64), MU), "unet.onnx mu differs; rebuild the model"
    assert np.array_equal(inits["s2"][0].astype(np.float64), S2), "unet.onnx s2 differs; rebuild the model"
    assert np.array_equal(inits["abar_tbl"], ABAR.astype(np.float32)), "unet.onnx abar table differs"


# ---------------------------------------------------------------- the process

def invert(x0, seq):
    """docs/method.md 1.6: deterministic DDIM from t = 0 up to 999, n-1 model calls, no delta_h:
    x_t' = sqrt(abar_t') P_t(eps) + sqrt(1 - abar_t') eps, eps evaluated at the lower t."""
    x, trace = x0.copy(), []
    for k in range(1, len(seq)):
        t, tn = seq[k - 1], seq[k]
        e = eps_star(x, t)
        x, _, _ = ddim_step(x, e, e, t, tn)
        trace.append({"t": t, "tNext": tn, "xNextSum": float(x.sum())})
    return x, trace


def generate(x_T, seq, t_edit, t_boost, direction, scale, noise):
    """docs/method.md 1.5 / issue #2: n model calls from 999 down, last step to t' = -1.
    t >= t_edit: P_t(eps_edit), direction term from eps (Eq. 9), eta = 0;
    t_boost <= t < t_edit: DDIM eta = 0;  t < t_boost: DDIM eta = 1 with the given z."""
    x, trace, zi = x_T.copy(), [], 0
    for k in range(len(seq) - 1, -1, -1):
        t = seq[k]
        tn = seq[k - 1] if k > 0 else -1
        e = eps_star(x, t)
        dh = None
        if t >= t_edit:
            phase = "edit"
        elif t < t_boost:
            phase = "boost"
        else:
            phase = "denoise"
        if phase == "edit" and direction is not None:
            dh = scale * delta_h_at(direction, t)
            e_edit = eps_star_edit(x, t, dh)
        else:
            e_edit = e
        eta, z = (1.0, noise[zi]) if phase == "boost" else (0.0, None)
        if z is not None:
            zi += 1
        x, _, sigma = ddim_step(x, e, e_edit, t, tn, eta, z)
        trace.append({"t": t, "tNext": tn, "phase": phase, "eta": eta, "sigma": sigma,
                      "abarT": abar(t), "abarNext": abar(tn),
                      "deltaH": None if dh is None else dh.ravel().tolist(),
                      "xNextSum": float(x.sum())})
    assert noise is None or zi == len(noise)
    return x, trace


# ---------------------------------------------------------------- inputs

def f32(a):
    return np.asarray(a, dtype=np.float64).astype(np.float32).astype(np.float64)


def input_pixels():
    """A fixed 16x16 RGB test image (uint8, CHW) with smooth gradients, an edge and
    saturated pixels (0 and 255), so x0 covers the whole [-1, 1] range."""
    c = np.arange(3)[:, None, None]
    yy = np.arange(RES)[None, :, None]
    xx = np.arange(RES)[None, None, :]
    v = 127.5 + 150.0 * np.sin(0.35 * xx + 0.9 * c) * np.cos(0.22 * yy - 0.5 * c)
    v = v + np.where(xx + yy > 18, 40.0, -40.0)
    return np.clip(np.rint(v), 0, 255).astype(np.int64)


def noise_for(seq, t_boost, seed):
    """z for each step with t < t_boost, descending t; float32-exact standard normals."""
    ts = [t for t in reversed(seq) if t < t_boost]
    rng = np.random.default_rng(seed)
    return ts, [f32(rng.standard_normal((1, 3, RES, RES))) for _ in ts]


def arr(a):
    a = np.asarray(a)
    return {"shape": list(a.shape), "data": a.ravel().tolist()}


# ---------------------------------------------------------------- fixture files

def schedule_fixture():
    return {
        "description": "abar_t from float64 betas linspace(1e-4, 2e-2, 1000); abar(-1) = 1. "
                       "timesteps = trunc(linspace(0,1,n)*999 + 1e-6).",
        "betaStart": 1e-4, "betaEnd": 2e-2, "trainSteps": T_TRAIN,
        "abarAt": [{"t": t, "abar": abar(t)} for t in (0, 1, 25, 500, 998, 999, -1)],
        "abarAll": ABAR.tolist(),
        "sequences": [{"n": n, "timesteps": timestep_seq(n)} for n in (40, 10, 7, 2, 50)],
    }


def step_fixture():
    rng = np.random.default_rng(20260002)
    specs = [  # name, t, tNext, eta, edited?
        ("ddim-eta0-999-973", 999, 973, 0.0, False),
        ("asyrp-eta0-999-973", 999, 973, 0.0, True),
        ("asyrp-eta0-512-486", 512, 486, 0.0, True),
        ("ddim-eta0-300-275", 300, 275, 0.0, False),
        ("ddim-eta1-153-128", 153, 128, 1.0, False),
        ("ddim-eta1-25-0", 25, 0, 1.0, False),
        ("asyrp-eta1-600-500", 600, 500, 1.0, True),
        ("final-eta0-0-minus1", 0, -1, 0.0, False),
        ("final-eta1-0-minus1", 0, -1, 1.0, False),
        ("final-asyrp-0-minus1", 0, -1, 0.0, True),
        ("inversion-0-25", 0, 25, 0.0, False),
        ("inversion-973-999", 973, 999, 0.0, False),
    ]
    cases = []
    for name, t, tn, eta, edited in specs:
        x = f32(rng.standard_normal(8))
        e = f32(rng.standard_normal(8))
        ee = f32(e + 0.3 * rng.standard_normal(8)) if edited else e
        z = f32(rng.standard_normal(8)) if eta else None
        xn, px0, sigma = ddim_step(x, e, ee, t, tn, eta, z)
        cases.append({"name": name, "t": t, "tNext": tn, "eta": eta, "abarT": abar(t), "abarNext": abar(tn),
                      "sigma": sigma, "xT": x.tolist(), "eps": e.tolist(), "epsEdit": ee.tolist(),
                      "z": None if z is None else z.tolist(), "predX0": px0.tolist(), "xNext": xn.tolist()})
    return {"description": "x_t' = sqrt(abar_t') P_t(epsEdit) + sqrt(1 - abar_t' - sigma^2) eps + sigma z, "
                           "P_t(e) = (x_t - sqrt(1-abar_t) e)/sqrt(abar_t), "
                           "sigma = eta sqrt((1-abar_t/abar_t')(1-abar_t')/(1-abar_t)), abar(-1) = 1.",
            "cases": cases}


def model_fixture(directions):
    rng = np.random.default_rng(20260003)
    calls = []
    for name, ts, e_count in (("E0", [0, 999], 0), ("E1", [500, 25], 1), ("E2", [750, 1], 2)):
        x = f32(rng.standard_normal((2, 3, RES, RES)))
        dh = f32(np.stack([delta_h_at(directions["shift"], t) for t in ts[:e_count]])) if e_count \
            else np.zeros((0, 3, 4, 4))
        eps = np.stack([eps_star(x[b], t) for b, t in enumerate(ts)])
        eps_edit = np.stack([eps_star_edit(x[b], ts[b], dh[b]) for b in range(e_count)]) if e_count \
            else np.zeros((0, 3, RES, RES))
        h = x.reshape(2, 3, 4, POOL, 4, POOL).mean(axis=(3, 5))
        calls.append({"name": name, "B": 2, "E": e_count, "x": arr(x), "t": [float(t) for t in ts],
                      "deltaH": arr(dh), "eps": arr(eps), "epsEdit": arr(eps_edit), "h": arr(h)})
    return {"description": "Analytic model: x0 ~ N(mu, s2) per pixel; eps = sqrt(1-abar)(x - sqrt(abar) mu)/"
                           "(abar s2 + 1 - abar); h = AvgPool4x4(x); eps_edit = eps(x + Up4(deltaH)).",
            "mu": arr(MU), "s2": arr(S2), "calls": calls}


# (file suffix, direction, strength, tEdit, tBoost); tEdit/tBoost None = the per-n
# "edges" values below.  500/167 are model.json's defaults and fall between grid
# points; the "edges" case puts both exactly on a timestep of the sequence so the
# t >= tEdit and t < tBoost comparisons (docs/method.md 1.5) are pinned down.
CASES = [
    ("recon", None, 1.0, 500, 0),
    ("shift", "shift", 1.0, 500, 0),
    ("shift-0.7", "shift", 0.7, 500, 0),
    ("global", "global", 1.0, 500, 0),
    ("shift-boost", "shift", 1.0, 500, 167),
    ("shift-edges", "shift", 1.0, None, None),
]
EDGES = {40: (512, 153), 10: (555, 222)}   # (tEdit, tBoost), both members of timestep_seq(n)


def analytic_fixture(n, suffix, dname, strength, t_edit, t_boost, directions):
    seq = timestep_seq(n)
    if t_edit is None:
        t_edit, t_boost = EDGES[n]
        assert t_edit in seq and t_boost in seq
    pixels = input_pixels()
    x0 = (pixels / 127.5 - 1.0)[None]
    x_T, inv_trace = invert(x0, seq)
    direction = directions[dname] if dname else None
    d_strength = direction["defaultStrength"] if direction else 1.0
    scale = strength * d_strength
    noise_ts, noise = noise_for(seq, t_boost, seed=1000 + n) if t_boost else ([], None)
    out, gen_trace = generate(x_T, seq, t_edit, t_boost, direction, scale, noise)
    recipe = (f"{dname} strength:{strength:g} " if dname else "") + \
        f"steps:{n} t_edit:{t_edit} t_boost:{t_boost}"
    return {
        "model": "analytic", "case": suffix, "n": n, "inversionSteps": n, "generationSteps": n,
        "tEdit": t_edit, "tBoost": t_boost, "direction": dname, "strength": strength,
        "defaultStrength": d_strength, "scale": scale, "recipe": recipe, "timesteps": seq,
        "pixels": arr(pixels), "x0": arr(x0), "inversion": inv_trace, "xT": arr(x_T),
        "steps": gen_trace,
        "noise": None if noise is None else {"shape": [len(noise), 1, 3, RES, RES], "timesteps": noise_ts,
                                             "data": np.concatenate([z.ravel() for z in noise]).tolist()},
        "output": arr(out),
    }


def hnet_fixture(kernel=1):
    """f(h, t) of a small random h-net, computed by the module that trains it
    (asyrp_tools/hnet.py, PyTorch float32): the engine must run what training learned.
    kernel 3: a 3x3 convolution as the first layer, on a non-square h so that rows and
    columns cannot be swapped unseen."""
    import torch
    from asyrp_tools.hnet import HNet
    C, H, W, D, E = (3, 2, 2, 5, 6) if kernel == 1 else (3, 3, 4, 5, 6)
    g = torch.Generator().manual_seed(14 if kernel == 1 else 15)
    net = HNet(C, D, E, scale=1.7, seed=3 if kernel == 1 else 4, kernel=kernel)
    with torch.no_grad():
        net.w2.copy_(torch.randn(C, D, generator=g) * 0.5)
        net.b1.copy_(torch.randn(D, generator=g) * 0.3)
    h = torch.randn(1, C, H, W, generator=g) * 1.7
    arrays = net.arrays()
    cases = [{"t": t, "f": net(h, t)[0].detach().double().flatten().tolist()} for t in (300, 614, 999)]
    return {"hspace": [C, H, W], "hidden": D, "embed": E, **({"kernel": kernel} if kernel > 1 else {}),
            **{k: v.astype(np.float64).flatten().tolist() for k, v in arrays.items()},
            "h": h[0].double().flatten().tolist(), "cases": cases}


def write_json(path, obj):
    with open(path, "w") as fh:
        json.dump(obj, fh, separators=(",", ":"))
        fh.write("\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output directory (default: test/fixtures/engine)")
    ap.add_argument("--model", default=DEFAULT_MODEL, help="analytic model package (default: test/models/analytic)")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    check_model_constants(args.model)
    directions = {name: load_direction(args.model, name) for name in ("shift", "global")}

    with open(os.path.join(args.out, "README.md"), "w") as fh:
        with open(FIXTURES_README_PATH, encoding="utf-8") as src:
            fh.write(src.read())
    write_json(os.path.join(args.out, "schedule.json"), schedule_fixture())
    write_json(os.path.join(args.out, "step.json"), step_fixture())
    write_json(os.path.join(args.out, "analytic-model.json"), model_fixture(directions))
    for n in (40, 10):
        for suffix, dname, strength, t_edit, t_boost in CASES:
            write_json(os.path.join(args.out, f"analytic-n{n}-{suffix}.json"),
                       analytic_fixture(n, suffix, dname, strength, t_edit, t_boost, directions))
    write_json(os.path.join(args.out, "h-net.json"), hnet_fixture())
    write_json(os.path.join(args.out, "h-net-conv.json"), hnet_fixture(kernel=3))
    print(f"wrote fixtures to {args.out}")


if __name__ == "__main__":
    sys.exit(main())
