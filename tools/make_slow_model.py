#!/usr/bin/python3
"""Build test/models/slow-unet/: a UNet-shaped ONNX graph whose every call is deliberately slow.

Why: the engine's inference worker (issue #30) must keep the HTTP API answering while a UNet call is
in flight.  A test proves that ordering (health and a submit are answered before the call returns),
and for that it needs a call that lasts well over a second on any machine, without a large file.

The graph has the package format's inputs and outputs (x [B,3,R,R], t [B], delta_h [E,C,H,W] ->
eps [B,3,R,R], eps_edit [E,3,R,R], h [B,C,H,W]) and computes:

    h        = AvgPool_{R/H}(x)
    eps      = 0.1 x + 0 * mean(A^(K+1))       with A = (1/N + 0*sum(x)) * ones(N, N)
    eps_edit = eps[:E]

The chain of K N*N matrix products is the slow part.  A depends on the input x (through a product
with zero), so onnxruntime cannot fold it into a constant when the session is created; the entries stay
1/N through the chain, so nothing overflows.  No weights are stored: the file is a few kB.

Usage: /usr/bin/python3 tools/make_slow_model.py [--out DIR] [--n 1024] [--k 128]
Deterministic: re-running produces byte-identical files.
"""
import argparse
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "test", "models", "slow-unet")

RES = 8
HS = (3, 2, 2)
OPSET = 17
IR_VERSION = 8


def model_json():
    return {
        "format": "asyrp-model/1",
        "id": "slow-unet",
        "title": "Slow test model (each UNet call is a long chain of matrix products)",
        "resolution": RES,
        "schedule": {"type": "linear", "betaStart": 0.0001, "betaEnd": 0.02, "trainSteps": 1000},
        "unet": "unet.onnx",
        "hspace": list(HS),
        "preprocess": "center-crop",
        "defaults": {"inversionSteps": 2, "generationSteps": 2, "tEdit": 500, "tBoost": 167},
        "directions": "directions",
    }


def build_graph(n, k):
    nodes, inits = [], []

    def const(name, arr, dtype=np.float32):
        inits.append(numpy_helper.from_array(np.asarray(arr, dtype=dtype), name))
        return name

    def node(op, ins, out, **attrs):
        nodes.append(helper.make_node(op, ins, [out], name=out + "_" + op, **attrs))
        return out

    const("zero", 0.0)
    const("tenth", 0.1)
    const("inv_n", 1.0 / n)
    const("nn_shape", [n, n], np.int64)
    const("zero_1d", [0], np.int64)

    node("AveragePool", ["x"], "h", kernel_shape=[RES // HS[1], RES // HS[2]], strides=[RES // HS[1], RES // HS[2]])
    node("ReduceSum", ["x"], "x_sum", keepdims=0)
    node("Mul", ["x_sum", "zero"], "x_zero")
    node("Add", ["x_zero", "inv_n"], "a_value")
    node("Expand", ["a_value", "nn_shape"], "m0")
    prev = "m0"
    for i in range(k):
        prev = node("MatMul", [prev, "m0"], f"m{i + 1}")
    node("ReduceMean", [prev], "m_mean", keepdims=0)
    node("Mul", ["m_mean", "zero"], "slow_zero")
    node("Mul", ["x", "tenth"], "x_scaled")
    node("Add", ["x_scaled", "slow_zero"], "eps")
    node("Shape", ["delta_h"], "dh_shape")
    node("Slice", ["dh_shape", "zero_1d", "one_1d"], "e_rows")
    const("one_1d", [1], np.int64)
    node("Slice", ["eps", "zero_1d", "e_rows", "zero_1d"], "eps_edit")

    graph = helper.make_graph(
        nodes,
        "slow_unet",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", 3, RES, RES]),
            helper.make_tensor_value_info("t", TensorProto.FLOAT, ["B"]),
            helper.make_tensor_value_info("delta_h", TensorProto.FLOAT, ["E", *HS]),
        ],
        [
            helper.make_tensor_value_info("eps", TensorProto.FLOAT, ["B", 3, RES, RES]),
            helper.make_tensor_value_info("eps_edit", TensorProto.FLOAT, ["E", 3, RES, RES]),
            helper.make_tensor_value_info("h", TensorProto.FLOAT, ["B", *HS]),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="asyrp-tools")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--n", type=int, default=1024, help="matrix size (default 1024)")
    ap.add_argument("--k", type=int, default=128, help="matrix products per call (default 128)")
    args = ap.parse_args()
    os.makedirs(os.path.join(args.out, "directions"), exist_ok=True)
    with open(os.path.join(args.out, "unet.onnx"), "wb") as fh:
        fh.write(build_graph(args.n, args.k).SerializeToString())
    with open(os.path.join(args.out, "model.json"), "w") as fh:
        json.dump(model_json(), fh, indent=2)
        fh.write("\n")
    # An empty directions folder: the package format wants one; reconstructions need no direction.
    with open(os.path.join(args.out, "directions", ".gitkeep"), "w"):
        pass
    print(f"wrote {args.out} (N={args.n}, K={args.k})")


if __name__ == "__main__":
    main()
