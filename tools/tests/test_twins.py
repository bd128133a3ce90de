"""The rendered twins: eligibility, the region from the renderer's geometry, and the folder layout asyrp eval reads."""
import json
import os

import numpy as np
import pytest

from asyrp_tools.renderer import params_for_seed, render, render_dataset
from asyrp_tools.twins import DEFAULT_KEYS, canonical, parse_key, region_of, twin_of


def _face(**changes):
    import dataclasses
    return dataclasses.replace(params_for_seed(1), **changes)


def test_keys_are_sorted_and_unknown_changes_refused():
    assert canonical("smile=1,glasses=1") == "glasses=1,smile=1"
    with pytest.raises(ValueError, match="unknown twin change"):
        parse_key("beard=1")
    with pytest.raises(ValueError, match="sets one label twice"):
        parse_key("smile=1,smile=-1")


def test_twin_switches_the_target_on_and_skips_faces_that_have_it():
    assert twin_of(_face(glasses=True), "glasses=1") is None
    assert twin_of(_face(glasses=False), "glasses=1").glasses is True
    assert twin_of(_face(smile=0.7), "smile=1") is None
    assert twin_of(_face(smile=0.2), "smile=1").smile == 1.0
    assert twin_of(_face(smile=-0.2), "smile=-1").smile == -1.0
    both = twin_of(_face(smile=0.0, glasses=False), "glasses=1,smile=1")
    assert both.glasses and both.smile == 1.0
    # Everything that is not the target stays: the twin is the same face.
    p = _face(hair_colour="blonde")
    q = twin_of(p, "hair_colour=red")
    assert (q.hair_colour, q.skin_tone, q.dx, q.scale) == ("red", p.skin_tone, p.dx, p.scale)


def test_region_covers_every_pixel_the_twin_changes_and_little_else():
    for key in DEFAULT_KEYS:
        for seed in range(20):
            p = params_for_seed(seed)
            q = twin_of(p, key)
            if q is None:
                continue
            region = region_of(p, q, 32) > 0
            diff = np.abs(np.asarray(render(p, 32), np.int16) - np.asarray(render(q, 32), np.int16)).max(axis=2) > 0
            assert not (diff & ~region).any(), key
            assert region.sum() < 0.6 * 32 * 32, key


def test_dataset_with_twins_writes_twins_and_regions_beside_the_images(tmp_path):
    out = str(tmp_path / "faces")
    render_dataset(6, 32, 4242, out_dir=out, return_arrays=False, twins=["smile=1", "glasses=1,smile=1"])
    labels = [json.loads(l) for l in open(os.path.join(out, "labels.jsonl"))]
    for lab in labels:
        name = os.path.basename(lab["file"])
        has = os.path.exists(os.path.join(out, "twins", "smile=1", name))
        assert has == (lab["smile"] <= 0.5)
        assert has == os.path.exists(os.path.join(out, "regions", "smile=1", name))
        both = os.path.exists(os.path.join(out, "twins", "glasses=1,smile=1", name))
        assert both == (lab["smile"] <= 0.5 and not lab["glasses"])


def test_outside_change_skips_the_region_and_its_border():
    from asyrp_tools.twins import outside_change
    x = np.zeros((8, 8, 3), np.uint8)
    region = np.zeros((8, 8), bool)
    region[3:5, 3:5] = True
    e = x.copy()
    e[2:6, 2:6] = 200  # the region and its one-pixel border: not counted
    assert outside_change(x, e, region) == 0.0
    e[0, 0, 1] = 48  # one outside pixel of the 64 - 16 counted, by its largest channel
    assert outside_change(x, e, region) == pytest.approx(48 / 48)


def test_calibration_lists_every_unwanted_change_per_key():
    from asyrp_tools.twins import calibrate
    rows = calibrate(n=6)
    assert "face shape" in rows and "light 3 % brighter" in rows
    assert all(v >= 0 for by_key in rows.values() for vals in by_key.values() for v in vals)
