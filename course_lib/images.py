"""Grey-level images and their total variation (Chapter 3): discrete gradient, divergence, TV
denoising and inpainting.

An image is a 2-D float array ``u`` of shape ``(m, n)``; a vector field is an array ``p`` of shape
``(2, m, n)`` (vertical and horizontal components).  Forward differences with Neumann boundary
conditions (the difference across the last row / column is 0), as in Chambolle (2004)::

    (grad u)_0[i, j] = u[i+1, j] - u[i, j]   (0 on the last row)
    (grad u)_1[i, j] = u[i, j+1] - u[i, j]   (0 on the last column)

``div = -grad^T`` exactly, so ``<grad u, p> = -<u, div p>``; ``||grad||^2 <= 8``
(``grad_norm_bound``); ``div_adjoint(p) = -div p = grad^T p``.

The isotropic total variation ``TV(u) = sum_ij ||(grad u)_ij||_2`` (``tv_norm``) is the
``||.||_{2,1}`` norm of the gradient (``pixel_norms`` gives the ``||p_ij||_2``), and regularises:

* ``tv_denoise(f, lam)``: ``min_u 0.5 ||u - f||^2 + lam TV(u)`` (Rudin, Osher & Fatemi 1992), by
  projected (accelerated) gradient on the dual problem (Chambolle 2004)::

      min_{||p_ij|| <= 1}  0.5 ||f + lam div p||^2,        u = f + lam div p,   step 1 / (8 lam^2);

* ``tv_inpaint(f, mask)``: ``min_u TV(u)`` subject to ``u = f`` on the known pixels, by
  Chambolle-Pock (``course_lib.splitting``) with ``K = grad``;
* ``project_pixel_ball(p, r) = p_ij / max(||p_ij||_2 / r, 1)``: the projection onto
  ``{||p_ij||_2 <= r for every pixel}``, the prox of the conjugate of ``r ||.||_{2,1}`` (whose value
  at ``grad u`` is ``r TV(u)``).

The two solvers follow the calling convention of ``course_lib.splitting``.
"""
from __future__ import annotations

import numpy as np

from course_lib._shared import as_history, iteration_args, one_blas_thread
from course_lib.splitting import chambolle_pock
from course_lib.utils import as_array, as_scalar

__all__ = [
    "div",
    "div_adjoint",
    "grad",
    "grad_norm_bound",
    "pixel_norms",
    "project_pixel_ball",
    "tv_denoise",
    "tv_inpaint",
    "tv_norm",
]

grad_norm_bound = 8.0
"""Upper bound on ``||grad||_2^2`` (operator norm squared) for any image size."""


def _image(u, name="u"):
    u = as_array(u, name, ndim=2)
    if u.shape[0] < 1 or u.shape[1] < 1:
        raise ValueError(f"{name} must be a non-empty image, got shape {u.shape}")
    return u


def _field(p, name="p"):
    p = as_array(p, name, ndim=3)
    if p.shape[0] != 2:
        raise ValueError(f"{name} must have shape (2, m, n), got {p.shape}")
    return p


def grad(u):
    """Forward-difference gradient of the image ``u`` (m, n): an array (2, m, n)."""
    return _grad(_image(u))


def div(p):
    """Discrete divergence, the negative adjoint of ``grad``: ``<grad u, p> = -<u, div p>``."""
    return _div(_field(p))


def pixel_norms(p):
    """Euclidean norm of the field ``p`` (2, m, n) at each pixel: ``sqrt(p_0^2 + p_1^2)`` (m, n)."""
    return _pixel_norms(_field(p))


# unchecked versions for the inner loops of the solvers (inputs already validated)

def _grad(u):
    g = np.zeros((2,) + u.shape)
    np.subtract(u[1:, :], u[:-1, :], out=g[0, :-1, :])
    np.subtract(u[:, 1:], u[:, :-1], out=g[1, :, :-1])
    return g


def _div(p):
    d = np.zeros(p.shape[1:])
    d[:-1, :] = p[0, :-1, :]
    d[1:, :] -= p[0, :-1, :]
    d[:, :-1] += p[1, :, :-1]
    d[:, 1:] -= p[1, :, :-1]
    return d


def _pixel_norms(p):
    return np.sqrt(p[0] * p[0] + p[1] * p[1])


def tv_norm(u):
    """Isotropic total variation ``TV(u) = sum_ij ||(grad u)_ij||_2``."""
    return float(pixel_norms(grad(u)).sum())


# ----------------------------------------------------------------------------- TV denoising and inpainting

def project_pixel_ball(p, radius=1.0):
    """Projection of a field ``p`` (2, m, n) onto ``{||p_ij||_2 <= radius for every pixel}``: the
    prox of the conjugate of ``radius * ||.||_{2,1}`` (the TV norm's dual ball)."""
    p = as_array(p, "p", ndim=3)
    radius = as_scalar(radius, "radius", positive=True)
    return p / np.maximum(pixel_norms(p) / radius, 1.0)


@one_blas_thread
def tv_denoise(f, lam, n_iter=1000, *, p0=None, accelerated=True, tol=0.0, callback=None):
    """TV denoising (Rudin, Osher & Fatemi 1992) ``min_u 0.5 ||u - f||^2 + lam TV(u)`` by
    forward-backward on the dual (Chambolle 2004; Beck & Teboulle 2009 for the accelerated form)::

        min_{||p_ij|| <= 1}  0.5 ||f + lam div p||^2,        u = f + lam div p,

    a projected gradient method with step ``1 / (8 lam^2)`` (``||div||^2 <= 8``), accelerated by
    FISTA's extrapolation in the convention of ``book/notation.md`` when ``accelerated=True``.  The iterate is the
    dual field ``p`` (started at ``p0``, default 0); the primal image is ``u = f + lam div p``, and
    ``history["gap"] = lam (TV(u) - <grad u, p>)``, the primal-dual gap (>= objective(u) - min),
    ``history["objective"]`` the primal objective at ``u``.  ``tol`` stops on the gap;
    ``callback(k, u_k)``.  Returns ``(u, history)``.
    """
    f = _image(f, "f")
    lam = as_scalar(lam, "lam", positive=True)
    n_iter, tol = iteration_args(n_iter, tol, callback)
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
    return u, as_history(objective=objs, gap=gaps)


@one_blas_thread
def tv_inpaint(f, mask, n_iter=1000, *, x0=None, tol=0.0, callback=None):
    """TV inpainting ``min_u TV(u)`` subject to ``u = f`` on the known pixels (``mask`` True), by
    Chambolle-Pock with ``K = grad``, ``g`` = indicator of the constraint (prox: reset the known
    pixels), ``f = ||.||_{2,1}`` (prox of the conjugate: ``project_pixel_ball``) and
    ``tau = sigma = 0.99 / sqrt(8)``.  ``x0`` defaults to ``f`` with the unknown pixels set to the
    mean of the known ones.  ``history["objective"]`` is ``TV(u_k)``.  Returns ``(u, history)``.
    """
    f = _image(f, "f")
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
