"""Reader smoke test: trains a few steps, exports, runs through ORT."""
import random
import shutil

import numpy as np
import pytest
import torch

from asyrp_tools.reader import OUTPUTS, Reader, export, loss_fn, make_batch


def test_batches_mix_faces_and_nonfaces():
    x, y = make_batch(random.Random(0), 64, 32)
    assert x.shape == (64, 3, 32, 32)
    assert 0 < float(y["face"].mean()) < 1
    assert (y["hair_colour"][y["face"] < 0.5] == -1).all()


def test_a_few_steps_reduce_the_loss():
    torch.manual_seed(0)
    m = Reader(32)
    opt = torch.optim.Adam(m.parameters(), lr=2e-3)
    x, y = make_batch(random.Random(1), 64, 32)
    first = loss_fn(m, x, y).item()
    for _ in range(15):
        loss = loss_fn(m, x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < first


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_export_runs_in_onnxruntime(tmp_path):
    from asyrp_tools.ortcheck import run_onnx
    m = Reader(32).eval()
    path = str(tmp_path / "attributes.onnx")
    export(m, path, 32)
    x = torch.randn(3, 3, 32, 32)
    out = run_onnx(path, {"image": x.numpy()})
    with torch.no_grad():
        ref = dict(zip(OUTPUTS, m(x)))
    assert set(out) == set(OUTPUTS)
    for k in OUTPUTS:
        assert np.abs(out[k] - ref[k].numpy()).max() < 1e-4


def test_an_ensemble_reads_the_mean_of_its_readers(tmp_path):
    from asyrp_tools.guides import ReaderEnsemble, load_readers
    torch.manual_seed(0)
    a, b = Reader(32).eval(), Reader(32).eval()
    pa, pb = str(tmp_path / "a.onnx"), str(tmp_path / "b.onnx")
    export(a, pa, 32)
    export(b, pb, 32)
    x = torch.randn(2, 3, 32, 32)
    one = load_readers(pa, 32)
    assert not isinstance(one, ReaderEnsemble)
    both = load_readers(f"{pa},{pb}", 32)
    assert isinstance(both, ReaderEnsemble) and len(both.readers) == 2
    with torch.no_grad():
        got, ra, rb = both(x), a(x), b(x)
    assert len(got) == len(OUTPUTS)
    for g, u, v in zip(got, ra, rb):
        assert torch.allclose(g, (u + v) / 2, atol=1e-5)
    # Two different networks: the mean is not either one (the test would pass vacuously otherwise).
    assert not torch.allclose(ra[1], rb[1])
    with pytest.raises(ValueError):
        ReaderEnsemble([])
