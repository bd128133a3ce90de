"""The architectures written here hold exactly the official state_dict keys
and shapes (checkpoint-keys manifests), and strict loading reports every
difference.  Models are built on the 'meta' device: shapes only, no memory."""
import os

import pytest
import torch

from asyrp_tools.official import configs
from asyrp_tools.official.deltablock import DeltaBlockADM, DeltaBlockDDPM, deltablock_for
from asyrp_tools.official.layers import build_on
from asyrp_tools.official.strict import (KeyMismatch, check, fixtures_dir, load_manifest, load_strict,
                                         manifest_shapes, random_state_dict, shapes_of)
from official_support import require_fixture

FIX = fixtures_dir()
KEYS = os.path.join(FIX, "checkpoint-keys")
require_fixture(KEYS)

# manifest -> (dataset, arch) whose official config must reproduce it
BACKBONES = {
    "celeba_hq_ddpm": ("celeba", "ddpm"),
    "lsun_church_ddpm": ("church", "ddpm"),
    "lsun_bedroom_ddpm": ("bedroom", "ddpm"),
    "afhq_dog_iddpm": ("afhq", "iddpm"),
    "ffhq_iddpm": ("ffhq", "iddpm"),
    "metfaces_p2_adm": ("metfaces", "adm"),
    "celeba_hq_p2_adm": ("celeba", "adm"),
    "imagenet256_uncond": ("imagenet", "adm"),
}


def _meta_model(dataset, arch):
    with build_on("meta"):
        return configs.build(configs.official_config(dataset, arch))


@pytest.mark.parametrize("manifest", sorted(BACKBONES))
def test_backbone_keys_and_shapes_match_manifest(manifest):
    m = load_manifest(manifest)
    dataset, arch = BACKBONES[manifest]
    assert configs.manifest_name(dataset, arch) == manifest
    model = _meta_model(dataset, arch)
    got = [(k, list(v.shape)) for k, v in model.state_dict().items()]
    want = [(k, list(s)) for k, s in m["state_dict"]]
    check(dict(want), dict(got), manifest)          # readable diff first
    assert got == want                               # then the exact order too
    assert sum(v.numel() for v in model.state_dict().values()) == m["num_parameters"]
    assert model.hspace == m["hspace_shape"]
    assert model.cfg.temb_dim in (512, 1024)


@pytest.mark.parametrize("manifest,cls,c", [("deltablock_ddpm", DeltaBlockDDPM, 512),
                                            ("deltablock_adm", DeltaBlockADM, 512),
                                            ("deltablock_adm_imagenet", DeltaBlockADM, 1024)])
def test_deltablock_keys_and_shapes_match_manifest(manifest, cls, c):
    m = load_manifest(manifest)
    with build_on("meta"):
        block = cls(c, c)
    got = [(k, list(v.shape)) for k, v in block.state_dict().items()]
    assert got == [(k, list(s)) for k, s in m["state_dict"]]
    assert sum(v.numel() for v in block.state_dict().values()) == m["num_parameters"]
    # the variant is recognised from the keys alone
    sd = {k: torch.empty(s, device="meta") for k, s in m["state_dict"]}
    assert type(deltablock_for(sd)) is cls


def test_deltablock_width_matches_backbone_middle_and_temb():
    """f_t acts on h (C of the middle block) and temb (the backbone's MLP
    output): both 512 for the 256px models, 1024 for ImageNet."""
    for dataset, arch in [("celeba", "ddpm"), ("afhq", "iddpm"), ("imagenet", "adm")]:
        model = _meta_model(dataset, arch)
        assert model.hspace[0] == model.cfg.temb_dim


def test_strict_load_lists_every_difference():
    from asyrp_tools.official.ddpm import DDPM, DDPMConfig
    model = DDPM(DDPMConfig(ch=32, ch_mult=(1, 2), resolution=16, attn_resolutions=(8,)))
    sd = random_state_dict(shapes_of(model.state_dict()).items())
    load_strict(model, sd, "ok")                    # exact: loads
    assert torch.equal(model.conv_in.weight, sd["conv_in.weight"])
    bad = dict(sd)
    del bad["mid.attn_1.q.weight"]
    bad["label_emb.weight"] = torch.zeros(3)
    bad["conv_out.weight"] = torch.zeros(6, 32, 3, 3)
    with pytest.raises(KeyMismatch) as e:
        load_strict(model, bad, "bad.ckpt")
    msg = str(e.value)
    assert "bad.ckpt" in msg and "1 missing, 1 unexpected, 1 with another shape" in msg
    assert "missing:    mid.attn_1.q.weight" in msg
    assert "unexpected: label_emb.weight" in msg
    assert "conv_out.weight: checkpoint [6, 32, 3, 3], model expects [3, 32, 3, 3]" in msg


def test_manifest_shapes_are_what_a_wrong_arch_would_fail():
    """An ADM checkpoint given to the DDPM architecture fails loudly."""
    ddpm = _meta_model("celeba", "ddpm")
    with pytest.raises(KeyMismatch) as e:
        check(shapes_of(ddpm.state_dict()), manifest_shapes(load_manifest("afhq_dog_iddpm")), "afhq_dog_4m.pt")
    assert "450 missing, 362 unexpected" in str(e.value)
