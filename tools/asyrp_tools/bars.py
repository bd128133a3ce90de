"""Which of two direction files is nearer the quality bars (issue #32; tools/make_direction.sh installs by it).

A direction is judged by the twin judge at strength 1 (docs/quality.md). The bars are success >= 0.90, success in
the worst group of faces (by render label) >= 0.80, and preservation >= 0.95. Success first, then preservation (a
lexicographic order) would have installed an eyes-closed that closed more eyes and changed the rest of the face on
half of them (61 % / 52 % beat 52 % / 85 %, docs/research/twin-guided-directions.md; it was kept out by hand). Ranked
here by the total shortfall from the bars,

    max(0, 0.90 - success) + max(0, 0.95 - preservation) + max(0, 0.80 - worst group's success),

smaller is nearer: a point below one bar costs as much as a point below another, and none counts once it passes.
The worst group's term counts where both scores carry it (before 2026-12-07 it was left out: a calibration then
preferred an eyes-closed at 0.85 that passed the mean bars on the choose set with light skin at 9 of 12 over the
file at 1 with every group at 8 of 9 or better). Equal shortfalls (both files pass, say) fall back to success,
then preservation, then the worst group.

    python3 -m asyrp_tools.bars "SUCCESS PRESERVATION [WORST]" "SUCCESS PRESERVATION [WORST]"   # exit 0: the first is better
    python3 -m asyrp_tools.bars --best-strength eval.json   # prints "STRENGTH SUCCESS PRESERVATION WORST"

--best-strength reads `asyrp eval --json` of one direction at several strengths (boosting on, twin judge) and
prints the strength nearest the bars, by the same order; among equals the one nearest 1 (the file unchanged).
tools/make_direction.sh's calibrate step scales the file by it, so that strength 1 is that edit.
"""
from __future__ import annotations

import json
import sys
from typing import Iterable, Optional, Sequence, Tuple

SUCCESS_BAR = 0.90
PRESERVATION_BAR = 0.95
WORST_GROUP_BAR = 0.80

Score = Tuple[float, ...]  # (success, preservation) or (success, preservation, worst group's success)


def shortfall(success: float, preservation: float, worst: Optional[float] = None) -> float:
    """How far the shares of the eligible faces are below the bars together (the worst group's where given)."""
    s = max(0.0, SUCCESS_BAR - success) + max(0.0, PRESERVATION_BAR - preservation)
    return s if worst is None else s + max(0.0, WORST_GROUP_BAR - worst)


def better(new: Score, old: Score) -> bool:
    """Whether new is nearer the bars than old; a tie keeps old. The worst group counts only if both carry it."""
    both = len(new) == 3 and len(old) == 3
    new, old = (tuple(new), tuple(old)) if both else (tuple(new[:2]), tuple(old[:2]))
    # Rounded so that two evals' shares (k/n) that sum to the same shortfall compare as equal.
    a, b = round(shortfall(*new), 9), round(shortfall(*old), 9)
    if a != b:
        return a < b
    return new > old


def row_score(row: dict) -> Score:
    """(success, preservation, worst group's success) of one `asyrp eval --json` row judged by the twins."""
    t = row["twin"]
    worst = row.get("worstGroup")
    return (float(t["success"]), float(t["preservation"])) + ((float(worst["success"]),) if worst else ())


def best_strength(rows: Iterable[dict]) -> Tuple[float, Score]:
    """The strength of the eval rows (boosting on, judged by the twins) nearest the bars, and its score."""
    judged = [(float(r["strength"]), row_score(r)) for r in rows if r.get("boosting") and r.get("twin")]
    if not judged:
        raise ValueError("no twin-judged rows with boosting on: was the eval run on a face folder with twins?")
    best = judged[0]
    for row in judged[1:]:
        tie = not better(row[1], best[1]) and not better(best[1], row[1])
        if better(row[1], best[1]) or (tie and abs(row[0] - 1) < abs(best[0] - 1)):
            best = row
    return best


def _score(text: str) -> Score:
    parts = text.split()
    if len(parts) not in (2, 3):
        raise ValueError(f"expected 'SUCCESS PRESERVATION [WORST]', got {text!r}")
    return tuple(float(p) for p in parts)


def main(argv: Sequence[str]) -> int:
    if len(argv) == 2 and argv[0] == "--best-strength":
        try:
            with open(argv[1]) as f:
                strength, score = best_strength(json.load(f)["rows"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            print(f"{argv[1]}: {e}", file=sys.stderr)
            return 2
        print(" ".join([f"{strength:g}"] + [str(v) for v in score]))
        return 0
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-5].strip(), file=sys.stderr)
        return 2
    try:
        new, old = _score(argv[0]), _score(argv[1])
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    return 0 if better(new, old) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
