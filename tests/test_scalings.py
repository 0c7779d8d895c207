"""Tests of course_lib.scalings: NTK and mean-field gradient steps against torch.autograd, the
relative change, and bad input."""
import numpy as np
import pytest
import torch

from course_lib import scalings as SC

RNG = np.random.default_rng


@pytest.mark.parametrize("scaling, gamma", [("ntk", 0.5), ("mean_field", 1.0)])
def test_train_two_layer_steps_are_torch_gradient_steps(scaling, gamma):
    rng = RNG(10)
    m, n = 30, 12
    x, y = np.c_[rng.uniform(-1, 1, n), np.ones(n)], rng.standard_normal(n)
    W0, a0 = rng.standard_normal((m, 2)), rng.standard_normal(m)
    W, a, losses = SC.train_two_layer(x, y, W0, a0, scaling, step=0.3, n_iter=3)
    tW, ta = torch.tensor(W0, requires_grad=True), torch.tensor(a0, requires_grad=True)
    lr = 0.3 * m ** (2 * gamma - 1)
    for k in range(3):
        f = torch.tanh(torch.tensor(x) @ tW.T) @ ta / m ** gamma
        loss = 0.5 * ((f - torch.tensor(y)) ** 2).mean()
        assert losses[k] == pytest.approx(loss.item(), rel=1e-13)
        tW.grad = ta.grad = None
        loss.backward()
        with torch.no_grad():
            tW -= lr * tW.grad
            ta -= lr * ta.grad
    assert np.allclose(W, tW.detach().numpy(), atol=1e-13) and np.allclose(a, ta.detach().numpy(), atol=1e-13)
    f_final = SC.two_layer_scaled(x, W, a, scaling)
    assert losses[-1] == pytest.approx(0.5 * np.mean((f_final - y) ** 2), rel=1e-13)
    W0_copy = W0.copy()
    SC.train_two_layer(x, y, W0, a0, scaling, 0.3, 2)
    assert np.array_equal(W0, W0_copy)                  # the initial weights are not modified


def test_relative_change():
    W0, a0 = np.ones((2, 2)), np.zeros(2)
    assert SC.relative_change(W0, a0, W0, a0) == 0
    assert SC.relative_change(W0, a0, 2 * W0, a0) == pytest.approx(1.0)



# ----------------------------------------------------------------------------- bad input

def test_bad_input_raises_value_error_naming_the_argument():
    W = np.ones((3, 2))
    x = np.zeros((4, 2))
    bad = [
        (lambda: SC.two_layer_scaled(x, W, np.ones(3), "lazy"), "scaling"),
        (lambda: SC.train_two_layer(x, np.ones(4), W, np.ones(3), step=0), "step"),
        (lambda: SC.train_two_layer(x, np.ones(4), W, np.ones(2)), "a0"),
        (lambda: SC.train_two_layer(x, np.ones(4), W, np.ones(3), n_iter=-1), "n_iter"),
        (lambda: SC.relative_change(np.zeros((2, 2)), np.zeros(2), np.zeros((2, 2)), np.zeros(2)), "W0"),
    ]
    for call, name in bad:
        with pytest.raises(ValueError, match=name):
            call()
