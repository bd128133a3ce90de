"""Export parity: the ONNX graph (run by onnxruntime-node) matches PyTorch."""
import json
import os
import shutil

import numpy as np
import onnx
import pytest
import torch

from asyrp_tools.export import export_package, parity
from asyrp_tools.unet import UNet, UNetConfig

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")


def _tiny(channel_mult=(1, 2), seed=0):
    torch.manual_seed(seed)
    unet = UNet(UNetConfig(resolution=16, base_channels=8, channel_mult=channel_mult, groups=4, temb_in=16))
    with torch.no_grad():
        for p in unet.parameters():
            p.copy_(torch.randn(p.shape) * 0.2)
    return unet.eval()


def test_forward_edit_matches_separate_passes():
    unet = _tiny()
    x, t = torch.randn(3, 3, 16, 16), torch.tensor([1.0, 500.0, 999.0])
    dh = torch.randn(2, *unet.cfg.hspace)
    with torch.no_grad():
        eps, eps_edit, h = unet.forward_edit(x, t, dh)
        h2, skips, temb = unet.encode(x, t)
        ref_edit = unet.to_eps(unet.decode(h2[:2] + dh, [s[:2] for s in skips], temb[:2]), x[:2], t[:2])
        zero = unet.forward_edit(x, t, torch.zeros(2, *unet.cfg.hspace))[1]
    assert torch.allclose(eps, unet(x, t), atol=1e-5)
    assert torch.allclose(eps_edit, ref_edit, atol=1e-5)
    assert torch.allclose(zero, eps[:2], atol=1e-5)
    assert list(h.shape[1:]) == unet.cfg.hspace


@needs_node
def test_onnx_package_and_parity(tmp_path):
    unet = _tiny()
    export_package(unet, str(tmp_path), "tiny", "tiny")
    meta = json.loads((tmp_path / "model.json").read_text())
    assert meta["format"] == "asyrp-model/1" and meta["hspace"] == unet.cfg.hspace
    assert meta["resolution"] == 16 and meta["unet"] == "unet.onnx"
    m = onnx.load(str(tmp_path / "unet.onnx"))
    assert [i.name for i in m.graph.input] == ["x", "t", "delta_h"]
    assert [o.name for o in m.graph.output] == ["eps", "eps_edit", "h"]
    dims = {o.name: [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim] for o in m.graph.output}
    assert dims["eps"] == ["B", 3, 16, 16] and dims["eps_edit"] == ["E", 3, 16, 16]
    err = parity(unet, str(tmp_path / "unet.onnx"), batch=3)
    assert err["E=0"] < 1e-4 and err["E=3"] < 1e-4, err


def test_committed_test_models_are_current():
    """test/models/tiny-unet must be what tools/make_test_models.py writes."""
    import sys
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, here)
    from make_test_models import tiny_unet
    path = os.path.join(os.path.dirname(here), "test", "models", "tiny-unet", "unet.onnx")
    m = onnx.load(path)
    from onnx import numpy_helper
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    w = tiny_unet().conv_in.weight.detach().numpy()
    assert any(a.shape == w.shape and np.allclose(a, w) for a in inits.values())


def test_unet_rebuilt_from_the_package_alone(tmp_path):
    # tools/ can optimize a direction for an exported model without its training checkpoint:
    # model.json's unetConfig + unet.onnx's weights (GroupNorm's affine params included) give
    # back exactly the exported network.
    from asyrp_tools.export import load_unet_from_package
    unet = _tiny()
    export_package(unet, str(tmp_path), "tiny", "tiny")
    rebuilt = load_unet_from_package(str(tmp_path))
    ref, got = unet.state_dict(), rebuilt.state_dict()
    assert ref.keys() == got.keys()
    assert all(torch.equal(ref[k], got[k]) for k in ref), [k for k in ref if not torch.equal(ref[k], got[k])]
    meta = json.loads((tmp_path / "model.json").read_text())
    del meta["unetConfig"]
    (tmp_path / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="no unetConfig"):
        load_unet_from_package(str(tmp_path))


@needs_node
def test_shipped_default_model_rebuilds_from_its_package():
    from asyrp_tools.export import load_unet_from_package
    pkg = os.path.join(os.path.dirname(__file__), "..", "..", "models", "toyfaces-32")
    unet = load_unet_from_package(pkg)
    err = parity(unet, os.path.join(pkg, "unet.onnx"), batch=2)
    assert max(err.values()) < 1e-4, err


def test_update_replaces_the_unet_and_keeps_the_package(tmp_path):
    # Swapping a retrained UNet into a package (docs/research/directions.md) must keep its id, title,
    # defaults and files, change only the network fields, and name the directions it made stale.
    from asyrp_tools.export import load_unet_from_package, update_package
    export_package(_tiny(), str(tmp_path), "tiny", "tiny")
    meta = json.loads((tmp_path / "model.json").read_text())
    meta["defaults"]["tBoost"] = 50
    meta["title"] = "kept"
    (tmp_path / "model.json").write_text(json.dumps(meta))
    (tmp_path / "directions").mkdir()
    (tmp_path / "directions" / "smile.safetensors").write_bytes(b"old")
    finer = _tiny(channel_mult=(1,), seed=1)  # random GroupNorm affines too, so none is folded away
    assert finer.cfg.hspace != _tiny().cfg.hspace
    stale = update_package(finer, str(tmp_path))
    assert stale == ["smile.safetensors"]
    got = json.loads((tmp_path / "model.json").read_text())
    assert got["hspace"] == list(finer.cfg.hspace) and got["unetConfig"] == finer.cfg.to_dict()
    assert got["title"] == "kept" and got["defaults"]["tBoost"] == 50 and got["id"] == "tiny"
    rebuilt = load_unet_from_package(str(tmp_path))
    assert all(torch.equal(v, rebuilt.state_dict()[k]) for k, v in finer.state_dict().items())
    wrong = UNet(UNetConfig(resolution=8, base_channels=8, channel_mult=(1,), groups=4, temb_in=16)).eval()
    with pytest.raises(ValueError, match="16px package"):
        update_package(wrong, str(tmp_path))
    with pytest.raises(ValueError, match="not a model package"):
        update_package(finer, str(tmp_path / "directions"))
