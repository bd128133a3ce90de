"""optimize_final: the loss on the finished generation, differentiated through every step.

A tiny random UNet and reader (from test_optimize_direction).  Checks that the
differentiable generation equals the engine-style generation it stands for, that
the optimizer lowers the loss it reports, that it is deterministic and honours
an initial direction, that checkpointing changes nothing but memory, and the
guide's margin form."""
import math
import os
import sys

import pytest

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from test_optimize_direction import SCHEMA, faces, guide_for, tiny_reader, tiny_unet  # noqa: E402
from asyrp_tools.diffusion import asyrp_generate  # noqa: E402
from asyrp_tools.guides import ReaderGuide, parse_target  # noqa: E402
from asyrp_tools.optimize import invert  # noqa: E402
from asyrp_tools.optimize_final import FinalConfig, align_init, generate, optimize_final  # noqa: E402
from asyrp_tools.reader import OUTPUTS  # noqa: E402


def config(**kw):
    base = dict(t_edit=400, generation_steps=10, inversion_steps=10, batch=4, iterations=6, lr=0.1,
                l1_weight=0.1, seed=3, log_every=1)
    base.update(kw)
    return FinalConfig(**base)


def test_generation_matches_the_reference_step():
    # The optimizer's chain must be the process the engine runs (Eq. 9 for t >= t_edit,
    # DDIM below, no boosting): compare with asyrp_generate, which mirrors the engine.
    unet = tiny_unet()
    x_T = invert(unet, faces(4), 10, 4)
    dh = torch.randn(16, 4, 4, generator=torch.Generator().manual_seed(4)) * 0.5
    ours = generate(unet, x_T, 10, 400, lambda t: dh[None], grad=False)
    ref = asyrp_generate(unet, x_T, 10, lambda t: dh[None], t_edit=400, t_boost=0)
    assert torch.allclose(ours, ref, atol=1e-5)
    plain = generate(unet, x_T, 10, 400)
    assert not torch.allclose(ours, plain, atol=1e-3)   # the edit does something


def full_loss(unet, guide, x0, cfg, delta_h, timesteps):
    """The optimized loss over all faces, without augmentation, for a fixed Δh (None: 0)."""
    x_T = invert(unet, x0, cfg.inversion_steps, cfg.batch)
    src = generate(unet, x_T, cfg.generation_steps, cfg.t_edit)
    table = dict(zip(timesteps, delta_h)) if delta_h is not None else None
    out = generate(unet, x_T, cfg.generation_steps, cfg.t_edit, (lambda t: table[t][None]) if table else None)
    with torch.no_grad():
        return float(cfg.guide_weight * guide(out, src).mean() + cfg.l1_weight * (out - src).abs().mean())


def test_loss_decreases_and_history_is_logged():
    cfg = config(iterations=10, lr=0.05, augment_shift=0)
    res = optimize_final(tiny_unet(), guide_for("glasses:1"), faces(), cfg, judge=guide_for("glasses:1"))
    before = full_loss(tiny_unet(), guide_for("glasses:1"), faces(), cfg, None, res.timesteps)
    after = full_loss(tiny_unet(), guide_for("glasses:1"), faces(), cfg, res.delta_h, res.timesteps)
    assert after < before - 1e-3, (before, after)
    assert len(res.history) == 10
    assert {"success", "preserved", "l1", "guide", "delta_rms_over_h"} <= set(res.history[-1])
    assert res.timesteps == sorted(res.timesteps) and min(res.timesteps) >= 400
    assert tuple(res.delta_h.shape) == (len(res.timesteps), 16, 4, 4)


def test_deterministic_and_init_is_used():
    a = optimize_final(tiny_unet(), guide_for("smile:+"), faces(), config(iterations=3))
    b = optimize_final(tiny_unet(), guide_for("smile:+"), faces(), config(iterations=3))
    assert torch.equal(a.delta_h, b.delta_h)
    # Zero iterations past the init: the result starts from it (Adam moves each element by <= lr·RMS(h)).
    c = optimize_final(tiny_unet(), guide_for("smile:+"), faces(), config(iterations=1), init=a.delta_h)
    assert float((c.delta_h - a.delta_h).abs().max()) <= 0.1 * c.h_rms * 1.001
    with pytest.raises(ValueError, match="does not match"):
        optimize_final(tiny_unet(), guide_for("smile:+"), faces(), config(iterations=1), init=a.delta_h[:1])


