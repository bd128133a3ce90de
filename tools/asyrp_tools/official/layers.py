"""Layer factories shared by the official architectures.

All parameterised layers are created through these factories so that a whole
network can be built on torch's 'meta' device (shapes only, no memory, no
random init): the key/shape tests build the 553M-parameter ImageNet UNet in
milliseconds this way.  torch 1.13 has no `with torch.device(...)` context, so
the device is threaded through a module-level setting instead.
"""
from __future__ import annotations

import contextlib
import math

import torch
import torch.nn as nn

_DEVICE = None


@contextlib.contextmanager
def build_on(device):
    """Build modules on `device` (e.g. 'meta') inside the block."""
    global _DEVICE
    old, _DEVICE = _DEVICE, device
    try:
        yield
    finally:
        _DEVICE = old


def conv2d(cin, cout, k, stride=1, padding=0) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, stride=stride, padding=padding, device=_DEVICE)


def conv1d(cin, cout, k) -> nn.Conv1d:
    return nn.Conv1d(cin, cout, k, device=_DEVICE)


def linear(cin, cout) -> nn.Linear:
    return nn.Linear(cin, cout, device=_DEVICE)


def group_norm(channels, eps) -> nn.GroupNorm:
    return nn.GroupNorm(32, channels, eps=eps, affine=True, device=_DEVICE)


class GroupNorm32(nn.GroupNorm):
    """ADM's normalisation: 32 groups, eps 1e-5, computed in float32 whatever
    the input dtype (docs/method.md §2.1; manifests' groupnorm.computed_in)."""

    def forward(self, x):
        return super().forward(x.float()).type(x.dtype)


def group_norm32(channels) -> GroupNorm32:
    return GroupNorm32(32, channels, eps=1e-5, device=_DEVICE)


def ddpm_timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """DDPM embedding: [sin | cos] halves, frequency exp(-ln(1e4)·k/(half-1))
    (docs/method.md §2.1, checkpoint-keys README note 10)."""
    half = dim // 2
    k = torch.arange(half, dtype=torch.float32, device=t.device)
    freqs = torch.exp(k * -(math.log(10000.0) / (half - 1)))
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


def adm_timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """ADM embedding: [cos | sin] halves, frequency exp(-ln(1e4)·k/half)."""
    half = dim // 2
    k = torch.arange(half, dtype=torch.float32, device=t.device)
    freqs = torch.exp(-math.log(10000.0) * k / half)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)
