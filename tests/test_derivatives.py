"""Tests of course_lib.derivatives: finite differences against closed forms and torch.autograd."""
import numpy as np
import pytest
import torch

from course_lib import derivatives as D
from course_lib.utils import loglog_slope


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def spd(rng, n, cond=10.0):
    """A random symmetric positive-definite matrix with eigenvalues from 1 to cond."""
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return Q @ np.diag(np.geomspace(1.0, cond, n)) @ Q.T


def logistic_data(rng, n=60, d=4):
    X = rng.standard_normal((n, d))
    y = np.where(X @ rng.standard_normal(d) + rng.standard_normal(n) > 0, 1.0, -1.0)
    return X, y


# ----------------------------------------------------------------------------- finite differences

def smooth(x):
    """f(x) = sum sin(x_i) + 1/4 (sum x_i^2)^2 and its gradient in closed form."""
    return np.sum(np.sin(x)) + 0.25 * np.sum(x**2) ** 2


def smooth_grad(x):
    return np.cos(x) + np.sum(x**2) * x


def test_differences_match_closed_form(rng):
    x = rng.standard_normal(5)
    g = smooth_grad(x)
    np.testing.assert_allclose(D.forward_difference(smooth, x, 1e-7), g, atol=1e-5)
    np.testing.assert_allclose(D.central_difference(smooth, x, 1e-5), g, atol=1e-8)


def test_difference_error_orders(rng):
    """Truncation error: O(h) forward, O(h^2) central (fitted log-log slopes)."""
    x = rng.standard_normal(3)
    g = smooth_grad(x)
    hs = np.geomspace(1e-1, 1e-3, 6)
    err_fwd = [np.linalg.norm(D.forward_difference(smooth, x, h) - g) for h in hs]
    err_cen = [np.linalg.norm(D.central_difference(smooth, x, h) - g) for h in hs]
    assert abs(loglog_slope(hs, err_fwd) - 1.0) < 0.1
    assert abs(loglog_slope(hs, err_cen) - 2.0) < 0.1


def test_scalar_point():
    d = D.central_difference(np.sin, 0.3, 1e-5)
    assert np.shape(d) == ()
    assert abs(d - np.cos(0.3)) < 1e-9
    assert abs(D.forward_difference(np.exp, 0.0, 1e-8) - 1.0) < 1e-6


def test_central_difference_matches_autograd(rng):
    W = torch.tensor(rng.standard_normal((7, 4)))

    def f_torch(x):
        return torch.logsumexp(W @ x, 0) + torch.sum(torch.tanh(x) ** 2)

    x = rng.standard_normal(4)
    xt = torch.tensor(x, requires_grad=True)
    f_torch(xt).backward()
    fd = D.central_difference(lambda z: f_torch(torch.tensor(z)).item(), x, 1e-5)
    np.testing.assert_allclose(fd, xt.grad.numpy(), atol=1e-8)


def test_jacobian_of_softmax(rng):
    def softmax(z):
        e = np.exp(z - z.max())
        return e / e.sum()

    z = rng.standard_normal(6)
    s = softmax(z)
    J = D.numerical_jacobian(softmax, z)
    assert J.shape == (6, 6)
    np.testing.assert_allclose(J, np.diag(s) - np.outer(s, s), atol=1e-9)


def test_jacobian_rectangular_matches_autograd(rng):
    M = rng.standard_normal((3, 5))

    def F(x):
        return np.tanh(M @ x)

    x = rng.standard_normal(5)
    J_ref = torch.autograd.functional.jacobian(
        lambda t: torch.tanh(torch.tensor(M) @ t), torch.tensor(x)).numpy()
    np.testing.assert_allclose(D.numerical_jacobian(F, x), J_ref, atol=1e-9)


def test_hessian_of_quadratic_and_smooth(rng):
    A, b = spd(rng, 4), rng.standard_normal(4)
    f, grad_f, _ = D.quadratic(A, b)
    x = rng.standard_normal(4)
    H = D.numerical_hessian(f, x)
    np.testing.assert_array_equal(H, H.T)
    np.testing.assert_allclose(H, A, atol=1e-6)
    np.testing.assert_allclose(D.numerical_hessian(f, x, grad_f=grad_f), A, atol=1e-9)
    H_ref = torch.autograd.functional.hessian(
        lambda t: torch.sum(torch.sin(t)) + 0.25 * torch.sum(t**2) ** 2, torch.tensor(x)).numpy()
    np.testing.assert_allclose(D.numerical_hessian(smooth, x), H_ref, atol=1e-6)


# ----------------------------------------------------------------------------- test problems

def test_quadratic(rng):
    A, b = spd(rng, 5, cond=100.0), rng.standard_normal(5)
    f, grad_f, hess_f = D.quadratic(A, b)
    x = rng.standard_normal(5)
    assert f(x) == pytest.approx(0.5 * x @ A @ x - b @ x, rel=1e-14)
    np.testing.assert_allclose(grad_f(x), D.central_difference(f, x, 1e-5), atol=1e-7)
    np.testing.assert_allclose(hess_f(x), A, atol=1e-14)
    x_star = np.linalg.solve(A, b)
    np.testing.assert_allclose(grad_f(x_star), 0.0, atol=1e-12)
    assert f(x_star) == pytest.approx(-0.5 * b @ x_star, rel=1e-12)


def test_smoothness_constants(rng):
    Q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    A = Q @ np.diag([0.5, 1.0, 2.0, 3.0, 40.0]) @ Q.T
    L, mu = D.smoothness_constants(A)
    assert L == pytest.approx(40.0, rel=1e-12) and mu == pytest.approx(0.5, rel=1e-12)


