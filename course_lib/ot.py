"""Optimal transport: exact plans, one-dimensional and Gaussian closed forms, Sinkhorn (Chapter 10).

Two discrete measures ``alpha = sum_i a_i delta_{x_i}`` and ``beta = sum_j b_j delta_{y_j}`` with
the same mass, a cost matrix ``C_ij = c(x_i, y_j)``. A *plan* is a non-negative ``n x m`` matrix
``P`` with marginals ``P 1 = a`` and ``P^T 1 = b``.

* ``emd(a, b, C)``: an optimal plan of Kantorovich's linear program ``min_P <P, C>``.
  Uniform weights with ``n = m`` make it an assignment problem (Birkhoff: the vertices of the
  polytope are permutations), solved by ``scipy.optimize.linear_sum_assignment``; other weights by
  the LP itself (``scipy.optimize.linprog``, HiGHS). ``emd_cost`` is ``<P, C>`` and
  ``wasserstein(x, y, p)`` is ``W_p = (min_P sum_ij P_ij ||x_i - y_j||^p)^(1/p)`` between clouds.
* ``wasserstein_1d(x, y, p, a, b)``: ``W_p = (int_0^1 |F^{-1}(t) - G^{-1}(t)|^p dt)^(1/p)`` with
  the quantile functions of the two weighted samples (sorting; the monotone plan is optimal).
  ``sliced_wasserstein`` averages ``W_p^p`` of random 1-D projections.
* ``gaussian_w2(m1, S1, m2, S2)``: ``W_2`` between Gaussians (Bures),
  ``W_2^2 = ||m1 - m2||^2 + tr(S1 + S2 - 2 (S1^(1/2) S2 S1^(1/2))^(1/2))``.
* ``sinkhorn(a, b, C, eps)``: the entropic plan, minimiser of ``<P, C> + eps KL(P | a b^T)``,
  ``P = diag(u) exp(-C / eps) diag(v)``; ``sinkhorn_potentials`` returns the dual potentials
  ``(f, g)`` with ``P_ij = a_i b_j exp((f_i + g_j - C_ij) / eps)``, and at convergence
  ``f_i = -eps log sum_j b_j exp((g_j - C_ij) / eps)`` (the soft c-transform) and the entropic
  cost ``OT_eps(a, b) = <a, f> + <b, g>`` (``entropic_cost``).
  The iterations are the matrix-scaling ones, ``v = b / (K^T u)``, ``u = a / (K v)``, but on a
  *stabilised* kernel ``K_ij = a_i b_j exp((f_i + g_j - C_ij) / eps)`` whose potentials absorb
  ``eps log u``, ``eps log v`` before they over- or underflow (the log domain at the price of a
  matrix-vector product), with ``eps``-scaling (a geometric sequence of decreasing ``eps``, each
  problem warm-started from the previous one's potentials) and over-relaxation
  ``u <- u^(1 - omega) (a / K v)^omega`` once the linear rate is measured (SOR: Sinkhorn is block
  Gauss-Seidel on the dual). Neither changes the fixed point, only the number of iterations.
* ``sinkhorn_divergence(x, y, eps)``: ``S_eps = OT_eps(a, b) - (OT_eps(a, a) + OT_eps(b, b)) / 2``
  for the cost ``||x - y||^2``, and optionally its gradient in ``x`` by the envelope theorem,
  ``grad_{x_i} OT_eps = sum_j P_ij 2 (x_i - y_j)`` (the potentials' own dependence drops out).
* ``cost_matrix(x, y, p)``: ``C_ij = ||x_i - y_j||^p``.

Marginal error means ``||P 1 - a||_1 + ||P^T 1 - b||_1``. Masses must agree (relative 1e-8).
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.optimize
from scipy.special import logsumexp

from course_lib.utils import as_array, as_rng, as_scalar, check_size

__all__ = [
    "cost_matrix",
    "emd",
    "emd_cost",
    "entropic_cost",
    "gaussian_w2",
    "marginal_error",
    "sinkhorn",
    "sinkhorn_divergence",
    "sinkhorn_potentials",
    "sliced_wasserstein",
    "wasserstein",
    "wasserstein_1d",
]

_ABSORB = 30.0      # absorb eps log u into f once |log u| exceeds this (e^30 ~ 1e13)
_SCALING_START = 0.1
_STAGE_TOL = 1e-2


# ------------------------------------------------------------------------------ input checks

def _weights(w, name: str, n: int | None = None) -> np.ndarray:
    """Non-negative 1-D weights with positive mass (``None``: uniform of length ``n``)."""
    if w is None:
        if n is None:
            raise ValueError(f"{name} must be given")
        return np.full(n, 1.0 / n)
    w = as_array(w, name, ndim=1)
    if w.size == 0:
        raise ValueError(f"{name} must hold at least one weight")
    if np.any(w < 0):
        raise ValueError(f"{name} must be non-negative, got min {w.min():.3g}")
    if w.sum() <= 0:
        raise ValueError(f"{name} must have positive mass")
    if n is not None and w.size != n:
        raise ValueError(f"{name} must have length {n}, got {w.size}")
    return w


def _problem(a, b, C):
    """Validated ``(a, b, C)``: shapes that agree, the same mass, finite costs."""
    C = as_array(C, "C", ndim=2)
    n, m = C.shape
    if n == 0 or m == 0:
        raise ValueError(f"C must have at least one row and one column, got shape {C.shape}")
    a = _weights(a, "a")
    b = _weights(b, "b")
    if a.size != n:
        raise ValueError(f"a has length {a.size} but C has {n} rows")
    if b.size != m:
        raise ValueError(f"b has length {b.size} but C has {m} columns")
    sa, sb = a.sum(), b.sum()
    if abs(sa - sb) > 1e-8 * max(sa, sb):
        raise ValueError(f"a and b must have the same mass, got sum(a) = {sa:.12g} "
                         f"and sum(b) = {sb:.12g}")
    return a, b, C


def _points(x, name: str) -> np.ndarray:
    """A point cloud as an ``(n, d)`` array (1-D input: ``n`` points on the line)."""
    x = as_array(x, name)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"{name} must be an (n, d) array of points, got shape {x.shape}")
    return x


def cost_matrix(x, y, p: float = 2) -> np.ndarray:
    """``C_ij = ||x_i - y_j||^p`` (Euclidean norm) for clouds ``x`` (n, d) and ``y`` (m, d)."""
    x, y = _points(x, "x"), _points(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same dimension, got {x.shape[1]} and {y.shape[1]}")
    p = as_scalar(p, "p", positive=True)
    sq = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * x @ y.T
    np.maximum(sq, 0.0, out=sq)
    return sq if p == 2 else sq ** (p / 2)


def marginal_error(P, a, b) -> float:
    """``||P 1 - a||_1 + ||P^T 1 - b||_1``: how far ``P`` is from having marginals ``a``, ``b``."""
    P = as_array(P, "P", ndim=2)
    a = as_array(a, "a", shape=(P.shape[0],))
    b = as_array(b, "b", shape=(P.shape[1],))
    return float(np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum())


# ------------------------------------------------------------------------------ exact transport

def emd(a, b, C) -> np.ndarray:
    """Exact optimal plan ``P`` (n x m) of ``min <P, C>`` over plans with marginals ``a``, ``b``.

    ``a`` or ``b`` may be ``None`` (uniform weights). Zero weights are dropped before solving (their
    rows/columns of ``P`` are zero). Uniform weights with ``n = m``: an assignment problem, solved
    exactly by ``linear_sum_assignment`` (``P`` is a permutation matrix over ``n``); otherwise the
    linear program, by HiGHS's dual simplex (a vertex of the transport polytope).
    """
    C = as_array(C, "C", ndim=2)
    a = _weights(a, "a", C.shape[0]) if a is None else a
    b = _weights(b, "b", C.shape[1]) if b is None else b
    a, b, C = _problem(a, b, C)
    rows, cols = np.flatnonzero(a > 0), np.flatnonzero(b > 0)
    a_, b_, C_ = a[rows], b[cols], C[np.ix_(rows, cols)]
    n, m = C_.shape
    if n == m and np.ptp(a_) <= 1e-15 * a_[0] and np.ptp(b_) <= 1e-15 * b_[0]:
        i, j = scipy.optimize.linear_sum_assignment(C_)
        P_ = np.zeros((n, m))
        P_[i, j] = a_
    else:
        P_ = _emd_lp(a_, b_, C_)
    P = np.zeros(C.shape)
    P[np.ix_(rows, cols)] = P_
    return P


def _emd_lp(a, b, C) -> np.ndarray:
    """Kantorovich's LP with equality constraints ``P 1 = a``, ``P^T 1 = b``, ``P >= 0`` (HiGHS)."""
    import scipy.sparse as sp
    n, m = C.shape
    A_rows = sp.kron(sp.identity(n), np.ones((1, m)))      # (P 1)_i = sum_j P_ij
    A_cols = sp.kron(np.ones((1, n)), sp.identity(m))      # (P^T 1)_j = sum_i P_ij
    A_eq = sp.vstack([A_rows, A_cols]).tocsr()
    b = b * (a.sum() / b.sum())                            # the same mass to the last bit
    res = scipy.optimize.linprog(C.ravel(), A_eq=A_eq, b_eq=np.concatenate([a, b]),
                                 bounds=(0, None), method="highs-ds",
                                 options={"primal_feasibility_tolerance": 1e-10,
                                          "dual_feasibility_tolerance": 1e-10})
    if res.status != 0:  # pragma: no cover - a transport LP is always feasible and bounded
        raise RuntimeError(f"linprog failed on the transport LP: {res.message}")
    return np.maximum(res.x.reshape(n, m), 0.0)


