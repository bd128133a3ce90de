"""fp16 weights for GPU hosts (--fp16), done as a rewrite of the fp32 graph.

Only the weight-bearing ops change: every Conv / Gemm / MatMul whose weight
is an initializer gets fp16 weights (and bias), a Cast to fp16 on its input
and a Cast back to fp32 on its output.  Everything else — the timestep
sinusoid (sin of t·f up to ~1000 rad is meaningless in fp16), GroupNorm
(which ADM also computes in fp32), softmax, residual sums — stays fp32.  This
is the same split as torch autocast and as ADM's own use_fp16 (convs in fp16,
norms in fp32).  The graph's inputs and outputs stay float32 (#2 contract).
Weights and their memory halve; on CUDA the convolutions run on fp16 tensor
cores.  On CPU onnxruntime inserts casts to fp32 for kernels it lacks, so the
parity check still runs there.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

WEIGHTED = {"Conv": (1, 2), "Gemm": (1, 2), "MatMul": (1,)}


def convert(src: str, dst: str) -> int:
    """Rewrite src into dst; returns the number of converted nodes."""
    m = onnx.load(src)  # also reads external data (unet.onnx.data) into the tensors
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    consumers = defaultdict(list)
    for node in g.node:
        for i, name in enumerate(node.input):
            consumers[name].append((node, i))

    def convertible(node):
        idx = WEIGHTED.get(node.op_type)
        if not idx or len(node.input) < 2 or node.input[1] not in inits:
            return False
        if inits[node.input[1]].data_type != TensorProto.FLOAT:
            return False
        # a weight shared with an op we leave in fp32 must stay fp32
        return all(WEIGHTED.get(c.op_type) and j in WEIGHTED[c.op_type] and c.input[1] in inits
                   for w in node.input[1:] if w in inits for c, j in consumers[w])

    chosen = [n for n in g.node if convertible(n)]
    done = set()
    new_nodes = []
    chosen_ids = {id(n) for n in chosen}
    for k, node in enumerate(list(g.node)):
        if id(node) not in chosen_ids:
            new_nodes.append(node)
            continue
        for w in node.input[1:]:
            if w in inits and w not in done:
                arr = numpy_helper.to_array(inits[w]).astype(np.float16)
                inits[w].CopyFrom(numpy_helper.from_array(arr, w))
                done.add(w)
        x16 = f"{node.input[0]}__fp16_{k}"
        new_nodes.append(helper.make_node("Cast", [node.input[0]], [x16], to=TensorProto.FLOAT16,
                                          name=f"fp16_in_{k}"))
        out = node.output[0]
        node.input[0] = x16
        node.output[0] = f"{out}__fp16_{k}"
        new_nodes.append(node)
        new_nodes.append(helper.make_node("Cast", [node.output[0]], [out], to=TensorProto.FLOAT,
                                          name=f"fp16_out_{k}"))
    del g.node[:]
    g.node.extend(new_nodes)
    # shapes recorded for the old fp32 intermediates are still right, but
    # their element types are not: drop them and let ORT infer.
    del g.value_info[:]
    onnx.checker.check_model(m)
    onnx.save(m, dst)
    return len(chosen)
