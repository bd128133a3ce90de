"""Show or set metadata of a direction file, leaving Δh (and an h_gain or h-net) untouched.

  python3 tools/direction_meta.py models/toyfaces-32/directions/smile.safetensors
  python3 tools/direction_meta.py <file> evalTarget=smile:+ tEdit=409 defaultStrength=1 [--out other.safetensors]
  python3 tools/direction_meta.py smile.safetensors --negate --out frown-start.safetensors name=frown evalTarget=smile:-
  python3 tools/direction_meta.py glasses.safetensors --scale 1.4 --out glasses-1.4.safetensors

Used to install a direction with its measured tEdit/defaultStrength, its
evalTarget and the exact command that made it (docs/quality.md). --negate flips the direction's sign:
Δh_t, h_gain and the h-net's output layer W2 (f_t(h) = W2·SiLU(...) has no output bias), so the written
file at strength s edits exactly as the input at −s; tools/make_direction.sh starts a frown from the smile so.
--scale K multiplies the same three by K, so the written file at strength s edits as the input at K·s up to
float32 rounding (every part of the edit is linear in them and the engine multiplies the sum by the
strength), and multiplies the metadata strengthScale (1 when absent) by K: how tools/make_direction.sh's
calibrate step sets what strength 1 means, and records it.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from asyrp_tools.direction_io import read_direction, read_h_gain, read_h_net, write_direction  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("set", nargs="*", help="key=value")
    ap.add_argument("--out", help="write here instead of in place")
    ap.add_argument("--negate", action="store_true", help="flip the sign of Δh_t, h_gain and the h-net's W2")
    ap.add_argument("--scale", type=float, default=None,
                    help="multiply Δh_t, h_gain and the h-net's W2 by this (non-zero, finite)")
    args = ap.parse_intermixed_args(argv)
    scale = 1.0 if args.scale is None else args.scale
    if not (scale == scale and abs(scale) != float("inf") and scale != 0):
        ap.error(f"--scale must be a non-zero finite number, not {args.scale}")
    if args.negate:
        scale = -scale
    rescale = scale != 1.0
    dh, ts, meta = read_direction(args.file)
    gain = read_h_gain(args.file)
    net = read_h_net(args.file)
    for kv in args.set:
        key, sep, value = kv.partition("=")
        if not sep or not key:
            raise SystemExit(f"expected key=value, got {kv!r}")
        meta[key] = value
    if args.scale is not None:
        # What strength 1 now means against the file the scales started from (tools/make_direction.sh's calibrate).
        meta["strengthScale"] = f"{float(meta.get('strengthScale', 1)) * args.scale:.4g}"
    if rescale:
        # In float32 as stored; −1 is exact, so --negate stays bit for bit the input's negation.
        k = dh.dtype.type(scale)
        dh = dh * k
        gain = None if gain is None else gain * gain.dtype.type(scale)
        if net is not None:
            net = {**net, "hnet_w2": net["hnet_w2"] * net["hnet_w2"].dtype.type(scale)}
    if args.set or rescale:
        write_direction(args.out or args.file, dh, ts, meta, h_gain=gain, h_net=net)
    print(json.dumps({"shape": list(dh.shape), "timesteps": [int(ts[0]), int(ts[-1])], "hGain": gain is not None,
                      "hNet": None if net is None else int(net["hnet_w1"].shape[0]),
                      "hNetKernel": None if net is None else (int(net["hnet_w1"].shape[2]) if net["hnet_w1"].ndim == 4 else 1),
                      "metadata": meta}, indent=2))


if __name__ == "__main__":
    main()