def test_init_from_another_t_edit_is_resampled_to_the_nearest_timestep():
    rows = torch.arange(3.0).reshape(3, 1, 1, 1)
    got = align_init(rows, [999, 800, 614], [999, 900, 800, 700, 614, 500, 307])
    assert got.flatten().tolist() == [0.0, 0.0, 1.0, 2.0, 2.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="3 rows but 2 timesteps"):
        align_init(rows, [999, 614], [999])
    # Lowering t_edit: the shared timesteps start where the old direction was, the new ones
    # from zero (one Adam step moves each element by <= lr·RMS(h)).
    a = optimize_final(tiny_unet(), guide_for("smile:+"), faces(), config(iterations=2, t_edit=500))
    c = optimize_final(tiny_unet(), guide_for("smile:+"), faces(), config(iterations=1, t_edit=200),
                       init=a.delta_h, init_ts=a.timesteps)
    assert len(c.timesteps) > len(a.timesteps)
    bound = 0.1 * c.h_rms * 1.001
    for i, t in enumerate(c.timesteps):
        start = a.delta_h[a.timesteps.index(t)] if t in a.timesteps else torch.zeros_like(a.delta_h[0])
        assert float((c.delta_h[i] - start).abs().max()) <= bound, t


def test_mix_with_trains_on_top_of_another_direction():
    # The other direction acts from a lower t_edit (as smile 300 under glasses 614).  With only
    # the L1 term, a zero direction reproduces each batch's reference exactly, so it must stay
    # zero: the mixed batches are compared with the generation edited by the other alone.
    unet = tiny_unet()
    other_ts = [t for t in range(0, 1000) if t >= 200]
    g = torch.Generator().manual_seed(9)
    rows = {t: torch.randn(16, 4, 4, generator=g) * 0.5 for t in other_ts}
    plain = optimize_final(unet, guide_for("smile:+"), faces(), config(iterations=2, guide_weight=0.0))
    mixed = optimize_final(unet, guide_for("smile:+"), faces(), config(iterations=2, guide_weight=0.0),
                           mix_with=(rows, 200))
    assert float(plain.delta_h.abs().max()) == 0.0
    assert float(mixed.delta_h.abs().max()) == 0.0
    # With the guide, the mixed batches change what is learned.
    a = optimize_final(unet, guide_for("smile:+"), faces(), config(iterations=2))
    b = optimize_final(unet, guide_for("smile:+"), faces(), config(iterations=2), mix_with=(rows, 200))
    assert not torch.equal(a.delta_h, b.delta_h)
    # A direction of another model is refused by name, not by a broadcasting error mid-generation.
    with pytest.raises(ValueError, match="made for another model"):
        optimize_final(unet, guide_for("smile:+"), faces(), config(iterations=1),
                       mix_with=({t: torch.zeros(4, 4, 4) for t in other_ts}, 200))


def test_pairs_term_pulls_toward_the_pairs_change():
    # With pairs only (no guide, no L1), Δh must bring the edit's change closer to pos − neg.
    unet, neg = tiny_unet(), faces()
    pos = neg.clone()
    pos[:, :, 2:5, 2:6] = 0.8   # the "attribute": a bright patch, the same on every face
    cfg = config(iterations=12, lr=0.05, guide_weight=0.0, l1_weight=0.0, pair_weight=1.0, augment_shift=0)
    res = optimize_final(unet, guide_for("glasses:1"), neg, cfg, pos=pos)
    x_T = invert(unet, neg, cfg.inversion_steps, cfg.batch)
    src = generate(unet, x_T, 10, cfg.t_edit)
    table = dict(zip(res.timesteps, res.delta_h))
    out = generate(unet, x_T, 10, cfg.t_edit, lambda t: table[t][None])
    before = float((pos - neg).abs().mean())
    after = float(((out - src) - (pos - neg)).abs().mean())
    assert after < before - 1e-3, (before, after)
    with pytest.raises(ValueError, match="pair one-to-one"):
        optimize_final(unet, guide_for("glasses:1"), neg, cfg, pos=pos[:2])
    with pytest.raises(ValueError, match="pair_outside must be 0 or more"):
        optimize_final(unet, guide_for("glasses:1"), neg, config(pair_outside=-1.0), pos=pos)


