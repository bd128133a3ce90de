"""Minimal safetensors reader/writer (the #2 direction format and the
temb table of a converted model).  Layout: u64 LE header length, JSON header
{name: {dtype, shape, data_offsets}, "__metadata__": {str: str}} padded with
spaces to 8 bytes, then the raw little-endian tensor bytes."""
from __future__ import annotations

import json
import struct
from typing import Dict, Mapping, Tuple

import numpy as np

_CODES = {np.dtype("float32"): "F32", np.dtype("int32"): "I32", np.dtype("float16"): "F16",
          np.dtype("float64"): "F64", np.dtype("int64"): "I64"}
_DTYPES = {v: k for k, v in _CODES.items()}


def write(path: str, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> None:
    header: Dict[str, object] = {"__metadata__": {str(k): str(v) for k, v in metadata.items()}}
    blobs, offset = [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        raw = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _CODES[arr.dtype], "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for raw in blobs:
            f.write(raw)


def read(path: str) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = memoryview(buf)[8 + n:]
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(data[b:e], dtype=_DTYPES[info["dtype"]].newbyteorder("<")).reshape(info["shape"]).copy()
    return out, meta
