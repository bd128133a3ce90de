"""Optimizing an h-space direction Asyrp's way (paper §3.4; docs/method.md §2.2).

Asyrp trains f_t so that, at every editing timestep t >= t_edit, the predicted
x0 of the asymmetric step, P_t(eps_edit) with eps_edit = eps_theta(x_t, t | h + Δh_t),
moves toward the attribute while staying close to the unedited P_t(eps):

    L_t = λ_guide · guide(P_t(eps_edit), P_t(eps)) + λ_L1 · |P_t(eps_edit) − P_t(eps)|_1

(the paper's λ_CLIP = 1, λ_recon = 3 in the released scripts).  Here the
learned object is the paper's *global* direction (§5.3, docs/method.md §2.3): one
sample-independent Δh_t per editing timestep, shared by all images (or one Δh
for all t with param="global"), optimized directly instead of through f_t and
averaging.  As in the official code there is one optimizer step per editing
timestep per batch, gradients flow through the frozen decoder only (the skips
and the unedited eps do not depend on Δh), and the edited trajectory advances
with the asymmetric update (Eq. 9, eta = 0) on a detached x:

    x_{t'} = sqrt(ᾱ_{t'}) · P_t(eps_edit) + sqrt(1 − ᾱ_{t'}) · eps
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import torch

from .diffusion import abar, ddim_invert, timestep_sequence
from .guides import Guide
from .run_cache import cached, fingerprint


@dataclass
class OptimizeConfig:
    t_edit: int = 500
    generation_steps: int = 40
    inversion_steps: int = 40
    inversion_refine: int = 0    # fixed-point refinements per inversion step (diffusion.ddim_invert)
    cache_dir: Optional[str] = None  # run_cache: reuse x_T across runs on the same model and images
    batch: int = 16
    epochs: int = 6
    # Adam step size relative to the RMS of h, so one setting fits any model's h scale.
    lr: float = 0.05
    guide_weight: float = 1.0
    l1_weight: float = 3.0
    param: str = "per-t"        # "per-t": Δh_t per editing timestep; "global": one Δh for all t
    seed: int = 0
    log: Optional[Callable[[str], None]] = None


@dataclass
class OptimizeResult:
    timesteps: List[int]                 # ascending, the editing timesteps t >= t_edit
    delta_h: torch.Tensor                # [K, C, H, W]
    history: List[Dict[str, float]] = field(default_factory=list)   # per epoch
    h_rms: float = 0.0
    wall_s: float = 0.0
    h_gain: Optional[torch.Tensor] = None  # [C, C]: the h-dependent part (optimize_final, --h-gain)
    h_net: Optional[Dict[str, "np.ndarray"]] = None  # the nonlinear f(h, t) (hnet.py; optimize_final, --h-net)


def _eps_fn(unet):
    def fn(x, t):
        return unet(x, torch.full((x.shape[0],), float(t)))
    return fn


def _to_eps(unet, out, x, t):
    """The decoder's raw output as epsilon (v-prediction UNets convert inside the graph;
    older ones predict epsilon directly)."""
    return unet.to_eps(out, x, t) if hasattr(unet, "to_eps") else out


def predicted_x0(x: torch.Tensor, eps: torch.Tensor, a: float) -> torch.Tensor:
    """P_t(eps) = (x_t − sqrt(1 − ᾱ_t) eps) / sqrt(ᾱ_t)  (paper Eq. 2-3)."""
    return (x - math.sqrt(1 - a) * eps) / math.sqrt(a)


@torch.no_grad()
def invert(unet, x0: torch.Tensor, steps: int, batch: int, refine: int = 0) -> torch.Tensor:
    """x_T of each image by deterministic DDIM inversion, as the engine does (refine: the
    model's defaults.inversionRefinement)."""
    return torch.cat([ddim_invert(_eps_fn(unet), x0[i:i + batch], steps, refine) for i in range(0, len(x0), batch)])


def edit_pass(unet, guide: Guide, x: torch.Tensor, cfg: "OptimizeConfig", delta_at, opt=None):
    """One edited trajectory from x_T down to t_edit for a batch; with `opt`, one
    optimizer step per editing timestep (as the official training does).
    Returns (sum of guide loss, sum of L1, batch size) over the editing steps."""
    seq = timestep_sequence(cfg.generation_steps)
    b = x.shape[0]
    g_sum = l1_sum = 0.0
    for j in range(len(seq) - 1, -1, -1):
        t = seq[j]
        if t < cfg.t_edit:
            break   # below t_edit the edit is over; nothing there depends on Δh
        t_prev = seq[j - 1] if j > 0 else -1
        tt = torch.full((b,), float(t))
        with torch.no_grad():
            h, skips, temb = unet.encode(x, tt)
            eps = _to_eps(unet, unet.decode(h, skips, temb), x, tt)
        with torch.set_grad_enabled(opt is not None):
            # Δh is added to h only; the skips stay those of the unedited pass (docs/method.md §1.3).
            eps_edit = _to_eps(unet, unet.decode(h + delta_at(t), skips, temb), x, tt)
            a = abar(t)
            p_edit = predicted_x0(x, eps_edit, a)
            p_src = predicted_x0(x, eps, a)
            g = guide(p_edit, p_src).mean()
            l1 = (p_edit - p_src).abs().mean()
            if opt is not None:
                loss = cfg.guide_weight * g + cfg.l1_weight * l1
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        g_sum += float(g) * b
        l1_sum += float(l1) * b
        # Asymmetric reverse step (Eq. 9, eta = 0) on a detached x, as in the official training.
        a_p = abar(t_prev)
        x = math.sqrt(a_p) * p_edit.detach() + math.sqrt(1 - a_p) * eps
    return g_sum, l1_sum, b


@torch.no_grad()
def objective(unet, guide: Guide, x_T: torch.Tensor, cfg: "OptimizeConfig", result: Optional["OptimizeResult"] = None,
              strength: float = 1.0):
    """Mean guide loss and L1 per editing step over x_T with a fixed direction (None: Δh = 0)."""
    table = {t: result.delta_h[i] for i, t in enumerate(result.timesteps)} if result else {}
    zero = torch.zeros(unet.cfg.hspace)
    g = l1 = n = 0.0
    steps = sum(1 for t in timestep_sequence(cfg.generation_steps) if t >= cfg.t_edit)
    for i in range(0, len(x_T), cfg.batch):
        gi, li, ni = edit_pass(unet, guide, x_T[i:i + cfg.batch], cfg, lambda t: strength * table.get(t, zero))
        g, l1, n = g + gi, l1 + li, n + ni
    return g / (n * steps), l1 / (n * steps)


def prepare(unet, x0: torch.Tensor, cfg):
    """What both optimizers start from: the frozen UNet, the editing timesteps (t >= t_edit,
    ascending), x_T of each training image by inversion, and RMS(h) at the first editing
    step (it sets the Adam step size, so one setting fits any model's h scale).
    cfg: any config with seed, generation_steps, inversion_steps, inversion_refine, batch and t_edit."""
    torch.manual_seed(cfg.seed)
    unet = unet.eval()
    for p in unet.parameters():
        p.requires_grad_(False)
    seq = timestep_sequence(cfg.generation_steps)
    edit_ts = [t for t in seq if t >= cfg.t_edit]
    if not edit_ts:
        raise ValueError(f"t_edit {cfg.t_edit} leaves no editing timestep")
    cache = getattr(cfg, "cache_dir", None)
    key = fingerprint(unet, repr(unet.cfg), x0, cfg.inversion_steps, cfg.inversion_refine) if cache else ""
    x_T = cached(cache, "inverted", key, lambda: invert(unet, x0, cfg.inversion_steps, cfg.batch, cfg.inversion_refine))
    with torch.no_grad():
        h, _, _ = unet.encode(x_T[: cfg.batch], torch.full((min(cfg.batch, len(x_T)),), float(seq[-1])))
    return unet, edit_ts, x_T, float(h.pow(2).mean().sqrt())


def optimize_direction(unet, guide: Guide, x0: torch.Tensor, cfg: OptimizeConfig) -> OptimizeResult:
    """Finds Δh_t for the editing timesteps of a cfg.generation_steps schedule.
    x0: training images [N,3,R,R] in [-1, 1]."""
    t0 = time.time()
    unet, edit_ts, x_T, h_rms = prepare(unet, x0, cfg)
    c, hh, ww = unet.cfg.hspace
    k_param = 1 if cfg.param == "global" else len(edit_ts)
    # One tensor per Δh_t: a step at timestep t must move Δh_t only.  With a single [K,...]
    # tensor, Adam's momentum would keep moving every other Δh_t at each step (zero gradient,
    # non-zero moment); separate tensors whose .grad stays None are skipped by Adam.
    deltas = [torch.zeros(c, hh, ww, requires_grad=True) for _ in range(k_param)]
    opt = torch.optim.Adam(deltas, lr=cfg.lr * h_rms)
    index = {t: (0 if k_param == 1 else i) for i, t in enumerate(edit_ts)}
    gen = torch.Generator().manual_seed(cfg.seed)
    history = []
    for epoch in range(cfg.epochs):
        order = torch.randperm(len(x_T), generator=gen)
        sums = {"guide": 0.0, "l1": 0.0, "n": 0}
        for i in range(0, len(order), cfg.batch):
            g, l1, n = edit_pass(unet, guide, x_T[order[i:i + cfg.batch]], cfg, lambda t: deltas[index[t]], opt)
            sums["guide"] += g
            sums["l1"] += l1
            sums["n"] += n
        parts = getattr(guide, "parts", None)
        row = {"epoch": epoch + 1, "guide": sums["guide"] / max(1, sums["n"]), "l1": sums["l1"] / max(1, sums["n"]),
               "delta_rms_over_h": float(torch.stack(deltas).detach().pow(2).mean().sqrt()) / (h_rms or 1.0),
               "wall_s": round(time.time() - t0, 1)}
        if parts:   # per-step means of the guide's own terms (e.g. target / keep)
            row.update({k: v / parts["n"] for k, v in parts.items() if k != "n"})
            parts.clear()
        history.append(row)
        if cfg.log:
            cfg.log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    dh = torch.stack(deltas).detach()
    if k_param == 1:
        dh = dh.expand(len(edit_ts), -1, -1, -1)
    # The file stores timesteps ascending (direction-file.ts); edit_ts is already ascending.
    return OptimizeResult(timesteps=edit_ts, delta_h=dh.clone(), history=history, h_rms=h_rms,
                          wall_s=round(time.time() - t0, 1))


@torch.no_grad()
def edit_images(unet, x0: torch.Tensor, result: OptimizeResult, strength: float, t_edit: int,
                generation_steps: int = 40, inversion_steps: int = 40, batch: int = 16,
                inversion_refine: int = 0) -> torch.Tensor:
    """Invert and regenerate with strength·Δh_t for t >= t_edit (no boosting), for quick
    Python-side checks; the reference process is the engine's (`asyrp eval`)."""
    from .diffusion import asyrp_generate
    ts = result.timesteps
    table = {t: result.delta_h[i] for i, t in enumerate(ts)}

    def dh_at(t):   # clamp to the stored range like the engine; interior t are stored exactly
        key = min(ts, key=lambda s: abs(s - t))
        return (strength * table[key])[None]

    outs = []
    for i in range(0, len(x0), batch):
        xT = ddim_invert(_eps_fn(unet), x0[i:i + batch], inversion_steps, inversion_refine)
        outs.append(asyrp_generate(unet, xT, generation_steps, dh_at, t_edit=t_edit, t_boost=0))
    return torch.cat(outs)