def test_pair_progress_moves_the_judges_own_ratio_and_is_checked_before_any_work():
    # The region read as the judge reads it (pair_loss.py, progress): after the run, the L2 ratio of each
    # face's remaining error to its asked change (1 - the judge's progress) is lower than at the start.
    unet, neg = tiny_unet(), faces()
    pos = neg.clone()
    pos[:, :, 2:5, 2:6] = 0.8
    cfg = config(iterations=12, lr=0.05, guide_weight=0.0, l1_weight=0.0, pair_weight=1.0, augment_shift=0,
                 pair_balance=True, pair_progress=2.0)
    res = optimize_final(unet, guide_for("glasses:1"), neg, cfg, pos=pos)
    x_T = invert(unet, neg, cfg.inversion_steps, cfg.batch)
    src = generate(unet, x_T, 10, cfg.t_edit)
    table = dict(zip(res.timesteps, res.delta_h))
    out = generate(unet, x_T, 10, cfg.t_edit, lambda t: table[t][None])
    region = (pos - neg).abs().amax(dim=1, keepdim=True) > 0
    def ratio(edit):
        return float(((((edit - src) - (pos - neg)) ** 2) * region).sum().sqrt() / (((pos - neg) ** 2) * region).sum().sqrt())
    assert ratio(out) < ratio(src) - 1e-3, (ratio(src), ratio(out))
    for bad, match in ((dict(pair_progress=1.0), "need pair_balance"),
                       (dict(pair_balance=True, pair_relative=True, pair_progress=1.0), "replaces pair_relative"),
                       (dict(pair_balance=True, pair_progress=-0.5), "replaces pair_relative"),
                       (dict(pair_free=4.0), "needs pair_balance"),
                       (dict(pair_balance=True, pair_free=-1.0), "must be 0 or more")):
        with pytest.raises(ValueError, match=match):
            optimize_final(unet, guide_for("glasses:1"), neg, config(**bad), pos=pos)


def test_pairs_with_mix_measure_the_change_from_the_other_directions_edit():
    # On the mixed batches the pair's change is asked on top of the other direction's edit:
    # pairs that change nothing (pos == neg) leave a zero direction at zero, mixed or not.
    # Measured from the unedited generation instead, the pair term would train this
    # direction to undo the other one.
    unet, neg = tiny_unet(), faces()
    other_ts = [t for t in range(0, 1000) if t >= 200]
    g = torch.Generator().manual_seed(9)
    rows = {t: torch.randn(16, 4, 4, generator=g) * 0.5 for t in other_ts}
    cfg = config(iterations=4, guide_weight=0.0, l1_weight=0.0, pair_weight=1.0, augment_shift=0)
    res = optimize_final(unet, guide_for("glasses:1"), neg, cfg, pos=neg.clone(), mix_with=(rows, 200))
    assert float(res.delta_h.abs().max()) == 0.0


def test_pos_negative_judges_every_second_batch_at_strength_minus_one():
    # With a zero step the direction stays at its init: batch 1 is the edit at +1 against pos, batch 2
    # the edit at -1 (-Δh, as the engine applies a negative strength) against pos_negative.
    from asyrp_tools.optimize_final import pair_error
    unet, x0 = tiny_unet(), faces(4)
    cfg = config(iterations=2, lr=0.0, batch=4, t_edit=400)
    init = torch.randn(6, 16, 4, 4, generator=torch.Generator().manual_seed(5)) * 0.5
    pos, neg_goal = x0 * 0.5, x0 * -0.5
    res = optimize_final(unet, guide_for("smile:+"), x0, cfg, init=init, pos=pos, pos_negative=neg_goal)
    assert torch.equal(res.delta_h, init)
    x_T = invert(unet, x0, 10, 4)
    src = generate(unet, x_T, 10, 400)
    table = dict(zip(res.timesteps, init))
    plus = generate(unet, x_T, 10, 400, lambda t: table[t][None])
    minus = generate(unet, x_T, 10, 400, lambda t: -table[t][None])
    assert res.history[0]["pair"] == pytest.approx(float(pair_error(plus, src, x0, pos)), rel=1e-4)
    assert res.history[1]["pair"] == pytest.approx(float(pair_error(minus, src, x0, neg_goal)), rel=1e-4)
    with pytest.raises(ValueError, match="pos_negative needs pos"):
        optimize_final(unet, guide_for("smile:+"), x0, cfg, pos_negative=neg_goal)


