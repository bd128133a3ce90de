"""Optimizing a global Δh_t against the *finished* edit (a variant of docs/method.md §2.2).

The paper's loss (asyrp_tools/optimize.py) judges each editing step by its own
predicted x0, P_t(eps_edit), with one optimizer step per timestep on a detached
trajectory.  On the 32x32 default model that objective moved the target but also
hair length, face shape and background: at t >= t_edit, P_t is a blurry mean
face, so neither the reader's keep term nor the L1 term can see those changes
(docs/research/directions.md).  This variant keeps everything else of the
method - the same global per-timestep Δh_t added to h only (skips unchanged),
the asymmetric step (Eq. 9, eta = 0) for t >= t_edit, plain DDIM below - but
differentiates through the whole generation, so the loss is measured on the
image the user gets:

    L = guide(x0_edit, x0_src) + λ_L1 · |x0_edit − x0_src|_1
        [+ λ_pair · |(x0_edit − x0_src) − (pos − neg)|_1   with example pairs]

x0_edit: the generation from the inverted x_T with Δh_t (Eq. 9 then DDIM down to
t = 0); x0_src: the same generation with Δh = 0 (the reconstruction).  The guide
is pluggable exactly as in optimize.py.  Each step of the chain is
gradient-checkpointed, so memory stays that of one UNet pass per step.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch

from .delta_timesteps import align_init, time_basis  # noqa: F401  (importable from here as before)
from .delta_window import gaussian_window
from .final_generation import _step, apply_gain, generate  # noqa: F401  (_step: importable from here as before)
from .guides import Guide
from .hnet import HNet
from .optimize import OptimizeResult, prepare
from .pair_loss import pair_error  # noqa: F401  (the pair term; importable from here as before)
from .run_cache import cached, fingerprint


@dataclass
class FinalConfig:
    t_edit: int = 500
    generation_steps: int = 40
    inversion_steps: int = 40
    inversion_refine: int = 0    # as the engine inverts: the model's defaults.inversionRefinement
    cache_dir: Optional[str] = None  # run_cache: reuse x_T and the reconstruction across runs
    batch: int = 16
    iterations: int = 60
    # Adam step relative to the RMS of h (one setting fits any model's h scale).
    lr: float = 0.03
    guide_weight: float = 1.0
    l1_weight: float = 3.0
    pair_weight: float = 10.0
    # Weight of the pair term on pixels the pair does not change (pos == neg: background,
    # skin, the face outline), relative to the changed ones.  A global Δh that turns hair red
    # also tints the background and moves the hair line a little; averaged with the hair
    # pixels those are a small part of the L1.  Measured: 4 changed which held-out faces
    # flip, not how many, and cost success (docs/research/directions.md); 0.25 (the hair 4x)
    # kept more blonde hair on medium skin and less of the rest.
    pair_outside: float = 1.0
    # The pair term as the twin judge reads an edit: the changed region's mean error plus
    # pair_outside times the mean outside it and its 1-px border (pair_error's balance).
    pair_balance: bool = False
    # With pair_balance: the outside pixels on the face's own edges weigh 1 + this (pair_loss.py):
    # the judge's outside change of the re-made smile was half a sub-pixel move of those edges.
    pair_outline: float = 0.0
    # With pair_balance: each face's region error divided by the size of its change (pair_loss.py).
    pair_relative: bool = False
    # With pair_balance, instead of pair_relative: the region term as the judge's L2 ratio (1 − progress)
    # plus this weight times its shortfall from PROGRESS_AIM (pair_loss.py); None: off.
    pair_progress: Optional[float] = None
    # With pair_balance: a face's outside term counts only above this mean change (0..255 units; pair_loss.py).
    pair_free: float = 0.0
    # (cy, cx, sy, sx): Δh_t is multiplied by this Gaussian window over h's positions (delta_window.py),
    # an init included; None: Δh over all of h, as the paper.
    window: Optional[Tuple[float, float, float, float]] = None
    seed: int = 0
    # Same random shift of both images before the guide reads them: an offset that
    # only fools the reader at one pixel alignment does not survive it.
    augment_shift: int = 1
    # Recompute each step in the backward pass instead of keeping its activations:
    # about 1/3 slower, memory of one step instead of all (batch 16 at 32x32 needs
    # about 6 GB without it).
    checkpointing: bool = False
    # 0: one free Δh per editing timestep.  B > 0: Δh_t = Σ_b P_b(u_t)·c_b with the
    # first B Legendre polynomials of u_t (the editing timesteps mapped onto [-1, 1]).
    # The paper finds Δh_t nearly constant over t (docs/method.md §2.2); projecting the
    # freely optimized directions onto B = 2 kept their held-out success and
    # preservation when measured on the first default model, so the rest was fitting noise of the training
    # batches, and B = 2 trains 1/8-1/14 of the values.
    time_basis: int = 0
    # Cosine decay of the Adam step to this fraction by the last iteration (1: constant):
    # the last batches then cannot drag Δh toward themselves.
    lr_end: float = 1.0
    # Seconds the Adam steps may take (None: no limit). On a shared machine a step costs 30 s or 150 s as the other
    # work comes and goes: the decay then follows the larger of the share of steps done and the share of this time
    # spent, and the run stops after the step that spends it, so it ends on time with its step fully decayed.
    time_budget_s: Optional[float] = None
    # Also learn an h-dependent part: Δh_t(h) = Δh_t + G·h (G [C,C], a 1x1 convolution of h,
    # zero at the start), h from the previous generation step as the engine reads it
    # (src/engine/diffusion/trajectory.ts).  A linear form of the paper's f_t (docs/method.md §2.1)
    # for edits whose shift must depend on the image: a global Δh turned brown hair red but
    # not black and blonde at once (docs/research/directions.md).
    h_gain: bool = False
    # Edit only for t_edit <= t <= t_max (None: every t >= t_edit, the paper's interval); Δh is
    # zero above.  To test whether early steps (layout) or late ones (colour) cause an edit's
    # side effects: hair-red re-optimized at t <= 650 only flipped face shapes as often as the
    # whole edit, so its flips come from the colour at the hair line (docs/research/directions.md).
    t_max: Optional[int] = None
    # Adam step of G relative to cfg.lr / C.  G's gradient is Σ_p ∂L/∂Δh[o,p]·h[c,p], coherent
    # with h, so one Adam step of every entry moves G·h by about C·mean|h|·step: at cfg.lr / C
    # that is about one step of Δh itself.  (Scaled by 1/sqrt(C) instead, the first steps
    # moved Δh by as much as the whole direction and training success fell from 50 % to 0-34 %
    # on hair-red; docs/research/directions.md.)
    gain_lr: float = 1.0
    # Also learn the paper's nonlinear f_t(h, t) with this many hidden units (0: none):
    # Δh_t(h) = Δh_t + W2·SiLU(W1·h + b1 + Wt·e(t)) at every position, h from the previous
    # step (hnet.py).  G·h gained on one slice of faces and not another for hair-red
    # (docs/research/directions.md); a per-position nonlinearity can switch the shift off
    # where h says the hair line or face outline is, which no linear G can.
    h_net: int = 0
    h_net_embed: int = 32
    # K of the net's first layer, a K×K convolution over h (hnet.py; 1: per position).  An init
    # with a smaller kernel is widened around its centre (the run starts exactly at the init).
    h_net_kernel: int = 1
    # Adam step of the net relative to cfg.lr, sized so one step of each of its layers moves
    # f about as much as one step of Δh moves Δh (see optimize_final).
    h_net_lr: float = 1.0
    log: Optional[Callable[[str], None]] = None
    log_every: int = 5


def _shift(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    return torch.roll(x, shifts=(dy, dx), dims=(2, 3)) if (dy or dx) else x


def optimize_final(unet, guide: Guide, x0: torch.Tensor, cfg: FinalConfig,
                   init: Optional[torch.Tensor] = None, judge=None, pos: Optional[torch.Tensor] = None,
                   init_ts: Optional[Sequence[int]] = None,
                   mix_with: Optional[Tuple[Dict[int, torch.Tensor], int]] = None,
                   init_gain: Optional[torch.Tensor] = None,
                   init_net: Optional[Dict[str, "np.ndarray"]] = None,
                   pos_negative: Optional[torch.Tensor] = None) -> OptimizeResult:
    """Finds Δh_t (one per editing timestep of a cfg.generation_steps schedule) by Adam
    on the loss above.  x0: training images [N,3,R,R] in [-1, 1].  init: a starting
    Δh [K,C,H,W] for the same timesteps (e.g. the paper-loss result), or, with init_ts
    (its timesteps), for other ones: it is resampled (align_init).  judge: an
    object with success(before, after) / preserved(before, after) for logging.
    pos: the example pairs' images with the attribute, one per x0 (then x0 are the
    pairs' images without it).  mix_with: (Δh rows by timestep, t_edit) of another
    direction at strength 1; every second batch then adds it, with the generation edited by
    it alone as that batch's reference (for the guide, the L1 and the pair terms alike), so the
    direction learns to work on top of it (the
    engine's mix: each direction acts for t >= its own t_edit, src/engine/pipeline/edit-plan.ts).
    init_gain: a starting G [C,C] with cfg.h_gain (else G starts at zero, so the start is
    exactly the init's global edit).  init_net: a starting h-net (hnet.py tensors) with
    cfg.h_net (else the net's output starts at zero); with fewer hidden units than cfg.h_net
    it is widened by units whose output weights are zero (HNet.widened), more are refused.
    pos_negative: what each image of x0 should
    become at strength −1 (a smile direction's frown twins); every second batch is then generated
    with −Δh_t (and −f(h)), as the engine applies a negative strength, and judged against it."""
    if pos is not None and tuple(pos.shape) != tuple(x0.shape):
        raise ValueError(f"pos {tuple(pos.shape)} must pair one-to-one with the images {tuple(x0.shape)}")
    if pos_negative is not None:
        if pos is None or tuple(pos_negative.shape) != tuple(x0.shape):
            raise ValueError("pos_negative needs pos and must pair one-to-one with the images")
        if mix_with is not None:
            raise ValueError("pos_negative and mix_with cannot be combined: each takes every second batch")
    if not cfg.pair_outside >= 0:
        raise ValueError(f"pair_outside must be 0 or more, not {cfg.pair_outside}")
    if not cfg.pair_outline >= 0 or ((cfg.pair_outline or cfg.pair_relative or cfg.pair_progress is not None) and not cfg.pair_balance):
        raise ValueError(f"pair_outline (here {cfg.pair_outline}) must be 0 or more; it, pair_relative and pair_progress need pair_balance")
    if not cfg.pair_free >= 0 or (cfg.pair_free and not cfg.pair_balance):
        raise ValueError(f"pair_free (here {cfg.pair_free}) must be 0 or more and needs pair_balance")
    if cfg.pair_progress is not None and (cfg.pair_relative or not cfg.pair_progress >= 0):
        raise ValueError(f"pair_progress (a hinge weight >= 0, here {cfg.pair_progress}) replaces pair_relative; give one of them")
    # Settings are checked before the inversion, which is most of a short run's time.
    if cfg.t_max is not None:
        if cfg.t_max < cfg.t_edit:
            raise ValueError(f"t_max {cfg.t_max} is below t_edit {cfg.t_edit}: no timestep left to edit")
        if cfg.h_gain or cfg.h_net:
            # The engine applies a file's h-dependent part at every t >= tEdit; it has no upper bound to honour.
            raise ValueError("t_max cannot be combined with h_gain or h_net")
    if init_net is not None and not cfg.h_net:
        raise ValueError("init has an h-net: continue it with h_net on (--h-net)")
    if cfg.h_net < 0:
        raise ValueError(f"h_net must be 0 (none) or a number of hidden units, not {cfg.h_net}")
    if cfg.time_budget_s is not None and not cfg.time_budget_s > 0:
        raise ValueError(f"time_budget_s must be more than 0 seconds, not {cfg.time_budget_s}")
    t0 = time.time()
    unet, edit_ts, x_T, h_rms = prepare(unet, x0, cfg)
    # The unedited generation does not depend on t_edit (no Δh anywhere).
    src = cached(cfg.cache_dir, "reconstructed", fingerprint(unet, repr(unet.cfg), x_T, cfg.generation_steps) if cfg.cache_dir else "",
                 lambda: torch.cat([generate(unet, x_T[i:i + cfg.batch], cfg.generation_steps, cfg.t_edit)
                                    for i in range(0, len(x_T), cfg.batch)]))
    c, hh, ww = unet.cfg.hspace
    k = len(edit_ts)
    if init is not None and init_ts is not None:
        init = align_init(init, init_ts, edit_ts)
    if init is not None and tuple(init.shape) != (k, c, hh, ww):
        raise ValueError(f"init Δh {tuple(init.shape)} does not match {(k, c, hh, ww)}")
    if cfg.time_basis > 0:
        if cfg.time_basis > k:
            raise ValueError(f"time_basis {cfg.time_basis} exceeds the {k} editing timesteps")
        phi = time_basis(edit_ts, cfg.time_basis)
        # An init is projected onto the basis (least squares over the timesteps).
        start = (torch.linalg.lstsq(phi, init.float().reshape(k, -1)).solution if init is not None
                 else torch.zeros(cfg.time_basis, c * hh * ww))
        params = start.reshape(cfg.time_basis, c, hh, ww).clone().requires_grad_(True)
        expand = lambda: torch.einsum("kb,bchw->kchw", phi, params)  # noqa: E731
    else:
        params = (init.clone().float() if init is not None else torch.zeros(k, c, hh, ww)).requires_grad_(True)
        expand = lambda: params  # noqa: E731
    gain = None
    if cfg.h_gain:
        if init_gain is not None and tuple(init_gain.shape) != (c, c):
            raise ValueError(f"init h_gain {tuple(init_gain.shape)} does not match {(c, c)}")
        gain = (init_gain.clone().float() if init_gain is not None else torch.zeros(c, c)).requires_grad_(True)
    elif init_gain is not None:
        raise ValueError("init has an h_gain: continue it with h_gain on (--h-gain)")
    net = None
    if cfg.h_net:
        if init_net is not None:
            net = HNet.from_arrays(init_net, scale=h_rms or 1.0)
            if net.w1.shape[1] != c or net.embed != cfg.h_net_embed or net.w1.shape[0] > cfg.h_net:
                raise ValueError(f"init h-net has {net.w1.shape[0]} hidden units for {net.w1.shape[1]} channels and a "
                                 f"{net.embed}-value embedding; asked for {cfg.h_net}, {c} and {cfg.h_net_embed} "
                                 "(a net can be widened, not cut)")
            # A wider net than the init's: the added units have zero output weights (HNet.widened),
            # so the run starts from exactly the init's edit.
            net = net.widened(cfg.h_net, seed=cfg.seed, kernel=max(cfg.h_net_kernel, net.kernel))
        else:
            net = HNet(c, cfg.h_net, cfg.h_net_embed, scale=h_rms or 1.0, seed=cfg.seed, kernel=cfg.h_net_kernel)
    if cfg.window is not None:
        win = gaussian_window(hh, ww, *cfg.window)
        free = expand
        expand = lambda: free() * win  # noqa: E731
    if cfg.t_max is not None:
        active = torch.tensor([float(t <= cfg.t_max) for t in edit_ts]).reshape(k, 1, 1, 1)
        full = expand
        expand = lambda: full() * active  # noqa: E731
    index = {t: i for i, t in enumerate(edit_ts) if cfg.t_max is None or t <= cfg.t_max}

    def own(t, delta, sign=1.0):
        # sign −1: the engine's negative strength, every part of Δh_t(h) scaled by it (edit-plan.ts).
        if t not in index:
            return None
        row = sign * delta[index[t]][None]
        if gain is not None and net is not None:
            return row, (lambda h, t=t: sign * (apply_gain(gain, h) + net(h, t)))
        if net is not None:
            return row, (lambda h, t=t: sign * net(h, t))
        return row if gain is None else (row, sign * gain)

    mix_src = mix_t_edit = None
    if mix_with is not None:
        mix_rows, mix_t = mix_with
        bad = [t for t, r in mix_rows.items() if tuple(r.shape) != (c, hh, ww)]
        if bad:
            raise ValueError(f"mix_with Δh {tuple(mix_rows[bad[0]].shape)} at t = {bad[0]} does not match this model's "
                             f"h {(c, hh, ww)}: it was made for another model")
        mix_t_edit = min(cfg.t_edit, mix_t)
        other = lambda t: mix_rows[t][None] if (t >= mix_t and t in mix_rows) else None  # noqa: E731
        mix_src = torch.cat([generate(unet, x_T[i:i + cfg.batch], cfg.generation_steps, mix_t_edit, other)
                             for i in range(0, len(x_T), cfg.batch)])

        def mixed(t, delta):
            mine, o = own(t, delta), other(t)
            if o is None or mine is None:
                return mine if o is None else o
            return (mine[0] + o, mine[1]) if isinstance(mine, tuple) else mine + o
    groups = [{"params": [params], "lr": cfg.lr * h_rms}]
    if gain is not None:
        groups.append({"params": [gain], "lr": cfg.lr * cfg.gain_lr / c})
    if net is not None:
        # Adam moves every entry by about its step, coherently with the layer's input, so a
        # layer's output moves by about (inputs × step × input size): W1 sees C unit-RMS values,
        # Wt E values of size ~0.7, W2 D activations of size ~0.5.  Each step is sized to move
        # the pre-activation by ~0.05 and f by one step of Δh (cfg.lr × RMS of h).
        d_hidden, e = cfg.h_net, cfg.h_net_embed
        # Divided by W1's fan-in (C·K²): a step moves a pre-activation as much for any kernel.
        groups.append({"params": [net.w1], "lr": cfg.h_net_lr * 0.05 / (c * net.kernel ** 2)})
        groups.append({"params": [net.b1], "lr": cfg.h_net_lr * 0.05})
        groups.append({"params": [net.wt], "lr": cfg.h_net_lr * 0.05 / e})
        groups.append({"params": [net.w2], "lr": cfg.h_net_lr * cfg.lr * (h_rms or 1.0) * 2 / d_hidden})
    opt = torch.optim.Adam(groups)
    base_lrs = [g["lr"] for g in opt.param_groups]
    started = time.time()

    def spent(it: int) -> float:
        # Share of the run done after `it` steps: of the steps, or of the time budget if that is further along.
        share = it / cfg.iterations
        if cfg.time_budget_s is not None:
            share = max(share, (time.time() - started) / cfg.time_budget_s)
        return min(share, 1.0)

    def decay_to(share: float) -> None:
        # Cosine decay of every group's step from its base to lr_end of it.
        f = cfg.lr_end + (1 - cfg.lr_end) * 0.5 * (1 + math.cos(math.pi * share))
        for g, lr0 in zip(opt.param_groups, base_lrs):
            g["lr"] = lr0 * f
    gen = torch.Generator().manual_seed(cfg.seed)
    history: List[Dict[str, float]] = []
    order = torch.randperm(len(x_T), generator=gen)
    cursor = 0
    window: Dict[str, float] = {}
    for it in range(1, cfg.iterations + 1):
        if cursor + cfg.batch > len(order):
            order, cursor = torch.randperm(len(x_T), generator=gen), 0
        idx = order[cursor:cursor + cfg.batch]
        cursor += cfg.batch
        delta = expand()
        if mix_src is not None and it % 2 == 0:
            ref = mix_src[idx]
            out = generate(unet, x_T[idx], cfg.generation_steps, mix_t_edit, lambda t: mixed(t, delta), grad=True,
                           checkpointing=cfg.checkpointing)
        elif pos_negative is not None and it % 2 == 0:
            ref = src[idx]
            out = generate(unet, x_T[idx], cfg.generation_steps, cfg.t_edit, lambda t: own(t, delta, -1.0), grad=True,
                           checkpointing=cfg.checkpointing)
        else:
            ref = src[idx]
            out = generate(unet, x_T[idx], cfg.generation_steps, cfg.t_edit, lambda t: own(t, delta), grad=True,
                           checkpointing=cfg.checkpointing)
        s = cfg.augment_shift
        dy, dx = (torch.randint(-s, s + 1, (2,), generator=gen).tolist() if s else (0, 0))
        g = guide(_shift(out, dy, dx), _shift(ref, dy, dx)).mean()
        l1 = (out - ref).abs().mean()
        loss = cfg.guide_weight * g + cfg.l1_weight * l1
        pair = None
        if pos is not None:
            # Measured from this batch's reference: on a mixed batch the pair's change is asked on
            # top of the other direction's edit (edits add in h), not in place of it.
            goal = pos_negative if (pos_negative is not None and it % 2 == 0) else pos
            pair = pair_error(out, ref, x0[idx], goal[idx], cfg.pair_outside, cfg.pair_balance, cfg.pair_outline,
                              cfg.pair_relative, cfg.pair_progress, cfg.pair_free)
            loss = loss + cfg.pair_weight * pair
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        done = spent(it)
        decay_to(done)
        stats = {"loss": float(loss), "guide": float(g), "l1": float(l1)}
        if pair is not None:
            stats["pair"] = float(pair)
        if judge is not None:
            stats["success"] = float(judge.success(ref, out.detach()).float().mean())
            stats["preserved"] = float(judge.preserved(ref, out.detach()).float().mean())
        for k, v in stats.items():
            window[k] = window.get(k, 0.0) + v
        window["n"] = window.get("n", 0.0) + 1
        last = it == cfg.iterations or done >= 1.0
        if it % cfg.log_every == 0 or last:
            n = window.pop("n")
            row = {"iteration": it, **{k: v / n for k, v in window.items()},
                   "delta_rms_over_h": float(expand().detach().pow(2).mean().sqrt()) / (h_rms or 1.0),
                   **({"gain_rms": float(gain.detach().pow(2).mean().sqrt())} if gain is not None else {}),
                   **({"net_w2_rms": float(net.w2.detach().pow(2).mean().sqrt())} if net is not None else {}),
                   "wall_s": round(time.time() - t0, 1)}
            parts = getattr(guide, "parts", None)
            if parts:
                row.update({k: v / parts["n"] for k, v in parts.items() if k != "n"})
                parts.clear()
            window = {}
            history.append(row)
            if cfg.log:
                cfg.log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
        if last:
            break
    return OptimizeResult(timesteps=edit_ts, delta_h=expand().detach().clone(), history=history, h_rms=h_rms,
                          wall_s=round(time.time() - t0, 1), h_gain=gain.detach().clone() if gain is not None else None,
                          h_net=net.arrays() if net is not None else None)
