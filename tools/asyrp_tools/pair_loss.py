"""The pair term of optimize_final: how far a finished edit is from the change a rendered pair asks for.

    L_pair = |(out − src) − (pos − neg)|_1

out the edited generation, src the unedited one (the reconstruction), neg the face and pos its twin.
With `balance` it is read as the twin judge reads an edit (src/engine/eval/twin-judge.ts): the mean
error over the region the pair changes plus `outside` times the mean over the pixels more than one
pixel away from it.  With `outline` > 0, outside pixels on the face's own high-contrast edges (head
outline, hair line, eyes) weigh 1 + outline: on the re-made smile the judge's outside change of the
faces that failed preservation was half on those edges (a sub-pixel move of the head), a third of the
outside pixels (docs/research/twin-guided-directions.md).  With `relative`, each face's region error
is divided by the size of the change it asks for (relative to the batch's mean), as the judge's progress
is: the grin's change on dark skin is a quarter of that on light skin (L2 240 against 986 on the choose
set), so in an absolute loss the dark faces looked nearly done while the judge failed them.
With `progress`, the region term is the judge's own reading instead: per face the L2 ratio
‖(out − src) − (pos − neg)‖_R / ‖pos − neg‖_R, which is 1 − the judge's progress when src is the input,
plus `progress` times how far that ratio is above 1 − PROGRESS_AIM (a hinge: a face short of the aim
weighs more, one past it no more than the ratio itself).  L1 forgives a few large errors (a frame
pixel left out on dark skin) that the judge's L2 counts most.
With `free` > 0 the outside term is a hinge as well: a face's outside mean counts only above `free`
(0..255 units), since the judge keeps a face up to a mean change of 8 and a term that presses every
face toward 0 spends the region's progress on changes nobody sees (the glasses' recipe weighs the
outside 6 times, its edges 9 times that, and their kept faces sit at 3-6).
"""
from __future__ import annotations

import torch

# An edge pixel: the face's largest neighbour step (down plus right, max over channels) above this,
# in [-1, 1] units (60 of 0..255): outline against background or hair, hair line, eyes, mouth.
EDGE_STEP = 60 / 127.5
# The progress the hinge of `progress` aims for: the judge's success is 0.5 (twin-judge.ts); the
# margin is for what differs between a training batch and the judged edit (the quality boosting's
# noise, unseen faces).
PROGRESS_AIM = 0.6


def outline_mask(face: torch.Tensor) -> torch.Tensor:
    """[B,1,H,W] 0/1: pixels within one pixel of a high-contrast edge of face [B,3,H,W]."""
    dy = (face[:, :, 1:, :] - face[:, :, :-1, :]).abs().amax(dim=1, keepdim=True)
    dx = (face[:, :, :, 1:] - face[:, :, :, :-1]).abs().amax(dim=1, keepdim=True)
    step = torch.nn.functional.pad(dy, (0, 0, 0, 1)) + torch.nn.functional.pad(dx, (0, 1, 0, 0))
    edge = (step > EDGE_STEP).to(face.dtype)
    return torch.nn.functional.max_pool2d(edge, 3, stride=1, padding=1)


def pair_error(out: torch.Tensor, src: torch.Tensor, neg: torch.Tensor, pos: torch.Tensor,
               outside: float = 1.0, balance: bool = False, outline: float = 0.0,
               relative: bool = False, progress: float | None = None, free: float = 0.0) -> torch.Tensor:
    """The pair term |(out − src) − (pos − neg)|_1, mean over pixels; pixels the pair leaves
    unchanged (no channel moves) weigh `outside` times the changed ones.

    balance: the region and the rest as two means, as the twin judge reads them: the mean error
    over the pixels the pair changes plus `outside` times the mean over the pixels more than one
    pixel away from them (the judge's border is judged neither way), per image.  With one mean over
    all pixels a mouth of ~2 % of the image has ~2 % of the gradient, and the optimizer buys
    preservation with the edit.  outline (balance only): the rest's pixels on the face's edges
    (outline_mask of neg) count 1 + outline times in that mean's sum, which stays divided by the
    number of the rest's pixels (the judge's mean plus `outline` times the edges' share of it).
    relative (balance only): face i's region error is multiplied by m / a_i, a_i the mean |pos − neg|
    over its region and m the batch's mean of a: the judge's progress divides by the change asked for,
    and so does this, while the term keeps its scale beside the outside term.
    progress (balance only; a hinge weight >= 0, None: off): face i's region term is
    m · (r_i + progress · max(0, r_i − (1 − PROGRESS_AIM))), r_i the L2 ratio of its error to its change
    over the region (the judge's 1 − progress) and m the batch's mean L1 change, the scale `relative`
    gives the term, so the outside weight means the same in both.
    free (balance only; 0..255 units, 0: off): face i's outside term is outside · max(0, kept_i − free/127.5),
    kept_i its (outline-weighted) mean outside error in [-1, 1] units, so a face well inside the judge's
    tolerance is not pressed further."""
    change = pos - neg
    err = ((out - src) - change).abs()
    if balance:
        region = (change.abs().amax(dim=1, keepdim=True) >= 1e-3).to(err.dtype)
        near = torch.nn.functional.max_pool2d(region, 3, stride=1, padding=1)
        rest = 1.0 - near
        weight = rest * (1.0 + outline * outline_mask(neg)) if outline else rest
        per_px = err.mean(dim=1, keepdim=True)
        inside = (per_px * region).sum(dim=(1, 2, 3)) / region.sum(dim=(1, 2, 3)).clamp(min=1.0)
        if relative or progress is not None:
            size = (change.abs().mean(dim=1, keepdim=True) * region).sum(dim=(1, 2, 3)) / region.sum(dim=(1, 2, 3)).clamp(min=1.0)
            size = size.clamp(min=1e-3)
        if relative and progress is None:
            inside = inside * (size.mean() / size)
        elif progress is not None:
            if relative or not progress >= 0:
                raise ValueError(f"progress (a hinge weight >= 0, here {progress}) replaces relative; give one of them")
            left = ((((out - src) - change) ** 2).sum(dim=1, keepdim=True) * region).sum(dim=(1, 2, 3))
            asked = ((change ** 2).sum(dim=1, keepdim=True) * region).sum(dim=(1, 2, 3)).clamp(min=1e-6)
            # The epsilon keeps the square root's gradient finite at an exact hit.
            ratio = (left / asked + 1e-8).sqrt()
            inside = size.mean() * (ratio + progress * torch.relu(ratio - (1.0 - PROGRESS_AIM)))
        kept = (per_px * weight).sum(dim=(1, 2, 3)) / rest.sum(dim=(1, 2, 3)).clamp(min=1.0)
        if free:
            if not free > 0:
                raise ValueError(f"free (0..255 units of outside change left unpressed) must be 0 or more, not {free}")
            kept = torch.relu(kept - free / 127.5)
        return (inside + outside * kept).mean()
    if outline or relative or progress is not None or free:
        raise ValueError("outline, relative, progress and free shape the balanced pair term only (balance=True)")
    if outside != 1.0:
        unchanged = change.abs().amax(dim=1, keepdim=True) < 1e-3
        err = err * (1.0 + (outside - 1.0) * unchanged.to(err.dtype))
    return err.mean()
