"""h-dependent directions in the optimizer: the linear G·h (--h-gain) and the paper's nonlinear
f_t(h, t) (--h-net, asyrp_tools/hnet.py).  Both read h of the previous generation step, as the
engine does (src/engine/pipeline/run-edit.ts); checked against a step-by-step reference loop, then
learned from zero, deterministically, and kept in the direction file."""
import math
import os
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from test_optimize_direction import faces, guide_for, tiny_unet  # noqa: E402
from test_optimize_final import config  # noqa: E402
from asyrp_tools.diffusion import timestep_sequence  # noqa: E402
from asyrp_tools.optimize import invert  # noqa: E402
from asyrp_tools.optimize_final import _step, generate, optimize_final  # noqa: E402


def reference_generation(unet, x_T, steps, t_edit, shift):
    """Generation one step at a time: for t >= t_edit, shift(t, h_prev) is the Δh fed to the step
    (h_prev None at the first step), h_prev the h the step before returned."""
    seq = timestep_sequence(steps)
    x, h_prev = x_T, None
    with torch.no_grad():
        for j in range(len(seq) - 1, -1, -1):
            t, tp = seq[j], (seq[j - 1] if j > 0 else -1)
            x, h_prev = _step(unet, x, t, tp, shift(t, h_prev) if t >= t_edit else None)
    return x, h_prev


def test_h_gain_uses_h_of_the_previous_step_and_is_learned(tmp_path):
    # generate() with (Δh_t, G): the first editing step gets Δh_t alone, each later one
    # Δh_t + G·h of the step before (the engine's trajectory.ts does the same).
    from asyrp_tools.optimize_final import apply_gain
    unet = tiny_unet()
    x_T = invert(unet, faces(2), 10, 2)
    g = torch.Generator().manual_seed(5)
    dh = torch.randn(16, 4, 4, generator=g) * 0.3
    gain = torch.randn(16, 16, generator=g) * 0.2
    ours = generate(unet, x_T, 10, 400, lambda t: (dh[None], gain))
    x, h_prev = reference_generation(
        unet, x_T, 10, 400,
        lambda t, hp: dh[None] if hp is None else dh[None] + torch.einsum("oc,bchw->bohw", gain, hp))
    assert torch.allclose(ours, x, atol=1e-6)
    assert not torch.allclose(ours, generate(unet, x_T, 10, 400, lambda t: dh[None]), atol=1e-4)
    assert torch.allclose(apply_gain(torch.eye(16), h_prev), h_prev)
    # The optimizer learns G from zero and keeps it, deterministically.
    a = optimize_final(unet, guide_for("glasses:1"), faces(), config(iterations=3, h_gain=True))
    b = optimize_final(unet, guide_for("glasses:1"), faces(), config(iterations=3, h_gain=True))
    assert a.h_gain is not None and tuple(a.h_gain.shape) == (16, 16) and float(a.h_gain.abs().max()) > 0
    assert torch.equal(a.h_gain, b.h_gain)
    assert "gain_rms" in a.history[-1]
    assert optimize_final(unet, guide_for("glasses:1"), faces(), config(iterations=1)).h_gain is None
    with pytest.raises(ValueError, match="continue it with h_gain"):
        optimize_final(unet, guide_for("glasses:1"), faces(), config(iterations=1), init_gain=a.h_gain)
    # The file keeps G; direction_meta leaves it alone.
    from asyrp_tools.direction_io import read_direction, read_h_gain, write_direction
    import direction_meta
    p = str(tmp_path / "g.safetensors")
    write_direction(p, a.delta_h.numpy(), a.timesteps, {"name": "g"}, h_gain=a.h_gain.numpy())
    direction_meta.main([p, "tBoost=50"])
    assert read_direction(p)[2]["tBoost"] == "50"
    assert torch.equal(torch.from_numpy(read_h_gain(p)), a.h_gain)
    with pytest.raises(ValueError, match="must be"):
        write_direction(p, a.delta_h.numpy(), a.timesteps, {}, h_gain=a.h_gain.numpy()[:3])
    # Files are renamed into place: no temp file is left, and the refused write kept the old one.
    assert sorted(f.name for f in tmp_path.iterdir()) == ["g.safetensors"]
    assert torch.equal(torch.from_numpy(read_h_gain(p)), a.h_gain)


