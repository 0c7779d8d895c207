"""Tests of course_lib.optim: against torch.optim, numpy.linalg.solve, scipy.optimize and the theorems."""
import itertools

import numpy as np
import pytest
import scipy.optimize
import torch

from course_lib import optim as O
from course_lib.derivatives import (
    least_squares,
    logistic_loss,
    logistic_smoothness,
    quadratic,
)
from course_lib.utils import linear_rate

EIGS = np.array([0.1, 0.5, 1.0, 3.0, 10.0])  # kappa = 100


@pytest.fixture(scope="module")
def quad():
    """An ill-conditioned quadratic 1/2 x^T A x - b^T x with spectrum EIGS, its minimiser and f*."""
    rng = np.random.default_rng(1)
    Q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    A, b = Q @ np.diag(EIGS) @ Q.T, rng.standard_normal(5)
    f, grad_f, _ = quadratic(A, b)
    x_star = np.linalg.solve(A, b)
    return {"A": A, "b": b, "Q": Q, "f": f, "grad_f": grad_f, "x_star": x_star,
            "f_star": f(x_star), "L": EIGS.max(), "mu": EIGS.min(), "x0": rng.standard_normal(5)}


@pytest.fixture(scope="module")
def logreg():
    """Regularised logistic regression and its minimiser from scipy's L-BFGS at a tight tolerance."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((80, 4)) * np.array([3.0, 1.0, 0.5, 0.2])
    y = np.where(X @ np.array([1.0, -2.0, 0.5, 3.0]) + rng.standard_normal(80) > 0, 1.0, -1.0)
    lam = 0.05
    f, grad_f, _ = logistic_loss(X, y, lam)
    res = scipy.optimize.minimize(f, np.zeros(4), jac=grad_f, method="L-BFGS-B",
                                  options={"gtol": 1e-12, "ftol": 0.0, "maxiter": 10_000})
    assert np.linalg.norm(grad_f(res.x)) < 1e-10
    L, mu = logistic_smoothness(X, lam)
    return {"f": f, "grad_f": grad_f, "x_star": res.x, "f_star": f(res.x), "L": L, "mu": mu,
            "x0": np.zeros(4)}


# ----------------------------------------------------------------------------- against torch.optim

def torch_iterates(make_opt, grad_f, x0, n_iter):
    """Iterates of a torch optimizer fed with the same gradient oracle."""
    p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = make_opt([p])
    out = [x0.copy()]
    for _ in range(n_iter):
        p.grad = torch.from_numpy(np.asarray(grad_f(p.detach().numpy().copy())))
        opt.step()
        out.append(p.detach().numpy().copy())
    return np.array(out)


CASES = [
    ("momentum", lambda: (lambda g, x0, n: O.momentum(g, x0, 0.05, 0.9, n),
                          lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9))),
    ("momentum-0", lambda: (lambda g, x0, n: O.momentum(g, x0, 0.1, 0.0, n),
                            lambda ps: torch.optim.SGD(ps, lr=0.1))),
    ("rmsprop", lambda: (lambda g, x0, n: O.rmsprop(g, x0, 0.01, n),
                         lambda ps: torch.optim.RMSprop(ps, lr=0.01))),
    ("rmsprop-eps", lambda: (lambda g, x0, n: O.rmsprop(g, x0, 0.03, n, alpha=0.9, eps=0.1),
                             lambda ps: torch.optim.RMSprop(ps, lr=0.03, alpha=0.9, eps=0.1))),
    ("adam", lambda: (lambda g, x0, n: O.adam(g, x0, 0.05, n),
                      lambda ps: torch.optim.Adam(ps, lr=0.05))),
    ("adam-eps", lambda: (lambda g, x0, n: O.adam(g, x0, 0.1, n, betas=(0.5, 0.9), eps=0.3),
                          lambda ps: torch.optim.Adam(ps, lr=0.1, betas=(0.5, 0.9), eps=0.3))),
]


@pytest.mark.parametrize("problem", ["quad", "logreg"])
@pytest.mark.parametrize("name, case", CASES, ids=[c[0] for c in CASES])
def test_matches_torch_optim(name, case, problem, request):
    P = request.getfixturevalue(problem)
    ours, make_opt = case()
    x0 = P["x0"] + 1.0
    n_iter = 80
    x, iterates = ours(P["grad_f"], x0, n_iter)
    ref = torch_iterates(make_opt, P["grad_f"], x0, n_iter)
    assert iterates.shape == (n_iter + 1, x0.size)
    np.testing.assert_array_equal(x, iterates[-1])
    np.testing.assert_allclose(iterates, ref, rtol=0, atol=1e-12)
    assert np.linalg.norm(iterates[-1] - iterates[0]) > 0.1  # the test is not vacuous


def test_momentum_is_heavy_ball(quad):
    _, it_m = O.momentum(quad["grad_f"], quad["x0"], 0.1, 0.8, 100)
    _, it_hb = O.heavy_ball(quad["grad_f"], quad["x0"], 0.1, 0.8, 100)
    np.testing.assert_allclose(it_m, it_hb, rtol=0, atol=1e-12)


def test_adam_with_a_stochastic_oracle_matches_torch(quad):
    """A stochastic oracle is a grad_f that draws its own noise; same noise, same iterates."""
    def noisy(seed):
        rng = np.random.default_rng(seed)
        return lambda x: quad["grad_f"](x) + 0.1 * rng.standard_normal(x.size)

    _, ours = O.adam(noisy(5), quad["x0"], 0.02, 60)
    ref = torch_iterates(lambda ps: torch.optim.Adam(ps, lr=0.02), noisy(5), quad["x0"], 60)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- convergence to x*

@pytest.mark.parametrize("problem", ["quad", "logreg"])
def test_gd_and_nesterov_reach_the_minimiser(problem, request):
    P = request.getfixturevalue(problem)
    L, mu, x_star = P["L"], P["mu"], P["x_star"]
    x, _ = O.gradient_descent(P["grad_f"], P["x0"], 1 / L, 3000)
    np.testing.assert_allclose(x, x_star, atol=1e-8)
    x, _ = O.nesterov(P["grad_f"], P["x0"], 1 / L, 600, mu=mu)
    np.testing.assert_allclose(x, x_star, atol=1e-8)
    x, _ = O.nesterov(P["grad_f"], P["x0"], 1 / L, 3000)
    np.testing.assert_allclose(x, x_star, atol=1e-6)
    # Armijo compares values of f, which are exact only to ~1e-16 |f*|: it stalls near
    # ||x - x*|| ~ sqrt(2e-16 |f*| / mu), ~1e-7 here
    x, _ = O.gradient_descent_armijo(P["f"], P["grad_f"], P["x0"], 1200)
    np.testing.assert_allclose(x, x_star, atol=2e-6)


def test_heavy_ball_with_polyak_tuning(quad):
    step, beta = O.heavy_ball_parameters(quad["L"], quad["mu"])
    x, iterates = O.heavy_ball(quad["grad_f"], quad["x0"], step, beta, 400)
    np.testing.assert_allclose(x, quad["x_star"], atol=1e-10)
    err = np.linalg.norm(iterates - quad["x_star"], axis=1)
    rate = (np.sqrt(quad["L"]) - np.sqrt(quad["mu"])) / (np.sqrt(quad["L"]) + np.sqrt(quad["mu"]))
    assert linear_rate(err[20:160]) < rate * 1.05  # ~0.73, vs 0.98 for gradient descent


# ----------------------------------------------------------------------------- theory

@pytest.mark.parametrize("step_rule", ["1/L", "optimal", "too-large"])
def test_gd_contracts_at_the_predicted_factor(quad, step_rule):
    L, mu, x_star, Q = quad["L"], quad["mu"], quad["x_star"], quad["Q"]
    step = {"1/L": 1 / L, "optimal": O.optimal_step(L, mu), "too-large": 2.1 / L}[step_rule]
    q = O.contraction_factor(step, L, mu)
    # worst start: x0 - x* along the eigenvector where |1 - step * lambda| is largest
    worst = np.argmax(np.abs(1 - step * EIGS))
    x0 = x_star + Q[:, worst]
    _, iterates = O.gradient_descent(quad["grad_f"], x0, step, 60)
    err = np.linalg.norm(iterates - x_star, axis=1)
    np.testing.assert_allclose(err[1:] / err[:-1], q, rtol=1e-8)
    # any start: the bound ||e_k|| <= q^k ||e_0|| holds, and the fitted rate is q
    _, iterates = O.gradient_descent(quad["grad_f"], quad["x0"], step, 300)
    err = np.linalg.norm(iterates - x_star, axis=1)
    assert np.all(err <= q ** np.arange(301) * err[0] * (1 + 1e-10))
    assert linear_rate(err[200:]) == pytest.approx(q, rel=1e-3)


def test_contraction_factor_and_optimal_step():
    L, mu = 10.0, 0.1
    assert O.optimal_step(L, mu) == pytest.approx(2 / 10.1)
    assert O.contraction_factor(O.optimal_step(L, mu), L, mu) == pytest.approx(9.9 / 10.1)
    assert O.contraction_factor(1 / L, L, mu) == pytest.approx(1 - mu / L)
    steps = np.linspace(1e-3, 0.3, 2000)
    best = steps[np.argmin([O.contraction_factor(s, L, mu) for s in steps])]
    assert best == pytest.approx(O.optimal_step(L, mu), abs=3e-4)
    assert O.contraction_factor(2 / L, L, 0.0) == 1.0


@pytest.mark.parametrize("problem", ["quad", "logreg"])
def test_nesterov_below_the_theorem_bound(problem, request):
    """f(x_k) - f* <= 2 L ||x_0 - x*||^2 / (k + 1)^2 for step = 1/L (mu = 0 variant)."""
    P = request.getfixturevalue(problem)
    L, f, x_star = P["L"], P["f"], P["x_star"]
    x0 = P["x0"] + 3.0
    _, iterates = O.nesterov(P["grad_f"], x0, 1 / L, 300)
    gap = np.array([f(x) for x in iterates]) - P["f_star"]
    k = np.arange(301)
    bound = 2 * L * np.sum((x0 - x_star) ** 2) / (k + 1) ** 2
    assert np.all(gap <= bound + 1e-12)
    # the bound is not vacuous: GD with the same step is slower at k = 50
    _, it_gd = O.gradient_descent(P["grad_f"], x0, 1 / L, 50)
    assert f(iterates[50]) < f(it_gd[50])


def test_armijo_sufficient_decrease(logreg):
    f, grad_f = logreg["f"], logreg["grad_f"]
    c, shrink = 1e-4, 0.5
    x = np.array([5.0, -5.0, 5.0, 5.0])
    g = grad_f(x)
    t = O.armijo_step(f, x, g, step0=100.0, c=c, shrink=shrink)
    assert t < 100.0
    assert f(x - t * g) <= f(x) - c * t * g @ g                # accepted step: sufficient decrease
    assert not f(x - t / shrink * g) <= f(x) - c * t / shrink * g @ g   # previous try rejected
    # along the run every step satisfies the condition, so f decreases monotonically
    _, iterates = O.gradient_descent_armijo(f, grad_f, x, 50, step0=100.0, c=c, shrink=shrink)
    for xk, xk1 in itertools.pairwise(iterates):
        gk = grad_f(xk)
        t = np.linalg.norm(xk1 - xk) / np.linalg.norm(gk)
        np.testing.assert_allclose(xk1, xk - t * gk, atol=1e-12)
        assert f(xk1) <= f(xk) - c * t * gk @ gk
        assert 2 * shrink * (1 - c) / logreg["L"] <= t * (1 + 1e-12)  # the step never gets tiny


def test_armijo_detects_a_wrong_gradient():
    with pytest.raises(RuntimeError, match="gradient"):
        O.armijo_step(lambda x: float(x @ x), np.ones(2), -np.ones(2), max_backtracks=20)


# ----------------------------------------------------------------------------- SGD

@pytest.fixture(scope="module")
def lsq():
    rng = np.random.default_rng(3)
    n, d = 200, 3
    A = rng.standard_normal((n, d))
    x_true = np.array([1.0, -2.0, 0.5])
    b = A @ x_true + 0.5 * rng.standard_normal(n)
    f, grad_f, _ = least_squares(A, b)
    return {"A": A, "b": b, "f": f, "grad_f": grad_f, "n": n, "x_true": x_true,
            "x_star": np.linalg.lstsq(A, b, rcond=None)[0]}


def test_sgd_averaging_converges(lsq):
    x_star = lsq["x_star"]
    x0 = np.zeros(3)
    # constant step: the last iterate stalls at the noise level, the average keeps converging
    x_bar, iterates, averages = O.sgd(lsq["grad_f"], x0, lsq["n"], 0.05, 10_000, rng=0, average=True)
    np.testing.assert_array_equal(x_bar, averages[-1])
    np.testing.assert_allclose(averages, np.cumsum(iterates, 0) / np.arange(1, 10_002)[:, None])
    err_last = np.linalg.norm(iterates[-1] - x_star)
    err_avg = np.linalg.norm(x_bar - x_star)
    assert err_avg < 0.03 and err_avg < 0.5 * err_last
    # Robbins-Monro steps c / (k + k0) with averaging
    x_bar, _, _ = O.sgd(lsq["grad_f"], x0, lsq["n"], lambda k: 1.0 / (k + 10), 10_000,
                        rng=np.random.default_rng(1), batch_size=4, average=True)
    assert np.linalg.norm(x_bar - x_star) < 0.03


def test_sgd_interpolation_and_reproducibility(lsq):
    """Noiseless consistent system: constant-step SGD converges linearly to the exact solution."""
    A = lsq["A"]
    x_true = lsq["x_true"]
    _, grad_f, _ = least_squares(A, A @ x_true)
    x, iterates = O.sgd(grad_f, np.zeros(3), lsq["n"], 0.1, 3000, rng=7, batch_size=2)
    np.testing.assert_allclose(x, x_true, atol=1e-8)
    _, again = O.sgd(grad_f, np.zeros(3), lsq["n"], 0.1, 3000, rng=np.random.default_rng(7),
                     batch_size=2)
    np.testing.assert_array_equal(iterates, again)


def test_sgd_schedule_and_callback(lsq):
    seen_k, seen_cb = [], []

    def step(k):
        seen_k.append(k)
        return 0.01

    O.sgd(lsq["grad_f"], np.zeros(3), lsq["n"], step, 5, rng=0,
          callback=lambda k, x: seen_cb.append(k))
    assert seen_k == [0, 1, 2, 3, 4] and seen_cb == [1, 2, 3, 4, 5]


# ----------------------------------------------------------------------------- conventions

SOLVERS = {
    "gradient_descent": lambda g, x0, n, **kw: O.gradient_descent(g, x0, 0.1, n, **kw),
    "armijo": lambda g, x0, n, **kw: O.gradient_descent_armijo(lambda x: 0.5 * x @ x, g, x0, n, **kw),
    "nesterov": lambda g, x0, n, **kw: O.nesterov(g, x0, 0.1, n, **kw),
    "nesterov-mu": lambda g, x0, n, **kw: O.nesterov(g, x0, 0.1, n, mu=1.0, **kw),
    "heavy_ball": lambda g, x0, n, **kw: O.heavy_ball(g, x0, 0.1, 0.5, n, **kw),
    "momentum": lambda g, x0, n, **kw: O.momentum(g, x0, 0.1, 0.5, n, **kw),
    "rmsprop": lambda g, x0, n, **kw: O.rmsprop(g, x0, 0.1, n, **kw),
    "adam": lambda g, x0, n, **kw: O.adam(g, x0, 0.1, n, **kw),
    "sgd": lambda g, x0, n, **kw: O.sgd(lambda x, idx: g(x), x0, 4, 0.1, n, 0, **kw),
}


@pytest.mark.parametrize("name", SOLVERS)
def test_calling_convention(name):
    solve = SOLVERS[name]
    x0 = np.array([1.0, -2.0, 3.0])
    x0_copy = x0.copy()
    calls = []
    x, iterates = solve(lambda x: x, x0, 7, callback=lambda k, x: calls.append(k))
    assert iterates.shape == (8, 3) and iterates.dtype == np.float64
    np.testing.assert_array_equal(iterates[0], x0)
    np.testing.assert_array_equal(x, iterates[-1])
    np.testing.assert_array_equal(x0, x0_copy)  # x0 untouched
    assert calls == list(range(1, 8))
    assert np.linalg.norm(x) < np.linalg.norm(x0)  # f = ||x||^2 / 2 decreases
    x, iterates = solve(lambda x: x, [1, 2], 0)  # n_iter = 0: just x0; lists are accepted
    assert iterates.shape == (1, 2) and np.array_equal(x, [1.0, 2.0])


def g0(x):
    return x


x0 = np.ones(2)


@pytest.mark.parametrize("call, match", [
    (lambda: O.gradient_descent(g0, x0, 0.0, 10), "step"),
    (lambda: O.gradient_descent(g0, x0, -1.0, 10), "step"),
    (lambda: O.gradient_descent(g0, x0, 0.1, -1), "n_iter"),
    (lambda: O.gradient_descent(g0, x0, 0.1, 2.5), "n_iter"),
    (lambda: O.gradient_descent(g0, [1.0, np.nan], 0.1, 10), "x0"),
    (lambda: O.gradient_descent(g0, np.ones((2, 2)), 0.1, 10), "x0"),
    (lambda: O.gradient_descent("grad", x0, 0.1, 10), "grad_f"),
    (lambda: O.gradient_descent(lambda x: np.ones(3), x0, 0.1, 10), "grad_f must return"),
    (lambda: O.gradient_descent(g0, x0, 0.1, 10, callback=3), "callback"),
    (lambda: O.gradient_descent_armijo(None, g0, x0, 10), "f"),
    (lambda: O.gradient_descent_armijo(lambda x: 0.0, g0, x0, 10, c=1.5), "c"),
    (lambda: O.gradient_descent_armijo(lambda x: 0.0, g0, x0, 10, shrink=1.0), "shrink"),
    (lambda: O.gradient_descent_armijo(lambda x: 0.0, g0, x0, 10, step0=0), "step0"),
    (lambda: O.armijo_step(lambda x: 0.0, x0, np.ones(3)), "g"),
    (lambda: O.nesterov(g0, x0, 0.1, 10, mu=-1.0), "mu"),
    (lambda: O.nesterov(g0, x0, 0.1, 10, mu=20.0), "mu"),
    (lambda: O.heavy_ball(g0, x0, 0.1, 1.0, 10), "beta"),
    (lambda: O.heavy_ball(g0, x0, 0.1, -0.1, 10), "beta"),
    (lambda: O.heavy_ball_parameters(1.0, 0.0), "mu"),
    (lambda: O.momentum(g0, x0, 0.1, 1.5, 10), "beta"),
    (lambda: O.rmsprop(g0, x0, 0.1, 10, alpha=1.0), "alpha"),
    (lambda: O.rmsprop(g0, x0, 0.1, 10, eps=0.0), "eps"),
    (lambda: O.adam(g0, x0, 0.1, 10, betas=(0.9, 1.0)), "betas"),
    (lambda: O.adam(g0, x0, 0.1, 10, betas=0.9), "betas"),
    (lambda: O.adam(g0, x0, np.inf, 10), "step"),
    (lambda: O.sgd(lambda x, i: x, x0, 0, 0.1, 10, 0), "n_samples"),
    (lambda: O.sgd(lambda x, i: x, x0, 5, 0.1, 10, None), "rng"),
    (lambda: O.sgd(lambda x, i: x, x0, 5, 0.1, 10, 0, batch_size=0), "batch_size"),
    (lambda: O.sgd(lambda x, i: x, x0, 5, lambda k: -1.0, 10, 0), "step"),
    (lambda: O.sgd(lambda x, i: x, x0, 5, 0.1, 10, 0, average="yes"), "average"),
    (lambda: O.sgd(None, x0, 5, 0.1, 10, 0), "grad_fi"),
    (lambda: O.polyak_average(np.ones(3)), "iterates"),
    (lambda: O.contraction_factor(0.1, 1.0, 2.0), "mu"),
    (lambda: O.contraction_factor(0.1, 0.0, 0.0), "L"),
    (lambda: O.optimal_step(-1.0, 0.0), "L"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
