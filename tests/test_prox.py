"""Tests of course_lib.prox: every prox against brute-force minimisation (scipy.optimize) and Moreau's
identity, the lasso against scikit-learn, basis pursuit against scipy.optimize.linprog, TV against
closed forms and duality, and bad input."""
import numpy as np
import pytest
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.linear_model import Lasso

from course_lib import images
from course_lib import prox as P

FLOATS = st.floats(-5, 5, allow_nan=False, allow_infinity=False)
VECTORS = arrays(np.float64, st.integers(1, 6), elements=FLOATS)
TAUS = st.floats(0.01, 3.0)


def brute_prox(g, v, t, x_start=None):
    """argmin_u g(u) + ||u - v||^2 / (2t) by Nelder-Mead/Powell from a good start, then polish."""
    v = np.asarray(v, dtype=float)
    shape = v.shape

    def obj(u):
        u = u.reshape(shape)
        return g(u) + np.sum((u - v) ** 2) / (2 * t)

    best = None
    for x_s in ([v.ravel(), np.zeros(v.size)] + ([x_start.ravel()] if x_start is not None else [])):
        r = scipy.optimize.minimize(obj, x_s, method="Powell",
                                    options={"xtol": 1e-10, "ftol": 1e-14, "maxiter": 50_000})
        if best is None or r.fun < best.fun:
            best = r
    return best.x.reshape(shape), best.fun


def check_prox_is_minimiser(g, prox_value, v, t):
    """The candidate's objective is no larger than brute force's, and they coincide (strong convexity)."""
    def obj(u):
        return g(u) + np.sum((u - v) ** 2) / (2 * t)
    u_bf, f_bf = brute_prox(g, v, t, x_start=prox_value)
    assert obj(prox_value) <= f_bf + 1e-9
    # 1/t-strong convexity: ||u - u*||^2 <= 2 t (F(u) - F(u*))
    assert np.linalg.norm(u_bf - prox_value) <= np.sqrt(2 * t * max(obj(u_bf) - obj(prox_value), 0)) + 1e-5


# ----------------------------------------------------------------------------- prox gallery vs brute force

@settings(max_examples=12, deadline=None, derandomize=True)
@given(VECTORS, TAUS)
def test_soft_threshold_is_prox_of_l1(v, tau):
    check_prox_is_minimiser(lambda u: np.abs(u).sum(), P.soft_threshold(v, tau), v, tau)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(VECTORS, TAUS)
def test_prox_l2_brute_force(v, tau):
    check_prox_is_minimiser(lambda u: np.linalg.norm(u), P.prox_l2(v, tau), v, tau)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(arrays(np.float64, 6, elements=FLOATS), TAUS)
def test_prox_group_l2_brute_force(v, tau):
    groups = np.array([0, 0, 1, 1, 1, 2])
    def g(u):
        return sum(np.linalg.norm(u[groups == k]) for k in range(3))
    check_prox_is_minimiser(g, P.prox_group_l2(v, tau, groups), v, tau)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(VECTORS, TAUS)
def test_prox_linf_brute_force(v, tau):
    """Epigraph form: min_{u, s} s + ||u - v||^2 / (2 tau) subject to -s <= u_i <= s, by SLSQP."""
    n = v.size
    F = lambda w: w[-1] + np.sum((w[:-1] - v) ** 2) / (2 * tau)  # noqa: E731
    cons = [{"type": "ineq", "fun": lambda w: w[-1] - w[:-1]}, {"type": "ineq", "fun": lambda w: w[-1] + w[:-1]}]
    r = scipy.optimize.minimize(F, np.r_[v, np.abs(v).max()], method="SLSQP", constraints=cons,
                                options={"ftol": 1e-15, "maxiter": 1000})
    u = P.prox_linf(v, tau)
    obj = lambda x: np.abs(x).max() + np.sum((x - v) ** 2) / (2 * tau)  # noqa: E731
    assert obj(u) <= obj(r.x[:n]) + 1e-9
    np.testing.assert_allclose(u, r.x[:n], atol=1e-5)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(VECTORS)
