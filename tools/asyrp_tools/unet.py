"""A small DDPM UNet with the structure of the models Asyrp edits.

Same layout as the DDPM/ADM UNets in the official code (see
docs/method.md §1.3): conv_in, a resolution-halving encoder of
ResBlocks (GroupNorm, SiLU, time-embedding projection) whose outputs are kept
as skips, a middle block ResBlock -> self-attention -> ResBlock whose output
is h (the paper's h-space), a decoder that consumes the skips, and
GroupNorm + SiLU + conv_out.  The time embedding is the DDPM sinusoidal one
(sin then cos) followed by a 2-layer MLP, as in the paper's backbone.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class UNetConfig:
    resolution: int = 64
    base_channels: int = 64
    channel_mult: Tuple[int, ...] = (1, 2, 2, 2)
    groups: int = 16
    temb_in: int = 64          # sinusoid dimension before the MLP
    # What the last conv predicts: "eps" (classic DDPM) or "v" (Salimans &
    # Ho 2022, v = sqrt(abar) eps - sqrt(1 - abar) x0).  Either way the
    # model's outputs (forward, forward_edit, the ONNX graph) are epsilon.
    prediction: str = "v"

    def to_dict(self):
        d = asdict(self)
        d["channel_mult"] = list(self.channel_mult)
        return d

    @staticmethod
    def from_dict(d):
        d = dict(d)
        d["channel_mult"] = tuple(d["channel_mult"])
        return UNetConfig(**d)

    @property
    def hspace(self) -> List[int]:
        c = self.base_channels * self.channel_mult[-1]
        s = self.resolution // 2 ** (len(self.channel_mult) - 1)
        return [c, s, s]


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """DDPM sinusoidal embedding: sin half then cos half, frequencies
    exp(-ln(1e4) k / (half - 1)) (docs/method.md §2.1, DDPM variant)."""
    half = dim // 2
    k = torch.arange(half, dtype=torch.float32, device=t.device)
    freqs = torch.exp(-math.log(10000.0) * k / (half - 1))
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, temb: int, groups: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        # Zero-init the last conv so each block starts as identity: faster,
        # steadier early training, which matters with a 2-hour CPU budget.
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class Attention(nn.Module):
    """Single-head spatial self-attention, as in the DDPM middle block."""

    def __init__(self, ch: int, groups: int):
        super().__init__()
        self.norm = nn.GroupNorm(groups, ch)
        self.qkv = nn.Conv2d(ch, 3 * ch, 1)
        self.proj = nn.Conv2d(ch, ch, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x):
        b, c, hh, ww = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, hh * ww).unbind(1)
        w = torch.softmax(torch.einsum("bci,bcj->bij", q, k) / math.sqrt(c), dim=-1)
        out = torch.einsum("bij,bcj->bci", w, v).reshape(b, c, hh, ww)
        return x + self.proj(out)


class UNet(nn.Module):
    def __init__(self, cfg: UNetConfig):
        super().__init__()
        self.cfg = cfg
        # sqrt(abar_t) for t = 0..999 (linear betas 1e-4..2e-2, computed in
        # float64), needed to turn a v prediction into epsilon inside the graph.
        betas = torch.linspace(1e-4, 2e-2, 1000, dtype=torch.float64)
        self.register_buffer("sqrt_abar", torch.cumprod(1 - betas, 0).sqrt().float(), persistent=False)
        ch, g = cfg.base_channels, cfg.groups
        temb = ch * 4
        self.temb_mlp = nn.Sequential(nn.Linear(cfg.temb_in, temb), nn.SiLU(), nn.Linear(temb, temb))
        self.conv_in = nn.Conv2d(3, ch, 3, padding=1)
        chans = [ch * m for m in cfg.channel_mult]
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        cin = ch
        for i, c in enumerate(chans):
            self.down.append(ResBlock(cin, c, temb, g))
            last = i == len(chans) - 1
            self.downsample.append(nn.Identity() if last else nn.Conv2d(c, c, 3, stride=2, padding=1))
            cin = c
        cm = chans[-1]
        self.mid1 = ResBlock(cm, cm, temb, g)
        self.mid_attn = Attention(cm, g)
        self.mid2 = ResBlock(cm, cm, temb, g)
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        cin = cm
        for i in reversed(range(len(chans))):
            c = chans[i]
            self.up.append(ResBlock(cin + c, c, temb, g))
            # Nearest-neighbour upsampling without a conv of its own: the next
            # ResBlock's 3x3 convs smooth it, and a full-resolution conv here
            # cost a quarter of the FLOPs of this small model.
            self.upsample.append(nn.Identity() if i == 0 else nn.Upsample(scale_factor=2.0, mode="nearest"))
            cin = c
        self.norm_out = nn.GroupNorm(g, ch)
        self.conv_out = nn.Conv2d(ch, 3, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    # The forward pass is split in two so that the exporter can run the
    # decoder once over [h ; h_edit] (docs/method.md §1.3, §5: one decoder pass).
    def encode(self, x: torch.Tensor, t: torch.Tensor):
        """Returns (h, skips, temb); h is the middle block's output."""
        temb = self.temb_mlp(timestep_embedding(t, self.cfg.temb_in))
        z = self.conv_in(x)
        skips = []
        for block, down in zip(self.down, self.downsample):
            z = block(z, temb)
            skips.append(z)
            z = down(z)
        z = self.mid2(self.mid_attn(self.mid1(z, temb)), temb)
        return z, skips, temb

    def decode(self, h: torch.Tensor, skips: Sequence[torch.Tensor], temb: torch.Tensor):
        z = h
        n = len(skips)
        for j, (block, up) in enumerate(zip(self.up, self.upsample)):
            z = block(torch.cat([z, skips[n - 1 - j]], dim=1), temb)
            z = up(z)
        return self.conv_out(F.silu(self.norm_out(z)))

    def raw(self, x, t):
        """The network's own prediction (eps or v, per cfg.prediction)."""
        h, skips, temb = self.encode(x, t)
        return self.decode(h, skips, temb)

    def to_eps(self, out, x, t):
        if self.cfg.prediction == "eps":
            return out
        # x_t = sqrt(a) x0 + sqrt(1-a) eps and v = sqrt(a) eps - sqrt(1-a) x0
        # give eps = sqrt(a) v + sqrt(1-a) x_t.  With v, the x0 prediction
        # sqrt(a) x_t - sqrt(1-a) v stays well-conditioned at t near 999,
        # where an eps error is amplified by 1/sqrt(abar) ~ 160 (measured: a
        # pure-eps model at 800 steps predicted x0 with MSE 95 at t = 999 and
        # sampled saturated noise).
        idx = t.round().long().clamp(0, 999)
        sa = self.sqrt_abar[idx].view(-1, 1, 1, 1)
        return sa * out + (1 - sa * sa).clamp_min(0).sqrt() * x

    def forward(self, x, t):
        """Epsilon for x at timestep t."""
        return self.to_eps(self.raw(x, t), x, t)

    def forward_edit(self, x, t, delta_h):
        """(eps, eps_edit, h): eps_edit is the epsilon with h + delta_h in place
        of the middle-block output for the first E = len(delta_h) samples,
        skips unchanged (docs/method.md §1.3).  One decoder pass over B + E rows."""
        h, skips, temb = self.encode(x, t)
        b = x.shape[0]
        e = delta_h.shape[0]
        h_all = torch.cat([h, h[:e] + delta_h], dim=0)
        skips_all = [torch.cat([s, s[:e]], dim=0) for s in skips]
        temb_all = torch.cat([temb, temb[:e]], dim=0)
        out = self.to_eps(self.decode(h_all, skips_all, temb_all),
                          torch.cat([x, x[:e]], dim=0), torch.cat([t, t[:e]], dim=0))
        return out[:b], out[b:], h


def count_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())
