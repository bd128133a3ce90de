import pytest
import torch

from asyrp_tools.pair_loss import outline_mask, pair_error


def face_with_square():
    """An 8x8 face: a bright 4x4 square (the 'head') at rows/cols 2-5 on a dark background."""
    face = torch.full((1, 3, 8, 8), -1.0)
    face[:, :, 2:6, 2:6] = 1.0
    return face


def test_outline_mask_marks_pixels_within_one_pixel_of_a_strong_edge():
    m = outline_mask(face_with_square())[0, 0]
    # The square's border rows/cols and one pixel either side of them are edge pixels...
    assert m[1, 3] == 1 and m[2, 2] == 1 and m[6, 4] == 1
    # ...its centre and the far background are not.
    assert m[0, 7] == 0 and m[7, 0] == 0
    # A flat face, or a step below the threshold (a 3 % change of light), has no edges.
    assert float(outline_mask(torch.zeros(1, 3, 8, 8)).sum()) == 0.0
    soft = torch.zeros(1, 3, 8, 8)
    soft[:, :, 4:, :] = 0.06
    assert float(outline_mask(soft).sum()) == 0.0


def test_outline_weighs_changes_on_the_face_edges_and_keeps_the_judges_mean_elsewhere():
    neg = face_with_square()
    pos = neg.clone()
    pos[:, 1, 3, 3] = 0.0              # a one-pixel region inside the square
    src = torch.zeros_like(neg)
    done = src + (pos - neg)
    rest = 64 - 9                       # pixels more than one pixel from the region
    on_edge = done.clone()
    on_edge[:, :, 6, 6] += 1.0          # a change on the square's corner: an edge pixel
    off_edge = done.clone()
    off_edge[:, :, 0, 7] += 1.0         # the same change on flat background
    for out in (on_edge, off_edge):     # without outline both cost the judge's mean
        assert float(pair_error(out, src, neg, pos, outside=2.0, balance=True)) == pytest.approx(2.0 / rest)
    assert float(pair_error(on_edge, src, neg, pos, outside=2.0, balance=True, outline=3.0)) == pytest.approx(2.0 * 4 / rest)
    assert float(pair_error(off_edge, src, neg, pos, outside=2.0, balance=True, outline=3.0)) == pytest.approx(2.0 / rest)
    # A perfect edit still costs nothing.
    assert float(pair_error(done, src, neg, pos, outside=2.0, balance=True, outline=3.0)) == 0.0


def test_outline_needs_the_balanced_term():
    neg = face_with_square()
    with pytest.raises(ValueError, match="balanced"):
        pair_error(neg, neg, neg, neg, outline=1.0)


def test_relative_weighs_each_face_by_the_change_it_asks_for():
    # Two faces with the same one-pixel region: face 0 asks for a change of 1, face 1 for 0.25 (a mouth on
    # dark skin).  No edit: each face misses its whole change.
    neg = torch.zeros(2, 3, 8, 8)
    pos = neg.clone()
    pos[0, :, 3, 3] = 1.0
    pos[1, :, 3, 3] = 0.25
    src = torch.zeros_like(neg)
    absolute = float(pair_error(src, src, neg, pos, balance=True))
    assert absolute == pytest.approx((1.0 + 0.25) / 2)
    # Relative: each face's error over its own change, times the batch's mean change (0.625): both 0.625.
    assert float(pair_error(src, src, neg, pos, balance=True, relative=True)) == pytest.approx(0.625)
    # Half of each change done: half of that.
    half = src + 0.5 * (pos - neg)
    assert float(pair_error(half, src, neg, pos, balance=True, relative=True)) == pytest.approx(0.3125)
    with pytest.raises(ValueError, match="balanced"):
        pair_error(src, src, neg, pos, relative=True)


def test_pair_error_weighs_unchanged_pixels_by_outside():
    neg = torch.zeros(1, 3, 4, 4)
    pos = neg.clone()
    pos[:, 0, :2, :] = 1.0          # the pair changes the top half (one channel is enough)
    src = torch.zeros_like(neg)
    out = torch.full_like(neg, 0.5)   # half the change on top, a 0.5 tint on the bottom
    # Every pixel is off by 0.5 in channel 0; channels 1-2 by 0.5 everywhere.
    assert float(pair_error(out, src, neg, pos)) == pytest.approx(0.5)
    # Bottom half (unchanged) weighs 3: top 24 values x 0.5, bottom 24 x 1.5, over 48.
    assert float(pair_error(out, src, neg, pos, outside=3.0)) == pytest.approx((24 * 0.5 + 24 * 1.5) / 48)
    # A perfect edit costs nothing at any weight.
    assert float(pair_error(src + (pos - neg), src, neg, pos, outside=5.0)) == 0.0


def test_pair_error_balance_reads_the_region_and_the_rest_as_two_means():
    neg = torch.zeros(1, 3, 8, 8)
    pos = neg.clone()
    pos[:, 1, 2:4, 2:4] = 1.0         # a 2x2 region, about 6 % of the image
    src = torch.zeros_like(neg)
    # No edit: the region's whole change is missing (channel 1 off by 1, the others by 0: mean 1/3);
    # the rest is kept exactly.  One mean over all pixels would dilute it to 4/64 of that.
    assert float(pair_error(src, src, neg, pos, balance=True)) == pytest.approx(1 / 3)
    assert float(pair_error(src, src, neg, pos)) == pytest.approx(4 / 64 / 3)
    # A change on the region's 1-px border is judged neither way; one beyond it weighs `outside`
    # over the 64 - 16 pixels more than a pixel away from the region.
    near = src + (pos - neg)
    near[:, :, 1, 1] = 1.0
    assert float(pair_error(near, src, neg, pos, outside=2.0, balance=True)) == 0.0
    far = src + (pos - neg)
    far[:, :, 7, 7] = 1.0
    assert float(pair_error(far, src, neg, pos, outside=2.0, balance=True)) == pytest.approx(2.0 / 48)


