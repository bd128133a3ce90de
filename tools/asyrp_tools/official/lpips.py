"""t_edit and t_boost from the official LPIPS tables (docs/method.md §1.7).

  t_edit  = smallest t in {cfg}_LPIPS_distance_x0_t.tsv with LPIPS(x0, P_t) >= 0.33·cos
  t_boost = smallest t in {cfg}_LPIPS_distance_x.tsv   with LPIPS(x, x_t)   >= 1.2

cos is the cosine similarity of the CLIP ViT-B/16 text embeddings of the
source and target prompts (the paper's δ = 0.33·d_cos).  We have no CLIP
here, so the cos values are the ones published for CelebA (docs/method.md §1.7,
from the UvA reproduction); other attributes fall back to cos = 1 unless the
user passes their own.
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Tuple

from .strict import fixtures_dir

EDIT_FRACTION = 0.33
BOOST_THRESHOLD = 1.2

ATTRIBUTE_COS = {
    "celeba": {"smiling": 0.899, "sad": 0.894, "angry": 0.892, "tanned": 0.886, "man": 0.910,
               "woman": 0.891, "young": 0.905, "curly_hair": 0.835, "nicolas": 0.710,
               "neanderthal": 0.802, "pixar": 0.667, "modigliani": 0.565, "frida": 0.443},
}


def tables_dir() -> str:
    return os.path.join(fixtures_dir(), "asyrp-official", "lpips-tables")


def read_table(path: str) -> List[Tuple[int, float]]:
    """Rows (t, mean LPIPS) sorted by t; the file is 't<TAB>mean' per line."""
    rows = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                rows[int(parts[0])] = float(parts[1])
    return sorted(rows.items())


def first_t_at_least(rows: List[Tuple[int, float]], threshold: float) -> Optional[int]:
    for t, v in rows:
        if v >= threshold:
            return t
    return None


def _table(table: str, kind: str, folder: Optional[str]) -> List[Tuple[int, float]]:
    return read_table(os.path.join(folder or tables_dir(), f"{table}_LPIPS_distance_{kind}.tsv"))


def t_edit(table: str, cos: float = 1.0, folder: Optional[str] = None) -> int:
    t = first_t_at_least(_table(table, "x0_t", folder), EDIT_FRACTION * cos)
    if t is None:
        raise ValueError(f"{table}: no t reaches LPIPS {EDIT_FRACTION * cos:.3f} in the x0_t table")
    return t


def t_boost(table: str, folder: Optional[str] = None) -> int:
    t = first_t_at_least(_table(table, "x", folder), BOOST_THRESHOLD)
    if t is None:
        raise ValueError(f"{table}: no t reaches LPIPS {BOOST_THRESHOLD} in the x table")
    return t


def attribute_t_edits(table: str, folder: Optional[str] = None) -> Dict[str, int]:
    return {a: t_edit(table, c, folder) for a, c in ATTRIBUTE_COS.get(table, {}).items()}