def test_project_box_is_nearest_point(v):
    lo, hi = -1.0 * np.ones_like(v), 0.5 * np.ones_like(v)
    u = P.project_box(v, lo, hi)
    r = scipy.optimize.minimize(lambda w: np.sum((w - v) ** 2), np.zeros_like(v),
                                bounds=list(zip(lo, hi)), method="L-BFGS-B",
                                options={"ftol": 1e-15, "gtol": 1e-12})
    np.testing.assert_allclose(u, r.x, atol=1e-6)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(VECTORS, st.floats(0.1, 3.0))
def test_project_simplex_against_slsqp(v, radius):
    u = P.project_simplex(v, radius)
    assert np.all(u >= 0) and abs(u.sum() - radius) < 1e-12
    r = scipy.optimize.minimize(lambda w: np.sum((w - v) ** 2), np.full(v.size, radius / v.size),
                                jac=lambda w: 2 * (w - v), method="SLSQP", bounds=[(0, None)] * v.size,
                                constraints=[{"type": "eq", "fun": lambda w: w.sum() - radius}],
                                options={"ftol": 1e-15, "maxiter": 500})
    assert np.sum((u - v) ** 2) <= r.fun + 1e-9
    np.testing.assert_allclose(u, r.x, atol=1e-5)


def test_project_simplex_rows_and_known_values():
    X = np.array([[0.5, 2.0, -1.0], [0.2, 0.3, 0.1], [1.0, 1.0, 1.0]])
    U = P.project_simplex(X)
    np.testing.assert_allclose(U, [[0, 1, 0], [1 / 3 + 0.2 - 0.2, 0.3 + (1 - 0.6) / 3, 0.1 + 0.4 / 3],
                                   [1 / 3] * 3], atol=1e-15)
    for x, u in zip(X, U):
        np.testing.assert_allclose(P.project_simplex(x), u)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(VECTORS, st.floats(0.1, 3.0))
def test_project_l1_ball_against_bisection(v, radius):
    """KKT: outside the ball the projection is soft thresholding at the theta with ||u||_1 = radius;
    theta is found here by bisection (an algorithm independent of the sort used by the module)."""
    u = P.project_l1_ball(v, radius)
    assert np.abs(u).sum() <= radius * (1 + 1e-12)
    if np.abs(v).sum() <= radius:
        np.testing.assert_array_equal(u, v)
        return
    lo, hi = 0.0, np.abs(v).max()
    for _ in range(200):
        theta = (lo + hi) / 2
        if np.maximum(np.abs(v) - theta, 0).sum() > radius:
            lo = theta
        else:
            hi = theta
    np.testing.assert_allclose(u, np.sign(v) * np.maximum(np.abs(v) - hi, 0), atol=1e-12)


def test_prox_nuclear_brute_force_and_low_rank():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 2))
    tau = 0.8
    Y = P.prox_nuclear(X, tau)
    check_prox_is_minimiser(lambda U: np.linalg.svd(U, compute_uv=False).sum(), Y, X, tau)
    s_X, s_Y = np.linalg.svd(X, compute_uv=False), np.linalg.svd(Y, compute_uv=False)
    np.testing.assert_allclose(s_Y, np.maximum(s_X - tau, 0), atol=1e-12)


# ----------------------------------------------------------------------------- Moreau's identity

def _prox_l1(v, t):
    return P.soft_threshold(v, t)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(VECTORS, TAUS)
def test_moreau_identity_l1_linf_ball(v, t):
    """(||.||_1)* = indicator of the l_inf unit ball, whose prox is clipping to [-1, 1]."""
    np.testing.assert_allclose(P.prox_conjugate(_prox_l1, v, t), np.clip(v, -1, 1), atol=1e-12)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(VECTORS, TAUS)
def test_moreau_identity_l2_ball(v, t):
    """(||.||_2)* = indicator of the unit l2 ball."""
    expected = v / max(1.0, np.linalg.norm(v))
    np.testing.assert_allclose(P.prox_conjugate(P.prox_l2, v, t), expected, atol=1e-12)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(VECTORS, TAUS)
def test_moreau_identity_linf(v, tau):
    """prox_{tau ||.||_inf}(v) + tau * P_{B_1}(v / tau) = v, and the prox of l_inf's conjugate with
    prox_conjugate gives the l1 ball projection back."""
    np.testing.assert_allclose(P.prox_linf(v, tau) + tau * P.project_l1_ball(v / tau), v, atol=1e-12)
    conj = P.prox_conjugate(lambda w, s: P.prox_linf(w, s), v, tau)
    np.testing.assert_allclose(conj, P.project_l1_ball(v), atol=1e-10)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(arrays(np.float64, 6, elements=FLOATS), TAUS)
