"""Pictures for docs/quality.md: per direction, one grid of input / edit / twin rows on faces of the report
set, from what `asyrp eval --json --save` wrote (tools/quality_report.sh runs both).

  python3 tools/quality_grid.py --faces tools/runs/report-8383 --report tools/runs/report --out docs/img

Columns, chosen by rule and not by looks: the first four faces judged; the first three of the direction's
worst group (the eval row's worstGroup); the two passing faces with the lowest progress and the two failing
faces with the highest (the borderline cases both ways).  Under each column: its progress toward the twin
(success at 50 %) and its mean change outside the region (preserved up to the tolerance), coloured green
where both pass.
"""
from __future__ import annotations

import argparse
import json
import os

from PIL import Image, ImageDraw

from quality_table import recount

# name -> (eval JSON file stem, title)
DIRECTIONS = {
    "smile": "smile (strength 1)",
    "frown": "smile at -1 (frown)",
    "glasses": "glasses",
    "eyes-closed": "eyes-closed",
    "hair-red": "hair-red",
    "mix": "smile:1 glasses:1",
}


def pick(row, labels, worst):
    """Face indices for the grid and why each is there."""
    faces = row["twin"]["faces"]
    ok = lambda f: f["progress"] >= 0.5  # noqa: E731
    chosen, why = [], {}

    def add(f, reason):
        if f["index"] not in why:
            chosen.append(f)
            why[f["index"]] = reason

    for f in faces[:4]:
        add(f, "first")
    if worst:
        facet, value = worst[2], worst[3]
        group = [f for f in faces if str(labels[f["index"]].get(facet)) == value]
        for f in group[:3]:
            add(f, f"{facet}={value}")
    passing = sorted((f for f in faces if ok(f)), key=lambda f: f["progress"])
    failing = sorted((f for f in faces if not ok(f)), key=lambda f: -f["progress"])
    for f in passing[:2]:
        add(f, "borderline pass")
    for f in failing[:2]:
        add(f, "borderline miss")
    return chosen, why


def draw(name, result, faces_dir, report_dir, tolerance, scale):
    row = next(r for r in result["rows"] if r["boosting"] and r["strength"] in (1, -1))
    labels = [json.loads(l) for l in open(os.path.join(faces_dir, "labels.jsonl")) if l.strip()]
    labels = labels[result.get("skip", 0):]
    success, preservation, eligible, worst = recount(row, labels, tolerance)
    chosen, why = pick(row, labels, worst)
    key = row["twin"]["key"]
    cell = 32 * scale
    pad, left, head, foot = 3, 56, 16, 40
    img = Image.new("RGB", (left + len(chosen) * (cell + pad), head + 3 * (cell + pad) + foot), "white")
    d = ImageDraw.Draw(img)
    d.text((2, 2), f"{DIRECTIONS[name]}: success {success:.0%}, preservation {preservation:.0%} of {eligible}"
           + (f"; worst group {worst[2]}={worst[3]}: {worst[0]:.0%} / {worst[1]:.0%} of {worst[4]}" if worst else ""),
           fill="black")
    for r, title in enumerate(("input", "edit", "twin")):
        d.text((2, head + r * (cell + pad) + cell // 2 - 5), title, fill="black")
    edits = os.path.join(report_dir, f"edits-{name}", f"strength-{row['strength']:g}")
    for j, f in enumerate(chosen):
        file = os.path.basename(labels[f["index"]]["file"])
        x = left + j * (cell + pad)
        for r, path in enumerate((os.path.join(faces_dir, "images", file), os.path.join(edits, file),
                                  os.path.join(faces_dir, "twins", key, file))):
            img.paste(Image.open(path).convert("RGB").resize((cell, cell), Image.NEAREST), (x, head + r * (cell + pad)))
        passed = f["progress"] >= 0.5 and f["outside"] <= tolerance
        y = head + 3 * (cell + pad)
        colour = (0, 120, 0) if passed else (190, 0, 0)
        d.text((x, y), f"{f['progress']:.0%}", fill=colour)
        d.text((x, y + 11), f"out {f['outside']:.1f}", fill=colour)
        d.text((x, y + 22), why[f["index"]].replace("borderline ", "")[:14], fill=(90, 90, 90))
    return img


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces", required=True, help="the report set (renderer.py --twins)")
    ap.add_argument("--report", required=True, help="folder with <name>.json and edits-<name>/ from asyrp eval")
    ap.add_argument("--out", required=True, help="folder for quality-<name>.png")
    ap.add_argument("--tolerance", type=float, default=8.0, help="TWIN_PRESERVE_TOLERANCE (src/engine/eval/twin-judge.ts)")
    ap.add_argument("--scale", type=int, default=3)
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    for name in DIRECTIONS:
        path = os.path.join(args.report, f"{name}.json")
        if not os.path.exists(path):
            print(f"skipped {name}: {path} is missing")
            continue
        out = os.path.join(args.out, f"quality-{name}.png")
        draw(name, json.load(open(path)), args.faces, args.report, args.tolerance, args.scale).save(out)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
