"""Checks for the analytic test model and the engine fixtures.

Run: /usr/bin/python3 -m pytest tools/tests/test_analytic_model.py   (a few seconds)

- unet.onnx, run through onnxruntime-node (tools/onnx_run.mjs; no Python ORT
  here), matches the closed-form epsilon within 1e-5 for E = 0, 0 < E < B, E = B;
- the direction safetensors files parse back (independent reader below);
- the fixtures' float64 results are reachable by a float32 model to ~1e-4;
- both generator scripts are deterministic and the committed files are current.
"""
import filecmp
import json
import os
import shutil
import struct
import subprocess
import sys

import numpy as np
import pytest

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)

import make_analytic_model as mam  # noqa: E402
import make_engine_fixtures as mef  # noqa: E402

MODEL_DIR = os.path.join(ROOT, "test", "models", "analytic")
FIXTURES = os.path.join(ROOT, "test", "fixtures", "engine")
RUNNER = os.path.join(TOOLS, "onnx_run.mjs")


def run_onnx(feeds, tmp_path):
    """Run feeds through unet.onnx with tools/onnx_run.mjs; returns a list of
    {name: ndarray} (float64 holding the exact float32 outputs).

    tools/onnx_run.mjs is shared with tools/asyrp_tools; two call conventions
    have existed (the current one accepts both), so both are supported, JSON preferred:
    - directory: `node onnx_run.mjs DIR`, DIR/request.json = {"model", "inputs": {name: {"dims", "file"}}}
      with raw little-endian float32 .bin files; outputs DIR/out_<name>.bin + response.json {name: dims};
    - JSON files: `node onnx_run.mjs MODEL IN.json OUT.json` with {name: {"type", "dims", "data"}}."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    model = os.path.join(MODEL_DIR, "unet.onnx")
    runner_src = open(RUNNER).read()
    if "<inputs.json>" not in runner_src and "request.json" in runner_src:  # directory-only runner
        results = []
        for i, feed in enumerate(feeds):
            d = tmp_path / f"run{i}"
            d.mkdir()
            inputs = {}
            for k, v in feed.items():
                (d / f"{k}.bin").write_bytes(np.ascontiguousarray(v, dtype="<f4").tobytes())
                inputs[k] = {"dims": list(v.shape), "file": f"{k}.bin"}
            (d / "request.json").write_text(json.dumps({"model": model, "inputs": inputs}))
            subprocess.run(["node", RUNNER, str(d)], check=True, cwd=ROOT, timeout=60)
            dims = json.loads((d / "response.json").read_text())
            results.append({k: np.frombuffer((d / f"out_{k}.bin").read_bytes(), dtype="<f4")
                            .astype(np.float64).reshape(v) for k, v in dims.items()})
        return results
    src, dst = tmp_path / "in.json", tmp_path / "out.json"
    src.write_text(json.dumps([{k: {"type": "float32", "dims": list(v.shape), "data": v.ravel().tolist()}
                                for k, v in feed.items()} for feed in feeds]))
    subprocess.run(["node", RUNNER, model, str(src), str(dst)], check=True, cwd=ROOT, timeout=60)
    return [{k: np.array(v["data"], dtype=np.float64).reshape(v["dims"]) for k, v in res.items()}
            for res in json.loads(dst.read_text())]


def closed_form(x, t, dh):
    """float64 eps* (make_engine_fixtures), per sample; eps_edit for the first E samples."""
    eps = np.stack([mef.eps_star(x[b], int(t[b])) for b in range(len(t))])
    eps_edit = np.stack([mef.eps_star_edit(x[b], int(t[b]), dh[b]) for b in range(len(dh))]) \
        if len(dh) else np.zeros((0, 3, 16, 16))
    h = x.reshape(len(t), 3, 4, 4, 4, 4).mean(axis=(3, 5))
    return eps, eps_edit, h


def test_onnx_matches_closed_form(tmp_path):
    rng = np.random.default_rng(7)
    B = 4
    # float32-exact inputs, so ONNX and the float64 closed form see the same numbers
    x = rng.standard_normal((B, 3, 16, 16)).astype(np.float32)
    t = np.array([0, 1, 500, 999], dtype=np.float32)
    shift = mef.load_direction(MODEL_DIR, "shift")
    dh_all = np.stack([mef.delta_h_at(shift, int(v)) * 1.5 for v in t]).astype(np.float32)
    cases = [0, 1, B]
    feeds = [{"x": x, "t": t, "delta_h": dh_all[:e]} for e in cases]
    # the fixture's own model calls, so the TS side can trust analytic-model.json
    fx = json.loads(open(os.path.join(FIXTURES, "analytic-model.json")).read())
    for call in fx["calls"]:
        feeds.append({"x": np.array(call["x"]["data"], np.float32).reshape(call["x"]["shape"]),
                      "t": np.array(call["t"], np.float32),
                      "delta_h": np.array(call["deltaH"]["data"], np.float32).reshape(call["deltaH"]["shape"])})
    outs = run_onnx(feeds, tmp_path)

    for e, out in zip(cases, outs):
        eps, eps_edit, h = closed_form(x.astype(np.float64), t, dh_all[:e].astype(np.float64))
        assert out["eps"].shape == (B, 3, 16, 16)
        assert out["eps_edit"].shape == (e, 3, 16, 16)
        assert out["h"].shape == (B, 3, 4, 4)
        np.testing.assert_allclose(out["eps"], eps, rtol=0, atol=1e-5)
        np.testing.assert_allclose(out["eps_edit"], eps_edit, rtol=0, atol=1e-5)
        np.testing.assert_allclose(out["h"], h, rtol=0, atol=1e-5)
        if e:  # the edit must actually change epsilon
            assert np.abs(out["eps_edit"] - out["eps"][:e]).max() > 1e-2

    for call, out in zip(fx["calls"], outs[len(cases):]):
        for key, name in (("eps", "eps"), ("epsEdit", "eps_edit"), ("h", "h")):
            want = np.array(call[key]["data"]).reshape(call[key]["shape"])
            assert out[name].shape == want.shape
            np.testing.assert_allclose(out[name], want, rtol=0, atol=1e-5, err_msg=f"{call['name']} {key}")


def parse_safetensors(path):
    """Independent strict reader: checks the layout, not just the values."""
    buf = open(path, "rb").read()
    (n,) = struct.unpack("<Q", buf[:8])
    assert n % 8 == 0 and 8 + n <= len(buf)
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__")
    assert all(isinstance(v, str) for v in meta.values())
    data = buf[8 + n:]
    spans, tensors = [], {}
    for name, info in header.items():
        dtype = {"F32": np.dtype("<f4"), "I32": np.dtype("<i4")}[info["dtype"]]
        b, e = info["data_offsets"]
        assert e - b == dtype.itemsize * int(np.prod(info["shape"]))
        spans.append((b, e))
        tensors[name] = np.frombuffer(data[b:e], dtype=dtype).reshape(info["shape"])
    spans.sort()
    assert spans[0][0] == 0 and spans[-1][1] == len(data)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    return tensors, meta


@pytest.mark.parametrize("name,k,expected", [("shift", 5, mam.shift_direction), ("global", 1, mam.global_direction)])
def test_directions_parse_back(name, k, expected):
    tensors, meta = parse_safetensors(os.path.join(MODEL_DIR, "directions", f"{name}.safetensors"))
    assert set(tensors) == {"delta_h", "timesteps"}
    assert tensors["delta_h"].dtype == np.float32 and tensors["delta_h"].shape == (k, 3, 4, 4)
    assert tensors["timesteps"].dtype == np.int32 and tensors["timesteps"].shape == (k,)
    ts = tensors["timesteps"].tolist()
    assert ts == sorted(ts) and len(set(ts)) == k and all(0 <= v <= 999 for v in ts)
    np.testing.assert_array_equal(tensors["delta_h"].astype(np.float64), expected())
    assert {"name", "description", "tEdit", "tBoost", "defaultStrength", "source"} <= set(meta)
    assert meta["name"] == name and meta["defaultStrength"] == "1"
    if k > 1:  # values must vary with t, or interpolation is not exercised
        assert np.abs(np.diff(tensors["delta_h"], axis=0)).max() > 1e-2


def test_model_json():
    m = json.loads(open(os.path.join(MODEL_DIR, "model.json")).read())
    assert m == mam.MODEL_JSON
    assert m["format"] == "asyrp-model/1" and m["hspace"] == [3, 4, 4] and m["resolution"] == 16


def test_float32_model_reaches_fixtures():
    """Replay each analytic fixture with epsilon computed in float32 the way the
    graph does (float32 tables, float32 ops); the float64 step arithmetic stays.
    The engine is held to ~1e-4, so the fixture must be reachable far below that."""
    a32, oma32 = mef.ABAR.astype(np.float32), (1.0 - mef.ABAR).astype(np.float32)
    mu32, s232 = mef.MU.astype(np.float32), mef.S2.astype(np.float32)

    def eps32(x, t, dh=None):
        x = x.astype(np.float32)
        if dh is not None:
            x = x + mef.upsample(dh.astype(np.float32))
        a, oma = a32[t], oma32[t]
        return (np.sqrt(oma) * (x - np.sqrt(a) * mu32) / (a * s232 + oma)).astype(np.float64)

    files = sorted(f for f in os.listdir(FIXTURES) if f.startswith("analytic-n"))
    assert len(files) == 12
    for f in files:
        fx = json.loads(open(os.path.join(FIXTURES, f)).read())
        seq = fx["timesteps"]
        assert seq == mef.timestep_seq(fx["n"])
        x = np.array(fx["x0"]["data"]).reshape(1, 3, 16, 16)
        for k in range(1, len(seq)):
            e = eps32(x, seq[k - 1])
            x, _, _ = mef.ddim_step(x, e, e, seq[k - 1], seq[k])
        np.testing.assert_allclose(x.ravel(), fx["xT"]["data"], rtol=0, atol=1e-5, err_msg=f)
        noise = np.array(fx["noise"]["data"]).reshape(fx["noise"]["shape"]) if fx["noise"] else []
        zi = 0
        for s in fx["steps"]:
            e = eps32(x, s["t"])
            ee = eps32(x, s["t"], np.array(s["deltaH"]).reshape(3, 4, 4)) if s["deltaH"] else e
            z = noise[zi] if s["eta"] else None
            zi += 1 if s["eta"] else 0
            x, _, sigma = mef.ddim_step(x, e, ee, s["t"], s["tNext"], s["eta"], z)
            assert sigma == pytest.approx(s["sigma"], abs=1e-15)
        assert zi == len(noise)
        np.testing.assert_allclose(x.ravel(), fx["output"]["data"], rtol=0, atol=1e-5, err_msg=f)


# Fixtures computed by PyTorch in float32: the last bit of a matmul depends on which kernel the CPU's
# BLAS picks (seen: 1 ulp between two x86 machines), so these compare as numbers, to float32 precision.
TORCH_FLOAT32_FIXTURES = {"h-net.json", "h-net-conv.json"}


def _assert_same_json(got_path, want_path):
    with open(got_path) as f:
        got = json.load(f)
    with open(want_path) as f:
        want = json.load(f)

    def same(a, b, where):
        assert type(a) is type(b) or {type(a), type(b)} <= {int, float}, where
        if isinstance(a, dict):
            assert a.keys() == b.keys(), where
            for k in a:
                same(a[k], b[k], f"{where}.{k}")
        elif isinstance(a, list):
            assert len(a) == len(b), where
            for i, (x, y) in enumerate(zip(a, b)):
                same(x, y, f"{where}[{i}]")
        elif isinstance(a, float):
            assert a == pytest.approx(b, rel=1e-6, abs=1e-7), where
        else:
            assert a == b, where

    same(got, want, os.path.basename(want_path))


def test_generators_are_deterministic_and_current(tmp_path):
    model_out, fx_out = tmp_path / "model", tmp_path / "fixtures"
    py = sys.executable
    subprocess.run([py, os.path.join(TOOLS, "make_analytic_model.py"), "--out", str(model_out)],
                   check=True, capture_output=True, timeout=60)
    subprocess.run([py, os.path.join(TOOLS, "make_engine_fixtures.py"), "--out", str(fx_out),
                    "--model", str(model_out)], check=True, capture_output=True, timeout=60)
    for rel in ("model.json", "unet.onnx", "directions/shift.safetensors", "directions/global.safetensors"):
        assert filecmp.cmp(model_out / rel, os.path.join(MODEL_DIR, rel), shallow=False), rel
    names = sorted(os.listdir(fx_out))
    assert names == sorted(os.listdir(FIXTURES))
    for name in names:
        if name in TORCH_FLOAT32_FIXTURES:
            _assert_same_json(fx_out / name, os.path.join(FIXTURES, name))
        else:
            assert filecmp.cmp(fx_out / name, os.path.join(FIXTURES, name), shallow=False), name
    total = sum(os.path.getsize(os.path.join(FIXTURES, n)) for n in names)
    assert total < 2_000_000
