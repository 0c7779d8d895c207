"""Tests of course_lib.linear_models: against scikit-learn (Ridge, Lasso, lasso_path), numpy.linalg and
the optimality conditions."""
import numpy as np
import pytest
import sklearn.linear_model as sk
from sklearn.metrics import mean_squared_error as sk_mse

from course_lib import data
from course_lib import linear_models as lm
from course_lib.prox import lasso_gap, lasso_objective


def gaussian(n, p, k=5, noise=0.1, seed=0):
    """A Gaussian design and targets from a k-sparse vector plus noise."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, p))
    x = np.zeros(p)
    x[rng.choice(p, size=min(k, p), replace=False)] = 3 * rng.standard_normal(min(k, p))
    return A, A @ x + noise * rng.standard_normal(n)


@pytest.fixture(scope="module")
def diabetes():
    return data.diabetes()


def sk_lasso(A, y, lam):
    """scikit-learn's Lasso minimises 1/(2n) ||Ax - y||^2 + alpha ||x||_1: alpha = lam / n."""
    model = sk.Lasso(alpha=lam / A.shape[0], fit_intercept=False, tol=1e-14, max_iter=200_000)
    return model.fit(A, y).coef_


# ----------------------------------------------------------------------------- ridge

SHAPES = [(50, 8), (8, 50), (30, 30)]


@pytest.mark.parametrize("shape", SHAPES, ids=[f"{n}x{p}" for n, p in SHAPES])
@pytest.mark.parametrize("lam", [1e-3, 1.0, 100.0])
def test_ridge_matches_sklearn_and_primal_equals_dual(shape, lam):
    A, y = gaussian(*shape, seed=1)
    x_primal, x_dual = lm.ridge(A, y, lam, form="primal"), lm.ridge(A, y, lam, form="dual")
    # Ridge minimises ||y - A x||^2 + alpha ||x||^2 (no 1/n): the same minimiser for alpha = lam
    ref = sk.Ridge(alpha=lam, fit_intercept=False, solver="svd").fit(A, y).coef_
    scale = np.linalg.norm(ref)
    assert np.linalg.norm(x_primal - ref) <= 1e-9 * scale
    assert np.linalg.norm(x_dual - ref) <= 1e-9 * scale
    assert np.linalg.norm(x_primal - x_dual) <= 1e-9 * scale
    assert np.array_equal(lm.ridge(A, y, lam), x_primal if shape[1] <= shape[0] else x_dual)


def test_ridge_solves_the_normal_equations(diabetes):
    A, y = diabetes
    x = lm.ridge(A, y, 10.0)
    residual = A.T @ (A @ x - y) + 10.0 * x          # gradient of the ridge objective
    assert np.linalg.norm(residual) <= 1e-10 * np.linalg.norm(A.T @ y)


def test_ridge_path_matches_ridge_and_the_pseudo_inverse_at_zero():
    for shape in SHAPES:
        A, y = gaussian(*shape, seed=2)
        lams = np.array([0.0, 1e-2, 1.0, 1e3])
        X = lm.ridge_path(A, y, lams)
        assert X.shape == (4, shape[1])
        np.testing.assert_allclose(X[0], np.linalg.pinv(A) @ y, rtol=1e-8, atol=1e-10)
        for lam, x in zip(lams[1:], X[1:]):
            np.testing.assert_allclose(x, lm.ridge(A, y, lam), rtol=1e-9, atol=1e-12)
    # the norm of the ridge solution decreases along the path, to 0
    A, y = gaussian(40, 10, seed=3)
    norms = np.linalg.norm(lm.ridge_path(A, y, np.logspace(-3, 8, 30)), axis=1)
    assert np.all(np.diff(norms) < 0) and norms[-1] < 1e-5 * norms[0]


# ----------------------------------------------------------------------------- lasso path

def test_lambda_max_is_where_the_solution_leaves_zero(diabetes):
    A, y = diabetes
    lmax = lm.lambda_max(A, y)
    assert np.all(sk_lasso(A, y, 1.001 * lmax) == 0)
    assert np.count_nonzero(sk_lasso(A, y, 0.99 * lmax)) == 1


@pytest.mark.parametrize("shape", [(442, 10), (60, 200)], ids=["diabetes", "wide"])
def test_lasso_path_matches_sklearn_lasso_path(diabetes, shape):
    A, y = diabetes if shape == (442, 10) else gaussian(*shape, k=8, seed=4)
    n = A.shape[0]
    lams = lm.lambda_max(A, y) * np.logspace(0, -3, 12)
    X = lm.lasso_path(A, y, lams)
    _, coefs, _ = sk.lasso_path(A, y, alphas=lams / n, tol=1e-14, max_iter=200_000)
    for lam, x, ref in zip(lams, X, coefs.T):
        p_ours, p_ref = lasso_objective(A, y, lam, x), lasso_objective(A, y, lam, ref)
        assert p_ours <= p_ref * (1 + 1e-10)                       # at least as good as sklearn
        assert lasso_gap(A, y, lam, x) <= 1e-8 * p_ours
        assert np.linalg.norm(x - ref) <= 1e-5 * max(np.linalg.norm(ref), 1.0)
    assert np.all(X[0] == 0)                                       # lam = lambda_max