def test_moreau_identity_group(v, t):
    groups = np.array([0, 0, 1, 1, 1, 2])
    conj = P.prox_conjugate(lambda w, s: P.prox_group_l2(w, s, groups), v, t)
    norms = np.array([np.linalg.norm(v[groups == g]) for g in groups])
    np.testing.assert_allclose(conj, v / np.maximum(norms, 1.0), atol=1e-12)


def test_moreau_identity_nuclear():
    """(||.||_*)* = indicator of the spectral-norm unit ball: singular values clipped at 1."""
    rng = np.random.default_rng(1)
    X = 2 * rng.standard_normal((5, 3))
    conj = P.prox_conjugate(P.prox_nuclear, X, 0.7)
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    np.testing.assert_allclose(conj, (U * np.minimum(s, 1.0)) @ Vt, atol=1e-12)


# ----------------------------------------------------------------------------- lasso vs scikit-learn

def sk_lasso(A, y, lam):
    m = Lasso(alpha=lam / A.shape[0], fit_intercept=False, tol=1e-14, max_iter=1_000_000)
    m.fit(A, y)
    return m.coef_


def design(kind, rng):
    if kind == "tall":
        A = rng.standard_normal((60, 15))
    elif kind == "wide":
        A = rng.standard_normal((30, 80))
    else:  # duplicated columns: the minimiser is not unique, the objective is
        B = rng.standard_normal((30, 40))
        A = np.hstack([B, B[:, :10]])
    x = np.zeros(A.shape[1])
    x[:5] = rng.standard_normal(5) * 2
    return A, A @ x + 0.1 * rng.standard_normal(A.shape[0])


@pytest.mark.parametrize("kind", ["tall", "wide", "duplicated"])
def test_lasso_matches_sklearn_along_a_path(kind):
    rng = np.random.default_rng(3)
    A, y = design(kind, rng)
    lam_max = np.abs(A.T @ y).max()
    x_prev = None
    for frac in [1.1, 0.9, 0.5, 0.2, 0.05, 0.01]:
        lam = frac * lam_max
        x = P.lasso(A, y, lam, x0=x_prev, tol=1e-12)
        x_sk = sk_lasso(A, y, lam)
        f, f_sk = P.lasso_objective(A, y, lam, x), P.lasso_objective(A, y, lam, x_sk)
        assert f <= f_sk * (1 + 1e-10), (kind, frac, f, f_sk)
        assert abs(f - f_sk) <= 1e-9 * f_sk
        assert P.lasso_gap(A, y, lam, x) <= 1e-12 * f * 1.0001
        if kind != "duplicated":       # unique minimiser
            np.testing.assert_allclose(x, x_sk, atol=1e-6 * max(1, np.abs(x_sk).max()))
        if frac >= 1:
            assert np.all(x == 0)
        x_prev = x


def test_lasso_path_and_warm_start():
    rng = np.random.default_rng(4)
    A, y = design("wide", rng)
    lams = np.abs(A.T @ y).max() * np.array([0.01, 0.3, 0.1])
    X = P.lasso_path(A, y, lams)
    for x, lam in zip(X, lams):
        assert P.lasso_gap(A, y, lam, x) <= 1e-9 * P.lasso_objective(A, y, lam, x)
    # warm start from the solution returns it (up to the gap test)
    x = P.lasso(A, y, lams[1], x0=X[1])
    np.testing.assert_allclose(x, X[1], atol=1e-8)


def test_lasso_zero_lambda_and_zero_column():
    rng = np.random.default_rng(5)
    A = rng.standard_normal((20, 5))
    y = rng.standard_normal(20)
    np.testing.assert_allclose(P.lasso(A, y, 0.0), np.linalg.lstsq(A, y, rcond=None)[0], atol=1e-12)
    A[:, 2] = 0.0
    x = P.lasso(A, y, 1.0)
    assert x[2] == 0
    assert abs(P.lasso_objective(A, y, 1.0, x) - P.lasso_objective(A, y, 1.0, sk_lasso(A, y, 1.0))) < 1e-9


