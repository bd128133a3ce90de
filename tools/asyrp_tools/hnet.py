"""The paper's per-image f_t(h, t), small and nonlinear (docs/method.md §2.1).

Asyrp's f_t is a 1x1 convolution, a nonlinearity and another 1x1 convolution on h with the
timestep embedding added in between.  Here, at every position p of h [C,H,W]:

    f(h, t)[:, p] = W2 · SiLU((W1 ⋆ h)[:, p] + b1 + Wt · e(t))

W1 ⋆ h a K×K convolution over h's positions (K odd, zero padding K//2, so f has h's size);
K = 1 (the default) is the paper's per-position product W1 · h[:, p].  K = 3 goes beyond the
paper: a position sees its neighbours (where the eye is beside it), which a per-position net
cannot tell.
e(t) the sinusoidal timestep embedding of DDPM (Ho et al. 2020, as in the UNet):
e(t) = [sin(t·ω_0) .. sin(t·ω_{E/2-1}), cos(t·ω_0) .. cos(t·ω_{E/2-1})],
ω_i = exp(−ln(10000)·i/(E/2)).  The paper normalizes h inside f_t (GroupNorm); here h is
divided by one fixed scale (the RMS of h over the training faces), folded into W1 when
the file is written, so the engine only multiplies.  W2 starts at zero: the start is
exactly the global Δh_t the net is added to.

A direction with this part stores hnet_w1 [D,C] (K = 1) or [D,C,K,K], hnet_b1 [D],
hnet_wt [D,E] and hnet_w2 [C,D] beside delta_h (direction_io.py); the engine runs it in
src/engine/directions/h-net.ts on h of the generation's previous step, as it does G·h.
"""
from __future__ import annotations

import math
from typing import Dict

import numpy as np
import torch

from .direction_io import check_arrays



def timestep_embedding(t: float, dim: int) -> torch.Tensor:
    """e(t) [dim] as above (dim even), computed in float64 like the engine, then float32."""
    if dim < 2 or dim % 2:
        raise ValueError(f"the timestep embedding needs an even size of at least 2, not {dim}")
    half = dim // 2
    w = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float64) / half)
    a = float(t) * w
    return torch.cat([torch.sin(a), torch.cos(a)]).float()


class HNet(torch.nn.Module):
    def __init__(self, channels: int, hidden: int = 64, embed: int = 32, scale: float = 1.0, seed: int = 0,
                 kernel: int = 1):
        super().__init__()
        if hidden < 1:
            raise ValueError(f"hidden must be at least 1, not {hidden}")
        if kernel < 1 or kernel % 2 == 0:
            raise ValueError(f"the kernel must be odd and at least 1, not {kernel}")
        g = torch.Generator().manual_seed(seed)
        self.embed = embed
        self.kernel = kernel
        # W1 acts on h / scale (unit RMS), so N(0, 1/(C·K²)) gives pre-activations of about unit size.
        self.w1 = torch.nn.Parameter(torch.randn(hidden, channels, kernel, kernel, generator=g)
                                     / math.sqrt(channels * kernel * kernel))
        self.b1 = torch.nn.Parameter(torch.zeros(hidden))
        self.wt = torch.nn.Parameter(torch.randn(hidden, embed, generator=g) / math.sqrt(embed))
        self.w2 = torch.nn.Parameter(torch.zeros(channels, hidden))
        self.scale = float(scale)
        timestep_embedding(0, embed)  # refuses a bad size now, not at the first step

    def forward(self, h: torch.Tensor, t: float) -> torch.Tensor:
        """f(h, t) [B,C,H,W] for h [B,C,H,W]."""
        e = timestep_embedding(t, self.embed)
        z = torch.nn.functional.conv2d(h / self.scale, self.w1, padding=self.kernel // 2)
        z = z + (self.b1 + self.wt @ e)[None, :, None, None]
        return torch.einsum("cd,bdhw->bchw", self.w2, torch.nn.functional.silu(z))

    def arrays(self) -> Dict[str, np.ndarray]:
        """The file's tensors, the scale folded into W1 ([D,C] for a per-position net, as before kernels)."""
        with torch.no_grad():
            w1 = (self.w1 / self.scale).numpy().copy()
            if self.kernel == 1:
                w1 = w1[:, :, 0, 0].copy()
            return {"hnet_w1": w1, "hnet_b1": self.b1.numpy().copy(),
                    "hnet_wt": self.wt.numpy().copy(), "hnet_w2": self.w2.numpy().copy()}

    @classmethod
    def from_arrays(cls, arrays: Dict[str, np.ndarray], scale: float = 1.0) -> "HNet":
        """The net a file holds; scale: the h scale to train it on from here (W1 is unfolded by it)."""
        check_arrays(arrays)
        w1, wt = np.asarray(arrays["hnet_w1"], dtype=np.float32), arrays["hnet_wt"]
        if w1.ndim == 2:
            w1 = w1[:, :, None, None]
        net = cls(w1.shape[1], w1.shape[0], wt.shape[1], scale, kernel=w1.shape[2])
        with torch.no_grad():
            net.w1.copy_(torch.from_numpy(w1 * scale))
            net.b1.copy_(torch.from_numpy(np.asarray(arrays["hnet_b1"], dtype=np.float32)))
            net.wt.copy_(torch.from_numpy(np.asarray(wt, dtype=np.float32)))
            net.w2.copy_(torch.from_numpy(np.asarray(arrays["hnet_w2"], dtype=np.float32)))
        return net

    def widened(self, hidden: int, seed: int = 0, kernel: int = 0) -> "HNet":
        """This net with `hidden` units and a `kernel`×`kernel` W1 (0: its own), its own first: the added
        units start as a fresh net's (random W1 and Wt, zero b1) with zero output weights, and a larger
        kernel holds the old W1 at its centre with zero around it, so f is unchanged at the start and a
        continued run begins exactly where the file ended; the new weights then learn like any other.
        Refuses fewer units or a smaller kernel: dropping some would change the edit the run starts from."""
        have, k = self.w1.shape[0], self.kernel
        kernel = kernel or k
        if hidden < have:
            raise ValueError(f"the h-net has {have} hidden units; it can be widened, not cut to {hidden}")
        if kernel < k:
            raise ValueError(f"the h-net has a {k}x{k} kernel; it can be widened, not cut to {kernel}x{kernel}")
        wide = HNet(self.w1.shape[1], hidden, self.embed, self.scale, seed, kernel)
        with torch.no_grad():
            o = (kernel - k) // 2
            wide.w1[:have] = 0
            wide.w1[:have, :, o:o + k, o:o + k] = self.w1
            wide.b1[:have] = self.b1
            wide.wt[:have] = self.wt
            wide.w2[:, :have] = self.w2
        return wide