# ----------------------------------------------------------------------------- interior point

CASES = {
    "diabetes-small-lam": ("diabetes", 1.0),
    "diabetes-mid-lam": ("diabetes", 300.0),
    "diabetes-large-lam": ("diabetes", 5000.0),
    "tall": ((100, 30), 0.1),
    "wide": ((40, 120), 0.2),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_interior_point_matches_sklearn_lasso(diabetes, case):
    shape, frac = CASES[case]
    if shape == "diabetes":
        A, y = diabetes
        lam = frac
    else:
        A, y = gaussian(*shape, k=6, seed=5)
        lam = frac * lm.lambda_max(A, y)
    x, gaps = lm.lasso_interior_point(A, y, lam, tol=1e-12)
    ref = sk_lasso(A, y, lam)
    p_ours, p_ref = lasso_objective(A, y, lam, x), lasso_objective(A, y, lam, ref)
    assert abs(p_ours - p_ref) <= 1e-11 * p_ref
    assert gaps[-1] <= 1e-12 * p_ours and gaps[0] == pytest.approx(lasso_gap(A, y, lam, np.zeros(A.shape[1])))
    assert np.linalg.norm(x - ref) <= 1e-6 * np.linalg.norm(ref)
    assert len(gaps) < 150                                           # Newton steps, not seconds


def test_interior_point_with_duplicated_columns_reaches_the_optimal_value():
    A, y = gaussian(50, 20, seed=6)
    A = np.c_[A, A[:, :5]]                       # non-unique minimisers: compare values only
    lam = 0.1 * lm.lambda_max(A, y)
    x, gaps = lm.lasso_interior_point(A, y, lam, tol=1e-12)
    ref = sk_lasso(A, y, lam)
    assert lasso_objective(A, y, lam, x) <= lasso_objective(A, y, lam, ref) * (1 + 1e-11)


def test_interior_point_gap_goes_down_by_mu_per_centring():
    """Along the central path the gap is <= 2p/t, and t grows by mu at each centring: the number of
    Newton steps to gain the same factor in the gap is about the same for every factor."""
    A, y = gaussian(80, 20, seed=7)
    lam = 0.1 * lm.lambda_max(A, y)
    _, gaps = lm.lasso_interior_point(A, y, lam, tol=1e-12, mu=10.0)
    first = [int(np.argmax(gaps <= gaps[0] * 10.0 ** -j)) for j in range(2, 12)]
    steps_per_decade = np.diff(first)
    assert np.all(steps_per_decade >= 1) and np.all(steps_per_decade <= 8)


def test_interior_point_raises_when_max_newton_is_too_small(diabetes):
    A, y = diabetes
    with pytest.raises(RuntimeError, match="max_newton"):
        lm.lasso_interior_point(A, y, 10.0, max_newton=3)


# ----------------------------------------------------------------------------- held-out errors

def test_mean_squared_error_matches_sklearn(diabetes):
    A, y = diabetes
    X = lm.ridge_path(A, y, [0.1, 10.0, 1000.0])
    errs = lm.mean_squared_error(A, y, X)
    assert errs.shape == (3,)
    for x, e in zip(X, errs):
        assert e == pytest.approx(sk_mse(y, A @ x), rel=1e-12)
    assert lm.mean_squared_error(A, y, X[0]) == pytest.approx(errs[0], rel=1e-12)


def test_kfold_errors_match_a_loop_with_sklearn_ridge(diabetes):
    A, y = diabetes
    lams = np.array([1.0, 100.0, 10_000.0])
    errs = lm.kfold_errors(lm.ridge_path, A, y, lams, n_folds=4, rng=0)
    assert errs.shape == (4, 3)
    folds = np.array_split(np.random.default_rng(0).permutation(len(y)), 4)   # the documented split
    for i, test in enumerate(folds):
        train = np.setdiff1d(np.arange(len(y)), test)
        for j, lam in enumerate(lams):
            model = sk.Ridge(alpha=lam, fit_intercept=False).fit(A[train], y[train])
            assert errs[i, j] == pytest.approx(sk_mse(y[test], model.predict(A[test])), rel=1e-9)


# ----------------------------------------------------------------------------- bad input

A0, Y0 = gaussian(10, 4, seed=8)

BAD = [
    (lambda: lm.ridge(A0[0], Y0, 1.0), "A"),
    (lambda: lm.ridge(A0, Y0[:-1], 1.0), "y"),
    (lambda: lm.ridge(np.where(A0 > 1, np.nan, A0), Y0, 1.0), "A"),
    (lambda: lm.ridge(A0, Y0, 0.0), "lam"),
    (lambda: lm.ridge(A0, Y0, -1.0), "lam"),
    (lambda: lm.ridge(A0, Y0, 1.0, form="kernel"), "form"),
    (lambda: lm.ridge_path(A0, Y0, [1.0, -1.0]), "lams"),
    (lambda: lm.ridge_path(A0, Y0, []), "lams"),
    (lambda: lm.ridge_path(A0, Y0, [[1.0]]), "lams"),
    (lambda: lm.lambda_max(A0, np.r_[Y0, 1.0]), "y"),
    (lambda: lm.lasso_interior_point(A0, Y0, -1.0), "lam"),
    (lambda: lm.lasso_interior_point(A0, Y0, 1.0, mu=1.0), "mu"),
    (lambda: lm.lasso_interior_point(A0, Y0, 1.0, tol=0.0), "tol"),
    (lambda: lm.lasso_interior_point(A0, Y0, 1.0, max_newton=2.5), "max_newton"),
    (lambda: lm.lasso_interior_point(A0, Y0, 1.0, t0=-1.0), "t0"),
    (lambda: lm.lasso_interior_point(np.inf * A0, Y0, 1.0), "A"),
    (lambda: lm.mean_squared_error(A0, Y0, np.ones(5)), "X"),
    (lambda: lm.kfold_errors("ridge", A0, Y0, [1.0]), "path"),
    (lambda: lm.kfold_errors(lm.ridge_path, A0, Y0, [1.0], n_folds=1), "n_folds"),
    (lambda: lm.kfold_errors(lm.ridge_path, A0, Y0, [1.0], n_folds=11), "n_folds"),
    (lambda: lm.kfold_errors(lm.ridge_path, A0, Y0, [1.0], rng="seed"), "rng"),
    (lambda: lm.kfold_errors(lambda A, y, lams: np.zeros(3), A0, Y0, [1.0]), "path"),
]


@pytest.mark.parametrize("call, name", BAD, ids=[f"{i}-{name}" for i, (_, name) in enumerate(BAD)])
def test_bad_input_raises_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


# ----------------------------------------------------------------------------- the barrier's Newton step

def _phi_derivatives(A, y, lam, t, x, u):
    """Gradient and Hessian of phi_t in (x, u), written independently (full 2p x 2p system)."""
    f1, f2 = u - x, u + x
    g = np.r_[t * A.T @ (A @ x - y) + 1 / f1 - 1 / f2, t * lam - 1 / f1 - 1 / f2]
    same, cross = np.diag(1 / f1**2 + 1 / f2**2), np.diag(1 / f2**2 - 1 / f1**2)
    return g, np.block([[t * A.T @ A + same, cross], [cross, same]])


@pytest.mark.parametrize("shape", [(30, 6), (6, 15)])        # tall: p x p system; wide: Woodbury
def test_barrier_newton_step_solves_the_full_newton_system(shape):
    rng = np.random.default_rng(7)
    A, y = rng.standard_normal(shape), rng.standard_normal(shape[0])
    p, lam, t = shape[1], 0.3, 5.0
    x = rng.standard_normal(p)
    u = np.abs(x) + 0.2 + rng.random(p)
    g, H = _phi_derivatives(A, y, lam, t, x, u)
    phi = lambda w: t * (0.5 * np.sum((A @ w[:p] - y) ** 2) + lam * w[p:].sum()) - np.sum(
        np.log(w[p:] - w[:p]) + np.log(w[p:] + w[:p]))
    w = np.r_[x, u]
    fd = np.array([(phi(w + 1e-6 * e) - phi(w - 1e-6 * e)) / 2e-6 for e in np.eye(2 * p)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6)      # the reference's gradient
    dx, du, dec2 = lm.barrier_newton_step(A, y, lam, t, x, u)
    step = -np.linalg.solve(H, g)
    np.testing.assert_allclose(np.r_[dx, du], step, rtol=1e-9, atol=1e-12)
    assert dec2 == pytest.approx(step @ H @ step, rel=1e-9)


def test_barrier_newton_step_rejects_infeasible_points():
    A, y = np.eye(3), np.ones(3)
    with pytest.raises(ValueError, match=r"u > \|x\|"):
        lm.barrier_newton_step(A, y, 1.0, 1.0, np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="t"):
        lm.barrier_newton_step(A, y, 1.0, 0.0, np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="u"):
        lm.barrier_newton_step(A, y, 1.0, 1.0, np.zeros(3), np.ones(4))
