"""Tests of course_lib.autodiff.graph and of the backward sweeps of both reverse engines: node
reuse, diamonds, deep graphs without recursion, repeated sweeps, and bad input."""
import math
import sys

import numpy as np
import pytest

from course_lib import autodiff as ad


# ----------------------------------------------------------------------------- node reuse and deep graphs

def test_gradients_accumulate_when_a_node_is_reused_many_times():
    x = ad.Var(0.7)
    y = x * x                      # one node with the same parent twice
    for k in range(1, 501):
        y = y + (k * x).tanh()     # x reused 500 more times
    y.backward()
    expected = 2 * 0.7 + sum(k * (1 - math.tanh(k * 0.7) ** 2) for k in range(1, 501))
    assert x.grad == pytest.approx(expected, rel=1e-12)
    xt = ad.Tensor(np.array([0.3, -0.2]))
    yt = xt * xt
    for k in range(1, 201):
        yt = yt + xt * k
    yt.sum().backward()
    assert np.allclose(xt.grad, 2 * xt.value + 200 * 201 / 2)


def test_diamond_graph_counts_each_path_once():
    x = ad.Var(1.5)
    a, b = x.exp(), x * 3
    y = a * b + a
    y.backward()
    assert x.grad == pytest.approx(math.exp(1.5) * 4.5 + math.exp(1.5) * 3 + math.exp(1.5))
    assert a.grad == pytest.approx(4.5 + 1) and b.grad == pytest.approx(math.exp(1.5))


@pytest.fixture
def low_recursion_limit():
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(400)
    yield
    sys.setrecursionlimit(old)


def test_deep_var_graph_without_recursion(low_recursion_limit):
    n = 10_000
    x = ad.Var(0.3)
    y = x
    for _ in range(n):
        y = 0.5 * y + x            # y_n = x (2 - 2^-n) + ... exactly y_n = (2 - 2^{-n}) x  (y_0 = x)
    assert len(ad.topological_order(y)) == 2 * n + 1
    y.backward()
    assert y.value == pytest.approx((2 - 0.5**n) * 0.3)
    assert x.grad == pytest.approx(2 - 0.5**n, rel=1e-12)
    del y                          # freeing a deep graph must not crash either


def test_deep_tensor_graph_without_recursion(low_recursion_limit):
    x = ad.Tensor(np.array([0.1, -0.4, 0.8]))
    y = x
    for _ in range(2_500):         # 4 nodes per step: 10^4 nodes
        y = y * 0.999 + 0.001 * x.tanh()
    assert len(ad.topological_order(y)) > 10_000
    y.sum().backward()
    # y_n = c^n x + (1 - c^n) tanh(x), c = 0.999
    c = 0.999**2_500
    assert np.allclose(x.grad, c + (1 - c) * (1 - np.tanh(x.value) ** 2), rtol=1e-10)


def test_backward_twice_gives_the_same_gradients():
    x = ad.Var(0.4)
    y = x.exp() * x
    y.backward()
    first = x.grad
    y.backward()
    assert x.grad == first
    xt = ad.Tensor(np.ones(3))
    yt = (xt * 2).sum()
    yt.backward()
    yt.backward()
    assert np.array_equal(xt.grad, 2 * np.ones(3))


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("make, match", [
    (lambda: ad.topological_order(3.0), "output"),
    (lambda: ad.topological_order(ad.Dual(1.0, 1.0)), "output"),
])
def test_bad_input_raises_value_error_naming_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()