def test_t_max_edits_only_the_window():
    res = optimize_final(tiny_unet(), guide_for("smile:+"), faces(), config(iterations=3, t_max=500))
    rows = res.delta_h.reshape(len(res.timesteps), -1).abs().amax(dim=1)
    above = [r for t, r in zip(res.timesteps, rows) if t > 500]
    inside = [r for t, r in zip(res.timesteps, rows) if t <= 500]
    assert above and inside
    assert all(float(r) == 0.0 for r in above) and all(float(r) > 0 for r in inside)
    with pytest.raises(ValueError, match="below t_edit"):
        optimize_final(tiny_unet(), guide_for("smile:+"), faces(), config(iterations=1, t_max=100))
    with pytest.raises(ValueError, match="h_gain"):
        optimize_final(tiny_unet(), guide_for("smile:+"), faces(), config(iterations=1, t_max=500, h_gain=True))


def test_checkpointing_gives_the_same_result():
    a = optimize_final(tiny_unet(), guide_for("glasses:1"), faces(), config(iterations=2))
    b = optimize_final(tiny_unet(), guide_for("glasses:1"), faces(), config(iterations=2, checkpointing=True))
    assert torch.allclose(a.delta_h, b.delta_h, atol=1e-6)


def test_margin_stops_pushing_once_reached():
    reader = tiny_reader()
    x = faces(4)
    for spec in ("smile:+", "glasses:1", "hair_colour:red"):
        g = ReaderGuide(reader, list(OUTPUTS), SCHEMA, parse_target(spec, SCHEMA), keep=0.0, margin=0.0)
        # Reading the same image as source and edit: a scalar moved by 0 >= margin 0 is reached.
        a = g.read(x)
        loss = g.target_loss(a, a)
        assert loss.shape == (4,) and bool((loss >= 0).all())
        if spec == "smile:+":
            assert float(loss.abs().max()) == 0.0
    unbounded = ReaderGuide(reader, list(OUTPUTS), SCHEMA, parse_target("smile:+", SCHEMA), keep=0.0)
    a = unbounded.read(x)
    assert torch.allclose(unbounded.target_loss(a, a), -a["smile"])


def test_cli_final_objective_with_pairs_and_eligible_faces(tmp_path):
    import json

    import numpy as np
    from PIL import Image

    import optimize_direction as cli
    from asyrp_tools.direction_io import read_direction
    from asyrp_tools.reader import export as export_reader
    ck = str(tmp_path / "ck.pt")
    unet = tiny_unet()
    torch.save({"config": unet.cfg.to_dict(), "ema": unet.state_dict()}, ck)
    reader = str(tmp_path / "attributes.onnx")
    export_reader(tiny_reader(), reader, 8)
    schema = str(tmp_path / "attributes.json")
    with open(schema, "w") as f:
        json.dump(SCHEMA, f)
    rng = np.random.default_rng(0)
    for side in ("neg", "pos"):
        (tmp_path / side).mkdir()
    for i in range(4):
        img = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        Image.fromarray(img).save(tmp_path / "neg" / f"{i}.png")
        img[2:5, 2:6] = 220
        Image.fromarray(img).save(tmp_path / "pos" / f"{i}.png")
    base = ["--checkpoint", ck, "--reader", reader, "--schema", schema, "--target", "glasses:1", "--name", "glasses",
            "--t-edit", "400", "--steps", "10", "--batch", "4", "--val", "0", "--objective", "final", "--iterations", "2"]
    out = str(tmp_path / "paired.safetensors")
    cli.main(base + ["--pairs", str(tmp_path / "neg"), str(tmp_path / "pos"), "--out", out])
    dh, ts, meta = read_direction(out)
    assert dh.shape == (len(ts), 16, 4, 4) and ts.min() >= 400
    assert "matched example pairs" in meta["method"] and meta["trainingImages"] == "4"
    # --eligible-only trains on rendered faces the reader says lack the target (at most --faces).
    out2 = str(tmp_path / "eligible.safetensors")
    cli.main(base + ["--faces", "4", "--eligible-only", "--out", out2])
    assert int(read_direction(out2)[2]["trainingImages"]) <= 4
    # A pair folder with a different count is refused with a clear message.
    (tmp_path / "pos" / "3.png").unlink()
    with pytest.raises(SystemExit, match="must pair up"):
        cli.main(base + ["--pairs", str(tmp_path / "neg"), str(tmp_path / "pos"), "--out", out])


