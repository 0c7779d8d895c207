"""Proximal operators and proximal splitting methods, written from scratch (Chapters 2 and 3).

Calling conventions
-------------------
**Prox operators.**  ``prox_g(v, t)`` returns ``prox_{t g}(v) = argmin_u g(u) + ||u - v||^2 / (2 t)``
(``t > 0``; a projection ignores ``t``).  ``soft_threshold(x, tau)`` is ``prox_{tau ||.||_1}(x)``.

**Solvers.**  Every iterative solver has the same shape::

    x, history = solver(<problem>, n_iter, *, x0=None, <hyper-parameters>, tol=0.0, callback=None)

* ``<problem>`` is the data of the problem: ``A, y, lam`` for the lasso solvers (``ista``,
  ``fista``), callables ``grad_f, prox_g`` / ``prox_f, prox_g`` / ``K, K_adj, prox_g, prox_fstar``
  for the generic splittings (``forward_backward``, ``douglas_rachford``, ``admm``,
  ``chambolle_pock``), ``A, y`` for ``basis_pursuit`` and the image for ``tv_denoise``.
* ``n_iter`` is the maximum number of iterations.
* ``x0`` is the starting point (never modified); ``None`` means zeros where the problem fixes the
  shape (lasso, basis pursuit) and is required by the generic splittings.  ``tv_denoise`` iterates on
  the dual field and takes ``p0`` instead; ``tv_inpaint``'s default ``x0`` is a mean fill.
* ``history`` is a dict of 1-D float arrays, entry ``k`` measured at the iterate ``x_k``
  (entry 0 at ``x0``), so ``len(history["objective"]) == n_done + 1``:

  - ``"objective"``: the objective value (lasso: ``0.5 ||A x - y||^2 + lam ||x||_1``; generic
    splittings: only when an ``objective=`` callable is given);
  - ``"gap"``: a duality gap, an upper bound on ``objective - min`` (lasso solvers, TV denoising,
    or a ``gap=`` callable for ``forward_backward``);
  - ``"residual"``: a fixed-point / feasibility residual that tends to 0 (Douglas-Rachford:
    ``||u_k - x_k||`` with ``u_k = prox_g(2 x_k - z_k)``; ADMM: ``||x_k - z_k||``; basis pursuit:
    ``||A x_k - y||``; Chambolle-Pock: ``||x_k - x_{k-1}|| + ||p_k - p_{k-1}||``).
* ``tol``: stop early once the gap (the residual for the splittings without a gap) is ``<= tol``;
  the default ``0`` runs all ``n_iter`` iterations.
* ``callback(k, x_k)``, if given, is called after iteration ``k = 1, 2, ...`` (as in ``optim``).

``lasso(A, y, lam, **opts)`` is different on purpose: it is the *fast, accurate* lasso solver
(working set + feature-sign search, exact to rounding errors, stopped by the duality gap) and
returns only ``x``;
``ista`` and ``fista`` are the textbook methods whose histories the notebooks plot.
"""
from __future__ import annotations

import contextlib
import functools

import numpy as np
import scipy.linalg

from course_lib.images import _div, _grad, _pixel_norms, div, grad, grad_norm_bound, pixel_norms, tv_norm
from course_lib.utils import as_array, as_scalar

__all__ = [
    "admm",
    "basis_pursuit",
    "chambolle_pock",
    "douglas_rachford",
    "div",
    "div_adjoint",
    "fista",
    "forward_backward",
    "grad",
    "ista",
    "lasso",
    "lasso_gap",
    "lasso_objective",
    "lasso_path",
    "project_affine",
    "project_box",
    "project_l1_ball",
    "project_pixel_ball",
    "project_simplex",
    "prox_conjugate",
    "prox_group_l2",
    "prox_l1",
    "prox_l2",
    "prox_linf",
    "prox_nuclear",
    "soft_threshold",
    "tv_denoise",
    "tv_inpaint",
    "tv_norm",
]


# ----------------------------------------------------------------------------- shared plumbing

try:  # threadpoolctl comes with scikit-learn
    from threadpoolctl import ThreadpoolController
    _THREADPOOLS = ThreadpoolController()
except Exception:  # pragma: no cover - without it, BLAS keeps its default threads
    _THREADPOOLS = None


