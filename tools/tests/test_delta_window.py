import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.dirname(__file__))
from test_optimize_direction import faces, guide_for, tiny_unet  # noqa: E402
from asyrp_tools.delta_window import gaussian_window, parse_window  # noqa: E402
from asyrp_tools.optimize_final import FinalConfig, optimize_final  # noqa: E402


def test_parse_window_takes_four_numbers_with_positive_widths():
    assert parse_window("12,8,3,3.5") == (12.0, 8.0, 3.0, 3.5)
    for bad in ("12,8,3", "12,8,0,3", "a,b,c,d", ""):
        with pytest.raises(ValueError, match="CY,CX,SY,SX"):
            parse_window(bad)


def test_gaussian_window_is_one_at_its_centre_and_falls_off_by_the_widths():
    w = gaussian_window(16, 16, 12, 8, 3, 4)[0, 0]
    assert w.shape == (16, 16) and float(w[12, 8]) == 1.0
    assert float(w[9, 8]) == pytest.approx(torch.exp(torch.tensor(-0.5)).item())   # one SY above
    assert float(w[12, 4]) == pytest.approx(torch.exp(torch.tensor(-0.5)).item())  # one SX left
    assert float(w[0, 0]) < 1e-3


def test_the_optimized_delta_h_stays_inside_the_window():
    unet = tiny_unet()
    neg = faces(4)
    pos = neg.clone()
    pos[:, 0, :8, :8] = 1.0
    c, hh, ww = unet.cfg.hspace
    cfg = FinalConfig(t_edit=400, generation_steps=10, inversion_steps=10, batch=4, iterations=2, lr=0.1,
                      guide_weight=0.0, l1_weight=0.0, pair_weight=1.0, seed=3, window=(0.0, 0.0, 0.5, 0.5))
    # An init of ones at every editing timestep (two rows spanning them, resampled by align_init).
    res = optimize_final(unet, guide_for("glasses:1"), neg, cfg, init=torch.ones(2, c, hh, ww), init_ts=[400, 999], pos=pos)
    w = gaussian_window(hh, ww, 0.0, 0.0, 0.5, 0.5)[0, 0]
    # Δh is the free tensor times the window everywhere: nothing far from the centre, the init included.
    assert float(res.delta_h[:, :, hh - 1, ww - 1].abs().max()) <= 2 * float(w[hh - 1, ww - 1]) + 1e-12
    assert float(res.delta_h[:, :, 0, 0].abs().min()) > 0.5
