"""optimize_direction: a tiny random UNet and a tiny random reader as guide, a few steps.

Checks that the optimizer lowers the guide loss (the loss at epoch 1 is measured
with Δh_t = 0, since each Δh_t is first used before its first update), that it
is deterministic, and that the CLI writes a valid direction file (the format
of src/engine/directions/direction-file.ts)."""
import json
import os
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from asyrp_tools.direction_io import read_direction, write_direction  # noqa: E402
from asyrp_tools.guides import ReaderGuide, parse_target  # noqa: E402
from asyrp_tools.optimize import OptimizeConfig, invert, objective, optimize_direction  # noqa: E402
from asyrp_tools.reader import OUTPUTS, Reader, export as export_reader  # noqa: E402
from asyrp_tools.unet import UNet, UNetConfig  # noqa: E402

SCHEMA = {"scalars": ["smile"], "binary": ["eyes_open", "glasses", "hair_long"],
          "classes": {"hair_colour": ["black", "blonde", "brown", "red"], "skin_tone": ["dark", "light", "medium"],
                      "face_shape": ["round", "oval", "square"], "background": ["grey", "mint", "sand", "sky"]}}
R = 8


def tiny_unet(seed=0):
    torch.manual_seed(seed)
    unet = UNet(UNetConfig(resolution=R, base_channels=8, channel_mult=(1, 2), groups=4, temb_in=16))
    # The real init zeroes the last convs (identity blocks, eps = 0), which would make
    # P_t independent of Δh; random weights everywhere give a non-trivial decoder.
    with torch.no_grad():
        for p in unet.parameters():
            p.normal_(0, 0.2)
    return unet.eval()


def tiny_reader(seed=1):
    torch.manual_seed(seed)
    reader = Reader(R, width=4).eval()
    # Default-init ReLU stacks this small answer almost the same for every input;
    # larger weights give a guide whose outputs actually depend on the image.
    with torch.no_grad():
        for p in reader.parameters():
            p.mul_(3)
    return reader