def _one_blas_thread(solver):
    """Run ``solver`` with single-threaded BLAS.  The matrices of these solvers are small: threads
    cost more than they save, and on a busy machine a threaded 150 x 150 solve can be 50 times
    slower than a sequential one."""
    @functools.wraps(solver)
    def wrapper(*args, **kwargs):
        ctx = (_THREADPOOLS.limit(limits=1, user_api="blas") if _THREADPOOLS is not None
               else contextlib.nullcontext())
        with ctx:
            return solver(*args, **kwargs)
    return wrapper


def _check_callable(f, name):
    if not callable(f):
        raise ValueError(f"{name} must be a callable, got {type(f).__name__}")  # noqa: TRY004


def _tau(tau, name="tau"):
    """A nonnegative scalar or a nonnegative array (weights)."""
    if np.ndim(tau) == 0:
        return as_scalar(tau, name, nonnegative=True)
    t = as_array(tau, name)
    if np.any(t < 0):
        raise ValueError(f"{name} must be >= 0")
    return t


def _lasso_data(A, y, lam):
    A = as_array(A, "A", ndim=2)
    y = as_array(y, "y", ndim=1)
    if y.shape[0] != A.shape[0]:
        raise ValueError(f"y must have shape ({A.shape[0]},) to match A {A.shape}, got {y.shape}")
    lam = as_scalar(lam, "lam", nonnegative=True)
    return A, y, lam


def _x0(x0, n, name="x0"):
    if x0 is None:
        return np.zeros(n)
    return as_array(x0, name, shape=(n,)).copy()


def _common(n_iter, tol, callback):
    n_iter = as_scalar(n_iter, "n_iter", nonnegative=True, integer=True)
    tol = as_scalar(tol, "tol", nonnegative=True)
    if callback is not None:
        _check_callable(callback, "callback")
    return n_iter, tol


def _norm(x):
    """Euclidean norm of an array of any shape, without BLAS (``np.linalg.norm`` calls a threaded
    ``dot``, which is slow on small arrays when the cores are busy)."""
    return float(np.sqrt(np.sum(x * x)))


def _soft(x, tau):
    """Unchecked soft-thresholding for the inner loops: ``x - clip(x, -tau, tau)``."""
    return x - np.clip(x, -tau, tau)


def _history(**lists):
    return {k: np.asarray(v, dtype=np.float64) for k, v in lists.items()}


# ----------------------------------------------------------------------------- prox gallery

def soft_threshold(x, tau):
    """Soft-thresholding, the prox of ``tau ||.||_1``: ``sign(x) * max(|x| - tau, 0)`` entrywise.

    ``tau >= 0`` is a number or an array broadcastable to ``x`` (weighted l1 norm).
    """
    x = as_array(x, "x")
    tau = _tau(tau)
    return np.sign(x) * np.maximum(np.abs(x) - tau, 0.0)


def prox_l1(x, tau):
    """``prox_{tau ||.||_1}(x)`` (the same as ``soft_threshold``)."""
    return soft_threshold(x, tau)


def prox_l2(x, tau):
    """Block soft-thresholding, the prox of ``tau ||.||_2``: ``max(1 - tau / ||x||, 0) x``."""
    x = as_array(x, "x")
    tau = as_scalar(tau, "tau", nonnegative=True)
    nrm = np.linalg.norm(x)
    return x * max(1.0 - tau / nrm, 0.0) if nrm > 0 else np.zeros_like(x)


def prox_group_l2(x, tau, groups):
    """Prox of the group norm ``tau sum_g ||x_g||_2`` (group lasso): block soft-thresholding per group.

    ``groups`` is an integer array of the length of ``x`` giving each entry's group label.
    """
    x = as_array(x, "x", ndim=1)
    tau = as_scalar(tau, "tau", nonnegative=True)
    g = np.asarray(groups)
    if g.shape != x.shape or not np.issubdtype(g.dtype, np.integer):
        raise ValueError(f"groups must be an integer array of shape {x.shape}, got {g.shape} {g.dtype}")
    labels, inv = np.unique(g, return_inverse=True)
    norms = np.sqrt(np.bincount(inv, weights=x * x, minlength=labels.size))
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(norms > tau, 1.0 - tau / np.where(norms > 0, norms, 1.0), 0.0)
    return x * scale[inv]


