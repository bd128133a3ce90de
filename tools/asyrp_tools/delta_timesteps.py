"""Δh over the editing timesteps: how a direction's per-timestep rows are parametrized and carried over.

time_basis spans Δh_t with a few Legendre polynomials of t (a smooth Δh over the editing interval [t_edit, T]
of the asymmetric reverse process); align_init maps a direction made for one set of timesteps
onto another (a new t_edit or number of steps) as a starting point for the optimizer."""
from __future__ import annotations

from typing import List, Sequence

import torch


def time_basis(timesteps: List[int], n: int) -> torch.Tensor:
    """[K, n]: the first n Legendre polynomials at the K timesteps mapped onto [-1, 1]."""
    k = len(timesteps)
    lo, hi = min(timesteps), max(timesteps)
    u = torch.tensor([(2.0 * (t - lo) / (hi - lo) - 1.0) if hi > lo else 0.0 for t in timesteps], dtype=torch.float64)
    cols = [torch.ones(k, dtype=torch.float64), u]
    for b in range(2, n):  # Bonnet's recursion: b·P_b = (2b−1)·u·P_{b−1} − (b−1)·P_{b−2}
        cols.append(((2 * b - 1) * u * cols[b - 1] - (b - 1) * cols[b - 2]) / b)
    return torch.stack(cols[:n], 1).float()


def align_init(init: torch.Tensor, init_ts: Sequence[int], edit_ts: Sequence[int]) -> torch.Tensor:
    """A starting Δh for edit_ts from one made for init_ts.  Timesteps inside init's range take
    the row of the nearest timestep it has (ties: the later one); timesteps outside it start at
    zero, so a direction moved to a lower t_edit starts as exactly the edit it was (a measured
    failure: repeating Δh at the old t_edit down to t = 300 flipped other attributes on 9 faces
    in 10 for eyes-closed)."""
    if len(init_ts) != init.shape[0]:
        raise ValueError(f"init has {init.shape[0]} rows but {len(init_ts)} timesteps")
    known = [int(t) for t in init_ts]
    lo, hi = min(known), max(known)
    out = torch.zeros((len(edit_ts),) + tuple(init.shape[1:]), dtype=init.dtype)
    for r, t in enumerate(edit_ts):
        if lo <= int(t) <= hi:
            out[r] = init[min(range(len(known)), key=lambda i: (abs(known[i] - int(t)), -known[i]))]
    return out
