"""quality_table.recount counts twin verdicts as asyrp eval does (twin-judge.ts, group-stats.ts)."""
from quality_table import recount


def test_recount_applies_both_rules_and_names_the_worst_group_of_five_or_more():
    faces = [{"index": i, "progress": p, "outside": o} for i, (p, o) in enumerate(
        [(0.9, 1), (0.5, 8), (0.49, 2), (0.7, 8.01), (0.6, 3), (0.1, 1), (0.8, 1), (0.95, 2)])]
    labels = [{"skin_tone": "dark" if i < 5 else "light", "eyes_open": 1} for i in range(8)]
    success, preservation, n, worst = recount({"twin": {"faces": faces}}, labels, tolerance=8)
    assert n == 8
    assert success == 6 / 8          # progress 0.5 passes, 0.49 and 0.1 do not
    assert preservation == 7 / 8     # outside 8 is kept, 8.01 is not
    # light (2/3) does worst but has 3 faces, too few to be named; of the rest eyes_open=1 (6/8) is below dark (4/5).
    assert worst == (0.75, 0.875, "eyes_open", "1", 8)