def project_box(x, lower, upper):
    """Projection onto the box ``{lower <= u <= upper}`` (the prox of its indicator): ``clip``."""
    x = as_array(x, "x")
    lo, hi = as_array(lower, "lower"), as_array(upper, "upper")
    if np.any(lo > hi):
        raise ValueError("lower must be <= upper everywhere")
    return np.clip(x, lo, hi)


def project_simplex(x, radius=1.0):
    """Euclidean projection onto the simplex ``{u >= 0, sum(u) = radius}``, along the last axis.

    Sort-based algorithm (Held, Wolfe & Crowder 1974; Duchi et al. 2008):
    ``u = max(x - theta, 0)`` with the threshold ``theta`` making ``sum(u) = radius``.
    """
    x = as_array(x, "x")
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"x must have at least one entry along its last axis, got shape {x.shape}")
    radius = as_scalar(radius, "radius", positive=True)
    s = -np.sort(-x, axis=-1)                                   # decreasing
    css = np.cumsum(s, axis=-1) - radius
    j = np.arange(1, x.shape[-1] + 1)
    cond = s - css / j > 0                                      # true for j <= rho
    rho = np.count_nonzero(cond, axis=-1)                       # >= 1 always
    theta = np.take_along_axis(css, rho[..., None] - 1, axis=-1) / rho[..., None]
    return np.maximum(x - theta, 0.0)


def project_l1_ball(x, radius=1.0):
    """Euclidean projection onto the l1 ball ``{||u||_1 <= radius}`` (1-D ``x``).

    Inside the ball ``x`` is returned; outside, ``sign(x) * project_simplex(|x|, radius)``.
    """
    x = as_array(x, "x", ndim=1)
    radius = as_scalar(radius, "radius", nonnegative=True)
    if np.abs(x).sum() <= radius:
        return x.copy()
    if radius == 0:
        return np.zeros_like(x)
    return np.sign(x) * project_simplex(np.abs(x), radius)


def prox_linf(x, tau):
    """Prox of ``tau ||.||_inf`` by Moreau's identity: ``x - tau * P_{l1 ball}(x / tau)``.

    (The conjugate of ``||.||_inf`` is the indicator of the unit l1 ball.)
    """
    x = as_array(x, "x", ndim=1)
    tau = as_scalar(tau, "tau", nonnegative=True)
    if tau == 0:
        return x.copy()
    return x - tau * project_l1_ball(x / tau, 1.0)


def prox_nuclear(X, tau):
    """Singular value thresholding, the prox of ``tau ||X||_*`` (nuclear norm):
    ``U diag(max(s - tau, 0)) V^T`` with ``X = U diag(s) V^T``."""
    X = as_array(X, "X", ndim=2)
    tau = as_scalar(tau, "tau", nonnegative=True)
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    return (U * np.maximum(s - tau, 0.0)) @ Vt


def prox_conjugate(prox_f, v, t):
    """``prox_{t f*}(v)`` from ``prox_f`` by Moreau's identity ``v = prox_{t f*}(v) + t prox_{f/t}(v/t)``.

    ``prox_f(w, s)`` must return ``prox_{s f}(w)``.
    """
    _check_callable(prox_f, "prox_f")
    v = as_array(v, "v")
    t = as_scalar(t, "t", positive=True)
    return v - t * np.asarray(prox_f(v / t, 1.0 / t), dtype=np.float64)


# ----------------------------------------------------------------------------- lasso: objective, gap

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


# ----------------------------------------------------------------------------- ISTA / FISTA

@_one_blas_thread
def ista(A, y, lam, n_iter=1000, *, x0=None, step=None, tol=0.0, callback=None):
    """ISTA (proximal gradient) for the lasso ``min 0.5 ||A x - y||^2 + lam ||x||_1``::

        x_{k+1} = soft_threshold(x_k - step A^T (A x_k - y), step * lam)

    ``step`` defaults to ``1/L``, ``L = ||A||_2^2``; then ``F(x_k) - F* <= ||x_0 - x*||^2 / (2 step k)``.
    Returns ``(x, history)`` with ``history["objective"]`` and ``history["gap"]``.
    """
    A, y, lam = _lasso_data(A, y, lam)
    n_iter, tol = _common(n_iter, tol, callback)
    x = _x0(x0, A.shape[1])
    step = _lasso_step(A, step)
    r = y - A @ x
    g = A.T @ r                                   # = -grad f(x)
    p, gap = _gap(y, lam, x, r, g)
    obj, gaps = [p], [gap]
    for k in range(1, n_iter + 1):
        if gap <= tol:
            break
        x = _soft(x + step * g, step * lam)
        r = y - A @ x
        g = A.T @ r
        p, gap = _gap(y, lam, x, r, g)
        obj.append(p)
        gaps.append(gap)
        if callback is not None:
            callback(k, x)
    return x, _history(objective=obj, gap=gaps)


