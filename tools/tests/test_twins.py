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
