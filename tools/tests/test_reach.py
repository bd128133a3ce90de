"""The reader's reach on a scalar attribute (attributes.json "reach") and the eligibility built on it."""
import json
import os

import pytest
import torch

from asyrp_tools.guides import ReaderGuide, load_reader_onnx, load_schema, parse_target
from asyrp_tools.reach import main, measure_reach, rendered_edit_success
from asyrp_tools.reader import OUTPUTS
from asyrp_tools.renderer import render_dataset

PKG = os.path.join(os.path.dirname(__file__), "..", "..", "models", "toyfaces-32")


@pytest.fixture(scope="module")
def reader():
    return load_reader_onnx(os.path.join(PKG, "attributes.onnx"), 32)


def test_the_shipped_reader_reads_full_smiles_inside_minus_one_to_one(reader):
    schema = load_schema(os.path.join(PKG, "attributes.json"))
    low, high = measure_reach(reader, list(OUTPUTS), schema, n=40)["smile"]
    # A full frown and a full grin read well inside -1..1: eligibility from 1 would count faces no edit moves by 0.3.
    assert -0.97 < low < -0.8 and 0.8 < high < 0.97
    # The shipped schema stores the 500-face measurement, which 40 faces reproduce closely.
    stored = schema["reach"]["smile"]
    assert abs(stored[0] - low) < 0.03 and abs(stored[1] - high) < 0.03


def test_bad_requests_are_refused_by_name(reader):
    with pytest.raises(ValueError, match='the renderer draws no scalar "beard"'):
        measure_reach(reader, list(OUTPUTS), {"scalars": ["beard"]}, n=2)
    with pytest.raises(ValueError, match='the reader has no output "smile"'):
        measure_reach(reader, ["face"], {"scalars": ["smile"]}, n=2)
    with pytest.raises(ValueError, match="n must be 1 or more"):
        measure_reach(reader, list(OUTPUTS), {"scalars": ["smile"]}, n=0)


def test_write_keeps_the_rest_of_the_schema(tmp_path, capsys):
    schema = load_schema(os.path.join(PKG, "attributes.json"))
    schema.pop("reach", None)
    path = tmp_path / "attributes.json"
    path.write_text(json.dumps(schema))
    main(["--reader", os.path.join(PKG, "attributes.onnx"), "--schema", str(path), "--n", "8", "--write"])
    printed = json.loads(capsys.readouterr().out)
    written = json.loads(path.read_text())
    assert written["reach"] == {"smile": list(printed["reach"]["smile"])}
    assert {k: v for k, v in written.items() if k != "reach"} == schema
    assert not os.path.exists(str(path) + ".tmp")


def test_eligibility_leaves_room_below_the_reach(reader):
    schema = {"scalars": ["smile"], "binary": [], "classes": {}}
    guide = ReaderGuide(reader, list(OUTPUTS), schema, parse_target("smile:+", schema))
    readings = torch.tensor([0.5, 0.6, 0.66])
    guide.read = lambda x: {"smile": readings}
    assert guide.eligible(None).tolist() == [True, True, False]
    schema["reach"] = {"smile": [-0.9, 0.88]}
    assert guide.eligible(None).tolist() == [True, False, False]


def test_the_rendered_full_smile_scores_what_any_edit_could(reader, tmp_path):
    # Faces 0-99 of the model's eval set (model.json "evalSet": render seed 4242), as `asyrp eval` renders them.
    render_dataset(100, 32, 4242, out_dir=str(tmp_path / "eval"), return_arrays=False)
    labels = str(tmp_path / "eval" / "labels.jsonl")
    wide = rendered_edit_success(reader, list(OUTPUTS), labels, "smile", (-1.0, 1.0), 0, 100)
    measured = rendered_edit_success(reader, list(OUTPUTS), labels, "smile", (-0.896, 0.886), 0, 100)
    assert wide["faces"] == measured["faces"] == 100
    # With a reach of 1 the set counts faces the best edit cannot move by 0.3; with the measured reach none.
    assert wide["reached"] < wide["eligible"]
    assert measured["reached"] == measured["eligible"] < wide["eligible"]
    # A label its seed does not render is named.
    row = json.loads(open(labels).readline())
    os.symlink(tmp_path / "eval" / "images", tmp_path / "images")
    (tmp_path / "labels.jsonl").write_text(json.dumps({**row, "smile": row["smile"] + 0.5}) + "\n")
    with pytest.raises(ValueError, match=r"images/000000.png: its seed renders smile 0.1289, the label says 0.6289"):
        rendered_edit_success(reader, list(OUTPUTS), str(tmp_path / "labels.jsonl"))
    with pytest.raises(ValueError, match="has no faces 5..6"):
        rendered_edit_success(reader, list(OUTPUTS), str(tmp_path / "labels.jsonl"), skip=5, n=2)
