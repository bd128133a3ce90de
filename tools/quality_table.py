"""The numbers table of docs/quality.md from the eval JSON files tools/quality_report.sh keeps.

  python3 tools/quality_table.py tools/runs/report [--faces tools/runs/report-8383] [--tolerance 8]

Success, preservation and the worst group are recounted from each judged face's progress and outside change
(the JSON's twin.faces) by the rules of src/engine/eval/twin-judge.ts and group-stats.ts, so a table made with
the tolerance `asyrp eval` has now equals what it prints, without running the edits again.
"""
import argparse
import json
import os

ROWS = [("smile", "smile"), ("frown", "smile at −1 (frown)"), ("glasses", "glasses"), ("eyes-closed", "eyes-closed"),
        ("hair-red", "hair-red"), ("mix", "`smile:1 glasses:1`")]
FACETS = ("skin_tone", "eyes_open", "glasses", "hair_colour", "hair_length")
MIN_GROUP = 5
SUCCESS_PROGRESS = 0.5


def pct(v):
    return f"{100 * v:.0f} %"


def recount(row, labels, tolerance):
    """(success, preservation, eligible, worst group) of a row's twin verdicts, as asyrp eval counts them."""
    faces = row["twin"]["faces"]
    ok = [f["progress"] >= SUCCESS_PROGRESS for f in faces]
    kept = [f["outside"] <= tolerance for f in faces]
    groups = {}
    for f, s, k in zip(faces, ok, kept):
        for facet in FACETS:
            if facet in labels[f["index"]]:
                g = groups.setdefault(facet, {}).setdefault(str(labels[f["index"]][facet]), [0, 0, 0])
                g[0] += 1
                g[1] += s
                g[2] += k
    worst = None
    for facet, values in groups.items():
        for value, (n, s, k) in values.items():
            if n < MIN_GROUP:
                continue
            cand = (s / n, k / n, facet, value, n)
            if worst is None or cand[:2] < worst[:2]:
                worst = cand
    n = max(1, len(faces))
    return sum(ok) / n, sum(kept) / n, len(faces), worst


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report", nargs="?", default="tools/runs/report")
    ap.add_argument("--faces", default="tools/runs/report-8383")
    ap.add_argument("--tolerance", type=float, default=8.0, help="TWIN_PRESERVE_TOLERANCE (src/engine/eval/twin-judge.ts)")
    args = ap.parse_args(argv)
    all_labels = [json.loads(l) for l in open(os.path.join(args.faces, "labels.jsonl")) if l.strip()]
    print("| edit | twin: success | preservation | worst group: success / preservation (faces) | reader: success | preservation |")
    print("|---|---:|---:|---|---:|---:|")
    for stem, title in ROWS:
        path = os.path.join(args.report, f"{stem}.json")
        if not os.path.exists(path):
            continue
        result = json.load(open(path))
        labels = all_labels[result.get("skip", 0):]
        row = next(r for r in result["rows"] if r["boosting"])
        s, k, n, w = recount(row, labels, args.tolerance)
        worst = f"{w[2]}={w[3]}: {pct(w[0])} / {pct(w[1])} ({w[4]})" if w else "–"
        reader = (pct(row["success"]), pct(row["preservation"])) if "success" in row else ("–", "–")
        print(f"| {title} | **{pct(s)}** of {n} | {pct(k)} | {worst} | {reader[0]} | {reader[1]} |")


if __name__ == "__main__":
    main()
