"""Proximal splitting, written from scratch: the generic algorithms of Chapter 3, and basis pursuit.

A splitting method minimises a sum of convex functions that are simple *separately*: it only calls
a gradient, proxes (``prox_g(v, t) = prox_{t g}(v)``, see ``course_lib.prox``) and linear maps, all
given as callables::

    forward_backward   min f + g, f L-smooth:  x_{k+1} = prox_g(z_k - step grad_f(z_k), step),
                       z_k = x_k, or FISTA's extrapolation (accelerated=True); step <= 1/L
    douglas_rachford   min f + g:  x_k = prox_f(z_k, gamma),  u_k = prox_g(2 x_k - z_k, gamma),
                       z_{k+1} = z_k + relax (u_k - x_k)                      (relax in (0, 2))
    admm               min f(x) + g(z) s.t. x = z:  x_{k+1} = prox_f(z_k - w_k, 1/rho),
                       z_{k+1} = prox_g(x_{k+1} + w_k, 1/rho),  w_{k+1} = w_k + x_{k+1} - z_{k+1}
    chambolle_pock     min g(x) + f(K x):  p_{k+1} = prox_fstar(p_k + sigma K xbar_k, sigma),
                       x_{k+1} = prox_g(x_k - tau K^T p_{k+1}, tau),
                       xbar_{k+1} = x_{k+1} + theta (x_{k+1} - x_k)     (tau sigma ||K||^2 < 1)
    basis_pursuit      min ||x||_1 s.t. A x = y: Douglas-Rachford or ADMM with the proxes
                       soft-thresholding and prox.project_affine(A, y)

Calling convention of the iterative solvers (here, in ``course_lib.lasso`` and ``course_lib.images``)
------------------------------------------------------------------------------------------------------
Every iterative solver has the same shape::

    x, history = solver(<problem>, n_iter, *, x0=None, <hyper-parameters>, tol=0.0, callback=None)

* ``<problem>`` is the data of the problem: ``A, y, lam`` for the lasso solvers (``lasso.ista``,
  ``lasso.fista``), callables ``grad_f, prox_g`` / ``prox_f, prox_g`` / ``K, K_adj, prox_g, prox_fstar``
  for the generic splittings (``forward_backward``, ``douglas_rachford``, ``admm``,
  ``chambolle_pock``), ``A, y`` for ``basis_pursuit`` and the image for ``images.tv_denoise``.
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
"""
from __future__ import annotations

import numpy as np

from course_lib._shared import (as_history, check_callable, fast_norm, iteration_args,
                                one_blas_thread, quiet_overflow, soft)
from course_lib.prox import project_affine
from course_lib.utils import GrowthMonitor, as_array, as_choice, as_scalar, check_result

__all__ = [
    "admm",
    "basis_pursuit",
    "chambolle_pock",
    "douglas_rachford",
    "forward_backward",
]


_NO_SOLUTION = "the problem may have no solution (e.g. two sets that do not meet)"


def _out(value, name, shape, k):
    """What the user callable ``name`` returned at iteration ``k``: a real array of ``shape``,
    finite at the first iteration (later, NaN or inf is a divergence, reported by the monitor)."""
    return check_result(value, name, shape=shape, finite=k == 0,
                        where="at the first iteration" if k == 0 else f"at iteration {k}")


def _number(f, x, name, k):
    return check_result(f(x), name, scalar=True, finite=k == 0,
                        where="at x0" if k == 0 else f"at iteration {k}")