def test_h_net_is_the_stated_formula_and_round_trips_through_the_file(tmp_path):
    # f(h, t)[:, p] = W2·SiLU(W1·h[:, p]/s + b1 + Wt·e(t)), checked against numpy in float64 at
    # each position; the file folds s into W1, so the stored tensors alone give the same f.
    from asyrp_tools.direction_io import read_direction, read_h_net, write_direction
    from asyrp_tools.hnet import HNet, timestep_embedding
    net = HNet(6, hidden=5, embed=4, scale=2.5, seed=1)
    with torch.no_grad():
        net.w2.copy_(torch.randn(6, 5, generator=torch.Generator().manual_seed(2)))
        net.b1.copy_(torch.linspace(-1, 1, 5))
    h = torch.randn(2, 6, 3, 2, generator=torch.Generator().manual_seed(3)) * 2.5
    got = net(h, 613).detach().numpy()
    e = np.array([math.sin(613.0), math.sin(613.0 / 100.0), math.cos(613.0), math.cos(613.0 / 100.0)])
    assert np.allclose(timestep_embedding(613, 4).numpy(), e, atol=1e-6)
    arr = {k: v.astype(np.float64) for k, v in net.arrays().items()}
    hn = h.numpy().astype(np.float64)
    for b in range(2):
        for y in range(3):
            for x in range(2):
                z = arr["hnet_w1"] @ hn[b, :, y, x] + arr["hnet_b1"] + arr["hnet_wt"] @ e
                want = arr["hnet_w2"] @ (z / (1 + np.exp(-z)))
                assert np.allclose(got[b, :, y, x], want, atol=1e-4)
    p = str(tmp_path / "n.safetensors")
    write_direction(p, np.zeros((1, 6, 3, 2), np.float32), [300], {"name": "n"}, h_net=net.arrays())
    back = read_h_net(p)
    assert all(np.array_equal(back[k], v) for k, v in net.arrays().items())
    assert read_direction(p)[2]["name"] == "n"
    assert torch.allclose(HNet.from_arrays(back, scale=2.5)(h, 613), net(h, 613), atol=1e-5)
    # direction_meta sets metadata and keeps the net (it once rewrote the file without it).
    import direction_meta
    direction_meta.main([p, "tBoost=50"])
    assert read_direction(p)[2]["tBoost"] == "50"
    assert all(np.array_equal(read_h_net(p)[k], v) for k, v in net.arrays().items())
    # --negate writes the direction at −1: f with W2 negated is −f (no output bias), Δh negated, W1 kept.
    q = str(tmp_path / "neg.safetensors")
    direction_meta.main([p, "--negate", "--out", q, "name=m"])
    flipped = HNet.from_arrays(read_h_net(q), scale=2.5)
    assert torch.allclose(flipped(h, 613), -net(h, 613), atol=1e-6)
    assert np.array_equal(read_h_net(q)["hnet_w1"], net.arrays()["hnet_w1"])
    assert read_direction(q)[2]["name"] == "m" and read_direction(p)[2]["name"] == "n"
    # --scale K writes the direction at K: Δh and f multiplied by K, W1 kept; 0 is refused (it is no edit).
    dh = np.random.default_rng(3).normal(size=(1, 6, 3, 2)).astype(np.float32)
    write_direction(p, dh, [300], {"name": "n"}, h_net=net.arrays())
    direction_meta.main([p, "--scale", "1.5", "--out", q])
    assert torch.allclose(HNet.from_arrays(read_h_net(q), scale=2.5)(h, 613), 1.5 * net(h, 613), atol=1e-6)
    assert np.allclose(read_direction(q)[0], 1.5 * dh) and not np.allclose(dh, 0)
    assert np.array_equal(read_h_net(q)["hnet_w1"], net.arrays()["hnet_w1"])
    assert read_direction(q)[2]["strengthScale"] == "1.5"
    direction_meta.main([q, "--scale", "2"])   # scales compound: strength 1 is now the first file's 3
    assert read_direction(q)[2]["strengthScale"] == "3"
    with pytest.raises(SystemExit):
        direction_meta.main([p, "--scale", "0", "--out", q])
    with pytest.raises(ValueError, match="6 channels but h has 7"):
        write_direction(p, np.zeros((1, 7, 3, 2), np.float32), [300], {}, h_net=net.arrays())
    broken = dict(net.arrays(), hnet_b1=np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="do not fit"):
        write_direction(p, np.zeros((1, 6, 3, 2), np.float32), [300], {}, h_net=broken)
    with pytest.raises(ValueError, match="missing hnet_wt"):
        write_direction(p, np.zeros((1, 6, 3, 2), np.float32), [300], {},
                        h_net={k: v for k, v in net.arrays().items() if k != "hnet_wt"})
    with pytest.raises(ValueError, match="even size"):
        HNet(6, 5, embed=3)