def test_ce_keep_term_keeps_a_gradient_after_a_flip():
    g = ReaderGuide(tiny_reader(), list(OUTPUTS), SCHEMA, parse_target("smile:+", SCHEMA), keep=1.0, keep_mode="ce")
    src = {"smile": torch.zeros(1), "eyes_open": torch.tensor([0.99]), "glasses": torch.tensor([0.01]),
           "hair_long": torch.tensor([0.99]), "face": torch.ones(1),
           **{k: torch.nn.functional.one_hot(torch.tensor([0]), len(v)).float() * 0.98 + 0.005 for k, v in SCHEMA["classes"].items()}}
    assert float(g.keep_loss(src, src)) == 0.0        # the unedited labels held with p >= 0.95: free
    flipped = dict(src, glasses=torch.tensor([0.99], requires_grad=True))
    loss = g.keep_loss(flipped, src)
    loss.sum().backward()
    assert float(loss) > 3 and abs(float(flipped["glasses"].grad)) > 1   # |Δp| would give gradient 1 and no more
    with pytest.raises(ValueError, match="keep_mode"):
        ReaderGuide(tiny_reader(), list(OUTPUTS), SCHEMA, parse_target("smile:+", SCHEMA), keep_mode="l2")


def test_keep_weights_scale_one_attributes_keep_term():
    # A face-shape flip costs 4x with face_shape=4, nothing with 0; the other attributes as before.
    def guide(**w):
        return ReaderGuide(tiny_reader(), list(OUTPUTS), SCHEMA, parse_target("hair_colour:red", SCHEMA),
                           keep_mode="ce", keep_weights=w)
    onehot = lambda k, n: torch.nn.functional.one_hot(torch.tensor([k]), n).float() * 0.98 + 0.005  # noqa: E731
    src = {"smile": torch.zeros(1), "eyes_open": torch.tensor([0.99]), "glasses": torch.tensor([0.01]),
           "hair_long": torch.tensor([0.99]), "face": torch.ones(1),
           **{k: onehot(0, len(v)) for k, v in SCHEMA["classes"].items()}}
    shape_flip = dict(src, face_shape=onehot(2, 3))
    glasses_flip = dict(src, glasses=torch.tensor([0.99]))
    base = float(guide().keep_loss(shape_flip, src))
    assert base > 1
    assert float(guide(face_shape=4.0).keep_loss(shape_flip, src)) == pytest.approx(4 * base)
    assert float(guide(face_shape=0.0).keep_loss(shape_flip, src)) == 0.0
    assert float(guide(face_shape=4.0).keep_loss(glasses_flip, src)) == pytest.approx(float(guide().keep_loss(glasses_flip, src)))
    with pytest.raises(ValueError, match='"hair_colour": not an attribute the keep term holds'):
        guide(hair_colour=2.0)      # the target is not kept
    with pytest.raises(ValueError, match='"nose": not an attribute'):
        guide(nose=2.0)
    with pytest.raises(ValueError, match="0 or more"):
        guide(face_shape=-1.0)


def test_keep_goal_is_a_preservation_margin():
    src = {"smile": torch.zeros(1), "eyes_open": torch.tensor([0.97]), "glasses": torch.tensor([0.01]),
           "hair_long": torch.tensor([0.99]), "face": torch.ones(1),
           **{k: torch.nn.functional.one_hot(torch.tensor([0]), len(v)).float() * 0.99 + 0.005 for k, v in SCHEMA["classes"].items()}}
    target = parse_target("smile:+", SCHEMA)
    plain = ReaderGuide(tiny_reader(), list(OUTPUTS), SCHEMA, target, keep_mode="ce")
    strict = ReaderGuide(tiny_reader(), list(OUTPUTS), SCHEMA, target, keep_mode="ce", keep_goal=0.99)
    assert float(plain.keep_loss(src, src)) == 0.0
    # Eyes read open at 0.97 clear the default goal (0.95) but not 0.99 (the classes, at 0.995, clear both):
    # only that label costs, log(0.99/0.97).
    assert float(strict.keep_loss(src, src)) == pytest.approx(math.log(0.99 / 0.97), rel=1e-3)
    for bad in (0.5, 1.0):
        with pytest.raises(ValueError, match="keep_goal"):
            ReaderGuide(tiny_reader(), list(OUTPUTS), SCHEMA, target, keep_mode="ce", keep_goal=bad)