def faces(n=8, seed=2):
    return torch.rand(n, 3, R, R, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def config(epochs=4, param="per-t"):
    return OptimizeConfig(t_edit=400, generation_steps=10, inversion_steps=10, batch=4, epochs=epochs,
                          lr=0.05, l1_weight=0.1, param=param, seed=3)


def guide_for(target):
    return ReaderGuide(tiny_reader(), list(OUTPUTS), SCHEMA, parse_target(target, SCHEMA), keep=0.0, face=0.0)


def run(target="smile:+", epochs=4, param="per-t"):
    return optimize_direction(tiny_unet(), guide_for(target), faces(), config(epochs, param))


@pytest.mark.parametrize("target", ["smile:+", "glasses:1", "hair_colour:red"])
def test_guide_loss_decreases(target):
    res = run(target)
    # Same faces, same trajectories: the mean guide loss over the editing steps with the
    # optimized Δh_t must be below the unedited one (Δh = 0).
    cfg, unet, guide = config(), tiny_unet(), guide_for(target)
    x_T = invert(unet, faces(), cfg.inversion_steps, cfg.batch)
    before, _ = objective(unet, guide, x_T, cfg, None)
    after, l1 = objective(unet, guide, x_T, cfg, res)
    assert after < before - 1e-3, (before, after)
    assert l1 > 0
    assert res.timesteps == sorted(res.timesteps) and min(res.timesteps) >= 400
    assert tuple(res.delta_h.shape) == (len(res.timesteps), 16, 4, 4)


def test_any_callable_guide():
    # The guide is an interface: here a fixed linear read-out of P_t stands in for CLIP.
    w = torch.randn(1, 3, R, R, generator=torch.Generator().manual_seed(5))
    cfg = OptimizeConfig(t_edit=400, generation_steps=10, inversion_steps=10, batch=4, epochs=3, lr=0.2,
                         l1_weight=0.1, seed=3)
    res = optimize_direction(tiny_unet(), lambda xe, xs: (xe * w).flatten(1).mean(1), faces(), cfg)
    assert res.history[-1]["guide"] < res.history[0]["guide"]


def test_deterministic():
    a, b = run(epochs=2), run(epochs=2)
    assert torch.equal(a.delta_h, b.delta_h)
    assert [r["guide"] for r in a.history] == [r["guide"] for r in b.history]


def test_global_param_is_one_offset():
    res = run(epochs=2, param="global")
    assert torch.equal(res.delta_h[0], res.delta_h[-1])


def test_direction_file_round_trip(tmp_path):
    dh = np.random.default_rng(0).normal(size=(3, 16, 4, 4)).astype(np.float32)
    p = str(tmp_path / "d.safetensors")
    write_direction(p, dh, [500, 600, 999], {"name": "d", "tEdit": 500})
    raw = open(p, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    assert (8 + n) % 8 == 0   # data 8-byte aligned, like the reference writer
    dh2, ts, meta = read_direction(p)
    assert np.array_equal(dh, dh2) and ts.tolist() == [500, 600, 999] and ts.dtype == np.int32
    assert meta == {"name": "d", "tEdit": "500"}
    with pytest.raises(ValueError):
        write_direction(p, dh, [600, 500, 999], {})


def test_cli_writes_a_valid_direction(tmp_path, capsys):
    import optimize_direction as cli
    ck = str(tmp_path / "ck.pt")
    unet = tiny_unet()
    torch.save({"config": unet.cfg.to_dict(), "ema": unet.state_dict()}, ck)
    reader = str(tmp_path / "attributes.onnx")
    export_reader(tiny_reader(), reader, R)
    schema = str(tmp_path / "attributes.json")
    with open(schema, "w") as f:
        json.dump(SCHEMA, f)
    out = str(tmp_path / "directions" / "glasses.safetensors")
    argv = ["--checkpoint", ck, "--reader", reader, "--schema", schema, "--target", "glasses:1", "--name", "glasses",
            "--out", out, "--t-edit", "400", "--steps", "10", "--faces", "4", "--batch", "4", "--epochs", "1",
            "--val", "0"]
    cli.main(argv)
    dh, ts, meta = read_direction(out)
    assert dh.shape == (len(ts), 16, 4, 4) and np.all(np.diff(ts) > 0) and ts.min() >= 400
    assert meta["evalTarget"] == "glasses:1" and meta["tEdit"] == "400" and meta["name"] == "glasses"
    assert meta["source"].startswith("cd tools && python3 optimize_direction.py --checkpoint")
    dh_again = out.replace("glasses.", "again.")
    cli.main([a if a != out else dh_again for a in argv])
    assert np.array_equal(dh, read_direction(dh_again)[0])
    # --h-net writes the net beside Δh; continuing it needs --h-net, mixing it in is refused.
    from asyrp_tools.direction_io import read_h_net
    net_out = str(tmp_path / "directions" / "net.safetensors")
    final = ["--objective", "final", "--iterations", "2", "--h-net", "6"]
    cli.main([a if a != out else net_out for a in argv] + final)
    net = read_h_net(net_out)
    assert net["hnet_w1"].shape == (6, 16) and net["hnet_wt"].shape == (6, 32) and net["hnet_w2"].any()
    assert "SiLU" in read_direction(net_out)[2]["method"]
    # --h-net-kernel 3 continues that net with 3x3 kernels (written [D,C,3,3], named in the method);
    # direction_meta reports the kernel; an even kernel is refused before any work.
    conv_out = str(tmp_path / "directions" / "conv.safetensors")
    cli.main([a if a != out else conv_out for a in argv] + final + ["--h-net-kernel", "3", "--init", net_out])
    assert read_h_net(conv_out)["hnet_w1"].shape == (6, 16, 3, 3)
    assert "W1⋆h (3x3)" in read_direction(conv_out)[2]["method"]
    # Continued without --h-net-kernel, the file keeps (and its method names) the init's 3x3 kernel.
    again_out = str(tmp_path / "directions" / "conv2.safetensors")
    cli.main([a if a != out else again_out for a in argv] + final + ["--init", conv_out])
    assert read_h_net(again_out)["hnet_w1"].shape == (6, 16, 3, 3)
    assert "W1⋆h (3x3)" in read_direction(again_out)[2]["method"]
    import direction_meta
    direction_meta.main([conv_out])
    assert '"hNetKernel": 3' in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main([a if a != out else conv_out for a in argv] + final + ["--h-net-kernel", "2"])
    assert "--h-net-kernel must be odd" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="continue it with --h-net 6"):
        cli.main(argv + ["--objective", "final", "--iterations", "1", "--init", net_out])
    with pytest.raises(SystemExit, match="h-dependent part"):
        cli.main(argv + ["--objective", "final", "--iterations", "1", "--mix-with", net_out])
    with pytest.raises(SystemExit):
        cli.main(argv + ["--h-net", "6"])   # the paper-loss objective has no h-net
    with pytest.raises(SystemExit, match="expected ATTR=W"):
        cli.main(argv + ["--keep-weight", "face_shape"])


@pytest.mark.parametrize("prediction", ["eps", "v"])
def test_edited_epsilon_matches_the_exported_graph(prediction):
    # The optimizer splits encode/decode to get gradients into Δh only; its eps_edit
    # must be the one the engine runs (UNet.forward_edit, what unet.onnx contains).
    from asyrp_tools.optimize import _to_eps
    unet = tiny_unet()
    unet.cfg.prediction = prediction
    x, t = faces(2), torch.tensor([700.0, 700.0])
    dh = torch.randn(2, 16, 4, 4, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        eps, eps_edit, _ = unet.forward_edit(x, t, dh)
        h, skips, temb = unet.encode(x, t)
        mine = _to_eps(unet, unet.decode(h + dh, skips, temb), x, t)
        plain = _to_eps(unet, unet.decode(h, skips, temb), x, t)
    assert torch.allclose(mine, eps_edit, atol=1e-5) and torch.allclose(plain, eps, atol=1e-5)


def test_each_step_moves_only_its_own_timestep():
    # One pass over one batch: every Δh_t gets exactly one Adam step, so no element can
    # exceed the step size (Adam's first step is lr per element).  A shared [K,...] tensor
    # would let momentum move earlier Δh_t again at every later step.
    cfg = OptimizeConfig(t_edit=400, generation_steps=10, inversion_steps=10, batch=8, epochs=1,
                         lr=0.05, l1_weight=0.1, seed=3)
    res = optimize_direction(tiny_unet(), guide_for("glasses:1"), faces(), cfg)
    step = cfg.lr * res.h_rms
    assert float(res.delta_h.abs().max()) <= step * 1.001
