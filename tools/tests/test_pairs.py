"""Rendered example pairs: the same face without and with one attribute, nothing else changed."""
import dataclasses

import numpy as np
import pytest
from PIL import Image

from asyrp_tools.pairs import EDITS, PAIRS_SEED, main, parse_where, write_pairs
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
        # One label, or one per change of a mixed twin ("twin:glasses=1,smile=1").
        assert len(changed) == attribute.count(",") + 1, changed
        neg = np.asarray(Image.open(tmp_path / "neg" / f"{k:04d}.png"))
        pos = np.asarray(Image.open(tmp_path / "pos" / f"{k:04d}.png"))
        assert np.array_equal(neg, np.asarray(render(p, 32)))
        assert np.array_equal(pos, np.asarray(render(q, 32)))
        assert not np.array_equal(neg, pos)


def test_bad_requests_are_refused_by_name(tmp_path, capsys):
    with pytest.raises(ValueError, match="unknown attribute 'beard'; known: eyes-closed, glasses, hair-blonde, hair-red, smile, smile-wide"):
        write_pairs("beard", str(tmp_path))
    with pytest.raises(ValueError, match="count must be 1 or more"):
        write_pairs("glasses", str(tmp_path), count=0)
    with pytest.raises(SystemExit):
        main(["--attribute", "glasses", "--out", str(tmp_path), "--count", "0"])
    assert "count must be 1 or more" in capsys.readouterr().err


def test_where_first_and_number_from_add_one_kind_of_face_to_a_set(tmp_path):
    write_pairs("hair-red", str(tmp_path), count=2)
    before = sorted((tmp_path / "neg").iterdir())
    end = write_pairs("hair-red", str(tmp_path), count=3, where={"hair_colour": "blonde", "skin_tone": "medium"},
                      first=1000, number_from=2)
    names = sorted(p.name for p in (tmp_path / "neg").iterdir())
    assert names == ["0000.png", "0001.png", "0002.png", "0003.png", "0004.png"]
    assert [p.read_bytes() for p in before] == [(tmp_path / "neg" / n).read_bytes() for n in ("0000.png", "0001.png")]
    # The added pairs are the first three blonde, medium-skinned faces from face 1000 on, nothing else.
    faces = [params_for_seed(PAIRS_SEED * 1_000_003 + i) for i in range(1000, end)]
    chosen = [p for p in faces if p.hair_colour == "blonde" and p.skin_tone == "medium"]
    assert len(chosen) == 3 and chosen[-1] == faces[-1]
    for k, p in enumerate(chosen):
        neg = np.asarray(Image.open(tmp_path / "neg" / f"{k + 2:04d}.png"))
        pos = np.asarray(Image.open(tmp_path / "pos" / f"{k + 2:04d}.png"))
        assert np.array_equal(neg, np.asarray(render(p, 32)))
        assert np.array_equal(pos, np.asarray(render(dataclasses.replace(p, hair_colour="red"), 32)))


def test_where_reads_a_yes_no_label_as_labels_jsonl_writes_it(tmp_path):
    # eyes_open is a bool on FaceParams and 0/1 in labels.jsonl: --where eyes_open=0 means closed eyes.
    end = write_pairs("twin:glasses=1", str(tmp_path), count=2, where={"eyes_open": "0"})
    faces = [params_for_seed(PAIRS_SEED * 1_000_003 + i) for i in range(end)]
    assert sum(1 for p in faces if not p.eyes_open and not p.glasses) >= 2


def test_bad_filters_are_refused_by_name(tmp_path, capsys):
    with pytest.raises(ValueError, match="unknown label 'eye_colour'; known: smile, "):
        parse_where(["eye_colour=blue"])
    with pytest.raises(ValueError, match="expected LABEL=VALUE"):
        parse_where(["skin_tone"])
    # Red-haired faces never need a hair-red pair: the filter can match nothing, and says so.
    with pytest.raises(ValueError, match=r"only 0 of 1 faces match \{'hair_colour': 'red'\}"):
        write_pairs("hair-red", str(tmp_path), count=1, where={"hair_colour": "red"})
    with pytest.raises(SystemExit):
        main(["--attribute", "glasses", "--out", str(tmp_path), "--where", "mood=happy"])
    assert "unknown label 'mood'" in capsys.readouterr().err


def test_also_writes_the_same_faces_changed_by_another_key(tmp_path):
    # A smile direction's frown target: the faces of the smile pairs, each with the full frown, whether
    # or not it is eligible for one (a face that already frowns still gets smile -1).
    drawn = write_pairs("twin:smile=1", str(tmp_path), count=5, also="smile=-1")
    faces = [params_for_seed(PAIRS_SEED * 1_000_003 + i) for i in range(drawn)]
    kept = [p for p in faces if EDITS["twin:smile=1"](p) is not None]
    for k, p in enumerate(kept):
        also = np.asarray(Image.open(tmp_path / "smile=-1" / f"{k:04d}.png"))
        assert np.array_equal(also, np.asarray(render(dataclasses.replace(p, smile=-1.0), 32)))
    with pytest.raises(ValueError, match="unknown twin change 'beard=1'"):
        write_pairs("glasses", str(tmp_path / "x"), count=1, also="beard=1")
