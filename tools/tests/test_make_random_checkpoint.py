"""tools/make_random_checkpoint.py: a random-weight checkpoint for every backbone of
config/model-sources.json, in the published format (a bare float32 state_dict written by torch.save,
zip or legacy), read back by the allow-listed reader, loaded strictly into the backbone's family, with
the official key names; conversion of each family is tested in test_official_checkpoint.py."""
import json
import os
import re

import pytest
import torch

from official_support import REPO, require_fixture, run_tool, last_json
from asyrp_tools.official import configs
from asyrp_tools.official.adm import ADMConfig
from asyrp_tools.official.ckpt import load_checkpoint, state_dict_of
from asyrp_tools.official.ddpm import DDPMConfig
from asyrp_tools.official.strict import fixtures_dir, load_manifest, load_strict

require_fixture(os.path.join(fixtures_dir(), "checkpoint-keys"))

with open(os.path.join(REPO, "config", "model-sources.json")) as f:
    CATALOG = json.load(f)["backbones"]

MANIFESTS = {"celeba-hq": "celeba_hq_ddpm", "church": "lsun_church_ddpm", "bedroom": "lsun_bedroom_ddpm",
             "afhq-dog": "afhq_dog_iddpm", "ffhq": "ffhq_iddpm", "metfaces": "metfaces_p2_adm",
             "celeba-hq-p2": "celeba_hq_p2_adm", "imagenet": "imagenet256_uncond"}


def test_every_catalog_backbone_is_covered_with_its_dataset_and_arch():
    import make_random_checkpoint as mrc
    assert {k: {"dataset": v["dataset"], "arch": v["arch"]} for k, v in CATALOG.items()} == \
        {k: {"dataset": d, "arch": a} for k, (d, a) in mrc.BACKBONES.items()}


@pytest.mark.parametrize("backbone", sorted(MANIFESTS))
def test_reduced_checkpoint_has_the_official_format(tmp_path, backbone):
    out, cfg = str(tmp_path / "ck.pt"), str(tmp_path / "arch.json")
    legacy = backbone == "ffhq"  # one family in torch's pre-1.6 format too
    res = last_json(run_tool("make_random_checkpoint.py", "--backbone", backbone, "--width", "tiny", "--out", out,
                             "--config-out", cfg, *(["--legacy"] if legacy else [])).stdout)
    assert res["bytes"] < 6_000_000 and res["dataset"] == CATALOG[backbone]["dataset"]
    with open(out, "rb") as f:
        head = f.read(4)
    assert (head[:2] == b"\x80\x02") if legacy else (head == b"PK\x03\x04")
    sd = state_dict_of(load_checkpoint(out), out)  # the allow-listed reader: no code runs
    assert all(v.dtype == torch.float32 for v in sd.values())
    with open(cfg) as f:
        d = json.load(f)
    kw = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
    model = configs.build(DDPMConfig(**kw) if res["arch"] == "ddpm" else ADMConfig(**kw))
    load_strict(model, sd, out)
    # the official module names: every key, its block indices aside, is a key of the published checkpoint
    pattern = lambda k: re.sub(r"\.\d+\.", ".N.", re.sub(r"\.\d+\.", ".N.", k))  # noqa: E731
    official = {pattern(k) for k, _ in load_manifest(MANIFESTS[backbone])["state_dict"]}
    assert {pattern(k) for k in sd} <= official, sorted({pattern(k) for k in sd} - official)[:5]