def test_ista_fista_converge_to_lasso_with_rates():
    rng = np.random.default_rng(6)
    A, y = design("wide", rng)
    lam = 0.1 * np.abs(A.T @ y).max()
    x_star = P.lasso(A, y, lam, tol=1e-14)
    f_star = P.lasso_objective(A, y, lam, x_star)
    L = np.linalg.norm(A, 2) ** 2
    R2 = np.sum(x_star ** 2)
    k = np.arange(1, 301)
    _, h_i = P.ista(A, y, lam, 300)
    _, h_f = P.fista(A, y, lam, 300)
    # the theorems' bounds, with x0 = 0
    assert np.all(h_i["objective"][1:] - f_star <= L * R2 / (2 * k) + 1e-9)
    assert np.all(h_f["objective"][1:] - f_star <= 2 * L * R2 / (k + 1) ** 2 + 1e-9)
    # ISTA is monotone; the gap bounds the suboptimality
    assert np.all(np.diff(h_i["objective"]) <= 1e-12)
    assert np.all(h_f["gap"] >= h_f["objective"] - f_star - 1e-9)
    x_r, h_r = P.fista(A, y, lam, 2000, restart=True, tol=1e-10)
    assert h_r["gap"][-1] <= 1e-10 and len(h_r["gap"]) < 2001
    np.testing.assert_allclose(x_r, x_star, atol=1e-5)


def test_forward_backward_generic_equals_ista_and_fista():
    rng = np.random.default_rng(7)
    A, y = design("tall", rng)
    lam = 2.0
    step = 1 / np.linalg.norm(A, 2) ** 2
    def grad_f(x):
        return A.T @ (A @ x - y)
    for accelerated, ref in ((False, P.ista), (True, P.fista)):
        x, h = P.forward_backward(grad_f, lambda v, t: P.soft_threshold(v, lam * t), step, 50, x0=np.zeros(15),
                                  accelerated=accelerated,
                                  objective=lambda x: P.lasso_objective(A, y, lam, x))
        x_ref, h_ref = ref(A, y, lam, 50, step=step)
        np.testing.assert_allclose(x, x_ref, atol=1e-13)
        np.testing.assert_allclose(h["objective"], h_ref["objective"], rtol=1e-12)


def test_callbacks_are_called():
    rng = np.random.default_rng(8)
    A, y = design("tall", rng)
    seen = []
    P.ista(A, y, 1.0, 5, callback=lambda k, x: seen.append(k))
    P.fista(A, y, 1.0, 5, callback=lambda k, x: seen.append(k))
    assert seen == [1, 2, 3, 4, 5] * 2


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
    x, h = P.basis_pursuit(A, y, 20_000, method=method, tol=1e-11)
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
    P.admm(P.soft_threshold, proj, 1 / gamma, 30, x0=proj(np.zeros(25)), callback=lambda k, x: xs.append(x))
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
    x, h = P.douglas_rachford(prox_f, prox_g, 1.0, 2000, x0=np.zeros(4), tol=1e-12)
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
    x, h = P.chambolle_pock(lambda x: A @ x, lambda p: A.T @ p, lambda v, t: P.soft_threshold(v, lam * t),
                            prox_fstar, 0.9 / L, 0.9 / L, 5000, x0=np.zeros(15), tol=1e-13)
    np.testing.assert_allclose(x, P.lasso(A, y, lam, tol=1e-14), atol=1e-8)
    assert h["residual"][-1] <= 1e-13


# ----------------------------------------------------------------------------- total variation

def test_tv_denoise_gap_and_against_generic_solver():
    rng = np.random.default_rng(14)
    f = np.kron(np.array([[0.0, 1.0], [1.0, 0.0]]), np.ones((4, 4))) + 0.2 * rng.standard_normal((8, 8))
    lam = 0.15
    u, h = P.tv_denoise(f, lam, 20_000, tol=1e-9)
    assert h["gap"][-1] <= 1e-9
    assert np.all(h["gap"] >= -1e-15)
    # independent check: the primal problem by Chambolle-Pock with K = grad
    u_cp, _ = P.chambolle_pock(images.grad, lambda p: -images.div(p),
                               lambda v, t: (v + t * f) / (1 + t),
                               lambda q, s: P.project_pixel_ball(q, lam), 0.35, 0.35, 5000, x0=f,
                               tol=1e-10)
    np.testing.assert_allclose(u, u_cp, atol=1e-4)
    obj = 0.5 * np.sum((u - f) ** 2) + lam * images.tv_norm(u)
    obj_cp = 0.5 * np.sum((u_cp - f) ** 2) + lam * images.tv_norm(u_cp)
    assert obj <= obj_cp + 1e-9
    # a constant image is left unchanged (its TV is 0)
    u_c, _ = P.tv_denoise(np.full((4, 4), 0.3), 1.0, 10)
    np.testing.assert_allclose(u_c, 0.3, atol=1e-15)


