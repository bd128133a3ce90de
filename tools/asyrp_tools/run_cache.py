"""An on-disk cache for the optimizers' fixed inputs: x_T of the training images and their
unedited reconstruction.  Both depend only on the frozen weights, the images and the
inversion / generation settings, never on the direction being trained, yet on 512 faces they
cost about half of a 15-minute round on two CPU cores (docs/research/directions.md).  The key
hashes every input bit, so a changed model, image or setting can never reuse a stale entry."""
from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Callable, Optional

import torch


def fingerprint(*parts) -> str:
    """sha256 over tensors (dtype, shape, bytes), modules (their state_dict) and plain values."""
    h = hashlib.sha256()

    def add(p):
        if isinstance(p, torch.Tensor):
            t = p.detach().contiguous().cpu()
            h.update(f"tensor {t.dtype} {tuple(t.shape)}|".encode())
            h.update(t.numpy().tobytes())
        elif isinstance(p, torch.nn.Module):
            for name, v in sorted(p.state_dict().items()):
                h.update(name.encode())
                add(v)
        else:
            h.update(f"{type(p).__name__} {p!r}|".encode())

    for p in parts:
        add(p)
    return h.hexdigest()


def cached(directory: Optional[str], kind: str, key: str, compute: Callable[[], torch.Tensor]) -> torch.Tensor:
    """compute(), or its stored result under directory/kind-key.pt.  directory None: no cache.
    Written to a temporary file and renamed, so a killed run leaves no half-written entry."""
    if not directory:
        return compute()
    path = os.path.join(directory, f"{kind}-{key[:32]}.pt")
    if os.path.exists(path):
        try:
            return torch.load(path)
        except Exception:  # noqa: BLE001 - an unreadable entry (disk error, edited by hand) is recomputed
            pass
    value = compute()
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(value, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return value
