"""face_reach.py: the faces it picks match --where as labels.jsonl writes the labels."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from asyrp_tools.pairs import parse_where  # noqa: E402
from face_reach import faces_for  # noqa: E402


def test_a_boolean_label_is_matched_as_labels_jsonl_writes_it():
    # eyes_open is a bool on the render parameters and "0"/"1" in labels.jsonl and on the command line;
    # matching by Python's str() ("False") had found no face at all.
    picked = faces_for("glasses=1", parse_where(["eyes_open=0"]), 2, 0, 32)
    assert len(picked) == 2 and all(p.eyes_open is False and q.glasses for _, p, q in picked)
    dark = faces_for("glasses=1", parse_where(["skin_tone=dark", "eyes_open=1"]), 1, 0, 32)
    assert dark[0][1].skin_tone == "dark" and dark[0][1].eyes_open is True
