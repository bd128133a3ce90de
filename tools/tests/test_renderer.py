import json
import random

import numpy as np

from asyrp_tools.renderer import (FACE_SHAPES, HAIR_COLOURS, params_for_seed, render, render_dataset,
                                  sample_params, to_array)


def test_same_seed_same_pixels():
    a = np.asarray(render(params_for_seed(123), 32))
    b = np.asarray(render(params_for_seed(123), 32))
    assert a.shape == (32, 32, 3)
    assert np.array_equal(a, b)


def test_different_seeds_differ():
    a = np.asarray(render(params_for_seed(1), 32))
    b = np.asarray(render(params_for_seed(2), 32))
    assert not np.array_equal(a, b)


def test_labels_cover_the_attribute_space():
    ps = [sample_params(random.Random(i)) for i in range(400)]
    assert min(p.smile for p in ps) < -0.9 and max(p.smile for p in ps) > 0.9
    assert {p.eyes_open for p in ps} == {True, False}
    assert {p.glasses for p in ps} == {True, False}
    assert {p.hair_colour for p in ps} == set(HAIR_COLOURS)
    assert {p.face_shape for p in ps} == set(FACE_SHAPES)
    assert len({p.hair_length for p in ps}) >= 2
    assert len({p.skin_tone for p in ps}) >= 3
    assert len({p.background for p in ps}) >= 3


def test_smile_changes_the_mouth_region_only():
    import dataclasses
    p = params_for_seed(5)
    grin = to_array(render(dataclasses.replace(p, smile=1.0), 32))
    frown = to_array(render(dataclasses.replace(p, smile=-1.0), 32))
    diff = np.abs(grin - frown).sum(0)
    rows = np.nonzero(diff.max(1) > 0.05)[0]
    assert diff.max() > 0.5  # a bold change...
    assert rows.min() > 32 * 0.55  # ...in the lower part of the face
    assert to_array(render(p, 32)).min() >= -1 and to_array(render(p, 32)).max() <= 1


def test_render_dataset_writes_images_and_labels(tmp_path):
    arr, labels = render_dataset(5, 32, seed=3, out_dir=str(tmp_path))
    assert arr.shape == (5, 3, 32, 32) and arr.dtype == np.float32
    lines = (tmp_path / "labels.jsonl").read_text().splitlines()
    assert len(lines) == 5
    first = json.loads(lines[0])
    assert (tmp_path / first["file"]).exists()
    for k in ("smile", "eyes_open", "glasses", "hair_colour", "hair_length", "skin_tone", "face_shape",
              "background"):
        assert k in first
    arr2, _ = render_dataset(5, 32, seed=3)
    assert np.array_equal(arr, arr2)


def test_cli_writes_the_same_set_as_render_dataset(tmp_path):
    from asyrp_tools.renderer import main
    main(["--out", str(tmp_path / "cli"), "--n", "3", "--seed", "77"])
    _, labels = render_dataset(3, 32, 77, out_dir=str(tmp_path / "api"))
    assert (tmp_path / "cli" / "labels.jsonl").read_text() == (tmp_path / "api" / "labels.jsonl").read_text()
    for lab in labels:
        assert (tmp_path / "cli" / lab["file"]).read_bytes() == (tmp_path / "api" / lab["file"]).read_bytes()