def judge_ratio(edit, face, twin, region):
    """1 - the twin judge's progress (src/engine/eval/twin-judge.ts), written out in numpy in float64."""
    import numpy as np
    e, x, w = (np.asarray(a, dtype=np.float64) for a in (edit, face, twin))
    r = np.asarray(region, dtype=bool)
    return float(np.sqrt(((e - w) ** 2)[:, r].sum() / ((x - w) ** 2)[:, r].sum()))


def test_progress_reads_each_face_as_the_judge_does_and_weighs_a_face_short_of_the_aim():
    from asyrp_tools.pair_loss import PROGRESS_AIM
    g = torch.Generator().manual_seed(3)
    neg = torch.rand(2, 3, 8, 8, generator=g, dtype=torch.float64) * 2 - 1
    pos = neg.clone()
    pos[0, :, 2:4, 2:5] = torch.rand(3, 2, 3, generator=g, dtype=torch.float64)   # face 0: a big change
    pos[1, :, 5, 3:6] = neg[1, :, 5, 3:6] - 0.1                                    # face 1: a faint one
    region = ((pos - neg).abs().amax(dim=1) > 0)
    # Face 0 edited most of the way, face 1 a quarter of it with an error of its own; the rest kept (src = face).
    noise = torch.rand(2, 3, 8, 8, generator=g, dtype=torch.float64) * 0.02
    out = neg + torch.tensor([0.8, 0.25], dtype=torch.float64).view(2, 1, 1, 1) * (pos - neg) + noise * region.unsqueeze(1)
    ratios = [judge_ratio(out[i], neg[i], pos[i], region[i]) for i in range(2)]
    assert ratios[0] < 1 - PROGRESS_AIM < ratios[1]          # one face past the aim, one short of it
    size = torch.stack([(pos - neg)[i].abs().mean(dim=0)[region[i]].mean() for i in range(2)])
    m = float(size.mean())
    for hinge in (0.0, 2.0):
        want = m * sum(r + hinge * max(0.0, r - (1 - PROGRESS_AIM)) for r in ratios) / 2
        got = float(pair_error(out, neg, neg, pos, outside=2.0, balance=True, progress=hinge))
        assert got == pytest.approx(want, rel=1e-6)
    # The judge's own progress, not the L1 the other region terms take: a change done exactly costs nothing.
    assert float(pair_error(pos, neg, neg, pos, balance=True, progress=2.0)) == pytest.approx(0.0, abs=1e-4)
    # Its gradient pulls the short face harder than the one past the aim.
    o = out.clone().requires_grad_(True)
    pair_error(o, neg, neg, pos, balance=True, progress=2.0).backward()
    pull = [float(o.grad[i].abs().sum() / (pos - neg)[i].abs().sum()) for i in range(2)]
    assert pull[1] > pull[0]


def test_progress_replaces_relative_and_needs_the_balanced_term():
    neg = face_with_square()
    with pytest.raises(ValueError, match="balanced"):
        pair_error(neg, neg, neg, neg, progress=1.0)
    with pytest.raises(ValueError, match="replaces relative"):
        pair_error(neg, neg, neg, neg, balance=True, relative=True, progress=1.0)
    with pytest.raises(ValueError, match="replaces relative"):
        pair_error(neg, neg, neg, neg, balance=True, progress=-1.0)


def test_free_leaves_an_outside_change_within_the_allowance_unpressed():
    neg = torch.zeros(2, 3, 8, 8)
    pos = neg.clone()
    pos[:, 1, 2:4, 2:4] = 1.0                       # the same 2x2 region on both faces
    src = torch.zeros_like(neg)
    out = src + (pos - neg)                          # the region done exactly
    out[0, :, 7, 7] = 2 * 48 / 127.5                 # face 0: one far pixel off, a mean of 2 units over the 48 far ones
    out[1, :, 6:8, 6:8] = 6 * 48 / 4 / 127.5         # face 1: four far pixels, a mean of 6 units
    kept = [2 / 127.5, 6 / 127.5]
    assert float(pair_error(out, src, neg, pos, outside=3.0, balance=True)) == pytest.approx(3.0 * sum(kept) / 2)
    # An allowance of 4 units: face 0 costs nothing, face 1 only what exceeds 4.
    got = float(pair_error(out, src, neg, pos, outside=3.0, balance=True, free=4.0))
    assert got == pytest.approx(3.0 * (6 - 4) / 127.5 / 2)
    # Its gradient: nothing on face 0's outside, the full weight on face 1's.
    o = out.clone().requires_grad_(True)
    pair_error(o, src, neg, pos, outside=3.0, balance=True, free=4.0).backward()
    assert float(o.grad[0, :, 7, 7].abs().sum()) == 0.0 and float(o.grad[1, :, 7, 7].abs().sum()) > 0
    with pytest.raises(ValueError, match="balanced"):
        pair_error(out, src, neg, pos, free=4.0)
    with pytest.raises(ValueError, match="must be 0 or more"):
        pair_error(out, src, neg, pos, balance=True, free=-1.0)
