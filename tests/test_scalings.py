"""Tests of course_lib.scalings: NTK and mean-field gradient steps against torch.autograd, the
relative change, the tangent kernel against torch.func, the claims of the notebook for five seeds,
and bad input."""
import numpy as np
import pytest
import torch

from course_lib import scalings as SC
from course_lib.utils import loglog_slope

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



@pytest.mark.parametrize("scaling, gamma", [("ntk", 0.5), ("mean_field", 1.0)])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_tangent_kernel_is_the_gram_matrix_of_torch_gradients(scaling, gamma, activation):
    rng = RNG(11)
    m, x, x2 = 7, rng.standard_normal((5, 3)), rng.standard_normal((4, 3))
    W, a = rng.standard_normal((m, 3)), rng.standard_normal(m)
    sigma = torch.tanh if activation == "tanh" else torch.relu

    def grads(points):                          # rows: grad_theta f(x_i), theta = (W, a)
        f = lambda W_, a_: sigma(torch.tensor(points) @ W_.T) @ a_ / m ** gamma  # noqa: E731
        jW, ja = torch.func.jacrev(f, argnums=(0, 1))(torch.tensor(W), torch.tensor(a))
        return torch.cat([jW.reshape(len(points), -1), ja], dim=1).numpy()

    K = SC.tangent_kernel(x, W, a, scaling, activation, x2=x2)
    assert np.allclose(K, grads(x) @ grads(x2).T, rtol=1e-12, atol=1e-14)
    assert np.allclose(SC.tangent_kernel(x, W, a, scaling, activation), grads(x) @ grads(x).T)


def notebook_claims(rng):
    """Section 4 of notebooks/05_deep_learning_theory.ipynb, one draw of initial weights per width."""
    n = 20
    x = np.linspace(-1, 1, n)
    X, y = np.c_[x, np.ones(n)], np.sin(np.pi * x)
    grid = np.c_[np.linspace(-1.2, 1.2, 121), np.ones(121)]
    ms = 2 ** np.arange(6, 12)
    travel, moved, gap, final = {"ntk": [], "mean_field": []}, {"ntk": [], "mean_field": []}, [], []
    for m in ms:
        W_half, a_half = rng.standard_normal((m // 2, 2)), rng.standard_normal(m // 2)
        W0, a0 = np.r_[W_half, W_half], np.r_[a_half, -a_half]
        for scaling in travel:
            W, a, losses = SC.train_two_layer(X, y, W0, a0, scaling, step=1.0, n_iter=400)
            travel[scaling].append(SC.relative_change(W0, a0, W, a))
            final.append(losses[-1] / losses[0])
            K0 = SC.tangent_kernel(X, W0, a0, scaling)
            K = SC.tangent_kernel(X, W, a, scaling)
            moved[scaling].append(np.linalg.norm(K - K0) / np.linalg.norm(K0))
            if scaling == "ntk":                # gradient descent with the frozen kernel
                K_grid = SC.tangent_kernel(grid, W0, a0, scaling, x2=X)
                f_data, f_grid = np.zeros(n), np.zeros(len(grid))
                for _ in range(400):
                    r = f_data - y
                    f_data, f_grid = f_data - K0 @ r / n, f_grid - K_grid @ r / n
                f_net = SC.two_layer_scaled(grid, W, a, scaling)
                gap.append(np.sqrt(np.mean((f_net - f_grid) ** 2) / np.mean(f_grid ** 2)))
    slope = lambda v: loglog_slope(ms, v)  # noqa: E731
    return (slope(travel["ntk"]), slope(travel["mean_field"]), slope(gap), slope(moved["ntk"]),
            slope(moved["mean_field"]), min(moved["mean_field"]), max(final))


@pytest.mark.parametrize("seed", range(5))
def test_lazy_and_mean_field_claims_hold_for_every_seed(seed):
    s_ntk, s_mf, s_gap, s_kernel_ntk, s_kernel_mf, kernel_mf, final = notebook_claims(RNG(seed))
    assert abs(s_ntk + 0.5) < 0.1 and abs(s_mf) < 0.1 and final < 0.1
    assert s_gap <= -0.4 and s_kernel_ntk <= -0.4                  # O(m^(-1/2)) or faster
    assert abs(s_kernel_mf) < 0.15 and kernel_mf > 0.5             # O(1) in the mean-field regime


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
        (lambda: SC.tangent_kernel(x, W, np.ones(3), "ntk", x2=np.zeros((2, 3))), "x2"),
        (lambda: SC.tangent_kernel(x, W, np.ones(3), "wide"), "scaling"),
        (lambda: SC.tangent_kernel(x, W, np.ones(2)), "a"),
    ]
    for call, name in bad:
        with pytest.raises(ValueError, match=name):
            call()
