"""Full-size conversions (slow: minutes of CPU and several GB of RAM each).

Random-weight checkpoints with exactly the keys and shapes of the official
manifests go through tools/convert_checkpoint.py (strict load, ONNX export,
parity through onnxruntime-node), and a released direction is converted
against the full-size backbone.  Run with: pytest -m slow tools/tests
"""
import json
import os

import pytest
import torch

from official_support import require_fixture, FIX, SMILING, last_json, run_tool
from asyrp_tools.official.strict import load_manifest, random_state_dict

require_fixture(FIX)

pytestmark = pytest.mark.slow


def _checkpoint(tmp_path, manifest):
    m = load_manifest(manifest)
    path = tmp_path / m["official_checkpoint_filename"]
    torch.save(random_state_dict(m["state_dict"], seed=0, scale=0.02), str(path))
    return str(path), m


@pytest.mark.parametrize("manifest,arch,dataset", [("celeba_hq_ddpm", "ddpm", "celeba"),
                                                   ("afhq_dog_iddpm", "iddpm", "afhq"),
                                                   ("imagenet256_uncond", "adm", "imagenet")])
def test_full_size_conversion(tmp_path, manifest, arch, dataset):
    ck, m = _checkpoint(tmp_path, manifest)
    out = tmp_path / "pkg"
    res = last_json(run_tool("convert_checkpoint.py", "--arch", arch, "--ckpt", ck, "--dataset", dataset,
                             "--out", str(out), "--parity-batch", "1").stdout)
    print(manifest, json.dumps(res))
    assert res["parity_ok"], res
    meta = json.loads((out / "model.json").read_text())
    assert meta["hspace"] == m["hspace_shape"] and meta["resolution"] == 256
    assert meta["official"]["parameters"] == m["num_parameters"]
    size = sum(os.path.getsize(out / f) for f in os.listdir(out) if f.startswith("unet.onnx"))
    assert 4 * m["num_parameters"] <= size < 4 * m["num_parameters"] * 1.05
    if manifest == "celeba_hq_ddpm":
        res = last_json(run_tool("convert_direction.py", "--ckpt", SMILING, "--model", str(out), "--n", "1",
                                 "--steps", "3").stdout)
        assert (res["tEdit"], res["tBoost"], res["K"]) == (513, 167, 3)