def test_tv_inpaint_recovers_piecewise_constant():
    f = np.zeros((12, 12))
    f[:, 6:] = 1.0
    mask = np.ones_like(f, dtype=bool)
    mask[4:8, 1:5] = False              # a hole inside the dark half: filled with 0
    u, h = P.tv_inpaint(f, mask, 3000, tol=1e-10)
    np.testing.assert_allclose(u, f, atol=1e-6)
    assert np.all(u[mask] == f[mask])
    mask[4:8, 4:8] = False              # a hole across the edge: TV cannot beat the straight edge
    u, h = P.tv_inpaint(f, mask, 3000)
    assert np.all(u[mask] == f[mask])
    assert h["objective"][-1] == pytest.approx(images.tv_norm(f), rel=1e-4)


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("call, name", [
    (lambda: P.soft_threshold([1.0, np.nan], 1.0), "x"),
    (lambda: P.soft_threshold([1.0], -1.0), "tau"),
    (lambda: P.project_simplex([1.0, np.inf]), "x"),
    (lambda: P.project_simplex([1.0], radius=0.0), "radius"),
    (lambda: P.lasso(np.ones((3, 2)), np.ones(4), 1.0), "y"),
    (lambda: P.lasso(np.ones(3), np.ones(3), 1.0), "A"),
    (lambda: P.lasso(np.ones((3, 2)), np.ones(3), -1.0), "lam"),
    (lambda: P.lasso(np.ones((3, 2)), np.ones(3), np.nan), "lam"),
    (lambda: P.lasso(np.full((3, 2), np.nan), np.ones(3), 1.0), "A"),
    (lambda: P.lasso(np.ones((3, 2)), [1.0, np.inf, 0.0], 1.0), "y"),
    (lambda: P.lasso(np.ones((3, 2)), np.ones(3), 1.0, x0=np.ones(3)), "x0"),
    (lambda: P.lasso(np.ones((3, 2)), np.ones(3), 1.0, tol=-1), "tol"),
    (lambda: P.ista(np.ones((3, 2)), np.ones(3), -0.1), "lam"),
    (lambda: P.fista(np.ones((3, 2)), np.ones(3), 1.0, n_iter=-1), "n_iter"),
    (lambda: P.fista(np.ones((3, 2)), np.ones(3), 1.0, step=0.0), "step"),
    (lambda: P.ista(np.ones((3, 2)), np.ones(3), 1.0, callback=3), "callback"),
    (lambda: P.prox_group_l2(np.ones(3), 1.0, [0, 1]), "groups"),
    (lambda: P.project_box(np.ones(2), 1.0, 0.0), "lower"),
    (lambda: P.prox_nuclear(np.ones(3), 1.0), "X"),
    (lambda: P.basis_pursuit(np.ones((2, 3)), np.ones(3)), "y"),
    (lambda: P.basis_pursuit(np.eye(3)[:2], np.ones(2), method="simplex"), "method"),
    (lambda: P.project_affine(np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([1.0, 2.0])), "y"),
    (lambda: P.douglas_rachford(P.soft_threshold, "no", 1.0, 10, x0=np.ones(2)), "prox_g"),
    (lambda: P.douglas_rachford(P.soft_threshold, P.soft_threshold, 1.0, 10, x0=np.ones(2),
                                relax=2.0), "relax"),
    (lambda: P.admm(P.soft_threshold, P.soft_threshold, -1.0, 10, x0=np.ones(2)), "rho"),
    (lambda: P.chambolle_pock(None, None, None, None, 1, 1, 1, x0=np.ones(2)), "K"),
    (lambda: P.tv_denoise(np.ones(3), 1.0), "f"),
    (lambda: P.tv_denoise(np.ones((3, 3)), 0.0), "lam"),
    (lambda: P.tv_inpaint(np.ones((3, 3)), np.ones((3, 3))), "mask"),
])
def test_bad_input_raises_value_error_naming_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
