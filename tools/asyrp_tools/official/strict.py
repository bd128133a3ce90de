"""Strict state_dict checks: every checkpoint key used, none missing, every
shape equal (docs/method.md §3: Asyrp itself loads with strict=False, so mismatches
would pass silently there).
"""
from __future__ import annotations

import json
import os
from typing import Dict, Iterable, Mapping, Sequence, Tuple

import torch

Shape = Tuple[int, ...]


class KeyMismatch(ValueError):
    """Raised with the full list of differences, so a user can see at once
    whether a checkpoint is the wrong model, has a prefix, or is truncated."""

    def __init__(self, what: str, missing: Sequence[str], unexpected: Sequence[str],
                 mismatched: Sequence[Tuple[str, Shape, Shape]]):
        self.missing, self.unexpected, self.mismatched = list(missing), list(unexpected), list(mismatched)
        lines = [f"{what}: state_dict does not match the architecture "
                 f"({len(self.missing)} missing, {len(self.unexpected)} unexpected, "
                 f"{len(self.mismatched)} with another shape)"]
        lines += [f"  missing:    {k}" for k in self.missing]
        lines += [f"  unexpected: {k}" for k in self.unexpected]
        lines += [f"  shape:      {k}: checkpoint {list(got)}, model expects {list(want)}"
                  for k, got, want in self.mismatched]
        super().__init__("\n".join(lines))


def shapes_of(sd: Mapping[str, torch.Tensor]) -> Dict[str, Shape]:
    return {k: tuple(v.shape) for k, v in sd.items()}


def diff(expected: Mapping[str, Shape], got: Mapping[str, Shape]):
    missing = [k for k in expected if k not in got]
    unexpected = [k for k in got if k not in expected]
    mismatched = [(k, tuple(got[k]), tuple(expected[k])) for k in expected
                  if k in got and tuple(got[k]) != tuple(expected[k])]
    return missing, unexpected, mismatched


def check(expected: Mapping[str, Shape], got: Mapping[str, Shape], what: str) -> None:
    missing, unexpected, mismatched = diff(expected, got)
    if missing or unexpected or mismatched:
        raise KeyMismatch(what, missing, unexpected, mismatched)


def strip_module_prefix(sd: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """A checkpoint saved from a DataParallel wrapper has every key prefixed
    with 'module.'; the official ones have none (manifest note 1), but a user's
    re-save might.  Only a prefix shared by *all* keys is removed."""
    if sd and all(k.startswith("module.") for k in sd):
        return {k[len("module."):]: v for k, v in sd.items()}
    return sd


def load_strict(model: torch.nn.Module, sd: Mapping[str, torch.Tensor], what: str) -> None:
    """Copy `sd` into `model` after checking keys and shapes exactly."""
    check(shapes_of(model.state_dict()), shapes_of(sd), what)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in sd.items()}, strict=True)


# ---------------------------------------------------------------- manifests

def fixtures_dir() -> str:
    """../shared/fixtures relative to the repository root."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    return os.path.normpath(os.path.join(repo, "..", "shared", "fixtures"))


def load_manifest(name_or_path: str) -> dict:
    path = name_or_path
    if not os.path.exists(path):
        path = os.path.join(fixtures_dir(), "checkpoint-keys", f"{name_or_path}.json")
    with open(path) as f:
        return json.load(f)


def manifest_shapes(manifest: dict) -> Dict[str, Shape]:
    return {k: tuple(s) for k, s in manifest["state_dict"]}


def random_state_dict(shapes: Iterable[Tuple[str, Shape]], seed: int = 0, scale: float = 0.05) -> Dict[str, torch.Tensor]:
    """Random weights of the given shapes: GroupNorm-like 1-D weights near 1,
    everything else small, so activations stay finite through a deep UNet."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k, shape in shapes:
        t = torch.randn(tuple(shape), generator=g) * scale
        if k.endswith(".weight") and len(shape) == 1:
            t = 1.0 + t
        out[k] = t
    return out
