"""Which of two direction files is nearer the quality bars (issue #32; tools/make_direction.sh installs by it).

A direction is judged by the twin judge's success and preservation at strength 1 (docs/quality.md). The bars are
success >= 0.90 and preservation >= 0.95. Success first, then preservation (a lexicographic order) would have
installed an eyes-closed that closed more eyes and changed the rest of the face on half of them (61 % / 52 % beat
52 % / 85 %, docs/research/twin-guided-directions.md; it was kept out by hand). Ranked here by the total shortfall from the bars,

    max(0, 0.90 - success) + max(0, 0.95 - preservation),

smaller is nearer: a point of preservation below its bar costs as much as a point of success below its own, and
neither counts once it passes. Equal shortfalls (both files pass, say) fall back to success, then preservation.

    python3 -m asyrp_tools.bars "SUCCESS PRESERVATION" "SUCCESS PRESERVATION"   # exit 0: the first is better
    python3 -m asyrp_tools.bars --best-strength eval.json   # prints "STRENGTH SUCCESS PRESERVATION"

--best-strength reads `asyrp eval --json` of one direction at several strengths (boosting on, twin judge) and
prints the strength nearest the bars, by the same order; among equals the one nearest 1 (the file unchanged).
tools/make_direction.sh's calibrate step scales the file by it, so that strength 1 is that edit.
"""
from __future__ import annotations

import json
import sys
from typing import Iterable, Sequence, Tuple

SUCCESS_BAR = 0.90
PRESERVATION_BAR = 0.95


def shortfall(success: float, preservation: float) -> float:
    """How far (success, preservation), as shares of the eligible faces, are below the bars together."""
    return max(0.0, SUCCESS_BAR - success) + max(0.0, PRESERVATION_BAR - preservation)


def better(new: Tuple[float, float], old: Tuple[float, float]) -> bool:
    """Whether new = (success, preservation) is nearer the bars than old; a tie keeps old."""
    a, b = shortfall(*new), shortfall(*old)
    # Rounded so that two evals' shares (k/n) that sum to the same shortfall compare as equal.
    a, b = round(a, 9), round(b, 9)
    if a != b:
        return a < b
    return tuple(new) > tuple(old)


def best_strength(rows: Iterable[dict]) -> Tuple[float, float, float]:
    """(strength, success, preservation) of the eval rows (boosting on, judged by the twins) nearest the bars."""
    judged = [(float(r["strength"]), float(r["twin"]["success"]), float(r["twin"]["preservation"]))
              for r in rows if r.get("boosting") and r.get("twin")]
    if not judged:
        raise ValueError("no twin-judged rows with boosting on: was the eval run on a face folder with twins?")
    best = judged[0]
    for row in judged[1:]:
        s, b = row[1:], best[1:]
        tie = round(shortfall(*s), 9) == round(shortfall(*b), 9) and tuple(s) == tuple(b)
        if better(s, b) or (tie and abs(row[0] - 1) < abs(best[0] - 1)):
            best = row
    return best


def _pair(text: str) -> Tuple[float, float]:
    parts = text.split()
    if len(parts) != 2:
        raise ValueError(f"expected 'SUCCESS PRESERVATION', got {text!r}")
    return float(parts[0]), float(parts[1])


def main(argv: Sequence[str]) -> int:
    if len(argv) == 2 and argv[0] == "--best-strength":
        try:
            with open(argv[1]) as f:
                strength, success, preservation = best_strength(json.load(f)["rows"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            print(f"{argv[1]}: {e}", file=sys.stderr)
            return 2
        print(f"{strength:g} {success} {preservation}")
        return 0
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    try:
        new, old = _pair(argv[0]), _pair(argv[1])
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    return 0 if better(new, old) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