@one_blas_thread
@quiet_overflow
def forward_backward(grad_f, prox_g, step, n_iter, *, x0, accelerated=False, objective=None,
                     gap=None, tol=0.0, callback=None):
    """Forward-backward splitting for ``min f(x) + g(x)``, ``f`` L-smooth, ``g`` with a prox::

        x_{k+1} = prox_g(z_k - step grad_f(z_k), step)

    with ``z_k = x_k`` (``accelerated=False``) or FISTA's extrapolation (``accelerated=True``)
    ``z_k = x_k + (t_k - 1) / t_{k+1} (x_k - x_{k-1})``, ``t_1 = 1``,
    ``t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2`` (the convention of ``book/notation.md``).
    ``step <= 1/L``.  ``objective(x)`` / ``gap(x)``, if given, are recorded in ``history``; ``tol``
    stops on the gap.  Works on arrays of any shape.  Returns ``(x, history)``.
    """
    check_callable(grad_f, "grad_f")
    check_callable(prox_g, "prox_g")
    for f, name in ((objective, "objective"), (gap, "gap")):
        if f is not None:
            check_callable(f, name)
    step = as_scalar(step, "step", positive=True)
    n_iter, tol = iteration_args(n_iter, tol, callback)
    x = as_array(x0, "x0").copy()
    rec = {}
    if objective is not None:
        rec["objective"] = [_number(objective, x, "objective", 0)]
    if gap is not None:
        rec["gap"] = [_number(gap, x, "gap", 0)]
    z, t = x, 1.0
    monitor = GrowthMonitor("forward_backward", "the gradient norm", step=step,
                            bound="1/L" if accelerated else "2/L", factor=1.0 if accelerated else 2.0)
    for k in range(1, n_iter + 1):
        if gap is not None and rec["gap"][-1] <= tol:
            break
        g = _out(grad_f(z), "grad_f", z.shape, k - 1)
        monitor.update(k - 1, g, z)
        x_new = _out(prox_g(z - step * g, step), "prox_g", z.shape, k - 1)
        if accelerated:
            t_new = (1.0 + np.sqrt(1.0 + 4.0 * t * t)) / 2.0
            z = x_new + ((t - 1.0) / t_new) * (x_new - x)
            t = t_new
        else:
            z = x_new
        x = x_new
        if objective is not None:
            rec["objective"].append(_number(objective, x, "objective", k))
        if gap is not None:
            rec["gap"].append(_number(gap, x, "gap", k))
        if callback is not None:
            callback(k, x)
    return x, as_history(**rec)


@one_blas_thread
@quiet_overflow
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
    check_callable(prox_f, "prox_f")
    check_callable(prox_g, "prox_g")
    if objective is not None:
        check_callable(objective, "objective")
    gamma = as_scalar(gamma, "gamma", positive=True)
    relax = as_scalar(relax, "relax", positive=True)
    if relax >= 2:
        raise ValueError(f"relax must lie in (0, 2), got {relax!r}")
    n_iter, tol = iteration_args(n_iter, tol, callback)
    z = as_array(x0, "x0").copy()
    rec = {"residual": []}
    if objective is not None:
        rec["objective"] = []
    monitor = GrowthMonitor("douglas_rachford", "the residual ||u_k - x_k||", advice=_NO_SOLUTION)
    for k in range(n_iter + 1):
        x = _out(prox_f(z, gamma), "prox_f", z.shape, k)
        u = _out(prox_g(2.0 * x - z, gamma), "prox_g", z.shape, k)
        rec["residual"].append(fast_norm(u - x))
        monitor.update(k, rec["residual"][-1])
        if objective is not None:
            rec["objective"].append(_number(objective, x, "objective", k))
        if k > 0 and callback is not None:
            callback(k, x)
        if k == n_iter or rec["residual"][-1] <= tol:
            break
        z = z + relax * (u - x)
    return x, as_history(**rec)


@one_blas_thread
@quiet_overflow
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
    check_callable(prox_f, "prox_f")
    check_callable(prox_g, "prox_g")
    if objective is not None:
        check_callable(objective, "objective")
    rho = as_scalar(rho, "rho", positive=True)
    n_iter, tol = iteration_args(n_iter, tol, callback)
    z = as_array(x0, "x0").copy()
    x, w = z.copy(), np.zeros_like(z)
    rec = {"residual": [0.0]}
    if objective is not None:
        rec["objective"] = [_number(objective, x, "objective", 0)]
    monitor = GrowthMonitor("admm", "the residual ||x_k - z_k||", advice=_NO_SOLUTION)
    for k in range(1, n_iter + 1):
        x = _out(prox_f(z - w, 1.0 / rho), "prox_f", z.shape, k - 1)
        z = _out(prox_g(x + w, 1.0 / rho), "prox_g", z.shape, k - 1)
        w = w + x - z
        rec["residual"].append(fast_norm(x - z))
        monitor.update(k, rec["residual"][-1])
        if objective is not None:
            rec["objective"].append(_number(objective, x, "objective", k))
        if callback is not None:
            callback(k, x)
        if rec["residual"][-1] <= tol:
            break
    return x, as_history(**rec)