@_one_blas_thread
def fista(A, y, lam, n_iter=1000, *, x0=None, step=None, restart=False, tol=0.0, callback=None):
    """FISTA (Beck & Teboulle 2009) for the lasso::

        x_{k+1} = soft_threshold(z_k - step A^T (A z_k - y), step * lam)
        t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2
        z_{k+1} = x_{k+1} + (t_k - 1) / t_{k+1} (x_{k+1} - x_k)

    With ``step = 1/L``: ``F(x_k) - F* <= 2 L ||x_0 - x*||^2 / (k + 1)^2``.  ``restart=True``
    resets the momentum whenever the objective increases (O'Donoghue & Candès 2015).
    Returns ``(x, history)`` with ``history["objective"]`` and ``history["gap"]`` at the ``x_k``.
    """
    A, y, lam = _lasso_data(A, y, lam)
    n_iter, tol = _common(n_iter, tol, callback)
    x = _x0(x0, A.shape[1])
    step = _lasso_step(A, step)
    r = y - A @ x
    p, gap = _gap(y, lam, x, r, A.T @ r)
    obj, gaps = [p], [gap]
    z, t = x.copy(), 1.0
    for k in range(1, n_iter + 1):
        if gap <= tol:
            break
        x_new = _soft(z + step * (A.T @ (y - A @ z)), step * lam)
        r = y - A @ x_new
        p, gap = _gap(y, lam, x_new, r, A.T @ r)
        if restart and p > obj[-1]:
            t = 1.0                                # momentum reset: next step is a plain ISTA step
        t_new = (1.0 + np.sqrt(1.0 + 4.0 * t * t)) / 2.0
        z = x_new + ((t - 1.0) / t_new) * (x_new - x)
        x, t = x_new, t_new
        obj.append(p)
        gaps.append(gap)
        if callback is not None:
            callback(k, x)
    return x, _history(objective=obj, gap=gaps)


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
            x_new = _soft(z - (G @ z - b) / L, lam / L)
            d = x_new - z
            dGd, dd = float(d @ (G @ d)), float(d @ d)
            if dGd > L * dd:                                # step too long for the descent lemma
                L = 2.0 * dGd / dd
                x_new = _soft(z - (G @ z - b) / L, lam / L)
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


@_one_blas_thread
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
    x = _x0(x0, n_feat)
    if lam == 0.0:
        return np.linalg.lstsq(A, y, rcond=None)[0]
    col_norm = np.sqrt(np.einsum("ij,ij->j", A, A))
    usable = col_norm > 0
    x[~usable] = 0.0
    r = y - A @ x
    g = A.T @ r
    n_usable = int(usable.sum())
    ws_size, used, prev_gap = 10, 0, np.inf
    y_norm, a_max = _norm(y), None
    while True:
        p, gap = _gap(y, lam, x, r, g)
        if gap <= tol * p:
            return x
        # rounding: r is known to ~ eps (|y| + |A| |x|) per entry, and the gap inherits it
        a_max = float(np.abs(A).max()) if a_max is None else a_max
        if gap <= 64 * np.finfo(float).eps * ((y_norm + _norm(r)) * (y_norm + a_max * float(np.abs(x).sum())) + p):
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


@_one_blas_thread
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


# ----------------------------------------------------------------------------- generic splittings

