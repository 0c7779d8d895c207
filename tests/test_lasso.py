"""Tests of course_lib.lasso: the fast solver and its path against scikit-learn, the duality gap,
ISTA and FISTA against their theorems' rates, and bad input."""
import numpy as np
import pytest
from sklearn.linear_model import Lasso

from course_lib import lasso
from tests._problems import lasso_design as design


# ----------------------------------------------------------------------------- lasso vs scikit-learn

def sk_lasso(A, y, lam):
    m = Lasso(alpha=lam / A.shape[0], fit_intercept=False, tol=1e-14, max_iter=1_000_000)
    m.fit(A, y)
    return m.coef_


@pytest.mark.parametrize("kind", ["tall", "wide", "duplicated"])
def test_lasso_matches_sklearn_along_a_path(kind):
    rng = np.random.default_rng(3)
    A, y = design(kind, rng)
    lam_max = np.abs(A.T @ y).max()
    x_prev = None
    for frac in [1.1, 0.9, 0.5, 0.2, 0.05, 0.01]:
        lam = frac * lam_max
        x = lasso.lasso(A, y, lam, x0=x_prev, tol=1e-12)
        x_sk = sk_lasso(A, y, lam)
        f, f_sk = lasso.lasso_objective(A, y, lam, x), lasso.lasso_objective(A, y, lam, x_sk)
        assert f <= f_sk * (1 + 1e-10), (kind, frac, f, f_sk)
        assert abs(f - f_sk) <= 1e-9 * f_sk
        assert lasso.lasso_gap(A, y, lam, x) <= 1e-12 * f * 1.0001
        if kind != "duplicated":       # unique minimiser
            np.testing.assert_allclose(x, x_sk, atol=1e-6 * max(1, np.abs(x_sk).max()))
        if frac >= 1:
            assert np.all(x == 0)
        x_prev = x


def test_lasso_path_and_warm_start():
    rng = np.random.default_rng(4)
    A, y = design("wide", rng)
    lams = np.abs(A.T @ y).max() * np.array([0.01, 0.3, 0.1])
    X = lasso.lasso_path(A, y, lams)
    for x, lam in zip(X, lams):
        assert lasso.lasso_gap(A, y, lam, x) <= 1e-9 * lasso.lasso_objective(A, y, lam, x)
    # warm start from the solution returns it (up to the gap test)
    x = lasso.lasso(A, y, lams[1], x0=X[1])
    np.testing.assert_allclose(x, X[1], atol=1e-8)


def test_lasso_zero_lambda_and_zero_column():
    rng = np.random.default_rng(5)
    A = rng.standard_normal((20, 5))
    y = rng.standard_normal(20)
    np.testing.assert_allclose(lasso.lasso(A, y, 0.0), np.linalg.lstsq(A, y, rcond=None)[0], atol=1e-12)
    A[:, 2] = 0.0
    x = lasso.lasso(A, y, 1.0)
    assert x[2] == 0
    assert abs(lasso.lasso_objective(A, y, 1.0, x) - lasso.lasso_objective(A, y, 1.0, sk_lasso(A, y, 1.0))) < 1e-9


def test_ista_fista_converge_to_lasso_with_rates():
    rng = np.random.default_rng(6)
    A, y = design("wide", rng)
    lam = 0.1 * np.abs(A.T @ y).max()
    x_star = lasso.lasso(A, y, lam, tol=1e-14)
    f_star = lasso.lasso_objective(A, y, lam, x_star)
    L = np.linalg.norm(A, 2) ** 2
    R2 = np.sum(x_star ** 2)
    k = np.arange(1, 301)
    _, h_i = lasso.ista(A, y, lam, 300)
    _, h_f = lasso.fista(A, y, lam, 300)
    # the theorems' bounds, with x0 = 0
    assert np.all(h_i["objective"][1:] - f_star <= L * R2 / (2 * k) + 1e-9)
    assert np.all(h_f["objective"][1:] - f_star <= 2 * L * R2 / (k + 1) ** 2 + 1e-9)
    # ISTA is monotone; the gap bounds the suboptimality
    assert np.all(np.diff(h_i["objective"]) <= 1e-12)
    assert np.all(h_f["gap"] >= h_f["objective"] - f_star - 1e-9)
    x_r, h_r = lasso.fista(A, y, lam, 2000, restart=True, tol=1e-10)
    assert h_r["gap"][-1] <= 1e-10 and len(h_r["gap"]) < 2001
    np.testing.assert_allclose(x_r, x_star, atol=1e-5)


