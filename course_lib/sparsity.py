"""Compressed sensing: coherence, restricted isometry, and the phase transition of basis pursuit
(Chapter 3).

* ``mutual_coherence(A)`` and the ``welch_bound(m, n)`` below which no coherence can go;
* ``rip_constant_estimate(A, s, ...)``: a lower bound on the restricted isometry constant
  ``delta_s`` by sampling supports (computing ``delta_s`` exactly is NP-hard);
* ``statistical_dimension_l1(s, n)`` (Amelunxen, Lotz, McCoy & Tropp 2014) and the asymptotic
  Donoho-Tanner curve ``donoho_tanner(delta)`` in the form of Donoho, Maleki & Montanari (2009);
* ``phase_transition(n, ms, ks, n_trials)``: the empirical success probability of basis pursuit,
  many small problems solved together by a batched Douglas-Rachford iteration.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

from course_lib.utils import as_array, as_rng, as_scalar, check_size

__all__ = [
    "donoho_tanner",
    "gaussian_tail_moment",
    "mutual_coherence",
    "phase_transition",
    "rip_constant_estimate",
    "sparse_vector",
    "statistical_dimension_l1",
    "welch_bound",
]

_SQRT_2PI = math.sqrt(2.0 * math.pi)


def _rng(rng):
    return as_rng(rng, allow_none=True)


def _phi(z):
    return np.exp(-0.5 * np.square(z)) / _SQRT_2PI


# ----------------------------------------------------------------------------- coherence, RIP

def mutual_coherence(A):
    """``mu(A) = max_{i != j} |<a_i, a_j>| / (||a_i|| ||a_j||)`` over the columns of ``A``."""
    A = as_array(A, "A", ndim=2)
    if A.shape[1] < 2:
        raise ValueError(f"A must have at least two columns, got shape {A.shape}")
    norms = np.linalg.norm(A, axis=0)
    if np.any(norms == 0):
        raise ValueError("A must have no zero column")
    An = A / norms
    C = np.abs(An.T @ An)
    np.fill_diagonal(C, 0.0)
    return float(C.max())


def welch_bound(m, n):
    """The Welch bound ``sqrt((n - m) / (m (n - 1)))``: every ``m x n`` matrix (``n > m``) has
    coherence at least this."""
    m = as_scalar(m, "m", positive=True, integer=True)
    n = as_scalar(n, "n", positive=True, integer=True)
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    return math.sqrt(max(n - m, 0) / (m * (n - 1)))


def rip_constant_estimate(A, s, n_trials=200, rng=None):
    """A lower bound on the restricted isometry constant ``delta_s`` of ``A``::

        delta_s = max_{|S| = s} max(sigma_max(A_S)^2 - 1, 1 - sigma_min(A_S)^2),

    the maximum taken over ``n_trials`` random supports and, for each, the greedy support of the ``s``
    columns most aligned with its top left singular vector (when the upper side dominates).
    (``A`` is used as given: scale a Gaussian matrix by ``1/sqrt(m)`` so that ``E ||A x||^2 = ||x||^2``.)
    """
    A = as_array(A, "A", ndim=2)
    n = A.shape[1]
    s = as_scalar(s, "s", positive=True, integer=True, upper=n)
    n_trials = as_scalar(n_trials, "n_trials", positive=True, integer=True)
    rng = _rng(rng)

    def delta(S):
        sv = np.linalg.svd(A[:, S], compute_uv=False)
        return max(sv[0] ** 2 - 1.0, 1.0 - sv[-1] ** 2) if S.size <= A.shape[0] else max(sv[0] ** 2 - 1.0, 1.0)

    best = 0.0
    for _ in range(n_trials):
        S = rng.choice(n, size=s, replace=False)
        d = delta(S)
        # greedy improvement: the columns most aligned with the top (or bottom) singular direction
        U, sv, _ = np.linalg.svd(A[:, S], full_matrices=False)
        top = sv[0] ** 2 - 1.0 >= 1.0 - sv[-1] ** 2
        if top:
            score = np.abs(A.T @ U[:, 0])
            S2 = np.argsort(-score)[:s]
            d = max(d, delta(S2))
        best = max(best, d)
    return float(best)


# ----------------------------------------------------------------------------- theory

def gaussian_tail_moment(tau):
    """``J(tau) = E[(|g| - tau)_+^2] / 2`` for ``g ~ N(0, 1)``, elementwise::

        J(tau) = (1 + tau^2) Phi(-tau) - tau phi(tau)          for tau >= 0,
        J(tau) = (1 + tau^2 - 2 tau sqrt(2/pi)) / 2            for tau < 0

    (for ``tau < 0``, ``(|g| - tau)_+ = |g| + |tau|`` and ``E|g| = sqrt(2/pi)``).
    """
    return _tail_moment(as_array(tau, "tau"))


def _tail_moment(tau):
    """``gaussian_tail_moment`` without the input check (the inner loops call it on numbers)."""
    tau = np.asarray(tau, dtype=np.float64)
    positive = (1.0 + tau ** 2) * ndtr(-tau) - tau * _phi(tau)
    return np.where(tau >= 0, positive, 0.5 * (1.0 + tau ** 2) - tau * math.sqrt(2.0 / math.pi))


def statistical_dimension_l1(s, n):
    """The statistical dimension of the descent cone of ``||.||_1`` at an ``s``-sparse vector of R^n,
    by the formula of Amelunxen, Lotz, McCoy & Tropp (2014) (an upper bound, exact up to a
    lower-order term)::

        delta(D) = inf_{tau >= 0}  s (1 + tau^2) + (n - s) * 2 J(tau),

    ``J`` from ``gaussian_tail_moment``.  Basis pursuit recovers such a vector from ``m`` Gaussian
    measurements with high probability when ``m > delta(D)`` and fails when ``m < delta(D)``
    (up to ``O(sqrt(n))``).  Works elementwise on arrays of ``s``.
    """
    n = as_scalar(n, "n", positive=True)
    s_arr = as_array(s, "s")
    if np.any(s_arr < 0) or np.any(s_arr > n):
        raise ValueError(f"s must lie in [0, n] = [0, {n}]")
    out = np.empty(s_arr.shape)
    for idx, si in np.ndenumerate(s_arr):
        out[idx] = _inf_tau(si, n - si)
    return float(out) if out.ndim == 0 else out


def _inf_tau(a, b):
    """``inf_{tau >= 0} a (1 + tau^2) + 2 b J(tau)`` (a convex function of tau): golden section."""
    if b == 0:
        return float(a)
    if a == 0:
        return 0.0
    lo, hi = 0.0, 40.0
    f = lambda t: a * (1.0 + t * t) + 2.0 * b * float(_tail_moment(t))  # noqa: E731
    gr = (math.sqrt(5.0) - 1.0) / 2.0
    c, d = hi - gr * (hi - lo), lo + gr * (hi - lo)
    fc, fd = f(c), f(d)
    for _ in range(200):
        if fc < fd:
            hi, d, fd = d, c, fc
            c = hi - gr * (hi - lo)
            fc = f(c)
        else:
            lo, c, fc = c, d, fd
            d = lo + gr * (hi - lo)
            fd = f(d)
        if hi - lo < 1e-12:
            break
    return min(fc, fd, f(0.0))


def donoho_tanner(delta):
    """The asymptotic phase transition of basis pursuit (Donoho & Tanner 2009, weak threshold of the
    cross-polytope), ``rho = k / m`` as a function of ``delta = m / n``, in the closed form of
    Donoho, Maleki & Montanari (2009)::

        rho(delta) = max_{z >= 0} [1 - (2/delta) J(z)] / [1 + z^2 - 2 J(z)],

    ``J`` from ``gaussian_tail_moment``.  Equivalently ``delta = psi(rho delta)`` with
    ``psi(eps) = statistical_dimension_l1(eps n, n) / n``.  Works elementwise; ``delta`` in (0, 1].
    """
    d_arr = as_array(delta, "delta")
    if np.any(d_arr <= 0) or np.any(d_arr > 1):
        raise ValueError("delta must lie in (0, 1]")
    z = np.linspace(1e-6, 10.0, 4001)
    J = _tail_moment(z)
    out = np.empty(d_arr.shape)
    for idx, d in np.ndenumerate(d_arr):
        vals = (1.0 - 2.0 * J / d) / (1.0 + z * z - 2.0 * J)
        i = int(np.argmax(vals))
        # refine the maximiser by golden section on [z_{i-1}, z_{i+1}]
        lo, hi = z[max(i - 1, 0)], z[min(i + 1, z.size - 1)]
        g = lambda t: -(1.0 - 2.0 * float(_tail_moment(t)) / d) / (  # noqa: E731
            1.0 + t * t - 2.0 * float(_tail_moment(t)))
        gr = (math.sqrt(5.0) - 1.0) / 2.0
        for _ in range(100):
            c, e = hi - gr * (hi - lo), lo + gr * (hi - lo)
            if g(c) < g(e):
                hi = e
            else:
                lo = c
        out[idx] = max(-g(0.5 * (lo + hi)), float(vals[i]), 0.0)
    return float(out) if out.ndim == 0 else out


# ----------------------------------------------------------------------------- experiments

def sparse_vector(n, k, rng=None):
    """A vector of R^n with ``k`` non-zeros at random positions, values N(0, 1)."""
    n = as_scalar(n, "n", positive=True, integer=True)
    k = as_scalar(k, "k", nonnegative=True, integer=True, upper=n)
    rng = _rng(rng)
    check_size(n, "n")
    x = np.zeros(n)
    x[rng.choice(n, size=k, replace=False)] = rng.standard_normal(k)
    return x


def phase_transition(n, ms, ks, n_trials=10, rng=None, n_iter=2000, success_tol=1e-4):
    """Empirical probability that basis pursuit recovers a ``k``-sparse vector of R^n from ``m``
    Gaussian measurements, for every ``m`` in ``ms`` and ``k`` in ``ks``: an array
    ``(len(ks), len(ms))``.

    Each of the ``n_trials`` trials draws ``A`` (m x n, N(0, 1) entries), ``x0 = sparse_vector(n, k)``,
    ``y = A x0``, solves basis pursuit by ``n_iter`` Douglas-Rachford iterations (all problems of one
    ``m`` at once, batched), and counts a success when ``||x - x0|| <= success_tol ||x0||``.  Problems
    whose fixed-point residual falls below ``1e-10`` stop early (all of them at once).  Pairs with
    ``k > m`` count as failures without solving.
    """
    n = as_scalar(n, "n", positive=True, integer=True)
    ms, ks = as_array(ms, "ms", ndim=1), as_array(ks, "ks", ndim=1)
    for v, name in ((ms, "ms"), (ks, "ks")):
        if np.any(v != np.round(v)):
            raise ValueError(f"{name} must hold integers, got {v[v != np.round(v)][0]!r}")
    ms, ks = ms.astype(np.int64), ks.astype(np.int64)
    if np.any(ms < 1) or np.any(ms > n):
        raise ValueError(f"ms must lie in [1, n] = [1, {n}]")
    if np.any(ks < 0) or np.any(ks > n):
        raise ValueError(f"ks must lie in [0, n] = [0, {n}]")
    n_trials = as_scalar(n_trials, "n_trials", positive=True, integer=True)
    n_iter = as_scalar(n_iter, "n_iter", positive=True, integer=True)
    success_tol = as_scalar(success_tol, "success_tol", positive=True)
    rng = _rng(rng)
    m_max = int(ms.max()) if ms.size else 0
    check_size((max(m_max, 1), n), "n")
    check_size((ks.size * n_trials, m_max, n), "n_trials")
    prob = np.zeros((ks.size, ms.size))
    for j, m in enumerate(ms):
        todo = [(i, k) for i, k in enumerate(ks) if k <= m]
        if not todo:
            continue
        T = len(todo) * n_trials
        A = rng.standard_normal((T, m, n))
        X0 = np.stack([sparse_vector(n, k, rng) for _, k in todo for _ in range(n_trials)])
        Y = np.einsum("tmn,tn->tm", A, X0)
        X = _batched_basis_pursuit(A, Y, n_iter)
        ok = np.linalg.norm(X - X0, axis=1) <= success_tol * np.maximum(np.linalg.norm(X0, axis=1), 1e-300)
        ok = ok | (np.linalg.norm(X0, axis=1) == 0) & (np.linalg.norm(X, axis=1) <= success_tol)
        for t, (i, _) in enumerate(todo):
            prob[i, j] = ok[t * n_trials:(t + 1) * n_trials].mean()
    return prob


def _batched_basis_pursuit(A, Y, n_iter, gamma=None, tol=1e-10):
    """Douglas-Rachford for ``T`` basis pursuit problems at once: ``A`` (T, m, n), ``Y`` (T, m).

    Every 25 iterations the problems whose fixed-point residual ``||u - x||`` is below ``tol`` leave
    the batch."""
    Q, R = np.linalg.qr(np.swapaxes(A, 1, 2))                # A^T = Q R, Q (T, n, m) orthonormal
    # particular solution x_p = Q R^{-T} y (assumes A has full row rank: true a.s. for Gaussian A)
    w = np.linalg.solve(np.swapaxes(R, 1, 2), Y[..., None])
    x_p = (Q @ w)[..., 0]
    Qt = np.swapaxes(Q, 1, 2).copy()
    if gamma is None:
        gamma = 0.1 * np.maximum(np.abs(x_p).max(axis=1, keepdims=True), 1e-12)
    z = x_p.copy()
    out = np.empty_like(z)
    active = np.arange(z.shape[0])
    for k in range(n_iter):
        x = np.sign(z) * np.maximum(np.abs(z) - gamma, 0.0)
        v = 2.0 * x - z
        u = v - (Q @ (Qt @ v[..., None]))[..., 0] + x_p
        z = z + u - x
        if k % 25 == 24 or k == n_iter - 1:
            done = np.linalg.norm(u - x, axis=1) <= tol
            if k == n_iter - 1:
                done[:] = True
            if done.any():
                out[active[done]] = np.sign(z[done]) * np.maximum(np.abs(z[done]) - gamma[done], 0.0)
                keep = ~done
                active, z, Q, Qt, x_p, gamma = active[keep], z[keep], Q[keep], Qt[keep], x_p[keep], gamma[keep]
            if active.size == 0:
                break
    return out