@_one_blas_thread
def forward_backward(grad_f, prox_g, step, n_iter, *, x0, accelerated=False, objective=None,
                     gap=None, tol=0.0, callback=None):
    """Forward-backward splitting for ``min f(x) + g(x)``, ``f`` L-smooth, ``g`` with a prox::

        x_{k+1} = prox_g(z_k - step grad_f(z_k), step)

    with ``z_k = x_k`` (``accelerated=False``) or FISTA's extrapolation (``accelerated=True``).
    ``step <= 1/L``.  ``objective(x)`` / ``gap(x)``, if given, are recorded in ``history``; ``tol``
    stops on the gap.  Works on arrays of any shape.  Returns ``(x, history)``.
    """
    _check_callable(grad_f, "grad_f")
    _check_callable(prox_g, "prox_g")
    for f, name in ((objective, "objective"), (gap, "gap")):
        if f is not None:
            _check_callable(f, name)
    step = as_scalar(step, "step", positive=True)
    n_iter, tol = _common(n_iter, tol, callback)
    x = as_array(x0, "x0").copy()
    rec = {}
    if objective is not None:
        rec["objective"] = [float(objective(x))]
    if gap is not None:
        rec["gap"] = [float(gap(x))]
    z, t = x, 1.0
    for k in range(1, n_iter + 1):
        if gap is not None and rec["gap"][-1] <= tol:
            break
        x_new = np.asarray(prox_g(z - step * np.asarray(grad_f(z)), step), dtype=np.float64)
        if accelerated:
            t_new = (1.0 + np.sqrt(1.0 + 4.0 * t * t)) / 2.0
            z = x_new + ((t - 1.0) / t_new) * (x_new - x)
            t = t_new
        else:
            z = x_new
        x = x_new
        if objective is not None:
            rec["objective"].append(float(objective(x)))
        if gap is not None:
            rec["gap"].append(float(gap(x)))
        if callback is not None:
            callback(k, x)
    return x, _history(**rec)


@_one_blas_thread
def douglas_rachford(prox_f, prox_g, gamma, n_iter, *, x0, relax=1.0, objective=None, tol=0.0,
                     callback=None):
    """Douglas-Rachford splitting for ``min f(x) + g(x)`` (Lions & Mercier 1979)::

        x_k     = prox_f(z_k, gamma)
        u_k     = prox_g(2 x_k - z_k, gamma)
        z_{k+1} = z_k + relax * (u_k - x_k)          (relax in (0, 2))

    ``x0`` is the starting ``z_0``.  ``x_k`` converges to a minimiser whenever one exists (both
    functions convex, lower semicontinuous), for any ``gamma > 0``.  ``history["residual"]`` is
    ``||u_k - x_k||``; ``history["objective"]`` holds ``objective(x_k)`` if given; ``tol`` stops on the
    residual.  Returns ``(x, history)`` with ``x = x_k`` at the last ``k``.
    """
    _check_callable(prox_f, "prox_f")
    _check_callable(prox_g, "prox_g")
    if objective is not None:
        _check_callable(objective, "objective")
    gamma = as_scalar(gamma, "gamma", positive=True)
    relax = as_scalar(relax, "relax", positive=True)
    if relax >= 2:
        raise ValueError(f"relax must lie in (0, 2), got {relax!r}")
    n_iter, tol = _common(n_iter, tol, callback)
    z = as_array(x0, "x0").copy()
    rec = {"residual": []}
    if objective is not None:
        rec["objective"] = []
    for k in range(n_iter + 1):
        x = np.asarray(prox_f(z, gamma), dtype=np.float64)
        u = np.asarray(prox_g(2.0 * x - z, gamma), dtype=np.float64)
        rec["residual"].append(_norm(u - x))
        if objective is not None:
            rec["objective"].append(float(objective(x)))
        if k > 0 and callback is not None:
            callback(k, x)
        if k == n_iter or rec["residual"][-1] <= tol:
            break
        z = z + relax * (u - x)
    return x, _history(**rec)