def test_h_net_reads_h_of_the_previous_step_starts_at_the_global_edit_and_is_learned():
    from asyrp_tools.hnet import HNet
    unet = tiny_unet()
    x_T = invert(unet, faces(2), 10, 2)
    dh = torch.randn(16, 4, 4, generator=torch.Generator().manual_seed(5)) * 0.3
    net = HNet(16, 8, 4, scale=1.0, seed=2)
    with torch.no_grad():
        net.w2.normal_(0, 0.3, generator=torch.Generator().manual_seed(6))
    ours = generate(unet, x_T, 10, 400, lambda t: (dh[None], (lambda h, t=t: net(h, t))))
    with torch.no_grad():
        x, _ = reference_generation(unet, x_T, 10, 400, lambda t, hp: dh[None] if hp is None else dh[None] + net(hp, t))
        assert torch.allclose(ours, x, atol=1e-6)
        assert not torch.allclose(ours, generate(unet, x_T, 10, 400, lambda t: dh[None]), atol=1e-4)
    # With W2 at zero (the optimizer's start) the net adds nothing: a run whose steps are all zero
    # returns the init unchanged.
    init = torch.randn(6, 16, 4, 4, generator=torch.Generator().manual_seed(7)) * 0.1
    cfg0 = config(iterations=3, h_net=8, h_net_embed=4, lr=0.0, h_net_lr=0.0)
    still = optimize_final(unet, guide_for("glasses:1"), faces(), cfg0, init=init)
    assert torch.equal(still.delta_h, init) and not still.h_net["hnet_w2"].any()
    a = optimize_final(unet, guide_for("glasses:1"), faces(), config(iterations=3, h_net=8, h_net_embed=4))
    b = optimize_final(unet, guide_for("glasses:1"), faces(), config(iterations=3, h_net=8, h_net_embed=4))
    assert a.h_net is not None and a.h_net["hnet_w1"].shape == (8, 16) and a.h_net["hnet_w2"].any()
    assert all((a.h_net[k] == b.h_net[k]).all() for k in a.h_net)
    assert "net_w2_rms" in a.history[-1]
    # Continuing a net needs the net on, with the same shape; t_max has no engine counterpart.
    with pytest.raises(ValueError, match="continue it with h_net"):
        optimize_final(unet, guide_for("glasses:1"), faces(), config(iterations=1), init_net=a.h_net)
    with pytest.raises(ValueError, match="asked for 4"):
        optimize_final(unet, guide_for("glasses:1"), faces(), config(iterations=1, h_net=4, h_net_embed=4), init_net=a.h_net)
    with pytest.raises(ValueError, match="t_max cannot be combined"):
        optimize_final(unet, guide_for("glasses:1"), faces(), config(iterations=1, t_max=500, h_net=8))


