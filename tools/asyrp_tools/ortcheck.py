"""Run an ONNX model through onnxruntime-node (tools/onnx_run.mjs) from Python."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from typing import Dict

import numpy as np

RUNNER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "onnx_run.mjs")


def run_onnx(model_path: str, inputs: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    with tempfile.TemporaryDirectory() as d:
        req = {"model": os.path.abspath(model_path), "inputs": {}}
        for name, arr in inputs.items():
            arr = np.ascontiguousarray(arr, dtype="<f4")
            arr.tofile(os.path.join(d, f"{name}.bin"))
            req["inputs"][name] = {"dims": list(arr.shape), "file": f"{name}.bin"}
        with open(os.path.join(d, "request.json"), "w") as f:
            json.dump(req, f)
        subprocess.run(["node", RUNNER, d], check=True)
        with open(os.path.join(d, "response.json")) as f:
            dims = json.load(f)
        return {name: np.fromfile(os.path.join(d, f"out_{name}.bin"), dtype="<f4").reshape(shape)
                for name, shape in dims.items()}
