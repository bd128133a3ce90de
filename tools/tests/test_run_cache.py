"""The optimizers' on-disk cache: it returns what was computed, reuses it only for the same
inputs, and leaves no partial entry behind."""
import os

import pytest
import torch

from asyrp_tools.run_cache import cached, fingerprint


def test_fingerprint_follows_every_input():
    m = torch.nn.Linear(3, 2)
    x = torch.arange(6.0).reshape(2, 3)
    base = fingerprint(m, x, 40, 2)
    assert fingerprint(m, x.clone(), 40, 2) == base
    assert fingerprint(m, x, 40, 3) != base
    assert fingerprint(m, x + 1e-6, 40, 2) != base
    assert fingerprint(m, x.double(), 40, 2) != base
    with torch.no_grad():
        m.weight[0, 0] += 1e-6
    assert fingerprint(m, x, 40, 2) != base


def test_cached_computes_once_per_key(tmp_path):
    calls = []

    def compute(v):
        calls.append(v)
        return torch.full((2, 2), float(v))

    a = cached(str(tmp_path), "inverted", "k1", lambda: compute(1))
    b = cached(str(tmp_path), "inverted", "k1", lambda: compute(99))
    c = cached(str(tmp_path), "inverted", "k2", lambda: compute(2))
    assert calls == [1, 2]
    assert torch.equal(a, b) and float(c[0, 0]) == 2.0
    assert sorted(os.listdir(tmp_path)) == ["inverted-k1.pt", "inverted-k2.pt"]


def test_no_directory_means_no_cache(tmp_path):
    calls = []
    for _ in range(2):
        cached(None, "inverted", "k", lambda: calls.append(1) or torch.zeros(1))
    assert len(calls) == 2


def test_a_failed_compute_leaves_nothing(tmp_path):
    def boom():
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        cached(str(tmp_path), "reconstructed", "k", boom)
    assert os.listdir(tmp_path) == []


def test_an_unreadable_entry_is_recomputed_and_replaced(tmp_path):
    cached(str(tmp_path), "inverted", "k", lambda: torch.ones(3))
    entry = tmp_path / "inverted-k.pt"
    entry.write_bytes(entry.read_bytes()[:10])   # truncated, as by a disk error
    value = cached(str(tmp_path), "inverted", "k", lambda: torch.full((3,), 2.0))
    assert torch.equal(value, torch.full((3,), 2.0))
    assert torch.equal(cached(str(tmp_path), "inverted", "k", lambda: torch.zeros(3)), torch.full((3,), 2.0))
