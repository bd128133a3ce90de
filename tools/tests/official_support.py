"""Shared helpers for the official-converter tests (not a test module)."""
import contextlib
import importlib.util
import io
import json
import os
import subprocess
import sys

import pytest
import torch

from asyrp_tools.official import configs
from asyrp_tools.official.adm import ADMConfig
from asyrp_tools.official.ddpm import DDPMConfig
from asyrp_tools.official.strict import fixtures_dir, random_state_dict, shapes_of

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(TOOLS)
FIX = fixtures_dir()
DIRECTIONS = os.path.join(FIX, "asyrp-official", "directions")
SMILING = os.path.join(DIRECTIONS, "smiling_LC_CelebA_HQ_t999_ninv40_ngen40_0.pth")
DOG_HAPPY = os.path.join(DIRECTIONS, "dog_happy_LC_dog_t999_ninv40_ngen40_0.pth")

# Reduced widths of the official families: same module names, fewer channels.
TINY = {
    "ddpm": dict(ch=32, ch_mult=[1, 2], num_res_blocks=2, attn_resolutions=[8], resolution=16),
    "adm": dict(model_channels=32, channel_mult=[1, 2], num_res_blocks=1, attention_ds=[2],
                num_head_channels=16, resolution=16),
}
# Middle block 512 wide and temb 512 (ch·4), as the released DeltaBlocks need;
# 8 px images (h 512x4x4: f_t is all 1x1 convs, so only C and temb must match).
WIDE = {
    "ddpm": dict(ch=128, ch_mult=[1, 4], num_res_blocks=1, attn_resolutions=[], resolution=8),
    "adm": dict(model_channels=128, channel_mult=[1, 4], num_res_blocks=1, attention_ds=[],
                num_head_channels=64, resolution=8),
}


def config(family, d):
    kw = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
    return DDPMConfig(**kw) if family == "ddpm" else ADMConfig(**kw)


def make_checkpoint(tmp, family, d, seed=1, scale=0.05, legacy=False):
    """(checkpoint path, config json path) of a random-weight backbone."""
    model = configs.build(config(family, d))
    sd = random_state_dict(shapes_of(model.state_dict()).items(), seed=seed, scale=scale)
    ck = os.path.join(tmp, f"{family}-{seed}.ckpt")
    torch.save(sd, ck, _use_new_zipfile_serialization=not legacy)
    cj = os.path.join(tmp, f"{family}.json")
    with open(cj, "w") as f:
        json.dump(d, f)
    return ck, cj


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


_MODULES = {}


def run_tool(script, *args, check=True, subprocess_=False):
    """Run tools/<script> with args: in this process by default (saves the
    torch import of a fresh interpreter), or as a real subprocess."""
    if subprocess_:
        p = subprocess.run([sys.executable, os.path.join(TOOLS, script), *args], capture_output=True, text=True,
                           cwd=REPO)
        res = Result(p.returncode, p.stdout, p.stderr)
    else:
        if script not in _MODULES:
            spec = importlib.util.spec_from_file_location(script[:-3], os.path.join(TOOLS, script))
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            _MODULES[script] = mod
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = _MODULES[script].main(list(args))
        res = Result(rc, out.getvalue(), err.getvalue())
    if check and res.returncode != 0:
        raise AssertionError(f"{script} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return res


def last_json(stdout):
    return json.loads(stdout.strip().splitlines()[-1])


def engine_edit(model_dir, image, recipe, out):
    """One edit through the TypeScript engine (npm run build's dist/)."""
    p = subprocess.run(["node", os.path.join(REPO, "bin", "asyrp.js"), "edit", image, *recipe.split(),
                        "--model", model_dir, "-o", out, "--json"], capture_output=True, text=True, cwd=REPO)
    if p.returncode != 0:
        raise AssertionError(f"asyrp edit failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return json.loads(p.stdout)


def require_fixture(path):
    """Skip the calling test module when a shared fixture folder is missing, with a reason; under CI
    (CI=true) fail instead, so that a broken fixture mount cannot pass as a green run that tested nothing."""
    if os.path.isdir(path):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and the fixtures folder {path} is missing", pytrace=False)
    pytest.skip(f"fixtures folder {path} is missing", allow_module_level=True)
