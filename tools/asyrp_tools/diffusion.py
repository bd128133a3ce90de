"""DDPM schedule and the DDIM / Asyrp steps, mirroring the engine (docs/method.md §1).

Used for training targets, for the early h-space check and for Python-side
evaluation.  alpha-bar is computed from float64 betas, as the engine does.
"""
from __future__ import annotations

from typing import Callable, List, Optional

import numpy as np
import torch

T = 1000


def alphas_cumprod(beta_start: float = 1e-4, beta_end: float = 2e-2, steps: int = T) -> np.ndarray:
    betas = np.linspace(beta_start, beta_end, steps, dtype=np.float64)
    return np.cumprod(1.0 - betas)


ABAR = alphas_cumprod()


def abar(t: int) -> float:
    """alpha-bar at timestep t; t = -1 (past the last step) is 1 (docs/method.md §1.2)."""
    return 1.0 if t < 0 else float(ABAR[t])


def timestep_sequence(n: int) -> List[int]:
    """trunc(linspace(0, 1, n) * 999 + 1e-6), the official uniform skip."""
    return [int(v) for v in np.linspace(0.0, 1.0, n) * (T - 1) + 1e-6]


def q_sample(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps (DDPM forward process)."""
    a = torch.as_tensor(ABAR, dtype=torch.float32)[t.long()].view(-1, 1, 1, 1)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


EpsFn = Callable[[torch.Tensor, int], torch.Tensor]


@torch.no_grad()
def ddim_invert(eps_fn: EpsFn, x0: torch.Tensor, n: int, refine: int = 0) -> torch.Tensor:
    """Deterministic DDIM inversion from t=0 to t=999 with (n-1)·(1 + refine) model calls.

    Plain DDIM inversion takes ε at the lower timestep, ε_θ(x_t, t), where the generation
    step it must undo uses ε_θ(x_t', t') at the upper one.  refine > 0 solves for x_t' by
    fixed-point iteration, re-evaluating ε at the current guess of x_t' (as in AIDI, Pan et
    al. 2023, and ReNoise, Garibi et al. 2024): the generation step then maps x_t' back to
    x_t almost exactly (toyfaces-32: 35 dB -> 48 dB reconstruction, docs/research/directions.md)."""
    seq = timestep_sequence(n)
    x = x0
    for t, t_next in zip(seq[:-1], seq[1:]):
        a, a_n = abar(t), abar(t_next)
        eps = eps_fn(x, t)
        for i in range(refine + 1):
            if i:
                eps = eps_fn(x_next, t_next)
            x_next = a_n ** 0.5 * (x - (1 - a) ** 0.5 * eps) / a ** 0.5 + (1 - a_n) ** 0.5 * eps
        x = x_next
    return x


@torch.no_grad()
def asyrp_generate(model, x_T: torch.Tensor, n: int, delta_h_fn: Optional[Callable[[int], torch.Tensor]] = None,
                   t_edit: int = 500, t_boost: int = 0, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Generation with the asymmetric step (paper Eq. 9): for t >= t_edit the
    predicted x0 uses eps_edit (h + delta_h) and the direction term the
    unedited eps; below t_boost the step is DDIM with eta = 1."""
    seq = timestep_sequence(n)
    x = x_T
    b = x.shape[0]
    for i in range(len(seq) - 1, -1, -1):
        t = seq[i]
        t_prev = seq[i - 1] if i > 0 else -1
        tt = torch.full((b,), float(t))
        if delta_h_fn is not None and t >= t_edit:
            dh = delta_h_fn(t).expand(b, -1, -1, -1)
            eps, eps_e, _ = model.forward_edit(x, tt, dh)
        else:
            eps = model(x, tt)
            eps_e = eps
        a, a_p = abar(t), abar(t_prev)
        x0_pred = (x - (1 - a) ** 0.5 * eps_e) / a ** 0.5
        eta = 1.0 if (t < t_boost and t_prev >= 0) else 0.0
        sigma = eta * ((1 - a / a_p) * (1 - a_p) / (1 - a)) ** 0.5
        x = a_p ** 0.5 * x0_pred + max(0.0, 1 - a_p - sigma ** 2) ** 0.5 * eps
        if sigma > 0:
            x = x + sigma * torch.randn(x.shape, generator=generator)
    return x
