"""Asyrp's direction network f_t(h, temb) -> Δh (docs/method.md §2.1).

DDPM variant (CelebA-HQ / LSUN directions):
  conv1(h) + temb_proj(swish(temb)) -> GroupNorm(32, eps 1e-6) -> swish -> conv2
  (no input norm).
ADM variant (AFHQ-dog / MetFaces directions):
  GN32 -> SiLU -> 1x1 conv (in_layers) + Linear(SiLU(emb)) (emb_layers,
  additive since use_scale_shift_norm=False) -> GN32 -> SiLU -> Dropout(0) ->
  1x1 conv (out_layers).
Keys match checkpoint-keys/deltablock_{ddpm,adm}.json.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .layers import conv2d, group_norm, group_norm32, linear


class DeltaBlockDDPM(nn.Module):
    family = "ddpm"

    def __init__(self, channels: int = 512, temb: int = 512):
        super().__init__()
        self.conv1 = conv2d(channels, channels, 1)
        self.temb_proj = linear(temb, channels)
        self.norm2 = group_norm(channels, 1e-6)
        self.conv2 = conv2d(channels, channels, 1)

    def forward(self, h, temb):
        z = self.conv1(h) + self.temb_proj(temb * torch.sigmoid(temb))[:, :, None, None]
        z = self.norm2(z)
        return self.conv2(z * torch.sigmoid(z))


class DeltaBlockADM(nn.Module):
    family = "adm"

    def __init__(self, channels: int = 512, temb: int = 512):
        super().__init__()
        self.in_layers = nn.Sequential(group_norm32(channels), nn.SiLU(), conv2d(channels, channels, 1))
        self.emb_layers = nn.Sequential(nn.SiLU(), linear(temb, channels))
        self.out_layers = nn.Sequential(group_norm32(channels), nn.SiLU(), nn.Dropout(0.0),
                                        conv2d(channels, channels, 1))

    def forward(self, h, temb):
        z = self.in_layers(h) + self.emb_layers(temb)[:, :, None, None]
        return self.out_layers(z)


def deltablock_for(state_dict) -> nn.Module:
    """Pick the variant from the keys and the width from conv weights."""
    if "conv1.weight" in state_dict:
        c, t = state_dict["conv1.weight"].shape[0], state_dict["temb_proj.weight"].shape[1]
        return DeltaBlockDDPM(c, t)
    if "in_layers.2.weight" in state_dict:
        c, t = state_dict["in_layers.2.weight"].shape[0], state_dict["emb_layers.1.weight"].shape[1]
        return DeltaBlockADM(c, t)
    raise ValueError("not an Asyrp DeltaBlock: expected conv1.* (DDPM) or in_layers.* (ADM) keys, got "
                     + ", ".join(sorted(state_dict)[:8]))
