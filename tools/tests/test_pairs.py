"""Rendered example pairs: the same face without and with one attribute, nothing else changed."""
import dataclasses

import numpy as np
import pytest
from PIL import Image

from asyrp_tools.pairs import EDITS, PAIRS_SEED, main, write_pairs
from asyrp_tools.renderer import params_for_seed, render


@pytest.mark.parametrize("attribute", sorted(EDITS))
def test_pairs_differ_in_the_attribute_only(tmp_path, attribute):
    drawn = write_pairs(attribute, str(tmp_path), count=4)
    assert drawn >= 4
    # Walk the same seeds: the k-th face that lacks the attribute is pair k, and the pair's "with"
    # image is exactly that face with the attribute and every other parameter the same.
    faces = [params_for_seed(PAIRS_SEED * 1_000_003 + i) for i in range(drawn)]
    kept = [(p, EDITS[attribute](p)) for p in faces if EDITS[attribute](p) is not None]
    assert len(kept) == 4
    for k, (p, q) in enumerate(kept):
        changed = {f.name for f in dataclasses.fields(p) if getattr(p, f.name) != getattr(q, f.name)}
        assert len(changed) == 1, changed
        neg = np.asarray(Image.open(tmp_path / "neg" / f"{k:04d}.png"))
        pos = np.asarray(Image.open(tmp_path / "pos" / f"{k:04d}.png"))
        assert np.array_equal(neg, np.asarray(render(p, 32)))
        assert np.array_equal(pos, np.asarray(render(q, 32)))
        assert not np.array_equal(neg, pos)


def test_bad_requests_are_refused_by_name(tmp_path, capsys):
    with pytest.raises(ValueError, match="unknown attribute 'beard'; known: eyes-closed, glasses, hair-red, smile"):
        write_pairs("beard", str(tmp_path))
    with pytest.raises(ValueError, match="count must be 1 or more"):
        write_pairs("glasses", str(tmp_path), count=0)
    with pytest.raises(SystemExit):
        main(["--attribute", "glasses", "--out", str(tmp_path), "--count", "0"])
    assert "count must be 1 or more" in capsys.readouterr().err