def test_time_basis_keeps_delta_in_the_span_and_projects_the_init():
    from asyrp_tools.optimize_final import time_basis
    res = optimize_final(tiny_unet(), guide_for("smile:+"), faces(), config(iterations=3, time_basis=2))
    k = len(res.timesteps)
    flat = res.delta_h.reshape(k, -1)
    assert float(flat.abs().max()) > 0                      # it moved
    # Two Legendre polynomials: Δh_t is affine in t, so its second differences over the
    # evenly spaced editing timesteps vanish and the matrix has rank 2.
    assert torch.linalg.matrix_rank(flat, rtol=1e-4) == 2
    phi = time_basis(res.timesteps, 3)
    assert torch.allclose(phi[:, 0], torch.ones(k)) and float(phi[0, 1]) == -1.0 and float(phi[-1, 1]) == 1.0
    assert torch.allclose(phi[:, 2], 1.5 * phi[:, 1] ** 2 - 0.5, atol=1e-6)
    # An init already in the span is reproduced exactly before the first step.
    init = torch.einsum("kb,bchw->kchw", phi[:, :2], torch.randn(2, 16, 4, 4, generator=torch.Generator().manual_seed(1)))
    cfg = config(iterations=1, time_basis=2, lr=1e-9)
    again = optimize_final(tiny_unet(), guide_for("smile:+"), faces(), cfg, init=init)
    assert torch.allclose(again.delta_h, init, atol=1e-4)
    with pytest.raises(ValueError, match="exceeds"):
        optimize_final(tiny_unet(), guide_for("smile:+"), faces(), config(iterations=1, time_basis=k + 1))


def test_lr_end_decays_the_step():
    # Cosine decay over two iterations: the second Adam step runs at half the rate
    # (1/2·(1 + cos(π/2)) with lr_end 0), so it moves Δh about half as far.
    one = optimize_final(tiny_unet(), guide_for("glasses:1"), faces(), config(iterations=1))
    flat_lr = optimize_final(tiny_unet(), guide_for("glasses:1"), faces(), config(iterations=2))
    decayed = optimize_final(tiny_unet(), guide_for("glasses:1"), faces(), config(iterations=2, lr_end=0.0))
    ratio = float((decayed.delta_h - one.delta_h).abs().max()) / float((flat_lr.delta_h - one.delta_h).abs().max())
    assert 0.4 < ratio < 0.6, ratio


def test_refined_inversion_returns_the_image_more_closely():
    # Fixed-point refinement (diffusion.ddim_invert refine=) makes generation the inverse of
    # inversion: the reconstruction error must drop well below plain DDIM inversion's.
    unet, x0 = tiny_unet(), faces(4)
    err = {}
    for refine in (0, 3):
        x_T = invert(unet, x0, 10, 4, refine)
        err[refine] = float((generate(unet, x_T, 10, 1000) - x0).abs().mean())
    assert err[3] < 0.5 * err[0], err


def test_cache_gives_the_same_result_and_is_reused(tmp_path):
    # run_cache keeps x_T and the reconstruction: a cached run must equal an uncached one
    # bit for bit, and a second run must read the entries instead of adding new ones.
    plain = optimize_final(tiny_unet(), guide_for("glasses:1"), faces(), config())
    first = optimize_final(tiny_unet(), guide_for("glasses:1"), faces(), config(cache_dir=str(tmp_path)))
    entries = sorted(os.listdir(tmp_path))
    assert [e.split("-")[0] for e in entries] == ["inverted", "reconstructed"]
    again = optimize_final(tiny_unet(), guide_for("glasses:1"), faces(), config(cache_dir=str(tmp_path)))
    assert sorted(os.listdir(tmp_path)) == entries
    assert torch.equal(plain.delta_h, first.delta_h) and torch.equal(first.delta_h, again.delta_h)
    # Other images: other entries.
    optimize_final(tiny_unet(), guide_for("glasses:1"), faces() * 0.5, config(cache_dir=str(tmp_path)))
    assert len(os.listdir(tmp_path)) == 4


def test_time_budget_stops_the_steps_once_spent_and_changes_nothing_while_time_is_left():
    plain = optimize_final(tiny_unet(), guide_for("smile:+"), faces(), config(iterations=3))
    roomy = optimize_final(tiny_unet(), guide_for("smile:+"), faces(), config(iterations=3, time_budget_s=1e9))
    assert torch.equal(plain.delta_h, roomy.delta_h) and len(roomy.history) == 3
    # A budget spent by the first step: that step is the last, logged, and the file is what one step made.
    short = optimize_final(tiny_unet(), guide_for("smile:+"), faces(), config(iterations=3, time_budget_s=1e-9))
    one = optimize_final(tiny_unet(), guide_for("smile:+"), faces(), config(iterations=1))
    assert len(short.history) == 1 and short.history[-1]["iteration"] == 1
    assert torch.equal(short.delta_h, one.delta_h)
    with pytest.raises(ValueError, match="time_budget_s"):
        optimize_final(tiny_unet(), guide_for("smile:+"), faces(), config(iterations=1, time_budget_s=0))
