"""Proximal operators, written from scratch: the prox gallery of Chapters 2 and 3.

The proximal operator of a convex function ``g`` with step ``t > 0`` is::

    prox_{t g}(v) = argmin_u  g(u) + ||u - v||^2 / (2 t),

a generalised projection: for the indicator of a closed convex set ``C`` it is the projection onto
``C``, whatever ``t``.  Every ``prox_*(v, t)`` below returns ``prox_{t g}(v)``; every ``project_*``
is the prox of an indicator (it takes no ``t``, or ignores it).

* ``soft_threshold(x, tau) = prox_l1(x, tau) = sign(x) max(|x| - tau, 0)``, the prox of
  ``tau ||.||_1`` (``tau`` may be an array: a weighted l1 norm);
* ``prox_l2(x, tau) = max(1 - tau / ||x||, 0) x`` (block soft-thresholding), and ``prox_group_l2``:
  the same on each group, the prox of the group norm ``tau sum_g ||x_g||_2``;
* ``prox_linf(x, tau) = x - tau P_{l1 ball}(x / tau)`` (Moreau's identity);
* ``prox_nuclear(X, tau) = U diag(max(s - tau, 0)) V^T`` (singular value thresholding);
* ``project_box`` onto ``{lower <= u <= upper}`` (``clip``); ``project_simplex`` onto
  ``{u >= 0, sum(u) = radius}``: ``u = max(x - theta, 0)`` with ``theta`` found by sorting;
  ``project_l1_ball``: ``sign(x) project_simplex(|x|)`` outside the ball; ``project_affine(A, y)``
  onto ``{A x = y}``: the callable ``v -> v - V V^T v + A^+ y``;
* ``prox_conjugate(prox_f, v, t) = v - t prox_{f/t}(v / t)``, the prox of the convex conjugate
  ``f*``, by Moreau's identity ``v = prox_{t f*}(v) + t prox_{f/t}(v / t)``.

The algorithms built on these operators have their own modules: ``course_lib.lasso`` (objective,
duality gap, ISTA, FISTA, the fast solver, the path), ``course_lib.splitting`` (forward-backward,
Douglas-Rachford, ADMM, Chambolle-Pock, basis pursuit) and ``course_lib.images`` (total variation:
denoising, inpainting).  ``course_lib.prox.lasso`` is ``course_lib.lasso.lasso``, a stable name of
the course; the other names that lived here before are still found here (``prox.fista`` is
``lasso.fista``), so that older notebooks keep working.
"""
from __future__ import annotations

import numpy as np

from course_lib._shared import check_callable, moved_names
from course_lib.lasso import lasso  # noqa: F401  (course_lib.prox.lasso is course_lib.lasso.lasso)
from course_lib.utils import as_array, as_scalar, check_result

__all__ = [
    "lasso",
    "project_affine",
    "project_box",
    "project_l1_ball",
    "project_simplex",
    "prox_conjugate",
    "prox_group_l2",
    "prox_l2",
    "prox_linf",
    "prox_nuclear",
    "soft_threshold",
]

# names that moved to their own modules: still reachable as course_lib.prox.<name>
__getattr__ = moved_names(__name__, {
    **dict.fromkeys(["fista", "ista", "lasso_gap", "lasso_objective", "lasso_path"], "lasso"),
    **dict.fromkeys(["admm", "basis_pursuit", "chambolle_pock", "douglas_rachford",
                     "forward_backward"], "splitting"),
    **dict.fromkeys(["div", "div_adjoint", "grad", "project_pixel_ball", "tv_denoise",
                     "tv_inpaint", "tv_norm"], "images"),
})


def _tau(tau, shape, name="tau"):
    """A nonnegative scalar or a nonnegative array (weights) that broadcasts to ``shape``."""
    if np.ndim(tau) == 0:
        return as_scalar(tau, name, nonnegative=True)
    t = as_array(tau, name)
    if np.any(t < 0):
        raise ValueError(f"{name} must be >= 0")
    _broadcasts(t, shape, name)
    return t


def _broadcasts(a, shape, name):
    try:
        ok = np.broadcast_shapes(a.shape, shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{name} must be a number or an array that broadcasts to the shape of x "
                         f"{tuple(shape)}, got shape {a.shape}")


# ----------------------------------------------------------------------------- prox gallery

def soft_threshold(x, tau):
    """Soft-thresholding, the prox of ``tau ||.||_1``: ``sign(x) * max(|x| - tau, 0)`` entrywise.

    ``tau >= 0`` is a number or an array broadcastable to ``x`` (weighted l1 norm).
    """
    x = as_array(x, "x")
    tau = _tau(tau, x.shape)
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
    _broadcasts(lo, x.shape, "lower")
    _broadcasts(hi, x.shape, "upper")
    if np.any(lo > hi):
        raise ValueError("lower must be <= upper everywhere")
    return np.clip(x, lo, hi)


def project_simplex(x, radius=1.0):
    """Euclidean projection onto the simplex ``{u >= 0, sum(u) = radius}``, along the last axis.

    Sort-based algorithm (Held, Wolfe & Crowder 1974; Duchi et al. 2008):
    ``u = max(x - theta, 0)`` with the threshold ``theta`` making ``sum(u) = radius``.  The
    projection commutes with adding a constant to every entry, so ``x`` is first shifted by its
    largest entry: the cumulative sums then stay of the size of ``radius`` (for ``x = (5e15, 5e15)``
    they would lose it to rounding).
    """
    x = as_array(x, "x")
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"x must have at least one entry along its last axis, got shape {x.shape}")
    radius = as_scalar(radius, "radius", positive=True)
    x = x - x.max(axis=-1, keepdims=True)
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
    check_callable(prox_f, "prox_f")
    v = as_array(v, "v")
    t = as_scalar(t, "t", positive=True)
    return v - t * check_result(prox_f(v / t, 1.0 / t), "prox_f", shape=v.shape, where="at v / t")

# ----------------------------------------------------------------------------- affine constraints

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
        v = as_array(v, "v", shape=(A.shape[1],))
        return v - V @ (V.T @ v) + x_p

    return P