def emd_cost(a, b, C) -> float:
    """The optimal transport cost ``min_P <P, C> = <emd(a, b, C), C>``."""
    P = emd(a, b, C)
    return float((P * as_array(C, "C", ndim=2)).sum())


def wasserstein(x, y, p: float = 2, a=None, b=None) -> float:
    """``W_p`` between weighted clouds: ``(min_P sum_ij P_ij ||x_i - y_j||^p)^(1/p)`` (exact)."""
    p = as_scalar(p, "p", positive=True)
    C = cost_matrix(x, y, p)
    a = _weights(a, "a", C.shape[0])
    b = _weights(b, "b", C.shape[1])
    return max(emd_cost(a, b, C), 0.0) ** (1.0 / p)


# ------------------------------------------------------------------------------ closed forms

def wasserstein_1d(x, y, p: float = 2, a=None, b=None) -> float:
    """``W_p`` between weighted samples on the line, by their quantile functions.

    ``W_p^p = int_0^1 |F^{-1}(t) - G^{-1}(t)|^p dt``: sort both samples, merge the cumulative
    weights into one grid of ``t`` and integrate the step functions exactly. Weights default to
    uniform and are normalised to mass 1.
    """
    x = as_array(x, "x", ndim=1)
    y = as_array(y, "y", ndim=1)
    if x.size == 0 or y.size == 0:
        raise ValueError("x and y must hold at least one point each")
    p = as_scalar(p, "p", positive=True)
    a = _weights(a, "a", x.size)
    b = _weights(b, "b", y.size)
    ix, iy = np.argsort(x, kind="stable"), np.argsort(y, kind="stable")
    xs, ys = x[ix], y[iy]
    Fa = np.cumsum(a[ix]) / a.sum()
    Fb = np.cumsum(b[iy]) / b.sum()
    t = np.unique(np.concatenate([[0.0], Fa, Fb]).clip(0.0, 1.0))
    mid = 0.5 * (t[1:] + t[:-1])                       # a point inside each interval of the grid
    qx = xs[np.minimum(np.searchsorted(Fa, mid), xs.size - 1)]
    qy = ys[np.minimum(np.searchsorted(Fb, mid), ys.size - 1)]
    return float((np.diff(t) * np.abs(qx - qy) ** p).sum() ** (1.0 / p))


