"""The differentiable generation the final-image objective runs through: DDIM from x_T to x_0 with Δh_t added to
h at every step t >= t_edit (the paper's asymmetric reverse process, Eq. 9: P_t from eps_edit, the direction
term from eps), optionally h-dependent (Δh_t + G·h_prev or + f(h_prev)), as the engine runs it.  No boosting.
Split out of optimize_final.py, which imports it from here."""
from __future__ import annotations

import math
from typing import Optional, Tuple

import torch
from torch.utils.checkpoint import checkpoint

from .diffusion import abar, timestep_sequence
from .optimize import _to_eps, predicted_x0


def _step(unet, x: torch.Tensor, t: int, t_prev: int, dh: Optional[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
    """One generation step; with dh, Eq. 9: P_t from eps_edit, direction from eps.
    Returns x_{t_prev} and h at x_t (unedited, as the engine's graph outputs it)."""
    tt = torch.full((x.shape[0],), float(t))
    h, skips, temb = unet.encode(x, tt)
    eps = _to_eps(unet, unet.decode(h, skips, temb), x, tt)
    eps_p = eps if dh is None else _to_eps(unet, unet.decode(h + dh, skips, temb), x, tt)
    a, a_p = abar(t), abar(t_prev)
    return math.sqrt(a_p) * predicted_x0(x, eps_p, a) + math.sqrt(1 - a_p) * eps, h


def apply_gain(gain: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """G·h at every position of h [B,C,H,W]: the h-dependent part of Δh (direction_io.py)."""
    return torch.einsum("oc,bchw->bohw", gain, h)


def generate(unet, x_T: torch.Tensor, steps: int, t_edit: int, delta_at=None, grad: bool = False,
             checkpointing: bool = False) -> torch.Tensor:
    """Generation from x_T (no boosting).  With grad, differentiable in Δh through
    every step.  delta_at(t) gives Δh_t [1 or B,C,H,W], or a pair (Δh_t, G) for an
    h-dependent direction: Δh_t + G·h_prev, h_prev the h of the previous step (none at
    the first), exactly as the engine does it; or (Δh_t, fn): Δh_t + fn(h_prev)."""
    seq = timestep_sequence(steps)
    x = x_T
    h_prev = None
    for j in range(len(seq) - 1, -1, -1):
        t, t_prev = seq[j], (seq[j - 1] if j > 0 else -1)
        dh = delta_at(t) if (delta_at is not None and t >= t_edit) else None
        if isinstance(dh, tuple):
            # (Δh_t, G) or (Δh_t, h ↦ f(h)): the h-dependent part reads h of the previous step.
            base, part = dh
            if h_prev is None or part is None:
                dh = base
            else:
                dh = base + (apply_gain(part, h_prev) if torch.is_tensor(part) else part(h_prev))
        if grad and not checkpointing:
            x, h_prev = _step(unet, x, t, t_prev, dh)
        elif grad:
            # The step is re-run during backward, after this loop has moved on: bind t now.
            if dh is None:
                x, h_prev = checkpoint(lambda x_, t=t, tp=t_prev: _step(unet, x_, t, tp, None), x, use_reentrant=False)
            else:
                x, h_prev = checkpoint(lambda x_, d_, t=t, tp=t_prev: _step(unet, x_, t, tp, d_), x, dh, use_reentrant=False)
        else:
            with torch.no_grad():
                x, h_prev = _step(unet, x, t, t_prev, dh)
    return x