def test_an_init_h_net_with_fewer_units_is_widened_so_the_run_starts_at_the_init():
    # HNET=64 from a file made with 32 units: the added units have zero output weights, so the
    # start is the file's edit exactly, and those weights then learn like the others.
    from asyrp_tools.hnet import HNet
    small = HNet(16, 4, 4, scale=1.0, seed=2)
    with torch.no_grad():
        small.w2.normal_(0, 0.3, generator=torch.Generator().manual_seed(6))
        small.b1.normal_(0, 0.3, generator=torch.Generator().manual_seed(8))
    wide = small.widened(8, seed=1)
    h = torch.randn(2, 16, 4, 4, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        assert torch.allclose(wide(h, 613), small(h, 613), atol=1e-6)
    assert not wide.w2[:, 4:].any() and wide.w1[4:].abs().sum() > 0
    with pytest.raises(ValueError, match="not cut to 2"):
        small.widened(2)
    unet = tiny_unet()
    init = torch.randn(6, 16, 4, 4, generator=torch.Generator().manual_seed(7)) * 0.1
    cfg0 = config(iterations=2, h_net=8, h_net_embed=4, lr=0.0, h_net_lr=0.0)
    still = optimize_final(unet, guide_for("glasses:1"), faces(), cfg0, init=init, init_net=small.arrays())
    assert still.h_net["hnet_w1"].shape == (8, 16)
    # (W1 goes through the run's h scale and back: equal to float rounding.)
    assert all(np.allclose(still.h_net[k][:4], v, rtol=1e-6, atol=0) for k, v in small.arrays().items() if k != "hnet_w2")
    assert np.array_equal(still.h_net["hnet_w2"][:, :4], small.arrays()["hnet_w2"])
    assert not still.h_net["hnet_w2"][:, 4:].any()
    moved = optimize_final(unet, guide_for("glasses:1"), faces(), config(iterations=2, h_net=8, h_net_embed=4),
                           init=init, init_net=small.arrays())
    assert moved.h_net["hnet_w2"][:, 4:].any()


def test_a_kernel_h_net_convolves_over_h_and_round_trips_through_the_file(tmp_path):
    # f(h, t)[:, y, x] = W2·SiLU(Σ_{c,i,j} W1[:, c, i, j]·h[c, y+i−1, x+j−1]/s + b1 + Wt·e(t)), zero outside h,
    # checked against numpy in float64 at each position (corners and edges included) of a non-square h.
    from asyrp_tools.direction_io import read_h_net, write_direction
    from asyrp_tools.hnet import HNet, timestep_embedding
    net = HNet(6, hidden=5, embed=4, scale=2.5, seed=1, kernel=3)
    with torch.no_grad():
        net.w2.copy_(torch.randn(6, 5, generator=torch.Generator().manual_seed(2)))
        net.b1.copy_(torch.linspace(-1, 1, 5))
    h = torch.randn(2, 6, 3, 4, generator=torch.Generator().manual_seed(3)) * 2.5
    got = net(h, 613).detach().numpy()
    arr = {k: v.astype(np.float64) for k, v in net.arrays().items()}
    assert arr["hnet_w1"].shape == (5, 6, 3, 3)
    e = timestep_embedding(613, 4).numpy().astype(np.float64)
    hp = np.pad(h.numpy().astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    for b in range(2):
        for y in range(3):
            for x in range(4):
                z = np.einsum("dcij,cij->d", arr["hnet_w1"], hp[b, :, y:y + 3, x:x + 3]) + arr["hnet_b1"] + arr["hnet_wt"] @ e
                want = arr["hnet_w2"] @ (z / (1 + np.exp(-z)))
                assert np.allclose(got[b, :, y, x], want, atol=1e-4)
    # A neighbour matters: changing h at one position changes f beside it (a per-position net could not).
    h2 = h.clone()
    h2[:, :, 1, 1] += 3.0
    assert not torch.allclose(net(h2, 613)[:, :, 1, 2], net(h, 613)[:, :, 1, 2], atol=1e-4)
    p = str(tmp_path / "k.safetensors")
    write_direction(p, np.zeros((1, 6, 3, 4), np.float32), [300], {"name": "k"}, h_net=net.arrays())
    back = read_h_net(p)
    assert back["hnet_w1"].shape == (5, 6, 3, 3)
    assert torch.allclose(HNet.from_arrays(back, scale=2.5)(h, 613), net(h, 613), atol=1e-5)
    with pytest.raises(ValueError, match="kernel must be odd"):
        HNet(6, 5, embed=4, kernel=2)
    with pytest.raises(ValueError, match="do not fit"):
        write_direction(p, np.zeros((1, 6, 3, 4), np.float32), [300], {},
                        h_net=dict(net.arrays(), hnet_w1=np.zeros((5, 6, 2, 2), np.float32)))


def test_a_per_position_init_widens_into_a_kernel_at_its_centre_so_the_run_starts_at_the_init():
    from asyrp_tools.hnet import HNet
    small = HNet(16, 4, 4, scale=1.0, seed=2)
    with torch.no_grad():
        small.w2.normal_(0, 0.3, generator=torch.Generator().manual_seed(6))
        small.b1.normal_(0, 0.3, generator=torch.Generator().manual_seed(8))
    wide = small.widened(8, seed=1, kernel=3)
    h = torch.randn(2, 16, 4, 4, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        assert torch.allclose(wide(h, 613), small(h, 613), atol=1e-6)
    assert wide.kernel == 3 and not wide.w1[:4, :, 0].any() and not wide.w1[:4, :, :, 2].any()
    assert torch.equal(wide.w1[:4, :, 1, 1], small.w1[:, :, 0, 0])
    with pytest.raises(ValueError, match="not cut to 1x1"):
        wide.widened(8, kernel=1)
    unet = tiny_unet()
    init = torch.randn(6, 16, 4, 4, generator=torch.Generator().manual_seed(7)) * 0.1
    cfg0 = config(iterations=2, h_net=8, h_net_embed=4, h_net_kernel=3, lr=0.0, h_net_lr=0.0)
    still = optimize_final(unet, guide_for("glasses:1"), faces(), cfg0, init=init, init_net=small.arrays())
    w1 = still.h_net["hnet_w1"]
    assert w1.shape == (8, 16, 3, 3)
    assert np.allclose(w1[:4, :, 1, 1], small.arrays()["hnet_w1"], rtol=1e-6, atol=0)
    assert not w1[:4, :, 0].any() and not still.h_net["hnet_w2"][:, 4:].any()
    moved = optimize_final(unet, guide_for("glasses:1"), faces(),
                           config(iterations=2, h_net=8, h_net_embed=4, h_net_kernel=3), init=init, init_net=small.arrays())
    assert moved.h_net["hnet_w1"][:4, :, 0].any() and moved.h_net["hnet_w2"][:, 4:].any()
