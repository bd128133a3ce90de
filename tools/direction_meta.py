"""Show or set metadata of a direction file, leaving Δh (and an h_gain or h-net) untouched.

  python3 tools/direction_meta.py models/toyfaces-32/directions/smile.safetensors
  python3 tools/direction_meta.py <file> evalTarget=smile:+ tEdit=409 defaultStrength=1 [--out other.safetensors]

Used to install a direction with its measured tEdit/defaultStrength, its
evalTarget and the exact command that made it (docs/quality.md).
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
    args = ap.parse_args(argv)
    dh, ts, meta = read_direction(args.file)
    gain = read_h_gain(args.file)
    net = read_h_net(args.file)
    for kv in args.set:
        key, sep, value = kv.partition("=")
        if not sep or not key:
            raise SystemExit(f"expected key=value, got {kv!r}")
        meta[key] = value
    if args.set:
        write_direction(args.out or args.file, dh, ts, meta, h_gain=gain, h_net=net)
    print(json.dumps({"shape": list(dh.shape), "timesteps": [int(ts[0]), int(ts[-1])], "hGain": gain is not None,
                      "hNet": None if net is None else int(net["hnet_w1"].shape[0]),
                      "metadata": meta}, indent=2))


if __name__ == "__main__":
    main()
