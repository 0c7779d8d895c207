"""Regularized linear regression: ridge, lasso paths and an interior-point lasso (Chapter 2).

Every problem is written with *plain sums* (no ``1/n``), in the notation of the notes
(``A`` is the ``(n, p)`` design matrix, one sample per row, ``y`` the ``(n,)`` targets)::

    ridge   min_x  1/2 ||A x - y||^2 + lam/2 ||x||_2^2
    lasso   min_x  1/2 ||A x - y||^2 + lam   ||x||_1

so that scikit-learn's ``Ridge(alpha=lam, fit_intercept=False)`` has the same minimiser as
``ridge(A, y, lam)``, and ``Lasso(alpha=lam / n, fit_intercept=False)`` the same as the lasso
(scikit-learn divides its square loss by ``2 n``).

* ``ridge`` solves the normal equations in *primal* form, ``x = (A^T A + lam I)^{-1} A^T y``
  (a ``p x p`` system), or in *dual* form, ``x = A^T (A A^T + lam I)^{-1} y`` (an ``n x n`` system
  that only involves the inner products ``<a_i, a_j>``: the kernel trick of Chapter 4).
* ``ridge_path`` computes the whole regularization path from one SVD of ``A``.
* ``lasso_path`` (the one of ``course_lib.lasso``, re-exported) solves the lasso for a decreasing
  sequence of ``lam``, each solve warm-started from the previous solution; ``lambda_max`` gives
  the ``lam`` above which the solution is 0, and ``lasso.lasso_gap`` certifies any candidate ``x``.
* ``lasso_interior_point`` writes the lasso as a smooth problem with ``2p`` linear inequality
  constraints and follows the central path of the log barrier with Newton steps;
  ``barrier_newton_step`` is one of those steps (the Newton direction of the barrier function).
* ``mean_squared_error`` and ``kfold_errors`` measure held-out errors along a path.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg

from course_lib.lasso import lasso_gap, lasso_objective, lasso_path
from course_lib.utils import as_array, as_rng, as_scalar, check_result

__all__ = [
    "barrier_newton_step",
    "kfold_errors",
    "lambda_max",
    "lasso_interior_point",
    "lasso_path",
    "mean_squared_error",
    "ridge",
    "ridge_path",
]


# ----------------------------------------------------------------------------- validation

def _design(A, y):
    """``A`` as an (n, p) float64 array and ``y`` as an (n,) one, or ``ValueError`` naming them."""
    A = as_array(A, "A", ndim=2)
    if A.size == 0:
        raise ValueError(f"A must have at least one row and one column, got shape {A.shape}")
    y = as_array(y, "y", shape=(A.shape[0],))
    return A, y


def _lams(lams, name="lams"):
    lams = as_array(lams, name, ndim=1)
    if lams.size == 0:
        raise ValueError(f"{name} must hold at least one value")
    if np.any(lams < 0):
        raise ValueError(f"{name} must be >= 0, got min {lams.min()!r}")
    return lams


# ----------------------------------------------------------------------------- ridge

def ridge(A, y, lam, form="auto"):
    """Ridge regression, ``argmin_x 1/2 ||A x - y||^2 + lam/2 ||x||^2`` (``lam > 0``).

    The optimality condition ``A^T (A x - y) + lam x = 0`` can be solved in two ways, which give
    the same ``x`` because ``(A^T A + lam I) A^T = A^T (A A^T + lam I)``::

        form="primal"   x = (A^T A + lam I_p)^{-1} A^T y         cost O(n p^2 + p^3)
        form="dual"     x = A^T alpha,  alpha = (A A^T + lam I_n)^{-1} y   cost O(n^2 p + n^3)

    ``form="auto"`` picks the smaller system (primal if ``p <= n``).  Both are solved by a
    Cholesky factorization of a symmetric positive definite matrix.
    """
    A, y = _design(A, y)
    lam = as_scalar(lam, "lam", positive=True)
    if form not in ("auto", "primal", "dual"):
        raise ValueError(f"form must be 'auto', 'primal' or 'dual', got {form!r}")
    n, p = A.shape
    if form == "auto":
        form = "primal" if p <= n else "dual"
    if form == "primal":
        G = A.T @ A
        G[np.diag_indices(p)] += lam
        return scipy.linalg.cho_solve(scipy.linalg.cho_factor(G), A.T @ y)
    K = A @ A.T                     # Gram matrix of the samples, K_ij = <a_i, a_j>
    K[np.diag_indices(n)] += lam
    return A.T @ scipy.linalg.cho_solve(scipy.linalg.cho_factor(K), y)


def ridge_path(A, y, lams):
    """Ridge solutions for every ``lam`` in ``lams`` from one thin SVD ``A = U diag(s) V^T``::

        x(lam) = V diag( s / (s^2 + lam) ) U^T y .

    Returns an array ``(len(lams), p)``, row ``i`` holding ``x(lams[i])``.  ``lam = 0`` is allowed
    and gives the limit ``lam -> 0+``, the minimum-norm least-squares solution ``pinv(A) y``
    (singular values below ``max(n, p) * eps * s_max`` count as zero).
    """
    A, y = _design(A, y)
    lams = _lams(lams)
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    keep = s > max(A.shape) * np.finfo(float).eps * s[0] if s[0] > 0 else np.zeros(s.shape, bool)
    U, s, Vt = U[:, keep], s[keep], Vt[keep]
    filt = s / (s**2 + lams[:, None])          # (m, r): the "spectral filter" of ridge
    return (filt * (U.T @ y)) @ Vt


# ----------------------------------------------------------------------------- lasso

def lambda_max(A, y):
    """``||A^T y||_inf``: the smallest ``lam`` for which ``x = 0`` solves the lasso.

    (``0`` is a minimiser iff ``0 in -A^T y + lam [-1, 1]^p``, i.e. iff ``|A^T y|_j <= lam`` for all ``j``.)
    """
    A, y = _design(A, y)
    return float(np.max(np.abs(A.T @ y)))


# ----------------------------------------------------------------------------- interior point

def lasso_interior_point(A, y, lam, tol=1e-10, mu=20.0, t0=None, max_newton=500,
                         center_tol=1e-9):
    """The lasso by a log-barrier interior-point method; returns ``(x, gaps)``.

    **Smooth reformulation.** With ``u`` bounding ``|x|`` entrywise, the lasso is the smooth convex
    problem with ``m = 2p`` linear constraints::

        min_{x, u}  1/2 ||A x - y||^2 + lam <1, u>    s.t.   -u <= x <= u .

    **Central path.** For ``t > 0`` let ``(x(t), u(t))`` minimise the barrier function
    ``phi_t(x, u) = t (1/2 ||A x - y||^2 + lam <1, u>) - sum log(u - x) - sum log(u + x)``.
    There ``nu = A x(t) - y`` is dual feasible and the duality gap is at most ``m / t = 2p / t``.

    **Algorithm** (barrier method, Boyd & Vandenberghe Sec. 11.3): start at ``x = 0`` with
    ``t = t0`` (default ``2p / P(0)``, so that ``m / t0`` is the objective at 0); repeat Newton
    steps on ``phi_t`` in ``(x, u)`` until the Newton decrement ``lambda^2 / 2 <= center_tol``
    (or stops improving because of round-off), then ``t <- mu t``.  Each Newton step eliminates
    ``du`` and solves a ``p x p`` positive definite system for ``dx`` (an ``n x n`` one by Woodbury's
    identity when ``n < p``), backtracks to stay inside ``|x| < u`` and decrease ``phi_t``, then resets
    ``u`` to its exact minimiser for the new ``x``, ``u = (1 + sqrt(1 + (t lam x)^2)) / (t lam)``.
    Stop as soon as ``lasso.lasso_gap(A, y, lam, x) <= tol * P(x)``.

    ``gaps[k]`` is that duality gap after ``k`` Newton steps (``gaps[0]`` at ``x = 0``); it drops by
    about ``mu`` per centring, after a few Newton steps each, whatever the conditioning of ``A``.
    Raises ``RuntimeError`` if ``max_newton`` steps do not reach the tolerance.
    """
    A, y = _design(A, y)
    lam = as_scalar(lam, "lam", positive=True)
    tol = as_scalar(tol, "tol", positive=True)
    mu = as_scalar(mu, "mu", positive=True)
    if mu <= 1:
        raise ValueError(f"mu must be > 1, got {mu!r}")
    max_newton = as_scalar(max_newton, "max_newton", positive=True, integer=True)
    center_tol = as_scalar(center_tol, "center_tol", positive=True)
    n, p = A.shape
    AtA = A.T @ A if p <= n else None
    P0 = 0.5 * float(y @ y)
    t = 2 * p / max(P0, np.finfo(float).tiny) if t0 is None else as_scalar(t0, "t0", positive=True)
    x = np.zeros(p)
    u = _best_u(x, t * lam)
    gaps, previous = [lasso_gap(A, y, lam, x)], np.inf
    for _ in range(max_newton):
        if gaps[-1] <= tol * lasso_objective(A, y, lam, x):
            return x, np.array(gaps)
        r = A @ x - y
        f1, f2 = u - x, u + x
        dx, du, decrement2 = _newton_direction(A, AtA, y, lam, t, x, u)
        # the largest step keeping u - x > 0 and u + x > 0, then Armijo backtracking on phi_t
        s = 1.0
        for f, df in ((f1, du - dx), (f2, du + dx)):
            if np.any(df < 0):
                s = min(s, 0.99 * float(np.min(-f[df < 0] / df[df < 0])))
        Adx = A @ dx                        # phi_t(x + s dx, u + s du) - phi_t(x, u), without cancellation:
        a1, a2 = t * float(r @ Adx + lam * du.sum()), 0.5 * t * float(Adx @ Adx)
        q1, q2 = (du - dx) / f1, (du + dx) / f2
        while s * a1 + s * s * a2 - np.log1p(s * q1).sum() - np.log1p(s * q2).sum() > -0.01 * s * decrement2 \
                and s > 1e-12:
            s *= 0.5
        x = x + s * dx
        u = _best_u(x, t * lam)             # exact minimisation of phi_t over u, x fixed
        gaps.append(lasso_gap(A, y, lam, x))
        # centred, or Newton's quadratic convergence lost to round-off: move along the central path
        if decrement2 / 2 <= center_tol or (decrement2 < 1e-4 and decrement2 > 0.5 * previous):
            t, previous = t * mu, np.inf      # a new centring starts
        else:
            previous = decrement2
    if gaps[-1] <= tol * lasso_objective(A, y, lam, x):
        return x, np.array(gaps)
    raise RuntimeError(f"lasso_interior_point: duality gap {gaps[-1]:.2e} after {max_newton} Newton "
                       "steps is above tol * P(x); increase max_newton or tol")


def barrier_newton_step(A, y, lam, t, x, u):
    """The Newton direction of the barrier method for the lasso at a strictly feasible ``(x, u)``.

    ``phi_t(x, u) = t (1/2 ||A x - y||^2 + lam <1, u>) - sum log(u - x) - sum log(u + x)``; with
    ``f1 = u - x``, ``f2 = u + x`` its gradient and Hessian are::

        g_x = t A^T (A x - y) + 1/f1 - 1/f2          H_xx = t A^T A + diag(1/f1^2 + 1/f2^2)
        g_u = t lam - 1/f1 - 1/f2                    H_xu = diag(1/f2^2 - 1/f1^2)
                                                     H_uu = diag(1/f1^2 + 1/f2^2)

    The direction solves ``H (dx, du) = -(g_x, g_u)``; ``du`` is eliminated (``H_uu`` is diagonal),
    which leaves the ``p x p`` system ``(t A^T A + diag(4 / (f1^2 + f2^2))) dx = rhs`` (an ``n x n``
    one by Woodbury's identity when ``n < p``).  Returns ``(dx, du, decrement2)`` with the squared
    Newton decrement ``decrement2 = -<g, (dx, du)> = (dx, du)^T H (dx, du)``.  This is the step that
    ``lasso_interior_point`` takes (then backtracks and resets ``u``).
    """
    A, y = _design(A, y)
    lam = as_scalar(lam, "lam", positive=True)
    t = as_scalar(t, "t", positive=True)
    p = A.shape[1]
    x = as_array(x, "x", shape=(p,))
    u = as_array(u, "u", shape=(p,))
    if np.any(u - np.abs(x) <= 0):
        raise ValueError("(x, u) must be strictly feasible: u > |x| entrywise")
    AtA = A.T @ A if p <= A.shape[0] else None
    return _newton_direction(A, AtA, y, lam, t, x, u)


def _newton_direction(A, AtA, y, lam, t, x, u):
    """``(dx, du, decrement2)``: the Newton step on ``phi_t`` (see ``barrier_newton_step``)."""
    n, p = A.shape
    r = A @ x - y
    f1, f2 = u - x, u + x
    g_x = t * (A.T @ r) + 1 / f1 - 1 / f2
    g_u = t * lam - 1 / f1 - 1 / f2
    d1 = 1 / f1**2 + 1 / f2**2          # d2 phi/dx2 (barrier part) = d2 phi/du2
    d2 = 1 / f2**2 - 1 / f1**2          # d2 phi/dx du
    # du = -(g_u + d2 dx) / d1 leaves (t A^T A + diag(d)) dx = rhs, with d = d1 - d2^2/d1
    d, rhs = 4 / (f1**2 + f2**2), -g_x + d2 / d1 * g_u
    if AtA is not None:
        S = t * AtA
        S[np.diag_indices(p)] += d
        dx = scipy.linalg.cho_solve(scipy.linalg.cho_factor(S), rhs)
    else:                               # Woodbury: an n x n system
        K = (A / d) @ A.T
        K[np.diag_indices(n)] += 1 / t
        dx = (rhs - A.T @ scipy.linalg.cho_solve(scipy.linalg.cho_factor(K), A @ (rhs / d))) / d
    du = -(g_u + d2 * dx) / d1
    return dx, du, -float(g_x @ dx + g_u @ du)


def _best_u(x, c):
    """``argmin_{u > |x|} c u - log(u - x) - log(u + x)`` entrywise: ``(1 + sqrt(1 + c^2 x^2)) / c``."""
    return (1 + np.sqrt(1 + (c * x) ** 2)) / c


# ----------------------------------------------------------------------------- held-out error

def mean_squared_error(A, y, X):
    """Mean squared prediction error ``1/n ||A x - y||^2`` of each row ``x`` of ``X`` (a path),
    or of a single ``x``; returns an array of length ``len(X)`` (a float for a single ``x``)."""
    A, y = _design(A, y)
    X = as_array(X, "X")
    if X.ndim not in (1, 2) or X.shape[-1] != A.shape[1]:
        raise ValueError(f"X must have shape ({A.shape[1]},) or (m, {A.shape[1]}), got {X.shape}")
    R = X @ A.T - y
    err = np.mean(R**2, axis=-1)
    return float(err) if X.ndim == 1 else err


def kfold_errors(path, A, y, lams, n_folds=5, rng=None):
    """Held-out errors along a regularization path, by ``n_folds``-fold cross-validation.

    The samples are shuffled (with ``rng``: a ``numpy.random.Generator``, an int seed or ``None``)
    and cut into ``n_folds`` folds; for each fold, ``path(A_train, y_train, lams)`` must return the
    ``(len(lams), p)`` solutions fitted on the other folds (``ridge_path``, ``lasso_path``, ...),
    and their mean squared error on the fold is recorded.  Returns ``(n_folds, len(lams))``.
    """
    if not callable(path):
        raise ValueError(f"path must be a callable (A, y, lams) -> solutions, got {type(path).__name__}")  # noqa: TRY004
    A, y = _design(A, y)
    lams = _lams(lams)
    n_folds = as_scalar(n_folds, "n_folds", integer=True)
    if not 2 <= n_folds <= A.shape[0]:
        raise ValueError(f"n_folds must lie in [2, n] = [2, {A.shape[0]}], got {n_folds}")
    rng = as_rng(rng, allow_none=True)
    folds = np.array_split(rng.permutation(A.shape[0]), n_folds)
    errors = np.empty((n_folds, lams.size))
    for i, test in enumerate(folds):
        train = np.setdiff1d(np.arange(A.shape[0]), test)
        X = check_result(path(A[train], y[train], lams), "path", shape=(lams.size, A.shape[1]),
                         where=f"on the training folds of fold {i}")
        errors[i] = mean_squared_error(A[test], y[test], X)
    return errors