@_one_blas_thread
def admm(prox_f, prox_g, rho, n_iter, *, x0, objective=None, tol=0.0, callback=None):
    """ADMM (scaled form) for ``min f(x) + g(z)`` subject to ``x = z`` (Glowinski & Marrocco 1975,
    Gabay & Mercier 1976; Boyd et al. 2011)::

        x_{k+1} = prox_f(z_k - w_k, 1/rho)
        z_{k+1} = prox_g(x_{k+1} + w_k, 1/rho)
        w_{k+1} = w_k + x_{k+1} - z_{k+1}            (w = scaled multiplier)

    ``x0`` is the starting ``z_0`` (``w_0 = 0``).  ``history["residual"]`` is the primal residual
    ``||x_k - z_k||``; ``history["objective"]`` holds ``objective(x_k)`` if given; ``tol`` stops on the
    residual (entry 0 is measured at ``x_0 = z_0``).  Returns ``(x, history)``.
    (On this splitting ADMM *is* Douglas-Rachford with the roles of ``f`` and ``g`` exchanged and
    ``gamma = 1/rho`` (Gabay 1983): with ``t_k = x_k + w_{k-1}``, ``z_k = prox_g(t_k)``,
    ``x_{k+1} = prox_f(2 z_k - t_k)`` and ``t_{k+1} = t_k + x_{k+1} - z_k``.)
    """
    _check_callable(prox_f, "prox_f")
    _check_callable(prox_g, "prox_g")
    if objective is not None:
        _check_callable(objective, "objective")
    rho = as_scalar(rho, "rho", positive=True)
    n_iter, tol = _common(n_iter, tol, callback)
    z = as_array(x0, "x0").copy()
    x, w = z.copy(), np.zeros_like(z)
    rec = {"residual": [0.0]}
    if objective is not None:
        rec["objective"] = [float(objective(x))]
    for k in range(1, n_iter + 1):
        x = np.asarray(prox_f(z - w, 1.0 / rho), dtype=np.float64)
        z = np.asarray(prox_g(x + w, 1.0 / rho), dtype=np.float64)
        w = w + x - z
        rec["residual"].append(_norm(x - z))
        if objective is not None:
            rec["objective"].append(float(objective(x)))
        if callback is not None:
            callback(k, x)
        if rec["residual"][-1] <= tol:
            break
    return x, _history(**rec)


@_one_blas_thread
def chambolle_pock(K, K_adj, prox_g, prox_fstar, tau, sigma, n_iter, *, x0, p0=None, theta=1.0,
                   objective=None, tol=0.0, callback=None):
    """Chambolle-Pock primal-dual method for ``min_x g(x) + f(K x)`` (Chambolle & Pock 2011)::

        p_{k+1}    = prox_fstar(p_k + sigma K xbar_k, sigma)
        x_{k+1}    = prox_g(x_k - tau K_adj(p_{k+1}), tau)
        xbar_{k+1} = x_{k+1} + theta (x_{k+1} - x_k)

    ``K``, ``K_adj`` are callables (a linear map and its adjoint); ``prox_fstar(q, s)`` is
    ``prox_{s f*}(q)`` (obtain it from ``prox_f`` with ``prox_conjugate`` if needed).  Converges for
    ``theta = 1`` and ``tau sigma ||K||^2 < 1``.  ``history["residual"]`` is
    ``||x_k - x_{k-1}|| + ||p_k - p_{k-1}||`` (entry 0 is ``inf``); ``history["objective"]`` holds
    ``objective(x_k)`` if given.  Returns ``(x, history)``.
    """
    for f, name in ((K, "K"), (K_adj, "K_adj"), (prox_g, "prox_g"), (prox_fstar, "prox_fstar")):
        _check_callable(f, name)
    if objective is not None:
        _check_callable(objective, "objective")
    tau = as_scalar(tau, "tau", positive=True)
    sigma = as_scalar(sigma, "sigma", positive=True)
    theta = as_scalar(theta, "theta", nonnegative=True, upper=1.0)
    n_iter, tol = _common(n_iter, tol, callback)
    x = as_array(x0, "x0").copy()
    Kx = np.asarray(K(x), dtype=np.float64)
    p = np.zeros_like(Kx) if p0 is None else as_array(p0, "p0", shape=Kx.shape).copy()
    xbar = x
    rec = {"residual": [np.inf]}
    if objective is not None:
        rec["objective"] = [float(objective(x))]
    for k in range(1, n_iter + 1):
        p_new = np.asarray(prox_fstar(p + sigma * np.asarray(K(xbar)), sigma), dtype=np.float64)
        x_new = np.asarray(prox_g(x - tau * np.asarray(K_adj(p_new)), tau), dtype=np.float64)
        xbar = x_new + theta * (x_new - x)
        rec["residual"].append(_norm(x_new - x) + _norm(p_new - p))
        x, p = x_new, p_new
        if objective is not None:
            rec["objective"].append(float(objective(x)))
        if callback is not None:
            callback(k, x)
        if rec["residual"][-1] <= tol:
            break
    return x, _history(**rec)


# ----------------------------------------------------------------------------- basis pursuit

