import subprocess
import sys
import os

import pytest

from asyrp_tools.bars import better, shortfall

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


def test_the_command_line_exits_0_only_when_the_first_is_better():
    run = lambda a, b: subprocess.run([sys.executable, "-m", "asyrp_tools.bars", a, b], cwd=TOOLS).returncode  # noqa: E731
    assert run("0.52 0.85", "0.61 0.52") == 0
    assert run("0.61 0.52", "0.52 0.85") == 1
    assert run("0.5", "0.5 0.5") == 2   # a malformed score is an error, not a loss