def test_least_squares(rng):
    A, b = rng.standard_normal((30, 4)), rng.standard_normal(30)
    f, grad_f, hess_f = D.least_squares(A, b)
    x = rng.standard_normal(4)
    assert f(x) == pytest.approx(np.sum((A @ x - b) ** 2) / 60, rel=1e-14)
    np.testing.assert_allclose(grad_f(x), A.T @ (A @ x - b) / 30, atol=1e-14)
    np.testing.assert_allclose(hess_f(x), A.T @ A / 30, atol=1e-14)
    # the full gradient is the average of the sample gradients, and matches autograd
    per_sample = np.mean([grad_f(x, [i]) for i in range(30)], axis=0)
    np.testing.assert_allclose(per_sample, grad_f(x), atol=1e-13)
    idx = np.array([3, 3, 7])
    assert f(x, idx) == pytest.approx(0.5 * np.mean((A[idx] @ x - b[idx]) ** 2), rel=1e-14)
    xt = torch.tensor(x, requires_grad=True)
    (0.5 * torch.mean((torch.tensor(A) @ xt - torch.tensor(b)) ** 2)).backward()
    np.testing.assert_allclose(grad_f(x), xt.grad.numpy(), atol=1e-13)
    x_star = np.linalg.lstsq(A, b, rcond=None)[0]
    np.testing.assert_allclose(grad_f(x_star), 0.0, atol=1e-12)


@pytest.mark.parametrize("lam", [0.0, 0.3])
def test_logistic_against_autograd(rng, lam):
    X, y = logistic_data(rng)
    f, grad_f, hess_f = D.logistic_loss(X, y, lam)
    w = rng.standard_normal(4)
    Xt, yt = torch.tensor(X), torch.tensor(y)

    def f_torch(t):  # soft_margin_loss is exactly mean log(1 + exp(-y z))
        return torch.nn.functional.soft_margin_loss(Xt @ t, yt) + 0.5 * lam * t @ t

    wt = torch.tensor(w, requires_grad=True)
    loss = f_torch(wt)
    loss.backward()
    assert f(w) == pytest.approx(loss.item(), rel=1e-13)
    np.testing.assert_allclose(grad_f(w), wt.grad.numpy(), rtol=1e-12, atol=1e-14)
    H_ref = torch.autograd.functional.hessian(f_torch, torch.tensor(w)).numpy()
    np.testing.assert_allclose(hess_f(w), H_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(D.numerical_hessian(f, w), H_ref, atol=1e-6)
    np.testing.assert_allclose(D.central_difference(f, w, 1e-5), grad_f(w), atol=1e-9)


def test_logistic_is_stable_and_subsampled(rng):
    X, y = logistic_data(rng)
    f, grad_f, hess_f = D.logistic_loss(X, y, lam=0.1)
    w = 1e4 * rng.standard_normal(4)  # huge margins: no overflow, finite everything
    assert np.isfinite(f(w)) and np.all(np.isfinite(grad_f(w))) and np.all(np.isfinite(hess_f(w)))
    w = rng.standard_normal(4)
    per_sample = np.mean([grad_f(w, [i]) for i in range(len(y))], axis=0)
    np.testing.assert_allclose(per_sample, grad_f(w), atol=1e-13)
    L, mu = D.logistic_smoothness(X, lam=0.1)
    assert mu == 0.1
    # L bounds the curvature everywhere (checked at a few points)
    for w in rng.standard_normal((5, 4)):
        assert np.linalg.eigvalsh(hess_f(w))[-1] <= L * (1 + 1e-12)


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("call, match", [
    (lambda: D.forward_difference(smooth, np.ones(3), 0.0), "h"),
    (lambda: D.central_difference(smooth, np.ones(3), -1e-3), "h"),
    (lambda: D.central_difference(smooth, [1.0, np.nan], 1e-3), "x"),
    (lambda: D.central_difference(smooth, np.ones((2, 2)), 1e-3), "x"),
    (lambda: D.central_difference("f", np.ones(2), 1e-3), "f"),
    (lambda: D.central_difference(lambda x: x, np.ones(2), 1e-3), "f must return a scalar"),
    (lambda: D.numerical_jacobian(np.sin, np.ones(2), h=0), "h"),
    (lambda: D.numerical_jacobian(lambda x: np.outer(x, x), np.ones(2)), "F"),
    (lambda: D.numerical_hessian(smooth, np.ones(2), h=np.inf), "h"),
    (lambda: D.quadratic(np.ones((2, 3)), np.ones(2)), "A"),
    (lambda: D.quadratic(np.array([[1.0, 2.0], [0.0, 1.0]]), np.ones(2)), "A must be symmetric"),
    (lambda: D.quadratic(np.eye(2), np.ones(3)), "b"),
    (lambda: D.quadratic(np.eye(2), np.ones(2))[1](np.ones(3)), "x"),
    (lambda: D.smoothness_constants(np.ones(3)), "A"),
    (lambda: D.least_squares(np.ones((3, 2)), np.ones(2)), "b"),
    (lambda: D.least_squares(np.ones((3, 2)), np.ones(3))[1](np.ones(2), [5]), "idx"),
    (lambda: D.logistic_loss(np.ones((3, 2)), np.array([0.0, 1.0, 1.0])), "y"),
    (lambda: D.logistic_loss(np.ones((3, 2)), np.ones(2)), "y"),
    (lambda: D.logistic_loss(np.ones((3, 2)), np.ones(3), lam=-1.0), "lam"),
    (lambda: D.logistic_loss(np.full((3, 2), np.inf), np.ones(3)), "X"),
    (lambda: D.logistic_smoothness(np.ones(3)), "X"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