def project_affine(A, y):
    """The projection onto ``{x : A x = y}`` as a callable ``P(v, t=None)`` (``t`` ignored, so it is
    a prox): ``P(v) = v - V (V^T v) + A^+ y`` with ``V`` an orthonormal basis of the row space of ``A``.

    Raises ``ValueError`` if ``y`` is not in the range of ``A`` (the set is empty).
    """
    A = as_array(A, "A", ndim=2)
    y = as_array(y, "y", shape=(A.shape[0],))
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    rank = int(np.sum(s > s[0] * max(A.shape) * np.finfo(float).eps)) if s.size and s[0] > 0 else 0
    U, s, V = U[:, :rank], s[:rank], Vt[:rank].T
    x_p = V @ ((U.T @ y) / s)
    if np.linalg.norm(A @ x_p - y) > 1e-9 * max(np.linalg.norm(y), 1.0):
        raise ValueError("y must lie in the range of A (the constraint A x = y has no solution)")

    def P(v, t=None):
        v = np.asarray(v, dtype=np.float64)
        return v - V @ (V.T @ v) + x_p

    return P


@_one_blas_thread
def basis_pursuit(A, y, n_iter=1000, *, method="douglas_rachford", gamma=None, x0=None, tol=0.0,
                  callback=None):
    """Basis pursuit ``min ||x||_1 subject to A x = y`` (Chen, Donoho & Saunders 1998), by
    Douglas-Rachford (``f = ||.||_1``, ``g`` = indicator of ``{A x = y}``) or ADMM (the same split).

    The returned ``x`` is the soft-thresholded point (exactly sparse); ``history["objective"]`` is
    ``||x_k||_1``, ``history["residual"]`` is the infeasibility ``||A x_k - y||`` (``tol`` stops on it).
    ``gamma`` (= ``1/rho`` for ADMM) defaults to ``||A^+ y||_inf / 10`` (any ``gamma > 0`` converges;
    this scale works well when ``x0`` has entries of order one).  ``x0`` is the starting ``z_0``
    (default: the least-norm solution ``A^+ y``).
    """
    A = as_array(A, "A", ndim=2)
    y = as_array(y, "y", shape=(A.shape[0],))
    if method not in ("douglas_rachford", "admm"):
        raise ValueError(f"method must be 'douglas_rachford' or 'admm', got {method!r}")
    P = project_affine(A, y)
    z0 = P(np.zeros(A.shape[1])) if x0 is None else as_array(x0, "x0", shape=(A.shape[1],))
    if gamma is None:
        gamma = 0.1 * max(float(np.abs(z0).max()), 1e-12)
    gamma = as_scalar(gamma, "gamma", positive=True)
    n_iter, tol = _common(n_iter, tol, callback)
    res, obj = [], []

    def record(k, x):
        res.append(_norm(A @ x - y))
        obj.append(float(np.abs(x).sum()))
        if callback is not None and k > 0:
            callback(k, x)

    if method == "douglas_rachford":
        z = z0.copy()
        for k in range(n_iter + 1):
            x = _soft(z, gamma)
            record(k, x)
            if k == n_iter or res[-1] <= tol:
                break
            z = z + P(2.0 * x - z) - x
    else:  # ADMM on  min ||x||_1 + i(z)  s.t.  x = z  (x is the l1 block, z the affine one)
        z, w = z0.copy(), np.zeros_like(z0)
        for k in range(n_iter + 1):
            x = _soft(z - w, gamma)
            record(k, x)
            if k == n_iter or res[-1] <= tol:
                break
            z = P(x + w)
            w = w + x - z
    return x, _history(objective=obj, residual=res)


# ----------------------------------------------------------------------------- total variation

def project_pixel_ball(p, radius=1.0):
    """Projection of a field ``p`` (2, m, n) onto ``{||p_ij||_2 <= radius for every pixel}``: the
    prox of the conjugate of ``radius * ||.||_{2,1}`` (the TV norm's dual ball)."""
    p = as_array(p, "p", ndim=3)
    radius = as_scalar(radius, "radius", positive=True)
    return p / np.maximum(pixel_norms(p) / radius, 1.0)


