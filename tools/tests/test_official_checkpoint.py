"""Allow-listed checkpoint reading and tools/convert_checkpoint.py end to end:
random-weight checkpoints of the official families (reduced width) are
converted, the ONNX graph is checked against PyTorch, and one edit runs
through the TypeScript engine."""
import json
import os
import pickle
import zipfile

import numpy as np
import onnx
import pytest
import torch
from PIL import Image

from official_support import (require_fixture, DOG_HAPPY, FIX, SMILING, TINY, engine_edit, last_json, make_checkpoint,
                              run_tool)
from asyrp_tools.official import safetensors
from asyrp_tools.official.ckpt import UnsafeCheckpoint, load_checkpoint, load_direction_block
from asyrp_tools.official.strict import load_manifest

require_fixture(FIX)


class Evil:
    """Pickles to os.system(...): what a hostile checkpoint would carry."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


# ---------------------------------------------------------------- reader

@pytest.mark.parametrize("path,manifest", [(SMILING, "deltablock_ddpm"), (DOG_HAPPY, "deltablock_adm")])
def test_released_directions_load_through_allow_list(path, manifest):
    sd = load_direction_block(path)
    assert [(k, list(v.shape)) for k, v in sd.items()] == [(k, s) for k, s in load_manifest(manifest)["state_dict"]]
    # same numbers as torch's own (unsafe) loader, on these trusted fixtures
    ref = torch.load(path, map_location="cpu")["0"]
    for k, v in sd.items():
        assert v.dtype == torch.float32 and torch.equal(v, ref[k]), k
    whole = load_checkpoint(path)
    assert set(whole) == {"0", "optimizer", "scheduler"} and whole["scheduler"]["step_size"] == 20


@pytest.mark.parametrize("legacy", [False, True])
def test_malicious_pickle_is_refused(tmp_path, legacy):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    torch.save({"0": {"w": torch.zeros(2)}, "x": Evil(str(marker))}, str(path),
               _use_new_zipfile_serialization=not legacy)
    with pytest.raises(UnsafeCheckpoint, match="posix.system|os.system"):
        load_checkpoint(str(path))
    assert not marker.exists()
    if legacy:
        return
    # the command line, as a user runs it: exit status 2, a one-line reason, nothing executed
    p = run_tool("convert_checkpoint.py", "--arch", "ddpm", "--ckpt", str(path), "--dataset", "church",
                 "--out", str(tmp_path / "m"), check=False, subprocess_=True)
    assert p.returncode == 2 and "not on the allow-list" in p.stderr, p.stderr
    assert not marker.exists()


def test_parameter_global_is_refused(tmp_path):
    """Only _rebuild_tensor_v2 is allowed; nn.Parameter goes through another
    GLOBAL (_rebuild_parameter) and must be refused, not half-read."""
    path = tmp_path / "p.pth"
    torch.save({"w": torch.nn.Parameter(torch.ones(3))}, str(path))
    with pytest.raises(UnsafeCheckpoint, match="_rebuild_parameter"):
        load_checkpoint(str(path))


@pytest.mark.parametrize("legacy", [False, True])
def test_reader_matches_torch_for_views_dtypes_and_shared_storage(tmp_path, legacy):
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    obj = {"t": base.t(), "slice": base[1:3, 2:], "half": torch.randn(3, 5).half(), "long": torch.arange(7),
           "shared_a": base, "list": [1, 2.5, "s", (3, None)], "empty": torch.zeros(0, 4)}
    path = tmp_path / "c.pt"
    torch.save(obj, str(path), _use_new_zipfile_serialization=not legacy)
    assert zipfile.is_zipfile(str(path)) != legacy
    got = load_checkpoint(str(path))
    for k in ("t", "slice", "half", "long", "shared_a", "empty"):
        assert got[k].dtype == obj[k].dtype and torch.equal(got[k], obj[k]), k
    assert got["list"] == [1, 2.5, "s", (3, None)]


def test_truncated_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "c.pt"
    torch.save({"w": torch.ones(1000)}, str(path), _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    path.write_bytes(data[:-100])
    with pytest.raises(pickle.UnpicklingError, match="truncated"):
        load_checkpoint(str(path))


# ---------------------------------------------------------------- conversion

def _image(tmp_path, w=40, h=48):
    p = tmp_path / "in.png"
    Image.fromarray((np.random.RandomState(0).rand(h, w, 3) * 255).astype("uint8")).save(p)
    return str(p)


@pytest.mark.parametrize("arch,dataset,fp16,legacy,external", [("ddpm", "church", False, True, False),
                                                               ("adm", "imagenet", True, False, True)])
def test_convert_end_to_end_and_engine_edit(tmp_path, monkeypatch, arch, dataset, fp16, legacy, external):
    """external: the fp32 export goes through the >2 GiB external-data path
    first (ImageNet's case, forced here by lowering the limit); the fp16
    rewrite then fits in one file again."""
    from asyrp_tools.official import export
    if external:
        monkeypatch.setattr(export, "ONNX_PROTO_LIMIT", 0)
    family = "ddpm" if arch == "ddpm" else "adm"
    ck, cj = make_checkpoint(str(tmp_path), family, TINY[family], legacy=legacy)
    out = tmp_path / "pkg"
    args = ["--arch", arch, "--ckpt", ck, "--dataset", dataset, "--out", str(out), "--config", cj]
    res = last_json(run_tool("convert_checkpoint.py", *args, *(["--fp16"] if fp16 else [])).stdout)
    assert sorted(os.listdir(out)) == ["directions", "model.json", "temb.safetensors", "unet.onnx"]
    tol = 3e-2 if fp16 else 1e-4
    assert res["parity_ok"] and set(res["parity"]) == {"E=0 eps", "E=0 h", "E=2 eps", "E=2 eps_edit", "E=2 h"}
    assert max(res["parity"].values()) < tol, res["parity"]

    meta = json.loads((out / "model.json").read_text())
    want_defaults = {"church": (396, 293), "afhq": (482, 167), "imagenet": (500, 200)}[dataset]
    assert meta["format"] == "asyrp-model/1" and meta["unet"] == "unet.onnx" and meta["resolution"] == 16
    assert (meta["defaults"]["tEdit"], meta["defaults"]["tBoost"]) == want_defaults
    assert meta["preprocess"] == "center-crop" and meta["official"]["arch"] == arch
    c = TINY[family].get("ch", TINY[family].get("model_channels")) * 2
    assert meta["hspace"] == [c, 8, 8]

    m = onnx.load(str(out / "unet.onnx"))
    assert [i.name for i in m.graph.input] == ["x", "t", "delta_h"]
    dims = {o.name: [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim] for o in m.graph.output}
    assert dims == {"eps": ["B", 3, 16, 16], "eps_edit": ["E", 3, 16, 16], "h": ["B", c, 8, 8]}
    assert any(t.data_type == onnx.TensorProto.FLOAT16 for t in m.graph.initializer) == fp16
    temb, _ = safetensors.read(str(out / "temb.safetensors"))
    assert temb["temb"].shape == (1000, c * 2)

    # one edit through the TypeScript engine, with a direction so eps_edit is used
    rng = np.random.RandomState(1)
    safetensors.write(str(out / "directions" / "rnd.safetensors"),
                      {"delta_h": (rng.randn(2, c, 8, 8) * 0.5).astype(np.float32),
                       "timesteps": np.array([0, 999], np.int32)}, {"name": "rnd", "description": "random"})
    png = tmp_path / "out.png"
    summary = engine_edit(str(out), _image(tmp_path), "rnd steps:3 t_edit:400", str(png))
    assert summary["understood"]["directions"][0]["name"] == "rnd"
    im = np.asarray(Image.open(png))
    assert im.shape == (16, 16, 3) and im.std() > 0


def test_wrong_architecture_lists_the_differences(tmp_path):
    ck, _ = make_checkpoint(str(tmp_path), "adm", TINY["adm"])
    _, cj = make_checkpoint(str(tmp_path), "ddpm", TINY["ddpm"])
    p = run_tool("convert_checkpoint.py", "--arch", "ddpm", "--ckpt", ck, "--dataset", "church",
                 "--out", str(tmp_path / "m"), "--config", cj, check=False)
    assert p.returncode == 2
    assert "does not match the architecture" in p.stderr
    assert "missing:    conv_in.weight" in p.stderr and "unexpected: input_blocks.0.0.weight" in p.stderr
    assert not (tmp_path / "m" / "model.json").exists()


def test_no_official_checkpoint_for_pair(tmp_path):
    p = run_tool("convert_checkpoint.py", "--arch", "ddpm", "--ckpt", SMILING, "--dataset", "afhq",
                 "--out", str(tmp_path / "m"), check=False)
    assert p.returncode == 2 and "no official ddpm checkpoint for afhq" in p.stderr


def test_module_prefix_from_dataparallel_is_accepted(tmp_path):
    from asyrp_tools.official import configs
    from asyrp_tools.official.ckpt import state_dict_of
    from asyrp_tools.official.strict import load_strict, strip_module_prefix
    from official_support import config
    ck, _ = make_checkpoint(str(tmp_path), "ddpm", TINY["ddpm"])
    sd = load_checkpoint(ck)
    torch.save({"module." + k: v for k, v in sd.items()}, ck)
    model = configs.build(config("ddpm", TINY["ddpm"]))
    load_strict(model, strip_module_prefix(state_dict_of(load_checkpoint(ck))), ck)
    assert torch.equal(model.conv_out.weight, sd["conv_out.weight"])
    # a prefix on only some keys is not guessed away
    mixed = dict(sd)
    mixed["module.x"] = mixed.pop("conv_in.weight")
    assert "module.x" in strip_module_prefix(mixed)


def test_external_data_above_the_protobuf_limit(tmp_path, monkeypatch):
    """ImageNet fp32 (2.2 GB) cannot be one protobuf: the weights go to
    unet.onnx.data, which onnxruntime (parity check, engine) reads by itself.
    Exercised here by lowering the limit on a tiny model."""
    from asyrp_tools.official import export
    monkeypatch.setattr(export, "ONNX_PROTO_LIMIT", 0)
    ck, cj = make_checkpoint(str(tmp_path), "adm", TINY["adm"])
    out = tmp_path / "pkg"
    res = last_json(run_tool("convert_checkpoint.py", "--arch", "iddpm", "--ckpt", ck, "--dataset", "afhq",
                             "--out", str(out), "--config", cj).stdout)
    assert res["parity_ok"], res
    assert "unet.onnx.data" in os.listdir(out) and not (out / "unet.onnx.parts").exists()
    assert os.path.getsize(out / "unet.onnx") < os.path.getsize(out / "unet.onnx.data") / 4
    summary = engine_edit(str(out), _image(tmp_path), "steps:2", str(tmp_path / "o.png"))
    assert summary["understood"]["directions"] == []
