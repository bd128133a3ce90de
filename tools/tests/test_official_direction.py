"""tools/convert_direction.py on the two released directions (smiling for
CelebA-HQ / DDPM, dog_happy for AFHQ / ADM) against random-weight backbones
whose middle block and time embedding are 512 wide like the real ones, and
the LPIPS-table t_edit / t_boost of docs/method.md §1.7."""
import json
import os
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from official_support import (require_fixture, DOG_HAPPY, FIX, SMILING, WIDE, config, engine_edit, last_json,
                              make_checkpoint, run_tool)
from asyrp_tools.official import configs, lpips, safetensors
from asyrp_tools.official.calibrate import alpha_bar, load_block, timesteps
from asyrp_tools.official.ckpt import load_checkpoint
from asyrp_tools.official.strict import load_strict

require_fixture(FIX)

STEPS = 4


# ---------------------------------------------------------------- LPIPS tables

def test_t_edit_and_t_boost_from_tables_match_asyrp_md():
    # t_edit / t_boost read off the official LPIPS tables (docs/method.md §1.7)
    want = {"celeba": (538, 516, 424, 167), "afhq": (482, 444, 242, 167), "church": (396, 370, 265, 293),
            "bedroom": (384, 369, 295, 221), "metface": (396, 320, 97, 180)}
    for table, (t33, t30, t20, tb) in want.items():
        assert lpips.t_edit(table) == t33
        assert lpips.t_edit(table, 0.30 / 0.33) == t30 and lpips.t_edit(table, 0.20 / 0.33) == t20
        assert lpips.t_boost(table) == tb
    # the per-attribute CelebA table
    assert lpips.attribute_t_edits("celeba") == {
        "smiling": 513, "sad": 513, "angry": 513, "tanned": 512, "man": 516, "woman": 512, "young": 515,
        "curly_hair": 499, "nicolas": 461, "neanderthal": 490, "pixar": 446, "modigliani": 403, "frida": 321}
    # and the defaults baked into configs are the tables' values
    for ds in configs.DATASETS.values():
        if ds.lpips_table:
            assert (ds.t_edit, ds.t_boost) == (lpips.t_edit(ds.lpips_table), lpips.t_boost(ds.lpips_table)), ds.name


def test_threshold_search_is_smallest_t_at_or_above(tmp_path):
    (tmp_path / "x_LPIPS_distance_x0_t.tsv").write_text("3\t0.5\n1\t0.1\n2\t0.33\n")
    (tmp_path / "x_LPIPS_distance_x.tsv").write_text("1\t1.0\n2\t1.19\n")
    assert lpips.t_edit("x", 1.0, str(tmp_path)) == 2
    assert lpips.t_edit("x", 0.1 / 0.33, str(tmp_path)) == 1
    with pytest.raises(ValueError, match="no t reaches LPIPS 1.2"):
        lpips.t_boost("x", str(tmp_path))


# ---------------------------------------------------------------- conversion

@pytest.fixture(scope="module")
def wide_models(tmp_path_factory):
    """Converted 512-wide random backbones: DDPM as CelebA-HQ, ADM as AFHQ."""
    tmp = tmp_path_factory.mktemp("wide")
    out = {}
    for family, arch, dataset in [("ddpm", "ddpm", "celeba"), ("adm", "iddpm", "afhq")]:
        ck, cj = make_checkpoint(str(tmp), family, WIDE[family], seed=3, scale=0.02)
        pkg = tmp / f"{dataset}-pkg"
        run_tool("convert_checkpoint.py", "--arch", arch, "--ckpt", ck, "--dataset", dataset, "--out", str(pkg),
                 "--config", cj, "--no-parity")
        out[dataset] = (pkg, ck, family)
    return out


def reference_mean(family, ckpt, block, x_t, seq, t_edit):
    """Δh_t^mean computed independently in PyTorch (float64 DDIM arithmetic)."""
    model = configs.build(config(family, WIDE[family]))
    load_strict(model, load_checkpoint(ckpt), ckpt)
    model.eval()
    ab = alpha_bar()
    x = torch.from_numpy(x_t).double()
    sums = {}
    with torch.no_grad():
        for k in reversed(range(len(seq))):
            t = int(seq[k])
            tt = torch.full((x.shape[0],), float(t))
            h, skips, temb = model.encode(x.float(), tt)
            eps = model.decode(h, skips, temb).double()
            dh = block(h, temb)
            sums[t] = dh.double().mean(0)
            eps_x0 = model.decode(h + dh, skips, temb).double() if t >= t_edit else eps
            a, an = ab[t], (ab[int(seq[k - 1])] if k else 1.0)
            x0 = (x - np.sqrt(1 - a) * eps_x0) / np.sqrt(a)
            x = np.sqrt(an) * x0 + np.sqrt(1 - an) * eps
    return np.stack([sums[int(t)].numpy() for t in seq])


