"""Tests of course_lib.ssm: the parallel scan, the FFT convolution and the selective scan against
plain loops and scipy.signal.lfilter; gradients through the scan against torch.autograd.gradcheck."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.signal import lfilter

from course_lib import ssm


def loop(a, b):
    h, out = np.zeros(b.shape[1:]), []
    for t in range(b.shape[0]):
        h = a[t] * h + b[t]
        out.append(h)
    return np.array(out)


@given(st.integers(1, 300), st.integers(0, 2), st.integers(0, 10**6))
def test_parallel_scan_equals_loop_for_any_length(n, extra, seed):
    rng = np.random.default_rng(seed)
    shape = (n,) + (3,) * extra
    a, b = rng.uniform(-1.1, 1.1, shape), rng.standard_normal(shape)
    h, stats = ssm.parallel_scan(a, b, return_stats=True)
    assert np.allclose(h, loop(a, b), rtol=1e-10, atol=1e-10)
    assert np.allclose(ssm.linear_recurrence(a, b), loop(a, b), rtol=1e-12, atol=1e-12)
    depth_bound = 2 * math.ceil(math.log2(n)) if n > 1 else 0
    assert stats["depth"] <= depth_bound and stats["work"] <= 2 * n


@pytest.mark.parametrize("n", [2, 16, 1024])
def test_work_and_depth_for_powers_of_two(n):
    _, stats = ssm.parallel_scan(np.ones(n), np.ones(n), return_stats=True)
    k = int(math.log2(n))
    assert stats == {"work": 2 * n - k - 2, "depth": 2 * k - 1}      # (n - 1) up, (n - 1 - k) down


def test_broadcast_a_and_scalar_per_channel():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0, 1, (50, 1)), rng.standard_normal((50, 4))
    assert np.allclose(ssm.parallel_scan(a, b), loop(np.broadcast_to(a, b.shape), b), atol=1e-12)


def test_convolution_view_equals_lfilter_and_scan():
    rng = np.random.default_rng(1)
    n, a = 200, np.array([0.9, -0.5, 0.99])
    b = rng.standard_normal((n, 3))
    K = ssm.convolution_kernel(a, n)
    assert K.shape == (n, 3) and np.allclose(K[5], a**5)
    y = ssm.causal_convolution(K, b)
    for c in range(3):                          # h_t - a h_{t-1} = b_t is the IIR filter 1/(1 - a z^-1)
        assert np.allclose(y[:, c], lfilter([1.0], [1.0, -a[c]], b[:, c]), atol=1e-10)
    assert np.allclose(y, ssm.parallel_scan(np.broadcast_to(a, b.shape), b), atol=1e-10)


def test_selective_scan_equals_loop_numpy_and_torch():
    rng = np.random.default_rng(2)
    n, D, N = 37, 4, 3
    x, delta = rng.standard_normal((n, D)), np.exp(rng.standard_normal((n, D)))
    A, B, C = -np.exp(rng.standard_normal((D, N))), rng.standard_normal((n, N)), rng.standard_normal((n, N))
    y = ssm.selective_scan(x, delta, A, B, C)
    assert y.shape == (n, D) and np.allclose(y, ssm.selective_scan_loop(x, delta, A, B, C), atol=1e-12)
    h = np.zeros((D, N))                         # the recurrence of the docstring, by hand
    for t in range(n):
        h = np.exp(delta[t][:, None] * A) * h + delta[t][:, None] * B[t][None] * x[t][:, None]
        assert np.allclose(y[t], h @ C[t], atol=1e-12)
    yt = ssm.selective_scan(*(torch.tensor(v) for v in (x, delta, A, B, C)))
    assert np.allclose(yt.numpy(), y, atol=1e-12)


def test_gradients_through_the_scan():
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(13, 2, generator=gen, dtype=torch.float64, requires_grad=True)
    b = torch.randn(13, 2, generator=gen, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: ssm.parallel_scan(a, b), (a, b))


def test_selective_ssm_layer_is_causal():
    torch.manual_seed(0)
    layer = ssm.SelectiveSSM(8, 4).double()
    x = torch.randn(2, 12, 8, dtype=torch.float64)
    y = layer(x)
    x2 = x.clone()
    x2[:, 7:] = 0
    assert y.shape == x.shape and torch.allclose(layer(x2)[:, :7], y[:, :7], atol=1e-13)


def selective_copying(n, rng, L=12, n_data=2, n_sym=4):
    X = np.zeros((n, L + n_data), dtype=np.int64)
    Y = np.full((n, L + n_data), -100)
    for i in range(n):
        where = np.sort(rng.choice(L, n_data, replace=False))
        X[i, where] = Y[i, L:] = rng.integers(1, n_sym + 1, n_data)
        X[i, L:] = n_sym + 1
    return X, Y


def test_selection_beats_time_invariance_on_selective_copying_for_five_seeds():
    """The notebook's section 7 (same task, models and budget) for seeds 0-4: the selective SSM
    copies at least 30 points more symbols than the time-invariant one."""
    from course_lib import nets
    for seed in range(5):
        rng = np.random.default_rng(seed)
        (X, Y), (Xt, Yt) = selective_copying(4000, rng), selective_copying(1000, rng)
        acc = []
        for selective in (True, False):
            torch.manual_seed(seed)
            net = ssm.SSMModel(6, 16, 1, d_state=4, selective=selective)
            nets.train(net, X, Y, n_steps=200, batch_size=32, lr=1e-2, seed=seed, progress=False)
            with torch.no_grad():
                acc.append(np.mean(net(torch.tensor(Xt))[:, -2:].argmax(-1).numpy() == Yt[:, -2:]))
        assert acc[0] > acc[1] + 0.3, f"seed {seed}: selective {acc[0]:.3f}, time-invariant {acc[1]:.3f}"


def test_bad_input():
    with pytest.raises(ValueError, match="a"):
        ssm.parallel_scan(np.ones(4), np.ones(5))
    with pytest.raises(ValueError, match="b"):
        ssm.parallel_scan(np.ones(0), np.ones(0))
    with pytest.raises(ValueError, match="NaN"):
        ssm.parallel_scan(np.ones(3), np.array([1.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match="broadcast"):
        ssm.parallel_scan(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="torch"):
        ssm.parallel_scan(torch.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="n"):
        ssm.convolution_kernel(0.5, 0)
    with pytest.raises(ValueError, match="k and b"):
        ssm.causal_convolution(np.ones(3), np.ones(4))
    x = np.ones((5, 2))
    with pytest.raises(ValueError, match="A"):
        ssm.selective_scan(x, x, np.ones((2, 3)), np.ones((5, 3)), np.ones((5, 3)))
    with pytest.raises(ValueError, match="C"):
        ssm.selective_scan(x, x, -np.ones((2, 3)), np.ones((5, 3)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="d_state"):
        ssm.SelectiveSSM(4, 0)
