"""The iDDPM / guided-diffusion (ADM) UNet used by Asyrp for AFHQ-dog, FFHQ,
MetFaces, CelebA-HQ P2 (ADM-128) and ImageNet 256 uncond (ADM-256)
(docs/method.md §3).  Asyrp's models/improved_ddpm and models/guided_diffusion
build the same modules for the same flags (checkpoint-keys README), so one
implementation serves --arch iddpm and --arch adm.

Key names follow the checkpoints: `time_embed.{0,2}`, `input_blocks.{i}.{j}`,
`middle_block.{0,1,2}`, `output_blocks.{i}.{j}`, `out.{0,2}`; ResBlocks hold
`in_layers.{0,2}`, `emb_layers.1`, `out_layers.{0,3}`, `skip_connection`;
attention holds `norm`, `qkv` (Conv1d), `proj_out` (Conv1d).

Numerics that are not in the state_dict: GroupNorm32 (eps 1e-5, fp32),
[cos | sin] time embedding, scale-shift norm h = norm(h)·(1+s) + b, resblock
up/down by nearest upsampling / 2x2 average pooling inside the block, and the
legacy QKV head split.  `label_emb` is never built: the unconditional ImageNet
checkpoint has none (checkpoint-keys README note 3).  The learned-variance
channels 3..5 are dropped from eps (DDIM ignores them, docs/method.md §1.2).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import adm_timestep_embedding, conv1d, conv2d, group_norm32, linear


@dataclass
class ADMConfig:
    model_channels: int = 128
    channel_mult: Tuple[int, ...] = (1, 1, 2, 2, 4, 4)
    num_res_blocks: int = 1
    attention_ds: Tuple[int, ...] = (16,)   # downsampling factors (image_size // resolution)
    num_head_channels: int = 64
    learn_sigma: bool = True
    resolution: int = 256
    in_channels: int = 3

    def to_dict(self):
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @property
    def out_channels(self) -> int:
        return 6 if self.learn_sigma else 3

    @property
    def hspace(self) -> List[int]:
        s = self.resolution // 2 ** (len(self.channel_mult) - 1)
        return [self.model_channels * self.channel_mult[-1], s, s]

    @property
    def temb_dim(self) -> int:
        return self.model_channels * 4


class ResBlock(nn.Module):
    def __init__(self, cin: int, emb: int, cout: int, up: bool = False, down: bool = False):
        super().__init__()
        self.up, self.down = up, down
        self.in_layers = nn.Sequential(group_norm32(cin), nn.SiLU(), conv2d(cin, cout, 3, padding=1))
        # use_scale_shift_norm=True in every official config: 2·cout outputs
        self.emb_layers = nn.Sequential(nn.SiLU(), linear(emb, 2 * cout))
        self.out_layers = nn.Sequential(group_norm32(cout), nn.SiLU(), nn.Dropout(0.0),
                                        conv2d(cout, cout, 3, padding=1))
        self.skip_connection = nn.Identity() if cin == cout else conv2d(cin, cout, 1)

    def _resample(self, x):
        if self.up:
            return F.interpolate(x, scale_factor=2.0, mode="nearest")
        if self.down:
            return F.avg_pool2d(x, kernel_size=2, stride=2)
        return x

    def forward(self, x, emb):
        if self.up or self.down:
            # resample between the norm/act and the conv, and on the skip path
            h = self.in_layers[1](self.in_layers[0](x))
            h = self.in_layers[2](self._resample(h))
            x = self._resample(x)
        else:
            h = self.in_layers(x)
        scale, shift = self.emb_layers(emb).type(h.dtype)[:, :, None, None].chunk(2, dim=1)
        h = self.out_layers[0](h) * (1 + scale) + shift
        for layer in self.out_layers[1:]:
            h = layer(h)
        return self.skip_connection(x) + h


class AttentionBlock(nn.Module):
    def __init__(self, c: int, head_channels: int):
        super().__init__()
        self.heads = c // head_channels
        self.norm = group_norm32(c)
        self.qkv = conv1d(c, 3 * c, 1)
        self.proj_out = conv1d(c, c, 1)

    def forward(self, x):
        b, c, hh, ww = x.shape
        xf = x.reshape(b, c, hh * ww)
        qkv = self.qkv(self.norm(xf))
        # Legacy order: the 3C channels are split per head first, then into
        # q, k, v of `ch` channels each (QKVAttentionLegacy).
        ch = c // self.heads
        q, k, v = qkv.reshape(b * self.heads, 3 * ch, hh * ww).split(ch, dim=1)
        scale = 1.0 / math.sqrt(math.sqrt(ch))
        w = torch.einsum("bct,bcs->bts", q * scale, k * scale)
        w = torch.softmax(w.float(), dim=-1).type(w.dtype)
        a = torch.einsum("bts,bcs->bct", w, v).reshape(b, c, hh * ww)
        return (xf + self.proj_out(a)).reshape(b, c, hh, ww)


class EmbedSequential(nn.Sequential):
    """Passes the time embedding to the ResBlocks only."""

    def forward(self, x, emb):
        for layer in self:
            x = layer(x, emb) if isinstance(layer, ResBlock) else layer(x)
        return x


class ADM(nn.Module):
    family = "adm"

    def __init__(self, cfg: ADMConfig):
        super().__init__()
        self.cfg = cfg
        mc, emb = cfg.model_channels, cfg.temb_dim
        hc = cfg.num_head_channels
        self.time_embed = nn.Sequential(linear(mc, emb), nn.SiLU(), linear(emb, emb))

        ch = mc
        self.input_blocks = nn.ModuleList([EmbedSequential(conv2d(cfg.in_channels, ch, 3, padding=1))])
        chans, ds = [ch], 1
        for lvl, mult in enumerate(cfg.channel_mult):
            for _ in range(cfg.num_res_blocks):
                layers = [ResBlock(ch, emb, mult * mc)]
                ch = mult * mc
                if ds in cfg.attention_ds:
                    layers.append(AttentionBlock(ch, hc))
                self.input_blocks.append(EmbedSequential(*layers))
                chans.append(ch)
            if lvl != len(cfg.channel_mult) - 1:
                self.input_blocks.append(EmbedSequential(ResBlock(ch, emb, ch, down=True)))
                chans.append(ch)
                ds *= 2

        self.middle_block = EmbedSequential(ResBlock(ch, emb, ch), AttentionBlock(ch, hc), ResBlock(ch, emb, ch))

        self.output_blocks = nn.ModuleList()
        for lvl, mult in reversed(list(enumerate(cfg.channel_mult))):
            for i in range(cfg.num_res_blocks + 1):
                layers = [ResBlock(ch + chans.pop(), emb, mc * mult)]
                ch = mc * mult
                if ds in cfg.attention_ds:
                    layers.append(AttentionBlock(ch, hc))
                if lvl and i == cfg.num_res_blocks:
                    layers.append(ResBlock(ch, emb, ch, up=True))
                    ds //= 2
                self.output_blocks.append(EmbedSequential(*layers))
        self.out = nn.Sequential(group_norm32(ch), nn.SiLU(), conv2d(mc, cfg.out_channels, 3, padding=1))

    @property
    def hspace(self) -> List[int]:
        return self.cfg.hspace

    def embed_time(self, t):
        """emb after the MLP; this is what the DeltaBlock sees (§2.1)."""
        return self.time_embed(adm_timestep_embedding(t, self.cfg.model_channels))

    def encode(self, x, t):
        emb = self.embed_time(t)
        hs, z = [], x
        for block in self.input_blocks:
            z = block(z, emb)
            hs.append(z)
        return self.middle_block(z, emb), hs, emb

    def decode(self, h, skips: Sequence[torch.Tensor], emb):
        skips = list(skips)
        z = h
        for block in self.output_blocks:
            z = block(torch.cat([z, skips.pop()], dim=1), emb)
        return self.out(z)[:, :3]

    def forward(self, x, t):
        h, skips, emb = self.encode(x, t)
        return self.decode(h, skips, emb)
