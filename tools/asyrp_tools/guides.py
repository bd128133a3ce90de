"""Differentiable guides for optimizing a direction (docs/method.md §2.2).

A guide is any callable  guide(x_edit, x_src) -> per-sample loss [B]  on
predicted-x0 images in [-1, 1]: x_edit = P_t(eps_edit), x_src = P_t(eps).
Lower is better.  The paper's guide is CLIP's directional loss
-log((2 - L_dir)/2) with L_dir = 1 - cos(E(x_edit) - E(x_src), ΔT); a CLIP
guide with a text pair would plug in here unchanged.  No CLIP weights are
available for the toy model, so the guide used here is its attribute reader
(asyrp_tools.reader.Reader), loaded from the exported attributes.onnx.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.nn as nn

Guide = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

EPS = 1e-6
# With a margin, a binary or class target counts as reached at this probability.
GOAL_P = 0.95


@dataclass(frozen=True)
class Target:
    """What the direction should change, in the evalTarget syntax `asyrp eval`
    reads: "smile:+" (scalar, sign), "glasses:1" (binary, want), "hair_colour:red"
    (class, index)."""
    kind: str
    attribute: str
    sign: int = 1
    want: int = 1
    index: int = 0
    spec: str = ""


def parse_target(spec: str, schema: dict) -> Target:
    attribute, _, value = spec.partition(":")
    if attribute in schema.get("scalars", []):
        return Target("scalar", attribute, sign=-1 if value == "-" else 1, spec=spec)
    if attribute in schema.get("binary", []):
        return Target("binary", attribute, want=0 if value == "0" else 1, spec=spec)
    labels = schema.get("classes", {}).get(attribute)
    if labels and value in labels:
        return Target("class", attribute, index=labels.index(value), spec=spec)
    raise ValueError(f'target "{spec}" names no attribute of the reader schema')


def load_schema(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


class ReaderGuide:
    """Pushes the target attribute of P_t(eps_edit) and, with weight `keep`,
    holds every other attribute at its value on the unedited P_t(eps).

    The keep term is the attribute-level analogue of the paper's L1 term: the
    L1 term keeps pixels close, this one keeps what the judge will check for
    preservation (asyrp eval's definition) close.  `outputs` names the reader's
    outputs in order; the reader returns probabilities (smile in -1..1)."""

    def __init__(self, reader: nn.Module, outputs: List[str], schema: dict, target: Target,
                 keep: float = 1.0, face: float = 0.0, margin: Optional[float] = None, keep_mode: str = "abs",
                 keep_goal: float = GOAL_P, keep_weights: Optional[Dict[str, float]] = None):
        self.reader = reader.eval()
        for p in self.reader.parameters():
            p.requires_grad_(False)
        self.outputs = outputs
        self.schema = schema
        self.target = target
        self.keep = keep
        self.face = face
        # margin: stop pushing once the target is reached with room to spare - a scalar
        # moved by `margin` from the unedited reading, a binary/class probability of
        # GOAL_P - so that the keep terms win on faces already there.  None: push
        # without limit (the paper's form).
        self.margin = margin
        if keep_mode not in ("abs", "ce"):
            raise ValueError(f'keep_mode must be "abs" or "ce", not "{keep_mode}"')
        self.keep_mode = keep_mode
        # keep_goal ("ce"): a kept label is free once held with this probability.  Above
        # GOAL_P it is a preservation margin for faces read near a class boundary (face shape
        # 0.89 round), the ones a small shared shift flips; 0.99 did not raise hair-red's
        # held-out preservation (docs/research/directions.md).
        if not 0.5 < keep_goal < 1:
            raise ValueError(f"keep_goal must be between 0.5 and 1, not {keep_goal}")
        self.keep_goal = keep_goal
        # keep_weights: a factor on one attribute's keep term (others 1), for an edit whose
        # flips are mostly one attribute (hair-red: face shape, docs/research/directions.md).
        # The kept attributes in the order keep_loss stacks their terms.
        kept = [n for group in (schema.get("scalars", []), schema.get("binary", []), list(schema.get("classes", {})))
                for n in group if n != target.attribute]
        weights = dict(keep_weights or {})
        for name, w in weights.items():
            if name not in kept:
                raise ValueError(f'keep weight for "{name}": not an attribute the keep term holds '
                                 f"(one of {', '.join(sorted(kept))})")
            if not w >= 0:
                raise ValueError(f'keep weight for "{name}" must be 0 or more, not {w}')
        self.keep_weights = torch.tensor([weights.get(n, 1.0) for n in kept])
        self.parts: Dict[str, float] = {}   # running sums of the loss terms, for logging

    def read(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        # The judge reads clamped images (asyrp eval clamps outputs to [-1, 1]).
        return dict(zip(self.outputs, self.reader(x.clamp(-1, 1))))

    def target_loss(self, a: Dict[str, torch.Tensor], s: Optional[Dict[str, torch.Tensor]] = None) -> torch.Tensor:
        t = self.target
        v = a[t.attribute]
        m = self.margin
        if t.kind == "scalar":          # -1..1: move it as far as it goes in `sign`
            if m is not None and s is not None:
                return torch.relu(m - t.sign * (v - s[t.attribute]))
            return -t.sign * v
        if t.kind == "binary":          # cross-entropy toward `want`
            p = v if t.want == 1 else 1 - v
        else:
            p = v[:, t.index]
        ce = -torch.log(p + EPS)
        return ce if m is None else torch.relu(ce + math.log(GOAL_P))

    def keep_loss(self, a: Dict[str, torch.Tensor], s: Dict[str, torch.Tensor]) -> torch.Tensor:
        """Other attributes held at the unedited reading.  "abs": Σ |Δ| of the outputs.
        "ce": cross-entropy toward the unedited reading's label (side of 0.5 / argmax),
        free once that label is held with p >= keep_goal; unlike |Δp| its gradient does not
        vanish once a sigmoid or softmax has flipped, which is when it is needed."""
        terms = []
        for name in self.schema.get("scalars", []):
            if name != self.target.attribute:
                terms.append((a[name] - s[name]).abs())
        for name in self.schema.get("binary", []):
            if name != self.target.attribute:
                if self.keep_mode == "ce":
                    p = torch.where(s[name] > 0.5, a[name], 1 - a[name])
                    terms.append(torch.relu(-torch.log(p + EPS) + math.log(self.keep_goal)))
                else:
                    terms.append((a[name] - s[name]).abs())
        for name in self.schema.get("classes", {}):
            if name != self.target.attribute:
                if self.keep_mode == "ce":
                    p = a[name].gather(1, s[name].argmax(dim=1, keepdim=True)).squeeze(1)
                    terms.append(torch.relu(-torch.log(p + EPS) + math.log(self.keep_goal)))
                else:
                    terms.append((a[name] - s[name]).abs().sum(dim=1))
        if not terms:
            return torch.zeros(())
        return (torch.stack(terms, dim=1) * self.keep_weights.to(terms[0].dtype)).sum(dim=1)

    def __call__(self, x_edit: torch.Tensor, x_src: torch.Tensor) -> torch.Tensor:
        a = self.read(x_edit)
        with torch.no_grad():
            s = self.read(x_src)
        tl, kl = self.target_loss(a, s), self.keep_loss(a, s)
        loss = tl + self.keep * kl
        for k, v in (("target", tl), ("keep", kl)):
            self.parts[k] = self.parts.get(k, 0.0) + float(v.detach().mean())
        self.parts["n"] = self.parts.get("n", 0.0) + 1
        # The face score only means something once P_t looks like an image (low t); off by default.
        if self.face and "face" in a:
            loss = loss - self.face * torch.log(a["face"] + EPS)
        return loss

    @torch.no_grad()
    def success(self, before: torch.Tensor, after: torch.Tensor, delta: float = 0.3) -> torch.Tensor:
        """Per-sample success with asyrp eval's thresholds (for quick Python-side checks)."""
        a, b = self.read(after), self.read(before)
        t = self.target
        if t.kind == "scalar":
            return t.sign * (a[t.attribute] - b[t.attribute]) >= delta
        if t.kind == "binary":
            return (a[t.attribute] > 0.5) if t.want == 1 else (a[t.attribute] < 0.5)
        return a[t.attribute].argmax(dim=1) == t.index


    @torch.no_grad()
    def eligible(self, x: torch.Tensor, delta: float = 0.3) -> torch.Tensor:
        """Faces that do not have the target yet (asyrp eval's rule): only they can show an edit.
        A scalar needs room to move by delta below the reader's reach (schema "reach", reach.py)."""
        b = self.read(x)[self.target.attribute]
        t = self.target
        if t.kind == "scalar":
            low, high = self.schema.get("reach", {}).get(t.attribute, (-1.0, 1.0))
            return t.sign * b < (high if t.sign > 0 else -low) - delta - 0.05
        if t.kind == "binary":
            return (b < 0.5) if t.want == 1 else (b > 0.5)
        return b.argmax(dim=1) != t.index

    @torch.no_grad()
    def preserved(self, before: torch.Tensor, after: torch.Tensor, delta: float = 0.3) -> torch.Tensor:
        """Per-sample preservation with asyrp eval's definition: every other attribute
        keeps its side of 0.5 / its argmax / (scalars) stays within ±delta."""
        a, b = self.read(after), self.read(before)
        ok = torch.ones(len(before), dtype=torch.bool)
        for name in self.schema.get("scalars", []):
            if name != self.target.attribute:
                ok &= (a[name] - b[name]).abs() < delta
        for name in self.schema.get("binary", []):
            if name != self.target.attribute:
                ok &= (a[name] > 0.5) == (b[name] > 0.5)
        for name in self.schema.get("classes", {}):
            if name != self.target.attribute:
                ok &= a[name].argmax(1) == b[name].argmax(1)
        return ok


def load_reader_onnx(path: str, resolution: int, width: Optional[int] = None) -> nn.Module:
    """The exported reader's exact weights as a PyTorch Reader: torch.onnx keeps
    the parameter names as initializer names, so the state dict maps 1:1."""
    import onnx
    from onnx import numpy_helper

    from .reader import Reader

    init = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in onnx.load(path).graph.initializer}
    w = width or int(init["features.0.weight"].shape[0])
    reader = Reader(resolution, width=w)
    state = reader.state_dict()
    missing = [k for k in state if k not in init]
    if missing:
        raise ValueError(f"{path}: not a reader export (missing {missing[:3]})")
    reader.load_state_dict({k: init[k] for k in state})
    return reader.eval()


class ReaderEnsemble(nn.Module):
    """Several readers of the same outputs read as one: each output is the mean of theirs
    (probabilities and the smile score alike).  An edit optimized against one network can
    partly exploit that network's own quirks; the quirks of independently trained readers
    differ, so an edit that moves their mean is more likely to move the face - which an
    independent judge, kept out of the ensemble, then checks (docs/research/directions.md)."""

    def __init__(self, readers: Sequence[nn.Module]):
        super().__init__()
        if not readers:
            raise ValueError("an ensemble needs at least one reader")
        self.readers = nn.ModuleList(readers)

    def forward(self, x):
        outs = [r(x) for r in self.readers]
        return tuple(torch.stack(parts).mean(0) for parts in zip(*outs))


def load_readers(paths: str, resolution: int) -> nn.Module:
    """`--reader a.onnx[,b.onnx...]`: one reader, or the ensemble of several."""
    files = [p for p in paths.split(",") if p]
    readers = [load_reader_onnx(f, resolution) for f in files]
    return readers[0] if len(readers) == 1 else ReaderEnsemble(readers).eval()
