"""Discrete gradient, divergence and total variation of grey-level images (Chapter 3).

An image is a 2-D float array ``u`` of shape ``(m, n)``; a vector field is an array ``p`` of shape
``(2, m, n)`` (vertical and horizontal components).  Forward differences with Neumann boundary
conditions (the difference across the last row / column is 0), as in Chambolle (2004)::

    (grad u)_0[i, j] = u[i+1, j] - u[i, j]   (0 on the last row)
    (grad u)_1[i, j] = u[i, j+1] - u[i, j]   (0 on the last column)

``div = -grad^T`` exactly, so ``<grad u, p> = -<u, div p>``; ``||grad||^2 <= 8``.
"""
from __future__ import annotations

import numpy as np

from course_lib.utils import as_array

__all__ = ["div", "grad", "grad_norm_bound", "pixel_norms", "tv_norm"]

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
