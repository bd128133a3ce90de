import subprocess
import sys
import os

import pytest

import json

from asyrp_tools.bars import best_strength, better, shortfall

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_shortfall_adds_what_each_share_lacks_and_nothing_past_a_bar():
    assert shortfall(0.90, 0.95) == 0.0
    assert shortfall(1.0, 1.0) == 0.0
    assert shortfall(0.50, 0.85) == pytest.approx(0.40 + 0.10)
    assert shortfall(0.95, 0.60) == pytest.approx(0.35)


def test_an_edit_that_ruins_the_face_does_not_beat_one_that_misses_as_often():
    # The eyes-closed case: success first would have installed 61 % / 52 % over 52 % / 85 %.
    assert not better((0.61, 0.52), (0.52, 0.85))
    assert better((0.52, 0.85), (0.61, 0.52))
    # More success at the same preservation still wins.
    assert better((0.61, 0.85), (0.52, 0.85))


def test_a_tie_in_shortfall_falls_back_to_success_then_keeps_the_old_file():
    assert better((0.95, 0.96), (0.92, 0.99))   # both pass: more success wins
    assert not better((0.92, 0.99), (0.95, 0.96))
    assert not better((0.5, 0.9), (0.5, 0.9))    # the same numbers keep the shipped file


def test_the_worst_group_counts_when_both_scores_carry_it():
    assert shortfall(0.95, 0.96, 0.70) == pytest.approx(0.10)
    assert better((0.92, 1.0, 0.85), (0.95, 1.0, 0.60))
    assert not better((0.95, 1.0, 0.60), (0.92, 1.0, 0.85))
    # A score without it (an older memo) is compared on the two shares alone.
    assert better((0.95, 1.0, 0.60), (0.92, 1.0))


def test_the_command_line_exits_0_only_when_the_first_is_better():
    run = lambda a, b: subprocess.run([sys.executable, "-m", "asyrp_tools.bars", a, b], cwd=TOOLS).returncode  # noqa: E731
    assert run("0.52 0.85", "0.61 0.52") == 0
    assert run("0.61 0.52", "0.52 0.85") == 1
    assert run("0.5", "0.5 0.5") == 2   # a malformed score is an error, not a loss
    assert run("0.92 1.0 0.85", "0.95 1.0 0.6") == 0
    assert run("0.9 1 0.8 0.1", "0.9 1") == 2


def _row(strength, success, preservation, boosting=True, worst=None):
    row = {"strength": strength, "boosting": boosting, "twin": {"success": success, "preservation": preservation}}
    if worst is not None:
        row["worstGroup"] = {"facet": "skin_tone", "value": "light", "success": worst}
    return row


def test_the_best_strength_is_nearest_the_bars_and_among_equals_nearest_1(tmp_path):
    rows = [_row(1, 0.66, 1.0), _row(1.2, 0.75, 1.0), _row(1.4, 0.70, 1.0), _row(1.7, 0.59, 1.0),
            _row(1, 0.99, 1.0, boosting=False)]   # boosting off is not what ships
    assert best_strength(rows) == (1.2, (0.75, 1.0))
    # More success bought with the face loses, as in better().
    assert best_strength([_row(1, 0.6, 0.9), _row(1.3, 0.8, 0.6)]) == (1, (0.6, 0.9))
    # Equal numbers: the strength nearest 1 (no change) wins whichever order the rows come in.
    assert best_strength([_row(1.3, 0.9, 1.0), _row(0.9, 0.9, 1.0), _row(1.15, 0.9, 1.0)]) == (0.9, (0.9, 1.0))
    # The worst group counts: eyes-closed on the choose set, 0.85 passes the mean bars with light skin at 0.75,
    # 1 misses preservation by a point with every group at 0.89 or better.
    assert best_strength([_row(0.85, 0.909, 1.0, worst=0.75), _row(1, 0.970, 0.939, worst=0.889)]) == (1, (0.970, 0.939, 0.889))
    with pytest.raises(ValueError, match="no twin-judged rows"):
        best_strength([_row(1, 0.5, 0.5, boosting=False)])
    p = tmp_path / "eval.json"
    p.write_text(json.dumps({"rows": rows}))
    out = subprocess.run([sys.executable, "-m", "asyrp_tools.bars", "--best-strength", str(p)], cwd=TOOLS,
                         capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.split() == ["1.2", "0.75", "1.0"]
    p.write_text("{}")
    assert subprocess.run([sys.executable, "-m", "asyrp_tools.bars", "--best-strength", str(p)], cwd=TOOLS,
                          capture_output=True).returncode == 2