@one_blas_thread
@quiet_overflow
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
        check_callable(f, name)
    if objective is not None:
        check_callable(objective, "objective")
    tau = as_scalar(tau, "tau", positive=True)
    sigma = as_scalar(sigma, "sigma", positive=True)
    theta = as_scalar(theta, "theta", nonnegative=True, upper=1.0)
    n_iter, tol = iteration_args(n_iter, tol, callback)
    x = as_array(x0, "x0").copy()
    Kx = check_result(K(x), "K", where="at x0")
    p = np.zeros_like(Kx) if p0 is None else as_array(p0, "p0", shape=Kx.shape).copy()
    xbar = x
    rec = {"residual": [np.inf]}
    if objective is not None:
        rec["objective"] = [_number(objective, x, "objective", 0)]
    monitor = GrowthMonitor("chambolle_pock", "the residual", advice=(
        f"tau * sigma = {tau * sigma:.4g} is too large: Chambolle-Pock converges for "
        "tau sigma ||K||^2 < 1 (and theta = 1)"))
    for k in range(1, n_iter + 1):
        Kxbar = _out(K(xbar), "K", Kx.shape, k - 1)
        p_new = _out(prox_fstar(p + sigma * Kxbar, sigma), "prox_fstar", Kx.shape, k - 1)
        x_new = _out(prox_g(x - tau * _out(K_adj(p_new), "K_adj", x.shape, k - 1), tau),
                     "prox_g", x.shape, k - 1)
        xbar = x_new + theta * (x_new - x)
        rec["residual"].append(fast_norm(x_new - x) + fast_norm(p_new - p))
        monitor.update(k, rec["residual"][-1])
        x, p = x_new, p_new
        if objective is not None:
            rec["objective"].append(_number(objective, x, "objective", k))
        if callback is not None:
            callback(k, x)
        if rec["residual"][-1] <= tol:
            break
    return x, as_history(**rec)


# ----------------------------------------------------------------------------- basis pursuit

@one_blas_thread
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
    as_choice(method, "method", ("douglas_rachford", "admm"))
    P = project_affine(A, y)
    z0 = P(np.zeros(A.shape[1])) if x0 is None else as_array(x0, "x0", shape=(A.shape[1],))
    if gamma is None:
        gamma = 0.1 * max(float(np.abs(z0).max()), 1e-12)
    gamma = as_scalar(gamma, "gamma", positive=True)
    n_iter, tol = iteration_args(n_iter, tol, callback)
    res, obj = [], []

    def record(k, x):
        res.append(fast_norm(A @ x - y))
        obj.append(float(np.abs(x).sum()))
        if callback is not None and k > 0:
            callback(k, x)

    if method == "douglas_rachford":
        z = z0.copy()
        for k in range(n_iter + 1):
            x = soft(z, gamma)
            record(k, x)
            if k == n_iter or res[-1] <= tol:
                break
            z = z + P(2.0 * x - z) - x
    else:  # ADMM on  min ||x||_1 + i(z)  s.t.  x = z  (x is the l1 block, z the affine one)
        z, w = z0.copy(), np.zeros_like(z0)
        for k in range(n_iter + 1):
            x = soft(z - w, gamma)
            record(k, x)
            if k == n_iter or res[-1] <= tol:
                break
            z = P(x + w)
            w = w + x - z
    return x, as_history(objective=obj, residual=res)

