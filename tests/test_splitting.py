"""Tests of course_lib.splitting: forward-backward against ISTA/FISTA, basis pursuit against
scipy.optimize.linprog, ADMM as Douglas-Rachford with swapped roles, Douglas-Rachford against SLSQP,
Chambolle-Pock against the lasso solver, and bad input."""
import numpy as np
import pytest
import scipy.optimize

from course_lib import lasso
from course_lib import prox as P
from course_lib import splitting as S
from tests._problems import lasso_design as design


def test_forward_backward_generic_equals_ista_and_fista():
    rng = np.random.default_rng(7)
    A, y = design("tall", rng)
    lam = 2.0
    step = 1 / np.linalg.norm(A, 2) ** 2
    def grad_f(x):
        return A.T @ (A @ x - y)
    for accelerated, ref in ((False, lasso.ista), (True, lasso.fista)):
        x, h = S.forward_backward(grad_f, lambda v, t: P.soft_threshold(v, lam * t), step, 50, x0=np.zeros(15),
                                  accelerated=accelerated,
                                  objective=lambda x: lasso.lasso_objective(A, y, lam, x))
        x_ref, h_ref = ref(A, y, lam, 50, step=step)
        np.testing.assert_allclose(x, x_ref, atol=1e-13)
        np.testing.assert_allclose(h["objective"], h_ref["objective"], rtol=1e-12)


# ----------------------------------------------------------------------------- splittings, basis pursuit

def linprog_bp(A, y):
    n = A.shape[1]
    r = scipy.optimize.linprog(np.ones(2 * n), A_eq=np.hstack([A, -A]), b_eq=y, bounds=(0, None),
                               method="highs")
    assert r.status == 0
    return r.x[:n] - r.x[n:]


@pytest.mark.parametrize("method", ["douglas_rachford", "admm"])
@pytest.mark.parametrize("k", [3, 12])
def test_basis_pursuit_against_linprog(method, k):
    rng = np.random.default_rng(10 + k)
    A = rng.standard_normal((20, 40))
    x0 = np.zeros(40)
    x0[rng.choice(40, k, replace=False)] = rng.standard_normal(k)
    y = A @ x0
    x_lp = linprog_bp(A, y)
    x, h = S.basis_pursuit(A, y, 20_000, method=method, tol=1e-11)
    assert abs(np.abs(x).sum() - np.abs(x_lp).sum()) <= 1e-7 * np.abs(x_lp).sum()
    assert h["residual"][-1] <= 1e-11
    np.testing.assert_allclose(x, x_lp, atol=1e-6)
    if k == 3:   # far below the transition: exact recovery, at machine precision
        assert np.linalg.norm(x - x0) <= 1e-10 * np.linalg.norm(x0)


def test_admm_is_douglas_rachford_with_swapped_roles():
    rng = np.random.default_rng(11)
    A = rng.standard_normal((10, 25))
    y = A @ np.r_[1.0, -2.0, np.zeros(23)]
    proj = P.project_affine(A, y)
    gamma = 0.3
    xs = []
    S.admm(P.soft_threshold, proj, 1 / gamma, 30, x0=proj(np.zeros(25)), callback=lambda k, x: xs.append(x))
    # DR with g (the projection) first: t_0 = z_0, a = prox_g(t), b = prox_f(2a - t), t += b - a
    t = proj(np.zeros(25))
    bs = []
    for _ in range(30):
        a = proj(t)
        b = P.soft_threshold(2 * a - t, gamma)
        t = t + b - a
        bs.append(b)
    np.testing.assert_allclose(np.array(xs), np.array(bs), atol=1e-12)


def test_douglas_rachford_generic_on_projection_problem():
    """min ||x - c||^2/2 over the intersection of a box and a hyperplane, vs SLSQP."""
    c = np.array([2.0, -1.0, 0.5, 3.0])
    a, b = np.ones(4), 1.0
    def prox_f(v, t):       # f = ||x - c||^2 / 2 + indicator of the box [0, 2]^4
        return np.clip((v + t * c) / (1 + t), 0, 2)
    def prox_g(v, t):       # g = indicator of {a.x = b}
        return v - (a @ v - b) / (a @ a) * a
    x, h = S.douglas_rachford(prox_f, prox_g, 1.0, 2000, x0=np.zeros(4), tol=1e-12)
    r = scipy.optimize.minimize(lambda w: 0.5 * np.sum((w - c) ** 2), np.full(4, 0.25), method="SLSQP",
                                bounds=[(0, 2)] * 4, constraints=[{"type": "eq", "fun": lambda w: a @ w - b}],
                                options={"ftol": 1e-15})
    np.testing.assert_allclose(x, r.x, atol=1e-7)
    assert h["residual"][-1] <= 1e-12


def test_chambolle_pock_on_lasso():
    """min lam ||x||_1 + 0.5 ||A x - y||^2 with K = A, f = 0.5||. - y||^2 (prox of f* closed form)."""
    rng = np.random.default_rng(12)
    A, y = design("tall", rng)
    lam = 3.0
    L = np.linalg.norm(A, 2)
    def prox_fstar(q, s):   # f*(q) = 0.5||q||^2 + <q, y>
        return (q - s * y) / (1 + s)
    x, h = S.chambolle_pock(lambda x: A @ x, lambda p: A.T @ p, lambda v, t: P.soft_threshold(v, lam * t),
                            prox_fstar, 0.9 / L, 0.9 / L, 5000, x0=np.zeros(15), tol=1e-13)
    np.testing.assert_allclose(x, lasso.lasso(A, y, lam, tol=1e-14), atol=1e-8)
    assert h["residual"][-1] <= 1e-13


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("call, name", [
    (lambda: S.basis_pursuit(np.ones((2, 3)), np.ones(3)), "y"),
    (lambda: S.basis_pursuit(np.eye(3)[:2], np.ones(2), method="simplex"), "method"),
    (lambda: S.douglas_rachford(P.soft_threshold, "no", 1.0, 10, x0=np.ones(2)), "prox_g"),
    (lambda: S.douglas_rachford(P.soft_threshold, P.soft_threshold, 1.0, 10, x0=np.ones(2),
                                relax=2.0), "relax"),
    (lambda: S.admm(P.soft_threshold, P.soft_threshold, -1.0, 10, x0=np.ones(2)), "rho"),
    (lambda: S.chambolle_pock(None, None, None, None, 1, 1, 1, x0=np.ones(2)), "K"),
])
def test_bad_input_raises_value_error_naming_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