@_one_blas_thread
def tv_denoise(f, lam, n_iter=1000, *, p0=None, accelerated=True, tol=0.0, callback=None):
    """TV denoising (Rudin, Osher & Fatemi 1992) ``min_u 0.5 ||u - f||^2 + lam TV(u)`` by
    forward-backward on the dual (Chambolle 2004; Beck & Teboulle 2009 for the accelerated form)::

        min_{||p_ij|| <= 1}  0.5 ||f + lam div p||^2,        u = f + lam div p,

    a projected gradient method with step ``1 / (8 lam^2)`` (``||div||^2 <= 8``).  The iterate is the
    dual field ``p`` (started at ``p0``, default 0); the primal image is ``u = f + lam div p``, and
    ``history["gap"] = lam (TV(u) - <grad u, p>)``, the primal-dual gap (>= objective(u) - min),
    ``history["objective"]`` the primal objective at ``u``.  ``tol`` stops on the gap;
    ``callback(k, u_k)``.  Returns ``(u, history)``.
    """
    f = as_array(f, "f", ndim=2)
    lam = as_scalar(lam, "lam", positive=True)
    n_iter, tol = _common(n_iter, tol, callback)
    p = np.zeros((2,) + f.shape) if p0 is None else as_array(p0, "p0", shape=(2,) + f.shape).copy()
    step = 1.0 / (grad_norm_bound * lam)            # = lam * 1/(8 lam^2), the gradient's factor

    def measure(u, gu, p):
        tv = float(_pixel_norms(gu).sum())
        obj = 0.5 * float(np.sum((u - f) ** 2)) + lam * tv
        return obj, max(lam * (tv - float(np.sum(gu * p))), 0.0)

    # u = f + lam div p and grad u are affine in p: the extrapolated point's u and grad u are the same
    # combinations of the last two, so each iteration costs one div and one grad
    u = f + lam * _div(p)
    gu = _grad(u)
    obj, gap = measure(u, gu, p)
    objs, gaps = [obj], [gap]
    p_prev, gu_prev, t, beta = p, gu, 1.0, 0.0
    for k in range(1, n_iter + 1):
        if gap <= tol:
            break
        q, gq = (p + beta * (p - p_prev), gu + beta * (gu - gu_prev)) if beta else (p, gu)
        v = q + step * gq                            # gradient step on the dual at q
        p_new = v / np.maximum(_pixel_norms(v), 1.0)  # projection onto the unit discs
        if accelerated:
            t_new = (1.0 + np.sqrt(1.0 + 4.0 * t * t)) / 2.0
            beta, t = (t - 1.0) / t_new, t_new
        p_prev, gu_prev, p = p, gu, p_new
        u = f + lam * _div(p)
        gu = _grad(u)
        obj, gap = measure(u, gu, p)
        objs.append(obj)
        gaps.append(gap)
        if callback is not None:
            callback(k, u)
    return u, _history(objective=objs, gap=gaps)


@_one_blas_thread
def tv_inpaint(f, mask, n_iter=1000, *, x0=None, tol=0.0, callback=None):
    """TV inpainting ``min_u TV(u)`` subject to ``u = f`` on the known pixels (``mask`` True), by
    Chambolle-Pock with ``K = grad``, ``g`` = indicator of the constraint (prox: reset the known
    pixels), ``f = ||.||_{2,1}`` (prox of the conjugate: ``project_pixel_ball``) and
    ``tau = sigma = 0.99 / sqrt(8)``.  ``x0`` defaults to ``f`` with the unknown pixels set to the
    mean of the known ones.  ``history["objective"]`` is ``TV(u_k)``.  Returns ``(u, history)``.
    """
    f = as_array(f, "f", ndim=2)
    mask = np.asarray(mask)
    if mask.shape != f.shape or mask.dtype != bool:
        raise ValueError(f"mask must be a boolean array of shape {f.shape}, got {mask.shape} {mask.dtype}")
    if not mask.any():
        raise ValueError("mask must mark at least one known pixel")
    if x0 is None:
        x0 = np.where(mask, f, f[mask].mean())
    x0 = as_array(x0, "x0", shape=f.shape)
    known = f[mask]

    def prox_g(v, t):
        v = v.copy()
        v[mask] = known
        return v

    step = 0.99 / np.sqrt(grad_norm_bound)
    return chambolle_pock(grad, div_adjoint, prox_g, lambda q, s: project_pixel_ball(q), step, step,
                          n_iter, x0=prox_g(x0, 1.0), objective=tv_norm, tol=tol, callback=callback)


def div_adjoint(p):
    """The adjoint of ``grad``: ``grad^T p = -div p``."""
    return -div(p)
