"""Tests of course_lib.prox: every prox against brute-force minimisation (scipy.optimize) and Moreau's
identity, the affine projection against its closed form, the names kept for older notebooks, and
bad input."""
import numpy as np
import pytest
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course_lib import images, lasso, splitting
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


# ----------------------------------------------------------------------------- affine constraints

def test_project_affine_matches_the_normal_equations():
    """P(v) = v - A^T (A A^T)^{-1} (A v - y) for A of full row rank, and P is idempotent."""
    rng = np.random.default_rng(2)
    A = rng.standard_normal((4, 9))
    y = A @ rng.standard_normal(9)
    proj = P.project_affine(A, y)
    for v in rng.standard_normal((5, 9)):
        expected = v - A.T @ np.linalg.solve(A @ A.T, A @ v - y)
        np.testing.assert_allclose(proj(v), expected, atol=1e-12)
        np.testing.assert_allclose(A @ proj(v), y, atol=1e-12)
        np.testing.assert_allclose(proj(proj(v)), proj(v), atol=1e-12)


# ----------------------------------------------------------------------------- names kept stable

def test_lasso_is_a_thin_alias_and_moved_names_are_still_found():
    assert P.lasso is lasso.lasso                       # the stable name of the DESIGN
    for name in ("ista", "fista", "lasso_gap", "lasso_objective", "lasso_path"):
        assert getattr(P, name) is getattr(lasso, name)
    for name in ("forward_backward", "douglas_rachford", "admm", "chambolle_pock", "basis_pursuit"):
        assert getattr(P, name) is getattr(splitting, name)
    for name in ("tv_denoise", "tv_inpaint", "project_pixel_ball", "div_adjoint", "grad", "div",
                 "tv_norm"):
        assert getattr(P, name) is getattr(images, name)
    with pytest.raises(AttributeError, match="no_such_prox"):
        P.no_such_prox  # noqa: B018


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("call, name", [
    (lambda: P.soft_threshold([1.0, np.nan], 1.0), "x"),
    (lambda: P.soft_threshold([1.0], -1.0), "tau"),
    (lambda: P.project_simplex([1.0, np.inf]), "x"),
    (lambda: P.project_simplex([1.0], radius=0.0), "radius"),
    (lambda: P.prox_group_l2(np.ones(3), 1.0, [0, 1]), "groups"),
    (lambda: P.project_box(np.ones(2), 1.0, 0.0), "lower"),
    (lambda: P.prox_nuclear(np.ones(3), 1.0), "X"),
    (lambda: P.project_affine(np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([1.0, 2.0])), "y"),
])
def test_bad_input_raises_value_error_naming_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
