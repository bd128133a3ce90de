"""Direction files (issue #2 format) from Python, without the safetensors package.

directions/<name>.safetensors: an 8-byte little-endian header length, a JSON
header {"__metadata__": {str: str}, "delta_h": {...}, "timesteps": {...}}
padded with spaces so the data starts 8-byte aligned, then the raw data:
delta_h float32 [K,C,H,W] and timesteps int32 [K] (strictly ascending), and
optionally h_gain float32 [C,C]: an h-dependent part G, Δh_t(h) = delta_h(t) + G·h
at every position of h (a 1x1 convolution), h from the generation's previous step,
and optionally the nonlinear f(h, t) of hnet.py (hnet_w1, hnet_b1, hnet_wt, hnet_w2).
The engine's reader is src/engine/directions/direction-file.ts; Δh between
stored timesteps is interpolated there, clamped at the ends.
"""
from __future__ import annotations

import json
import os
import struct
from typing import Dict, Optional, Tuple

import numpy as np

# The h-net's tensors (hnet.py), in the order they are stored.
TENSORS = ("hnet_w1", "hnet_b1", "hnet_wt", "hnet_w2")


def write_direction(path: str, delta_h: np.ndarray, timesteps, metadata: Dict[str, object],
                    h_gain: Optional[np.ndarray] = None, h_net: Optional[Dict[str, np.ndarray]] = None) -> None:
    dh = np.ascontiguousarray(delta_h, dtype="<f4")
    ts = np.ascontiguousarray(np.asarray(timesteps), dtype="<i4")
    if dh.ndim != 4 or ts.ndim != 1 or dh.shape[0] != ts.shape[0] or ts.shape[0] < 1:
        raise ValueError(f"delta_h {dh.shape} and timesteps {ts.shape} do not match [K,C,H,W] / [K]")
    if np.any(np.diff(ts) <= 0):
        raise ValueError("timesteps must be strictly ascending")
    if not np.all(np.isfinite(dh)):
        raise ValueError("delta_h holds NaN or infinite values")
    a, b = dh.tobytes(), ts.tobytes()
    header = {
        "__metadata__": {str(k): str(v) for k, v in metadata.items()},
        "delta_h": {"dtype": "F32", "shape": list(dh.shape), "data_offsets": [0, len(a)]},
        "timesteps": {"dtype": "I32", "shape": list(ts.shape), "data_offsets": [len(a), len(a) + len(b)]},
    }
    g = b""
    if h_gain is not None:
        gain = np.ascontiguousarray(h_gain, dtype="<f4")
        if gain.shape != (dh.shape[1], dh.shape[1]):
            raise ValueError(f"h_gain {gain.shape} must be [C,C] = {(dh.shape[1], dh.shape[1])}")
        if not np.all(np.isfinite(gain)):
            raise ValueError("h_gain holds NaN or infinite values")
        g = gain.tobytes()
        header["h_gain"] = {"dtype": "F32", "shape": list(gain.shape), "data_offsets": [len(a) + len(b), len(a) + len(b) + len(g)]}
    if h_net is not None:
        check_arrays(h_net, dh.shape[1])
        for name in TENSORS:
            arr = np.ascontiguousarray(h_net[name], dtype="<f4")
            start = len(a) + len(b) + len(g)
            header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [start, start + arr.nbytes]}
            g += arr.tobytes()
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((-(8 + len(hb))) % 8)
    # Written beside and renamed into place: a run killed mid-write leaves no truncated file that a
    # later run (tools/make_directions.sh keeps existing rounds) would take as finished.
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        f.write(a)
        f.write(b)
        f.write(g)
    os.replace(tmp, path)


def read_direction(path: str) -> Tuple[np.ndarray, np.ndarray, Dict[str, str]]:
    """delta_h, timesteps and metadata (read_h_gain has the optional h-dependent part)."""
    dh, ts, meta, _, _ = _read(path)
    return dh, ts, meta


def read_h_gain(path: str) -> Optional[np.ndarray]:
    """The direction's h_gain [C,C], or None for a global direction."""
    return _read(path)[3]


def read_h_net(path: str) -> Optional[Dict[str, np.ndarray]]:
    """The direction's h-net tensors (hnet.py), or None when it has none."""
    return _read(path)[4]


def _read(path: str):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    out = {}
    for name, dtype in (("delta_h", "<f4"), ("timesteps", "<i4")):
        e = header[name]
        lo, hi = e["data_offsets"]
        out[name] = np.frombuffer(data[lo:hi], dtype=dtype).reshape(e["shape"]).copy()
    gain = None
    if "h_gain" in header:
        lo, hi = header["h_gain"]["data_offsets"]
        gain = np.frombuffer(data[lo:hi], dtype="<f4").reshape(header["h_gain"]["shape"]).copy()
    net = None
    if any(k in header for k in TENSORS):
        net = {}
        for name in TENSORS:
            if name in header:
                lo, hi = header[name]["data_offsets"]
                net[name] = np.frombuffer(data[lo:hi], dtype="<f4").reshape(header[name]["shape"]).copy()
        check_arrays(net)
    return out["delta_h"], out["timesteps"], header.get("__metadata__", {}), gain, net


def check_arrays(arrays: Dict[str, np.ndarray], channels: int = 0) -> None:
    """Raises ValueError unless the four tensors fit together (and C = channels when given)."""
    missing = [k for k in TENSORS if k not in arrays]
    if missing:
        raise ValueError(f"h-net needs all of {', '.join(TENSORS)}; missing {', '.join(missing)}")
    w1, b1, wt, w2 = (np.asarray(arrays[k]) for k in TENSORS)
    kernel_ok = w1.ndim == 2 or (w1.ndim == 4 and w1.shape[2] == w1.shape[3] and w1.shape[2] % 2 == 1)
    if not kernel_ok or b1.shape != (w1.shape[0],) or wt.ndim != 2 or wt.shape[0] != w1.shape[0] \
            or w2.shape != (w1.shape[1], w1.shape[0]) or wt.shape[1] < 2 or wt.shape[1] % 2:
        raise ValueError(f"h-net shapes do not fit: w1 {w1.shape}, b1 {b1.shape}, wt {wt.shape}, w2 {w2.shape} "
                         "(need [D,C] or [D,C,K,K] with K odd, [D], [D,E] with E even, [C,D])")
    if channels and w1.shape[1] != channels:
        raise ValueError(f"h-net is for {w1.shape[1]} channels but h has {channels}")
    if not all(np.all(np.isfinite(a)) for a in (w1, b1, wt, w2)):
        raise ValueError("h-net holds NaN or infinite values")