def sliced_wasserstein(x, y, p: float = 2, n_proj: int = 200, seed: int = 0) -> float:
    """``(E_theta W_p^p(theta # alpha, theta # beta))^(1/p)`` over ``n_proj`` random unit directions.

    Uniform weights on both clouds; the directions are drawn from ``default_rng(seed)``.
    """
    x, y = _points(x, "x"), _points(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same dimension, got {x.shape[1]} and {y.shape[1]}")
    p = as_scalar(p, "p", positive=True)
    n_proj = int(as_scalar(n_proj, "n_proj", positive=True, integer=True))
    check_size((n_proj, x.shape[0] + y.shape[0] + x.shape[1]), "n_proj")
    theta = as_rng(seed, "seed").standard_normal((n_proj, x.shape[1]))
    theta /= np.linalg.norm(theta, axis=1, keepdims=True)
    px, py = x @ theta.T, y @ theta.T
    total = sum(wasserstein_1d(px[:, k], py[:, k], p) ** p for k in range(n_proj))
    return float((total / n_proj) ** (1.0 / p))


def _sqrtm_psd(S: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix (eigenvalues clipped at 0)."""
    w, V = np.linalg.eigh(0.5 * (S + S.T))
    return (V * np.sqrt(np.maximum(w, 0.0))) @ V.T


def gaussian_w2(m1, S1, m2, S2) -> float:
    """``W_2(N(m1, S1), N(m2, S2))``, the Bures formula (the distance, not its square).

    ``W_2^2 = ||m1 - m2||^2 + tr S1 + tr S2 - 2 tr (S1^(1/2) S2 S1^(1/2))^(1/2)``.
    """
    m1 = np.atleast_1d(as_array(m1, "m1"))
    m2 = np.atleast_1d(as_array(m2, "m2"))
    d = m1.size
    if m1.ndim != 1 or m2.shape != (d,):
        raise ValueError(f"m1 and m2 must be vectors of the same length, got {m1.shape}, {m2.shape}")
    S1 = np.atleast_2d(as_array(S1, "S1"))
    S2 = np.atleast_2d(as_array(S2, "S2"))
    for S, name in ((S1, "S1"), (S2, "S2")):
        if S.shape != (d, d):
            raise ValueError(f"{name} must have shape ({d}, {d}), got {S.shape}")
        if not np.allclose(S, S.T, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(S).max())):
            raise ValueError(f"{name} must be symmetric")
        if np.linalg.eigvalsh(S).min() < -1e-10 * max(1.0, np.abs(S).max()):
            raise ValueError(f"{name} must be positive semi-definite")
    r1 = _sqrtm_psd(S1)
    cross = np.trace(_sqrtm_psd(r1 @ S2 @ r1))
    w2 = np.sum((m1 - m2) ** 2) + np.trace(S1) + np.trace(S2) - 2.0 * cross
    return float(np.sqrt(max(w2, 0.0)))


# ------------------------------------------------------------------------------ Sinkhorn

def _soft_c_transform(g, lb, C, eps):
    """``f_i = -eps log sum_j b_j exp((g_j - C_ij) / eps)`` (log-sum-exp, never overflows)."""
    return -eps * logsumexp((g[None, :] - C) / eps + lb[None, :], axis=1)


def _kernel(beta, C, eps, K) -> np.ndarray:
    """Fill ``K`` with ``exp((alpha_i + beta_j - C_ij) / eps)``, ``alpha_i`` making each row's
    largest entry 1 (entries below ``e^-745`` are 0). Returns ``alpha``. When ``beta`` is constant
    and ``ptp(C) <= 500 eps`` no row can underflow: ``alpha_i = min C - beta``, one pass less."""
    if np.ptp(beta) == 0 and np.ptp(C) <= 500 * eps:
        shift = C.min() - beta[0]
        np.multiply(C, -1.0 / eps, out=K)
        if shift != 0:
            K += shift / eps
        np.exp(K, out=K)
        return np.full(C.shape[0], shift)
    np.subtract(beta[None, :], C, out=K)
    K *= 1.0 / eps
    M = K.max(axis=1)
    K -= M[:, None]
    np.maximum(K, -800.0, out=K)                       # exp(-800) = 0 exactly, and fast
    np.exp(K, out=K)
    return -eps * M


def _scaling(a, b, C, eps, beta, tol, n_iter, K):
    """Sinkhorn at one ``eps``, warm-started from the column potential ``beta``.

    Matrix scaling ``u = a / (K v)``, ``v = b / (K^T u)`` on the stabilised kernel ``K`` of
    ``_kernel``; once ``eps log(v / b)`` or ``eps log(u / a)`` leaves ``[-30 eps, 30 eps]`` it is
    absorbed into ``beta`` and the kernel rebuilt (the log domain, at the price of a product).
    Returns ``(alpha, beta, u, v, err, iterations)``; ``P = diag(u) K diag(v)`` has exact column
    sums and row error ``err``; ``f = alpha + eps log(u / a)``, ``g = beta + eps log(v / b)``.
    """
    alpha = _kernel(beta, C, eps, K)
    v, u, err, k = b.copy(), None, np.inf, 0
    omega, col_err, hist = 1.0, 0.0, []
    while True:
        Kv = K @ v
        if u is not None:
            err = float(np.abs(u * Kv - a).sum()) + col_err
            if err <= tol or k >= n_iter:
                break
            hist.append(err)
            omega = _relaxation(omega, hist)
        u_new = a / Kv
        u = u_new if (u is None or omega == 1.0) else u * (u_new / u) ** omega
        KTu = K.T @ u
        k += 1
        with np.errstate(divide="ignore", over="ignore"):
            v_new = b / KTu
        if not np.all(np.isfinite(v_new)):  # a column underflowed: one log-domain step for it
            beta = eps * (np.log(b) - logsumexp(np.log(u)[:, None] + (alpha[:, None] - C) / eps,
                                                  axis=0))
        else:
            if omega == 1.0:
                v, col_err = v_new, 0.0
            else:
                v = v * (v_new / v) ** omega
                col_err = float(np.abs(v * KTu - b).sum())
            if (np.abs(np.log(v / b)).max() <= _ABSORB and np.abs(np.log(u / a)).max() <= _ABSORB):
                continue
            beta = beta + eps * np.log(v / b)
        alpha = _kernel(beta, C, eps, K)
        v, u, col_err = b.copy(), None, 0.0
    return alpha, beta, u, v, err, k


def _relaxation(omega, hist):
    """Adaptive over-relaxation (SOR) factor from the measured linear rate ``r`` of the error.

    Sinkhorn is block Gauss-Seidel on the dual; with relaxation ``omega`` below the optimum the
    rate ``r`` gives the plain rate ``theta = (r + omega - 1)^2 / (r omega^2)`` (Young), whose
    optimal factor is ``2 / (1 + sqrt(1 - theta))``. ``r`` is read from two successive 10-step
    windows once they agree (within 10 % of ``1 - r``); back to 1 if the error grows 100-fold.
    """
    if len(hist) < 21 or hist[-1] >= hist[-11]:
        if omega > 1.0 and hist[-1] > 100 * min(hist[-50:]):
            hist.clear()
            return 1.0
        return omega
    r1 = (hist[-1] / hist[-11]) ** 0.1
    r2 = (hist[-11] / hist[-21]) ** 0.1
    if abs(r1 - r2) > 0.1 * (1 - r1) or r1 <= 1.02 * (omega - 1.0):
        return omega
    theta = min((r1 + omega - 1.0) ** 2 / (r1 * omega ** 2), 1.0)
    new = 2.0 / (1.0 + np.sqrt(1.0 - theta))
    if new > omega + 0.01 * (2.0 - omega):
        hist.clear()                      # the rate changes with omega: measure afresh
        return min(new, 1.999)
    return omega


def _eps_schedule(C, eps, eps_scaling):
    """``eps_0 > eps_1 > ... > eps``: from the cost's spread down by the factor ``eps_scaling``."""
    if eps_scaling is None:
        return [eps]
    out, e = [], float(np.ptp(C)) * _SCALING_START
    while e > eps / eps_scaling:
        out.append(e)
        e *= eps_scaling
    return out + [eps]


def sinkhorn_potentials(a, b, C, eps, *, n_iter: int = 100_000, tol: float = 1e-9,
                        eps_scaling: float | None = 0.5, return_info: bool = False):
    """Dual potentials ``(f, g)`` of entropic OT: ``P_ij = a_i b_j exp((f_i + g_j - C_ij) / eps)``.

    Stops when the marginal error of ``P`` is ``<= tol`` or after ``n_iter`` scaling iterations in
    all (a ``RuntimeWarning`` then). ``eps_scaling`` in (0, 1) first solves the problems
    ``eps_k = ptp(C) / 10 * eps_scaling^k > eps`` (each to marginal error 1e-2 of the mass, a warm
    start for the next); ``None`` solves at ``eps`` directly. Zero weights are left out of the
    iterations and get the soft c-transform of the other potential. ``return_info=True`` adds a
    dict with ``"iterations"``, ``"err"`` (the marginal error reached) and ``"plan"``.
    """
    a, b, C = _problem(a, b, C)
    eps = as_scalar(eps, "eps", positive=True)
    n_iter = int(as_scalar(n_iter, "n_iter", positive=True, integer=True))
    tol = as_scalar(tol, "tol", nonnegative=True)
    if eps_scaling is not None:
        eps_scaling = as_scalar(eps_scaling, "eps_scaling", positive=True)
        if eps_scaling >= 1:
            raise ValueError(f"eps_scaling must be in (0, 1) or None, got {eps_scaling}")
    b = b * (a.sum() / b.sum())
    rows, cols = np.flatnonzero(a > 0), np.flatnonzero(b > 0)
    if rows.size < a.size or cols.size < b.size:
        a_, b_, C_ = a[rows], b[cols], C[np.ix_(rows, cols)]
    else:
        a_, b_, C_ = a, b, C
    K = np.empty(C_.shape)
    beta, total = np.zeros(b_.size), 0
    for e in _eps_schedule(C_, eps, eps_scaling):
        stage_tol = tol if e == eps else max(tol, _STAGE_TOL * a_.sum())
        alpha, beta, u, v, err, k = _scaling(a_, b_, C_, e, beta, stage_tol, n_iter - total, K)
        total += k
        beta = beta + e * np.log(v / b_)                 # warm start: the potential g
    if err > tol:
        warnings.warn(f"sinkhorn did not reach tol={tol:.1e} in n_iter={n_iter} iterations "
                      f"(marginal error {err:.2e}); increase n_iter or eps", RuntimeWarning,
                      stacklevel=2)
    f_, g_ = alpha + eps * np.log(u / a_), beta
    # every point (also a zero-weight one) gets the soft c-transform of the other side
    f, g = np.zeros(a.size), np.zeros(b.size)
    f[rows], g[cols] = f_, g_
    lb = np.full(b.size, -np.inf)
    lb[cols] = np.log(b_)
    zr = np.flatnonzero(a == 0)
    if zr.size:
        f[zr] = _soft_c_transform(g, lb, C[zr], eps)
    zc = np.flatnonzero(b == 0)
    if zc.size:
        la = np.full(a.size, -np.inf)
        la[rows] = np.log(a_)
        g[zc] = _soft_c_transform(f, la, C[:, zc].T, eps)
    if not return_info:
        return f, g
    K *= u[:, None]
    K *= v[None, :]
    if K.shape == C.shape:
        P = K
    else:
        P = np.zeros(C.shape)
        P[np.ix_(rows, cols)] = K
    return f, g, {"iterations": total, "err": err, "plan": P}


def sinkhorn(a, b, C, eps, *, n_iter: int = 100_000, tol: float = 1e-9,
             eps_scaling: float | None = 0.5) -> np.ndarray:
    """The entropic plan ``P = diag(u) exp(-C / eps) diag(v)`` with marginals ``a``, ``b``.

    ``P`` minimises ``<P, C> + eps KL(P | a b^T)`` (equivalently ``<P, C> - eps H(P)``) over plans;
    its marginal error is ``<= tol``. Stable for any ``eps > 0`` (stabilised kernel, see the
    module docstring); options as in ``sinkhorn_potentials``.
    """
    return sinkhorn_potentials(a, b, C, eps, n_iter=n_iter, tol=tol, eps_scaling=eps_scaling,
                               return_info=True)[2]["plan"]


def entropic_cost(a, b, C, eps, **opts) -> float:
    """``OT_eps(a, b) = min_P <P, C> + eps KL(P | a b^T) = <a, f> + <b, g>`` at the optimum."""
    f, g = sinkhorn_potentials(a, b, C, eps, **opts)
    a, b, _ = _problem(a, b, C)
    return float(a @ f + b @ g)


def sinkhorn_divergence(x, y, eps, a=None, b=None, *, n_iter: int = 100_000, tol: float = 1e-9,
                        return_grad: bool = False):
    """``S_eps(alpha, beta) = OT_eps(alpha, beta) - (OT_eps(alpha, alpha) + OT_eps(beta, beta)) / 2``.

    Cost ``||x - y||^2`` between clouds ``x`` (n, d) and ``y`` (m, d), weights ``a``, ``b``
    (default uniform). ``S_eps >= 0``, ``S_eps(alpha, alpha) = 0``, and ``S_eps -> W_2^2`` as
    ``eps -> 0``. ``return_grad=True`` also returns the gradient in ``x`` (n, d), by the envelope
    theorem: ``sum_j P_ij 2 (x_i - y_j) - sum_j Q_ij 2 (x_i - x_j)`` with ``P``, ``Q`` the entropic
    plans of ``(alpha, beta)`` and ``(alpha, alpha)``.
    """
    x, y = _points(x, "x"), _points(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same dimension, got {x.shape[1]} and {y.shape[1]}")
    a = _weights(a, "a", x.shape[0])
    b = _weights(b, "b", y.shape[0])
    eps = as_scalar(eps, "eps", positive=True)
    opts = {"n_iter": n_iter, "tol": tol, "return_info": True}
    values, plans = [], []
    for (p, q, w1, w2) in ((x, y, a, b), (x, x, a, a), (y, y, b, b)):
        C = cost_matrix(p, q)
        f, g, info = sinkhorn_potentials(w1, w2, C, eps, **opts)
        values.append(float(w1 @ f + w2 @ g))
        plans.append(info["plan"])
    S = values[0] - 0.5 * (values[1] + values[2])
    if not return_grad:
        return S
    P, Q = plans[0], plans[1]
    grad = 2.0 * (P.sum(1)[:, None] * x - P @ y) - 2.0 * (Q.sum(1)[:, None] * x - Q @ x)
    return S, grad
