"""The lasso, solved from scratch (Chapters 2 and 3).

The problem, with plain sums (no ``1/n``)::

    min_x  F(x) = 0.5 ||A x - y||^2 + lam ||x||_1,          A of shape (n, p),  lam >= 0.

* ``lasso_objective(A, y, lam, x) = F(x)``;
* ``lasso_gap(A, y, lam, x)``: the duality gap, an upper bound on ``F(x) - min F`` that vanishes at
  the solution.  The dual is ``max 0.5 ||y||^2 - 0.5 ||y - theta||^2`` over
  ``||A^T theta||_inf <= lam``, evaluated at the rescaled residual
  ``theta = r min(1, lam / ||A^T r||_inf)``, ``r = y - A x``;
* ``ista`` (proximal gradient): ``x_{k+1} = soft_threshold(x_k - step A^T (A x_k - y), step lam)``;
  with ``step = 1/L``, ``L = ||A||_2^2``: ``F(x_k) - F* <= L ||x_0 - x*||^2 / (2 k)``;
* ``fista`` (Beck & Teboulle 2009): the same step taken at the extrapolated point
  ``z_k = x_k + (t_k - 1) / t_{k+1} (x_k - x_{k-1})``, ``x_{-1} = x_0``, with ``t_1 = 1`` and
  ``t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2`` (the convention of ``book/notation.md``);
  ``F(x_k) - F* <= 2 L ||x_0 - x*||^2 / (k + 1)^2``; ``restart=True`` sets ``t_k = 1`` (no
  extrapolation) whenever ``F`` increases;
* ``subgradient``: ``x_{k+1} = x_k - step_k g_k`` with ``g_k = A^T (A x_k - y) + lam sign(x_k)``
  and ``step_k = step / sqrt(k + 1)``: ``min_{j <= k} F(x_j) - F* = O(1 / sqrt(k))``, the rate that
  proximal methods improve on;
* ``admm`` (Boyd et al. 2011, Sec. 6.4): ``min 0.5 ||A x - y||^2 + lam ||z||_1`` s.t. ``x = z``::

      x_{k+1} = (A^T A + rho I)^{-1} (A^T y + rho (z_k - w_k))
      z_{k+1} = soft_threshold(x_{k+1} + w_k, lam / rho),   w_{k+1} = w_k + x_{k+1} - z_{k+1};
* ``lasso(A, y, lam, **opts)``: the *fast, accurate* solver (working set + feature-sign search,
  exact to rounding errors, stopped by the duality gap); it returns only the minimiser ``x``;
* ``lasso_path(A, y, lams)``: ``lasso`` along a grid of ``lam``, each solve warm-started.

``ista`` and ``fista`` are the textbook methods whose histories the notebooks plot.  They follow the
calling convention of the iterative solvers (see ``course_lib.splitting``)::

    x, history = ista(A, y, lam, n_iter, *, x0=None, step=None, tol=0.0, callback=None)

with ``history["objective"]`` and ``history["gap"]`` measured at ``x_0, x_1, ...``; ``tol`` stops
on the gap.  ``course_lib.prox.lasso`` is the same function as ``lasso`` here.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg

from course_lib._shared import (as_history, fast_norm, initial_point, iteration_args,
                                one_blas_thread, quiet_overflow, soft)
from course_lib.utils import GrowthMonitor, as_array, as_scalar

__all__ = [
    "admm",
    "fista",
    "ista",
    "lasso",
    "lasso_gap",
    "lasso_objective",
    "lasso_path",
    "subgradient",
]


def _lasso_data(A, y, lam):
    A = as_array(A, "A", ndim=2)
    y = as_array(y, "y", ndim=1)
    if y.shape[0] != A.shape[0]:
        raise ValueError(f"y must have shape ({A.shape[0]},) to match A {A.shape}, got {y.shape}")
    lam = as_scalar(lam, "lam", nonnegative=True)
    return A, y, lam


# ----------------------------------------------------------------------------- objective, gap

def lasso_objective(A, y, lam, x):
    """``0.5 ||A x - y||^2 + lam ||x||_1``."""
    A, y, lam = _lasso_data(A, y, lam)
    x = as_array(x, "x", shape=(A.shape[1],))
    r = A @ x - y
    return 0.5 * float(r @ r) + lam * float(np.abs(x).sum())


def _gap(y, lam, x, r, ATr):
    """Primal value, duality gap at ``x`` given ``r = y - A x`` and ``ATr = A^T r``.

    Dual: ``max_theta 0.5||y||^2 - 0.5||y - theta||^2`` s.t. ``||A^T theta||_inf <= lam``,
    evaluated at the rescaled residual ``theta = r * min(1, lam / ||A^T r||_inf)``.
    """
    p = 0.5 * float(r @ r) + lam * float(np.abs(x).sum())
    m = float(np.max(np.abs(ATr))) if ATr.size else 0.0
    s = 1.0 if m <= lam else lam / m
    d = s * float(r @ y) - 0.5 * s * s * float(r @ r)   # 0.5||y||^2 - 0.5||y - s r||^2
    return p, max(p - d, 0.0)


def lasso_gap(A, y, lam, x):
    """Duality gap of the lasso at ``x``: an upper bound on ``objective(x) - min``, zero at the solution."""
    A, y, lam = _lasso_data(A, y, lam)
    x = as_array(x, "x", shape=(A.shape[1],))
    r = y - A @ x
    return _gap(y, lam, x, r, A.T @ r)[1]


def _lipschitz(A):
    """``||A||_2^2``: the largest eigenvalue of the smaller of the Gram matrices ``A^T A``, ``A A^T``."""
    G = A.T @ A if A.shape[1] <= A.shape[0] else A @ A.T
    if G.shape[0] == 0:
        return 0.0
    n = G.shape[0]
    return float(scipy.linalg.eigh(G, eigvals_only=True, subset_by_index=[n - 1, n - 1])[0])


def _lasso_step(A, step):
    if step is None:
        L = _lipschitz(A)
        return 1.0 / L if L > 0 else 1.0
    return as_scalar(step, "step", positive=True)


def _lasso_monitor(solver, A, step, factor):
    """Warns once if the iterates blow up: a step above ``factor / L``, ``L = ||A||_2^2``."""
    bound = "2/L" if factor == 2 else "1/L"

    def advice():
        L = _lipschitz(A)
        return (f"step = {step:.4g} is too large: {solver} converges only for step < {bound} = "
                f"{factor / L:.4g} (L = ||A||_2^2 = {L:.4g})")
    return GrowthMonitor(solver, "the gradient norm", advice=advice)


# ----------------------------------------------------------------------------- ISTA / FISTA

@one_blas_thread
@quiet_overflow
def ista(A, y, lam, n_iter=1000, *, x0=None, step=None, tol=0.0, callback=None):
    """ISTA (proximal gradient) for the lasso ``min 0.5 ||A x - y||^2 + lam ||x||_1``::

        x_{k+1} = soft_threshold(x_k - step A^T (A x_k - y), step * lam)

    ``step`` defaults to ``1/L``, ``L = ||A||_2^2``; then ``F(x_k) - F* <= ||x_0 - x*||^2 / (2 step k)``.
    Returns ``(x, history)`` with ``history["objective"]`` and ``history["gap"]``.
    """
    A, y, lam = _lasso_data(A, y, lam)
    n_iter, tol = iteration_args(n_iter, tol, callback)
    x = initial_point(x0, A.shape[1])
    step = _lasso_step(A, step)
    r = y - A @ x
    g = A.T @ r                                   # = -grad f(x)
    p, gap = _gap(y, lam, x, r, g)
    obj, gaps = [p], [gap]
    monitor = _lasso_monitor("ista", A, step, 2.0)
    monitor.update(0, g)
    for k in range(1, n_iter + 1):
        if gap <= tol:
            break
        x = soft(x + step * g, step * lam)
        r = y - A @ x
        g = A.T @ r
        p, gap = _gap(y, lam, x, r, g)
        monitor.update(k, g)
        obj.append(p)
        gaps.append(gap)
        if callback is not None:
            callback(k, x)
    return x, as_history(objective=obj, gap=gaps)


@one_blas_thread
@quiet_overflow
def fista(A, y, lam, n_iter=1000, *, x0=None, step=None, restart=False, tol=0.0, callback=None):
    """FISTA (Beck & Teboulle 2009) for the lasso, in the convention of ``book/notation.md``::

        z_k     = x_k + (t_k - 1) / t_{k+1} (x_k - x_{k-1})          (x_{-1} = x_0, so z_0 = x_0)
        x_{k+1} = soft_threshold(z_k - step A^T (A z_k - y), step * lam)
        t_1 = 1,   t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2

    With ``step = 1/L``: ``F(x_k) - F* <= 2 L ||x_0 - x*||^2 / (k + 1)^2``.  ``restart=True``
    sets ``t_k = 1`` (so ``z_k = x_k``) whenever ``F(x_k) > F(x_{k-1})`` (O'Donoghue & Candès
    2015, a heuristic).  Returns ``(x, history)`` with ``history["objective"]`` and
    ``history["gap"]`` at the ``x_k``.
    """
    A, y, lam = _lasso_data(A, y, lam)
    n_iter, tol = iteration_args(n_iter, tol, callback)
    x = initial_point(x0, A.shape[1])
    step = _lasso_step(A, step)
    r = y - A @ x
    p, gap = _gap(y, lam, x, r, A.T @ r)
    obj, gaps = [p], [gap]
    z, t = x.copy(), 1.0                           # z_0 = x_0; t holds t_k, here t_1 = 1
    monitor = _lasso_monitor("fista", A, step, 1.0)
    for k in range(1, n_iter + 1):
        if gap <= tol:
            break
        gz = A.T @ (y - A @ z)
        monitor.update(k - 1, gz)
        x_new = soft(z + step * gz, step * lam)                        # x_k from z_{k-1}
        r = y - A @ x_new
        p, gap = _gap(y, lam, x_new, r, A.T @ r)
        if restart and p > obj[-1]:
            t = 1.0                                # restart: t_k = 1, so z_k = x_k (an ISTA step)
        t_new = (1.0 + np.sqrt(1.0 + 4.0 * t * t)) / 2.0             # t_{k+1}
        z = x_new + ((t - 1.0) / t_new) * (x_new - x)                  # z_k
        x, t = x_new, t_new
        obj.append(p)
        gaps.append(gap)
        if callback is not None:
            callback(k, x)
    return x, as_history(objective=obj, gap=gaps)


@one_blas_thread
def subgradient(A, y, lam, n_iter=1000, *, x0=None, step=None, tol=0.0, callback=None):
    """The subgradient method for the lasso, with steps decreasing like ``1 / sqrt(k)``::

        g_k     = A^T (A x_k - y) + lam sign(x_k)        (a subgradient of F at x_k)
        x_{k+1} = x_k - step / sqrt(k + 1) * g_k

    ``step`` defaults to ``1/L``, ``L = ||A||_2^2``.  For any steps ``tau_j``,
    ``min_{j < k} F(x_j) - F* <= (||x_0 - x*||^2 + sum_{j<k} tau_j^2 ||g_j||^2) / (2 sum_{j<k} tau_j)``,
    which is ``O(log k / sqrt(k))`` here.  ``F(x_k)`` is not monotone and the iterates are never
    exactly sparse.  Returns ``(x, history)`` with ``history["objective"]``, ``history["gap"]`` and
    ``history["subgradient_norm"]`` (``||g_k||``) at ``x_0, x_1, ...``; ``tol`` stops on the gap.
    """
    A, y, lam = _lasso_data(A, y, lam)
    n_iter, tol = iteration_args(n_iter, tol, callback)
    x = initial_point(x0, A.shape[1])
    step = _lasso_step(A, step)
    r = y - A @ x
    c = A.T @ r                                   # = -grad f(x)
    p, gap = _gap(y, lam, x, r, c)
    g = lam * np.sign(x) - c
    obj, gaps, norms = [p], [gap], [fast_norm(g)]
    for k in range(n_iter):
        if gap <= tol:
            break
        x = x - (step / np.sqrt(k + 1.0)) * g
        r = y - A @ x
        c = A.T @ r
        p, gap = _gap(y, lam, x, r, c)
        g = lam * np.sign(x) - c
        obj.append(p)
        gaps.append(gap)
        norms.append(fast_norm(g))
        if callback is not None:
            callback(k + 1, x)
    return x, as_history(objective=obj, gap=gaps, subgradient_norm=norms)


@one_blas_thread
def admm(A, y, lam, n_iter=1000, *, rho=None, x0=None, tol=0.0, callback=None):
    """ADMM for the lasso in its standard form (Boyd, Parikh, Chu, Peleato & Eckstein 2011, Sec. 6.4):
    ``min 0.5 ||A x - y||^2 + lam ||z||_1`` subject to ``x - z = 0``, with the scaled multiplier ``w``::

        x_{k+1} = (A^T A + rho I)^{-1} (A^T y + rho (z_k - w_k))      (one factorization, reused)
        z_{k+1} = soft_threshold(x_{k+1} + w_k, lam / rho)
        w_{k+1} = w_k + x_{k+1} - z_{k+1}

    ``x0`` is ``z_0`` (default 0), ``w_0 = 0``; ``rho`` defaults to ``||A||_2^2 / 10``.  Converges for
    every ``rho > 0``.  The iterate reported is ``z_k`` (exactly sparse): ``callback(k, z_k)`` and
    ``history["objective"]``, ``history["gap"]`` at ``z_k``, ``history["residual"]`` the primal residual
    ``||x_k - z_k||`` (entry 0 is 0); ``tol`` stops on the gap.  Returns ``(z, history)``.
    """
    A, y, lam = _lasso_data(A, y, lam)
    n_iter, tol = iteration_args(n_iter, tol, callback)
    z = initial_point(x0, A.shape[1])
    rho = _lipschitz(A) / 10 if rho is None else as_scalar(rho, "rho", positive=True)
    if rho <= 0:                                  # A = 0: any rho works
        rho = 1.0
    n, p_dim = A.shape
    small = A @ A.T if n < p_dim else A.T @ A     # factor the smaller Gram matrix
    small[np.diag_indices(small.shape[0])] += rho
    chol = scipy.linalg.cho_factor(small)
    Aty = A.T @ y

    def solve(v):                                 # (A^T A + rho I)^{-1} v, Woodbury when n < p
        if n < p_dim:
            return (v - A.T @ scipy.linalg.cho_solve(chol, A @ v)) / rho
        return scipy.linalg.cho_solve(chol, v)

    w = np.zeros_like(z)
    r = y - A @ z
    p, gap = _gap(y, lam, z, r, A.T @ r)
    obj, gaps, res = [p], [gap], [0.0]
    for k in range(1, n_iter + 1):
        if gap <= tol:
            break
        x = solve(Aty + rho * (z - w))
        z = soft(x + w, lam / rho)
        w = w + x - z
        r = y - A @ z
        p, gap = _gap(y, lam, z, r, A.T @ r)
        obj.append(p)
        gaps.append(gap)
        res.append(fast_norm(x - z))
        if callback is not None:
            callback(k, z)
    return z, as_history(objective=obj, gap=gaps, residual=res)


# ----------------------------------------------------------------------------- fast lasso

def _cd_epochs(G, b, lam, x, q, n_epochs):
    """Cyclic coordinate descent on ``0.5 x^T G x - b^T x + lam ||x||_1`` (a small Gram ``G``),
    keeping ``q = b - G x`` up to date.  Returns the largest coordinate change of the last epoch."""
    diag = np.diag(G)
    change = 0.0
    for _ in range(n_epochs):
        change = 0.0
        for j in range(x.size):
            d = diag[j]
            if d <= 0.0:
                continue
            old = x[j]
            z = old + q[j] / d
            new = z - lam / d if z > lam / d else (z + lam / d if z < -lam / d else 0.0)
            if new != old:
                delta = new - old
                q -= G[:, j] * delta
                x[j] = new
                change = max(change, abs(delta) * np.sqrt(d))
    return change


def _sign_step(G, b, lam, x, S, s):
    """One step of feature-sign search (Lee, Battle, Raina & Ng 2007) on the coordinates ``S`` with
    the signs ``s``: solve ``G_SS z = b_S - lam s`` (the minimiser among vectors with that sign
    pattern), then minimise the true objective exactly on the segment from ``x_S`` to ``z`` (it is
    convex and piecewise quadratic, with knots where a coordinate crosses zero).  Returns the new ``x``,
    or ``None`` if the objective cannot decrease along the segment."""
    GS = G[S][:, S]
    xs = x[S]
    rhs = b[S] - lam * s
    try:
        z = np.linalg.solve(GS, rhs)
        ok = np.all(np.isfinite(z)) and np.abs(GS @ z - rhs).max() <= 1e-10 * (np.abs(rhs).max() + 1e-300)
    except np.linalg.LinAlgError:
        ok = False
    if not ok:                                       # singular G_SS (e.g. duplicated columns)
        z = np.linalg.lstsq(GS, rhs, rcond=None)[0]
    d = z - xs
    if not np.all(np.isfinite(d)) or not np.any(d):
        return None
    # phi(t) = const + c t + a t^2 / 2 + lam sum_j |x_j + t d_j|,  t in [0, 1]
    a = float(d @ (GS @ d))
    c = float(d @ (GS @ xs - b[S]))
    moving = d != 0
    bps = -xs[moving] / d[moving]
    bps = np.sort(bps[(bps > 0) & (bps < 1)])
    if bps.size == 0 and np.all(np.sign(z) == s):
        out = x.copy()                               # no zero crossing: straight to z (exact)
        out[S] = z
        return out
    knots = np.concatenate([[0.0], bps, [1.0]])
    mids = 0.5 * (knots[:-1] + knots[1:])
    slope_l1 = lam * (np.sign(xs[None, :] + mids[:, None] * d[None, :]) @ d)   # constant per piece
    roots = -(c + slope_l1) / a if a > 0 else np.full(mids.size, np.nan)
    inside = (roots > knots[:-1]) & (roots < knots[1:])
    cand = np.concatenate([knots, roots[inside]])
    phi = c * cand + 0.5 * a * cand ** 2 + lam * np.abs(xs[None, :] + cand[:, None] * d[None, :]).sum(1)
    i = int(np.argmin(phi))
    if cand[i] <= 0.0 or not phi[i] < phi[0] - 1e-15 * abs(phi[0]):
        return None
    v = xs + cand[i] * d
    if 0 < i < knots.size - 1:                       # stopped where a coordinate crosses 0
        v[np.argmin(np.abs(xs + bps[i - 1] * d))] = 0.0
    out = x.copy()
    out[S] = v
    return out


def _feature_sign(G, b, lam, x, max_steps):
    """Feature-sign search on ``0.5 x^T G x - b^T x + lam ||x||_1`` from ``x``: alternately (a) solve
    on the current sign pattern until the support is optimal, (b) activate the most violating zero
    coordinate.  Returns ``(x, optimal)``; stops early (``optimal=False``) if a step cannot decrease
    the objective (e.g. singular ``G_SS`` with duplicated columns), leaving the rest to coordinate
    descent."""
    for _ in range(max_steps):
        q = b - G @ x
        nz = x != 0
        # optimality tests up to the rounding error of q = b - G x
        slack = 1e-10 * lam + 1e3 * np.finfo(float).eps * (np.abs(b).max() + np.abs(G).max() * np.abs(x).sum())
        if nz.any() and np.abs(q[nz] - lam * np.sign(x[nz])).max() > slack:
            S = np.flatnonzero(nz)
            s = np.sign(x[S])
        else:
            viol = np.where(nz, -np.inf, np.abs(q) - lam)
            i = int(np.argmax(viol))
            if viol[i] <= slack:
                return x, True
            S = np.flatnonzero(nz | (np.arange(x.size) == i))
            s = np.where(x[S] != 0, np.sign(x[S]), np.sign(q[i]))
        x_next = _sign_step(G, b, lam, x, S, s)
        if x_next is None:
            return x, False
        x = x_next
    return x, False


def _gram_gap(G, b, lam, x, yy):
    """Primal value and duality gap of the lasso restricted to a working set, from its Gram matrix
    ``G = A_W^T A_W``, ``b = A_W^T y`` and ``yy = ||y||^2`` (same formulas as ``_gap``)."""
    Gx = G @ x
    q = b - Gx                                       # = A_W^T r
    rr = max(yy - 2.0 * float(b @ x) + float(x @ Gx), 0.0)
    ry = yy - float(b @ x)
    p = 0.5 * rr + lam * float(np.abs(x).sum())
    m = float(np.abs(q).max()) if q.size else 0.0
    s = 1.0 if m <= lam else lam / m
    return p, max(p - (s * ry - 0.5 * s * s * rr), 0.0)


def _solve_gram_lasso(G, b, lam, x, yy, budget):
    """``min 0.5 x^T G x - b^T x + lam ||x||_1`` from ``x``: two coordinate-descent epochs (small
    sets) and feature-sign search; if that does not finish quickly, FISTA with adaptive restart (step ``1/L``,
    ``L`` from a power iteration, doubled past any step that fails the descent test) until the
    relative gap is below ``target``, then feature-sign search; if that does not land on the exact
    minimiser, tighten ``target`` and repeat.  Returns ``(x, iterations used)``."""
    if x.size == 0 or not np.any(np.diag(G) > 0):
        return np.zeros_like(x), 1
    if x.size <= 200:                                # two cheap epochs find most signs
        x = x.copy()
        _cd_epochs(G, b, lam, x, b - G @ x, 2)
    x_fs, optimal = _feature_sign(G, b, lam, x, min(2 * np.count_nonzero(x) + 10, 30))
    if optimal:                                      # the usual case for a sparse solution
        return x_fs, 1
    # L: power iteration (a lower bound on ||G||_2), increased whenever a step fails the descent test
    v = np.ones(x.size) / np.sqrt(x.size)
    for _ in range(20):
        w = G @ v
        v = w / np.sqrt(float(w @ w))
    L = 1.05 * float(v @ (G @ v))
    target, used = 1e-3, 0
    z, x_prev, t = x.copy(), x.copy(), 1.0
    while used < budget:
        for _ in range(min(budget - used, 50_000)):
            x_new = soft(z - (G @ z - b) / L, lam / L)
            d = x_new - z
            dGd, dd = float(d @ (G @ d)), float(d @ d)
            if dGd > L * dd:                                # step too long for the descent lemma
                L = 2.0 * dGd / dd
                x_new = soft(z - (G @ z - b) / L, lam / L)
            if float((z - x_new) @ (x_new - x_prev)) > 0:       # gradient restart (O'Donoghue-Candes)
                t = 1.0
            t_new = (1.0 + np.sqrt(1.0 + 4.0 * t * t)) / 2.0
            z = x_new + ((t - 1.0) / t_new) * (x_new - x_prev)
            x_prev, t = x_new, t_new
            used += 1
            if used % 10 == 0:
                p, gap = _gram_gap(G, b, lam, x_new, yy)
                if gap <= target * p:
                    break
        x_fs, optimal = _feature_sign(G, b, lam, x_prev, 2 * np.count_nonzero(x_prev) + 20)
        used += 1
        if optimal:
            return x_fs, used
        target *= 1e-3
        if target < 1e-15:
            return x_fs, used
        z, x_prev, t = x_fs.copy(), x_fs.copy(), 1.0
    return x_prev, used


@one_blas_thread
def lasso(A, y, lam, *, x0=None, tol=1e-10, max_iter=100_000):
    """The minimiser of ``0.5 ||A x - y||^2 + lam ||x||_1`` (plain sums, no ``1/n``).

    ``x0`` warm-starts the solver; it stops once the duality gap (see ``lasso_gap``) is
    ``<= tol * objective(x)``, hence ``objective(x) - min <= tol * objective(x)``, or once the gap
    is at the level of its rounding errors (for a tiny ``tol``).  ``max_iter`` bounds the total
    number of inner iterations; ``RuntimeError`` if it is not enough.
    With ``lam = 0`` the minimum-norm least-squares solution is returned.

    Algorithm (a *working-set* method, cf. Massias, Gramfort & Salmon 2018, "Celer"):
    repeat (1) compute ``g = A^T (y - A x)`` and the duality gap, stop if small; (2) pick a working
    set ``W`` of about twice the size of the support: the support of ``x`` and the features closest
    to violating ``|g_j| <= lam`` (it grows when the gap stalls); (3) solve the lasso restricted to
    ``W`` on its small Gram matrix: FISTA with adaptive restart until the signs are nearly right, then
    feature-sign search (Lee et al. 2007: solve the linear system of the optimality conditions on a
    sign pattern, line-search over the zero crossings, activate the worst violator), which is exact
    to rounding errors.  Each outer step costs two products with ``A``; all the iterating happens on
    ``|W| x |W|`` matrices.
    """
    A, y, lam = _lasso_data(A, y, lam)
    tol = as_scalar(tol, "tol", nonnegative=True)
    max_iter = as_scalar(max_iter, "max_iter", positive=True, integer=True)
    n_feat = A.shape[1]
    x = initial_point(x0, n_feat)
    if lam == 0.0:
        return np.linalg.lstsq(A, y, rcond=None)[0]
    col_norm = np.sqrt(np.einsum("ij,ij->j", A, A))
    usable = col_norm > 0
    x[~usable] = 0.0
    r = y - A @ x
    g = A.T @ r
    n_usable = int(usable.sum())
    ws_size, used, prev_gap = 10, 0, np.inf
    y_norm, a_max = fast_norm(y), None
    while True:
        p, gap = _gap(y, lam, x, r, g)
        if gap <= tol * p:
            return x
        # rounding: r is known to ~ eps (|y| + |A| |x|) per entry, and the gap inherits it
        a_max = float(np.abs(A).max()) if a_max is None else a_max
        if gap <= 64 * np.finfo(float).eps * ((y_norm + fast_norm(r)) * (y_norm + a_max * float(np.abs(x).sum())) + p):
            return x
        if used >= max_iter:
            raise RuntimeError(f"lasso did not reach tol={tol} in max_iter={max_iter} iterations "
                               f"(duality gap {gap:.2e}, objective {p:.6e})")
        # working set: the support first, then the features closest to the constraint |g_j| <= lam;
        # about twice the support, and twice the previous set when the gap did not halve
        nnz = int(np.count_nonzero(x))
        ws_size = 2 * ws_size if gap > 0.5 * prev_gap else max(10, 2 * nnz)
        prev_gap = gap
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(usable, (lam - np.abs(g)) / col_norm, np.inf)
        score[x != 0] = -np.inf
        k = min(max(ws_size, nnz + 1), n_usable)
        W = np.sort(np.argpartition(score, k - 1)[:k]) if k < n_feat else np.arange(n_feat)
        W = W[np.isfinite(score[W]) | (x[W] != 0)]
        AW = A[:, W]
        G = AW.T @ AW
        b = AW.T @ y
        xW, n_used = _solve_gram_lasso(G, b, lam, x[W].copy(), float(y @ y), max(max_iter - used, 1))
        used += n_used + 1
        x = np.zeros(n_feat)
        x[W] = xW
        r = y - AW @ xW
        g = A.T @ r


@one_blas_thread
def lasso_path(A, y, lams, *, tol=1e-10, max_iter=100_000):
    """Lasso solutions along ``lams`` (solved in decreasing order, each warm-started from the
    previous one); returns an array ``(len(lams), n)`` in the order of ``lams``."""
    A = as_array(A, "A", ndim=2)
    lams = as_array(lams, "lams", ndim=1)
    if np.any(lams < 0):
        raise ValueError("lams must be >= 0")
    out = np.zeros((lams.size, A.shape[1]))
    x = None
    for i in np.argsort(-lams, kind="stable"):
        x = lasso(A, y, lams[i], x0=x, tol=tol, max_iter=max_iter)
        out[i] = x
    return out

