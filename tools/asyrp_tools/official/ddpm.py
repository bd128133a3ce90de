"""The DDPM UNet used by Asyrp for CelebA-HQ, LSUN church and LSUN bedroom
(the SDEdit checkpoints; docs/method.md §3).

Module names and the order in which submodules are created follow the
official state_dict exactly (checkpoint-keys/celeba_hq_ddpm.json):
`temb.dense.{0,1}`, `conv_in`, `down.{l}.block.{b}`, `down.{l}.attn.{b}`,
`down.{l}.downsample.conv`, `mid.{block_1,attn_1,block_2}`, `up.{l}...`,
`norm_out`, `conv_out`.  GroupNorm is 32 groups with eps 1e-6.

The forward pass is split into encode() -> (h, skips, temb) and
decode(h, skips, temb) -> eps so that the exporter can run the decoder once
over [h ; h + Δh] (docs/method.md §1.3, §5).  h is the output of the whole middle
block (block_1 -> attn_1 -> block_2).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import conv2d, ddpm_timestep_embedding, group_norm, linear

EPS = 1e-6


@dataclass
class DDPMConfig:
    ch: int = 128
    out_ch: int = 3
    ch_mult: Tuple[int, ...] = (1, 1, 2, 2, 4, 4)
    num_res_blocks: int = 2
    attn_resolutions: Tuple[int, ...] = (16,)
    in_channels: int = 3
    resolution: int = 256

    def to_dict(self):
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @property
    def hspace(self) -> List[int]:
        s = self.resolution // 2 ** (len(self.ch_mult) - 1)
        return [self.ch * self.ch_mult[-1], s, s]

    @property
    def temb_dim(self) -> int:
        return self.ch * 4


def swish(x):
    return x * torch.sigmoid(x)


class ResnetBlock(nn.Module):
    """norm1 -> swish -> conv1 -> + temb_proj(swish(temb)) -> norm2 -> swish ->
    conv2, plus a 1x1 nin_shortcut when the width changes."""

    def __init__(self, cin: int, cout: int, temb: int):
        super().__init__()
        self.norm1 = group_norm(cin, EPS)
        self.conv1 = conv2d(cin, cout, 3, padding=1)
        self.temb_proj = linear(temb, cout)
        self.norm2 = group_norm(cout, EPS)
        self.conv2 = conv2d(cout, cout, 3, padding=1)
        if cin != cout:
            self.nin_shortcut = conv2d(cin, cout, 1)

    def forward(self, x, temb):
        h = self.conv1(swish(self.norm1(x)))
        h = h + self.temb_proj(swish(temb))[:, :, None, None]
        h = self.conv2(swish(self.norm2(h)))  # dropout is 0.0 in every config
        if hasattr(self, "nin_shortcut"):
            x = self.nin_shortcut(x)
        return x + h


class AttnBlock(nn.Module):
    """Single-head self-attention with 1x1-conv q, k, v, proj_out; softmax
    over keys, scaled by C^-1/2."""

    def __init__(self, c: int):
        super().__init__()
        self.norm = group_norm(c, EPS)
        self.q = conv2d(c, c, 1)
        self.k = conv2d(c, c, 1)
        self.v = conv2d(c, c, 1)
        self.proj_out = conv2d(c, c, 1)

    def forward(self, x):
        b, c, hh, ww = x.shape
        n = self.norm(x)
        q = self.q(n).reshape(b, c, hh * ww)
        k = self.k(n).reshape(b, c, hh * ww)
        v = self.v(n).reshape(b, c, hh * ww)
        w = torch.softmax(torch.bmm(q.transpose(1, 2), k) * (c ** -0.5), dim=2)  # [b, i, j]
        out = torch.bmm(v, w.transpose(1, 2)).reshape(b, c, hh, ww)
        return x + self.proj_out(out)


class Downsample(nn.Module):
    """Asymmetric zero pad (0,1,0,1), then a stride-2 3x3 conv without padding."""

    def __init__(self, c: int):
        super().__init__()
        self.conv = conv2d(c, c, 3, stride=2)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.conv = conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DDPM(nn.Module):
    family = "ddpm"

    def __init__(self, cfg: DDPMConfig):
        super().__init__()
        self.cfg = cfg
        ch, temb = cfg.ch, cfg.temb_dim
        n_levels = len(cfg.ch_mult)
        self.temb = nn.Module()
        self.temb.dense = nn.ModuleList([linear(ch, temb), linear(temb, temb)])
        self.conv_in = conv2d(cfg.in_channels, ch, 3, padding=1)

        res = cfg.resolution
        in_mult = (1,) + tuple(cfg.ch_mult)
        self.down = nn.ModuleList()
        block_in = ch
        for lvl in range(n_levels):
            level = nn.Module()
            level.block, level.attn = nn.ModuleList(), nn.ModuleList()
            block_in, block_out = ch * in_mult[lvl], ch * cfg.ch_mult[lvl]
            for _ in range(cfg.num_res_blocks):
                level.block.append(ResnetBlock(block_in, block_out, temb))
                block_in = block_out
                if res in cfg.attn_resolutions:
                    level.attn.append(AttnBlock(block_in))
            if lvl != n_levels - 1:
                level.downsample = Downsample(block_in)
                res //= 2
            self.down.append(level)

        self.mid = nn.Module()
        self.mid.block_1 = ResnetBlock(block_in, block_in, temb)
        self.mid.attn_1 = AttnBlock(block_in)
        self.mid.block_2 = ResnetBlock(block_in, block_in, temb)

        # The up path is built from the lowest resolution upwards but stored
        # in resolution order (up.0 is full resolution), as the checkpoint is.
        ups = []
        for lvl in reversed(range(n_levels)):
            level = nn.Module()
            level.block, level.attn = nn.ModuleList(), nn.ModuleList()
            block_out = ch * cfg.ch_mult[lvl]
            for b in range(cfg.num_res_blocks + 1):
                skip_in = ch * (in_mult[lvl] if b == cfg.num_res_blocks else cfg.ch_mult[lvl])
                level.block.append(ResnetBlock(block_in + skip_in, block_out, temb))
                block_in = block_out
                if res in cfg.attn_resolutions:
                    level.attn.append(AttnBlock(block_in))
            if lvl != 0:
                level.upsample = Upsample(block_in)
                res *= 2
            ups.insert(0, level)
        self.up = nn.ModuleList(ups)
        self.norm_out = group_norm(block_in, EPS)
        self.conv_out = conv2d(block_in, cfg.out_ch, 3, padding=1)

    @property
    def hspace(self) -> List[int]:
        return self.cfg.hspace

    def embed_time(self, t: torch.Tensor) -> torch.Tensor:
        """temb after the 2-layer MLP; this is what the DeltaBlock sees (§2.1)."""
        e = ddpm_timestep_embedding(t, self.cfg.ch)
        return self.temb.dense[1](swish(self.temb.dense[0](e)))

    def encode(self, x, t):
        temb = self.embed_time(t)
        hs = [self.conv_in(x)]
        for lvl, level in enumerate(self.down):
            for b, block in enumerate(level.block):
                z = block(hs[-1], temb)
                if len(level.attn):
                    z = level.attn[b](z)
                hs.append(z)
            if hasattr(level, "downsample"):
                hs.append(level.downsample(hs[-1]))
        z = self.mid.block_1(hs[-1], temb)
        z = self.mid.attn_1(z)
        z = self.mid.block_2(z, temb)
        return z, hs, temb

    def decode(self, h, skips: Sequence[torch.Tensor], temb):
        skips = list(skips)
        z = h
        for lvl in reversed(range(len(self.up))):
            level = self.up[lvl]
            for b, block in enumerate(level.block):
                z = block(torch.cat([z, skips.pop()], dim=1), temb)
                if len(level.attn):
                    z = level.attn[b](z)
            if hasattr(level, "upsample"):
                z = level.upsample(z)
        z = self.conv_out(swish(self.norm_out(z)))
        return z[:, :3]

    def forward(self, x, t):
        h, skips, temb = self.encode(x, t)
        return self.decode(h, skips, temb)