def test_callbacks_are_called():
    rng = np.random.default_rng(8)
    A, y = design("tall", rng)
    seen = []
    lasso.ista(A, y, 1.0, 5, callback=lambda k, x: seen.append(k))
    lasso.fista(A, y, 1.0, 5, callback=lambda k, x: seen.append(k))
    assert seen == [1, 2, 3, 4, 5] * 2


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("call, name", [
    (lambda: lasso.lasso(np.ones((3, 2)), np.ones(4), 1.0), "y"),
    (lambda: lasso.lasso(np.ones(3), np.ones(3), 1.0), "A"),
    (lambda: lasso.lasso(np.ones((3, 2)), np.ones(3), -1.0), "lam"),
    (lambda: lasso.lasso(np.ones((3, 2)), np.ones(3), np.nan), "lam"),
    (lambda: lasso.lasso(np.full((3, 2), np.nan), np.ones(3), 1.0), "A"),
    (lambda: lasso.lasso(np.ones((3, 2)), [1.0, np.inf, 0.0], 1.0), "y"),
    (lambda: lasso.lasso(np.ones((3, 2)), np.ones(3), 1.0, x0=np.ones(3)), "x0"),
    (lambda: lasso.lasso(np.ones((3, 2)), np.ones(3), 1.0, tol=-1), "tol"),
    (lambda: lasso.ista(np.ones((3, 2)), np.ones(3), -0.1), "lam"),
    (lambda: lasso.fista(np.ones((3, 2)), np.ones(3), 1.0, n_iter=-1), "n_iter"),
    (lambda: lasso.fista(np.ones((3, 2)), np.ones(3), 1.0, step=0.0), "step"),
    (lambda: lasso.ista(np.ones((3, 2)), np.ones(3), 1.0, callback=3), "callback"),
])
def test_bad_input_raises_value_error_naming_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


# ----------------------------------------------------------------------------- subgradient method, ADMM

def test_subgradient_iterates_and_its_theorem():
    rng = np.random.default_rng(9)
    A, y = design("tall", rng)
    lam = 0.2 * np.abs(A.T @ y).max()
    L = np.linalg.norm(A, 2) ** 2
    seen = [np.zeros(A.shape[1])]
    _, h = lasso.subgradient(A, y, lam, 400, callback=lambda k, x: seen.append(x.copy()))
    x = np.zeros(A.shape[1])                       # the loop, written independently
    for k in range(400):
        g = A.T @ (A @ x - y) + lam * np.sign(x)
        np.testing.assert_allclose(np.linalg.norm(g), h["subgradient_norm"][k], rtol=1e-10)
        x = x - g / (L * np.sqrt(k + 1))
        np.testing.assert_allclose(seen[k + 1], x, rtol=1e-9, atol=1e-12)
    x_star = lasso.lasso(A, y, lam, tol=1e-14)
    F = lasso.lasso_objective(A, y, lam, x_star)
    taus = 1 / (L * np.sqrt(np.arange(400) + 1))
    bound = (np.sum(x_star ** 2) + np.cumsum(taus ** 2 * h["subgradient_norm"][:-1] ** 2)) \
        / (2 * np.cumsum(taus))
    best = np.minimum.accumulate(h["objective"][:-1]) - F
    assert np.all(best <= bound)                   # the theorem, at every k
    assert np.all(h["gap"] >= h["objective"] - F - 1e-9)


@pytest.mark.parametrize("kind", ["tall", "wide"])
def test_admm_converges_to_the_lasso_solution(kind):
    rng = np.random.default_rng(10)
    A, y = design(kind, rng)
    lam = 0.1 * np.abs(A.T @ y).max()
    x_sk = sk_lasso(A, y, lam)
    tol = 1e-11 * lasso.lasso_objective(A, y, lam, x_sk)
    for rho in (None, 10.0):
        z, h = lasso.admm(A, y, lam, 3000, rho=rho, tol=tol)
        np.testing.assert_allclose(z, x_sk, atol=1e-5 * max(1, np.abs(x_sk).max()))
        assert h["gap"][-1] <= 1e-11 * h["objective"][-1] * 1.0001
        assert h["residual"][-1] < 1e-6


def test_admm_first_iterate_is_the_regularized_solve():
    rng = np.random.default_rng(11)
    A, y = design("wide", rng)                    # n < p: the Woodbury branch
    lam, rho = 0.5, 2.0
    seen = []
    lasso.admm(A, y, lam, 1, rho=rho, callback=lambda k, z: seen.append(z.copy()))
    x1 = np.linalg.solve(A.T @ A + rho * np.eye(A.shape[1]), A.T @ y)   # z_0 = w_0 = 0
    np.testing.assert_allclose(seen[0], np.sign(x1) * np.maximum(np.abs(x1) - lam / rho, 0),
                               atol=1e-10)


@pytest.mark.parametrize("call, name", [
    (lambda: lasso.subgradient(np.ones((3, 2)), np.ones(3), 1.0, step=-1.0), "step"),
    (lambda: lasso.subgradient(np.ones((3, 2)), np.ones(4), 1.0), "y"),
    (lambda: lasso.admm(np.ones((3, 2)), np.ones(3), 1.0, rho=0.0), "rho"),
    (lambda: lasso.admm(np.ones((3, 2)), np.ones(3), -1.0), "lam"),
    (lambda: lasso.admm(np.ones((3, 2)), np.ones(3), 1.0, x0=np.ones(3)), "x0"),
])
def test_bad_input_of_subgradient_and_admm(call, name):
    with pytest.raises(ValueError, match=name):
        call()