@pytest.mark.parametrize("ckpt,dataset,name,t_edit,t_boost",
                         [(SMILING, "celeba", "smiling", 513, 167), (DOG_HAPPY, "afhq", "happy", 482, 167)])
def test_convert_released_direction(wide_models, ckpt, dataset, name, t_edit, t_boost):
    pkg, backbone, family = wide_models[dataset]
    res = last_json(run_tool("convert_direction.py", "--ckpt", ckpt, "--model", str(pkg), "--n", "2",
                             "--steps", str(STEPS), "--batch", "2").stdout)
    assert (res["name"], res["tEdit"], res["tBoost"], res["K"]) == (name, t_edit, t_boost, STEPS)
    tensors, meta = safetensors.read(str(pkg / "directions" / f"{name}.safetensors"))
    assert tensors["delta_h"].dtype == np.float32 and tensors["delta_h"].shape == (STEPS, 512, 4, 4)
    assert tensors["timesteps"].dtype == np.int32
    assert tensors["timesteps"].tolist() == timesteps(STEPS).tolist() == [0, 333, 666, 999]
    assert {k: meta[k] for k in ("name", "tEdit", "tBoost", "defaultStrength")} == \
        {"name": name, "tEdit": str(t_edit), "tBoost": str(t_boost), "defaultStrength": "1"}
    assert meta["description"] and os.path.basename(ckpt) in meta["source"] and meta["trainSteps"] == "40"
    assert json.loads(meta["calibration"]) == {"n": 2, "mode": "noise", "seed": 0, "steps": STEPS, "global": False}

    # the same average computed independently in PyTorch from the same x_T
    meta_m = json.loads((pkg / "model.json").read_text())
    block = load_block(ckpt, meta_m["hspace"], 512, family)
    x_t = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(0)).numpy()
    ref = reference_mean(family, backbone, block, x_t, timesteps(STEPS), t_edit)
    err = np.abs(tensors["delta_h"] - ref).max() / np.abs(ref).max()
    assert err < 1e-3, err
    # f_t really depends on t through temb: the rows differ
    assert np.abs(tensors["delta_h"][0] - tensors["delta_h"][-1]).max() > 1e-3 * np.abs(ref).max()


def test_happy_direction_from_inverted_photos_edits_through_engine(wide_models, tmp_path):
    pkg, _, _ = wide_models["afhq"]
    src = os.path.join(FIX, "asyrp-official", "photos", "afhq")
    photos = tmp_path / "photos"            # two of them, in a temp dir (never in the repo)
    photos.mkdir()
    for name in sorted(os.listdir(src))[:2]:
        shutil.copy(os.path.join(src, name), photos / name)
    res = last_json(run_tool("convert_direction.py", "--ckpt", DOG_HAPPY, "--model", str(pkg), "--images", str(photos),
                             "--steps", "3", "--name", "happy_inv", "--global").stdout)
    tensors, meta = safetensors.read(str(pkg / "directions" / "happy_inv.safetensors"))
    assert tensors["delta_h"].shape == (1, 512, 4, 4) and tensors["timesteps"].tolist() == [482]
    assert json.loads(meta["calibration"])["mode"] == "invert" and json.loads(meta["calibration"])["n"] == 2
    assert res["K"] == 1
    img = str(photos / sorted(os.listdir(photos))[0])
    summary = engine_edit(str(pkg), img, "happy_inv:0.5 steps:3", str(tmp_path / "o.png"))
    assert summary["understood"]["tEdit"] == 482 and summary["understood"]["tBoost"] == 167
    assert np.asarray(Image.open(tmp_path / "o.png")).shape == (8, 8, 3)


def test_direction_for_another_backbone_is_refused(wide_models, tmp_path):
    pkg, _, _ = wide_models["celeba"]
    p = run_tool("convert_direction.py", "--ckpt", DOG_HAPPY, "--model", str(pkg), "--n", "1", "--steps", "2",
                 check=False)
    assert p.returncode == 2 and "ADM DeltaBlock cannot edit a DDPM backbone" in p.stderr
    # and a backbone whose h-space is not 512 wide (the check comes before any ONNX run)
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    meta = json.loads((pkg / "model.json").read_text())
    meta["hspace"] = [64, 4, 4]
    (tiny / "model.json").write_text(json.dumps(meta))
    safetensors.write(str(tiny / "temb.safetensors"), {"temb": np.zeros((1000, 512), np.float32)}, {})
    p = run_tool("convert_direction.py", "--ckpt", SMILING, "--model", str(tmp_path / "tiny"), "--n", "1",
                 check=False)
    assert p.returncode == 2 and "512 channels wide but the model's h-space is [64, 4, 4]" in p.stderr
