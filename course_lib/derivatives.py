"""Derivatives by finite differences, and the smooth test problems of Chapter 1 with exact derivatives.

Finite differences approximate a derivative from values of ``f`` alone::

    forward   d_i = (f(x + h e_i) - f(x)) / h             error O(h)   + O(eps_mach / h)
    central   d_i = (f(x + h e_i) - f(x - h e_i)) / (2h)   error O(h^2) + O(eps_mach / h)

so the best ``h`` balances truncation against round-off: about ``sqrt(eps_mach) ~ 1e-8`` for the
forward difference and ``eps_mach^(1/3) ~ 1e-5`` for the central one.

The problem builders return closures ``(f, grad_f, hess_f)`` with closed-form derivatives:

    quadratic(A, b)          f(x) = 1/2 x^T A x - b^T x
    least_squares(A, b)      f(x) = 1/(2n) ||A x - b||^2                      (n = rows of A)
    logistic_loss(X, y, lam) f(w) = 1/n sum_i log(1 + exp(-y_i x_i^T w)) + lam/2 ||w||^2

For the two finite sums, ``f(x, idx)`` and ``grad_f(x, idx)`` average over the samples ``idx``
only (all samples when ``idx`` is ``None``), so ``grad_f`` is also the oracle that ``optim.sgd``
expects.  Points ``x`` are 1-D float64 arrays; everything returned is NumPy float64.
"""
from __future__ import annotations

import numpy as np

from course_lib.utils import as_array, as_scalar, check_callable, check_result

__all__ = [
    "central_difference",
    "forward_difference",
    "least_squares",
    "logistic_loss",
    "logistic_smoothness",
    "numerical_hessian",
    "numerical_jacobian",
    "quadratic",
    "smoothness_constants",
]


# ----------------------------------------------------------------------------- validation helpers

def _point(x, name: str = "x") -> np.ndarray:
    """A finite float64 point, scalar (0-D) or vector (1-D)."""
    x = as_array(x, name)
    if x.ndim > 1:
        raise ValueError(f"{name} must be a scalar or a 1-D array, got shape {x.shape}")
    return x


def _value(f, x, name: str = "f") -> float:
    """``f(x)`` as a finite real float, or a ``ValueError`` naming ``f`` (a finite difference of a
    NaN, an inf or a complex number would silently be NaN or lose its imaginary part)."""
    return check_result(f(x), name, scalar=True, where=f"at {_show(x)}")


def _show(x) -> str:
    return np.array2string(np.asarray(x), precision=4, threshold=6)


def _vector_value(F, x, name: str = "F") -> np.ndarray:
    """``F(x)`` as a finite real 1-D array (a scalar counts as one entry)."""
    v = np.atleast_1d(check_result(F(x), name, where=f"at {_show(x)}"))
    if v.ndim != 1:
        raise ValueError(f"{name} must return a scalar or a 1-D array, got shape {v.shape}")
    return v


def _vector_arg(x, d: int) -> np.ndarray:
    """Light check used inside the problem closures (no finiteness test: a diverging solver may
    legitimately pass infinities, and the closures are called in hot loops)."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (d,):
        raise ValueError(f"x must have shape ({d},), got {x.shape}")
    return x


# ----------------------------------------------------------------------------- finite differences

def forward_difference(f, x, h):
    """Forward-difference gradient of a scalar ``f`` at ``x``: ``d_i = (f(x + h e_i) - f(x)) / h``.

    ``x`` is a scalar or a 1-D array; the result has the shape of ``x``.  Error ``O(h)``.
    """
    check_callable(f, "f")
    x = _point(x)
    h = as_scalar(h, "h", positive=True)
    x_flat = x.reshape(-1)
    fx = _value(f, x)
    d = np.empty_like(x_flat)
    for i in range(x_flat.size):
        e = np.zeros_like(x_flat)
        e[i] = h
        d[i] = (_value(f, (x_flat + e).reshape(x.shape)) - fx) / h
    return d.reshape(x.shape)


def central_difference(f, x, h):
    """Central-difference gradient of a scalar ``f`` at ``x``:
    ``d_i = (f(x + h e_i) - f(x - h e_i)) / (2h)``.

    ``x`` is a scalar or a 1-D array; the result has the shape of ``x``.  Error ``O(h^2)``.
    """
    check_callable(f, "f")
    x = _point(x)
    h = as_scalar(h, "h", positive=True)
    x_flat = x.reshape(-1)
    d = np.empty_like(x_flat)
    for i in range(x_flat.size):
        e = np.zeros_like(x_flat)
        e[i] = h
        d[i] = (_value(f, (x_flat + e).reshape(x.shape))
                - _value(f, (x_flat - e).reshape(x.shape))) / (2 * h)
    return d.reshape(x.shape)


def numerical_jacobian(F, x, h=1e-6):
    """Central-difference Jacobian of ``F: R^n -> R^m`` at ``x`` (1-D, length n).

    ``J[:, j] = (F(x + h e_j) - F(x - h e_j)) / (2h)``; returns an ``(m, n)`` array
    (``m = 1`` when ``F`` returns a scalar).
    """
    check_callable(F, "F")
    x = as_array(x, "x", ndim=1)
    h = as_scalar(h, "h", positive=True)
    return _jacobian(F, x, h, "F")


def _jacobian(F, x, h, name):
    columns = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h
        plus, minus = _vector_value(F, x + e, name), _vector_value(F, x - e, name)
        if plus.shape != minus.shape:
            raise ValueError(f"{name} must return a 1-D array of fixed length, got {plus.shape} and "
                             f"{minus.shape}")
        columns.append((plus - minus) / (2 * h))
    if not columns:  # n = 0: the number of outputs comes from F(x) itself
        return np.zeros((_vector_value(F, x, name).size, 0))
    return np.stack(columns, axis=1)


def numerical_hessian(f, x, h=1e-4, grad_f=None):
    """Finite-difference Hessian of a scalar ``f`` at ``x`` (1-D), symmetric by construction.

    From values of ``f`` (central second differences, error ``O(h^2) + O(eps_mach / h^2)``)::

        H_ij = [f(x + h e_i + h e_j) - f(x + h e_i - h e_j)
                - f(x - h e_i + h e_j) + f(x - h e_i - h e_j)] / (4 h^2)

    or, when ``grad_f`` is given, from its Jacobian, symmetrised: ``H = (J + J^T) / 2`` with
    ``J = numerical_jacobian(grad_f, x, h)`` (more accurate: one derivative fewer to approximate).
    """
    check_callable(f, "f")
    x = as_array(x, "x", ndim=1)
    h = as_scalar(h, "h", positive=True)
    if grad_f is not None:
        check_callable(grad_f, "grad_f")
        check_result(grad_f(x), "grad_f", shape=x.shape, where="at x")
        J = _jacobian(grad_f, x, h, "grad_f")
        if J.shape != (x.size, x.size):
            raise ValueError(f"grad_f must return an array of shape ({x.size},), got {J.shape[0]} entries")
        return 0.5 * (J + J.T)
    n = x.size
    H = np.empty((n, n))
    eye = h * np.eye(n)
    for i in range(n):
        for j in range(i, n):
            H[i, j] = H[j, i] = (_value(f, x + eye[i] + eye[j]) - _value(f, x + eye[i] - eye[j])
                                 - _value(f, x - eye[i] + eye[j]) + _value(f, x - eye[i] - eye[j])
                                 ) / (4 * h * h)
    return H


# ----------------------------------------------------------------------------- test problems

def _symmetric(A, name: str = "A") -> np.ndarray:
    A = as_array(A, name, ndim=2)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {A.shape}")
    if not np.allclose(A, A.T, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(A).max(initial=0.0))):
        raise ValueError(f"{name} must be symmetric")
    return 0.5 * (A + A.T)


def quadratic(A, b):
    """The quadratic ``f(x) = 1/2 x^T A x - b^T x`` with ``A`` symmetric (n, n) and ``b`` (n,).

    Returns closures ``(f, grad_f, hess_f)``: ``grad_f(x) = A x - b``, ``hess_f(x) = A``.
    When ``A`` is positive definite the minimiser is ``x* = A^{-1} b`` and ``f* = -1/2 b^T x*``.
    """
    A = _symmetric(A)
    b = as_array(b, "b", shape=(A.shape[0],))
    d = b.size

    def f(x):
        x = _vector_arg(x, d)
        return float(0.5 * x @ A @ x - b @ x)

    def grad_f(x):
        return A @ _vector_arg(x, d) - b

    def hess_f(x):
        _vector_arg(x, d)
        return A.copy()

    return f, grad_f, hess_f


def smoothness_constants(A):
    """``(L, mu) = (lambda_max(A), lambda_min(A))`` for a symmetric ``A``: the smoothness and
    strong-convexity constants of the quadratic ``1/2 x^T A x - b^T x`` (strongly convex iff mu > 0).

    For a least-squares problem pass its Hessian, ``A.T @ A / n``.
    """
    eig = np.linalg.eigvalsh(_symmetric(A))
    return float(eig[-1]), float(eig[0])


def _rows(idx, *arrays):
    """The rows ``idx`` of each array (all rows when ``idx`` is None); ``idx`` holds integer indices."""
    if idx is None:
        return arrays
    idx = np.atleast_1d(np.asarray(idx))
    if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu":
        raise ValueError("idx must be a non-empty 1-D array of integer sample indices")
    try:
        return tuple(a[idx] for a in arrays)
    except IndexError:
        raise ValueError(f"idx must index the {arrays[0].shape[0]} samples, got {idx}") from None


def least_squares(A, b):
    """Least squares with the ``1/n`` scaling: ``f(x) = 1/(2n) ||A x - b||^2``, ``n`` = rows of ``A``.

    Returns closures ``(f, grad_f, hess_f)``::

        f(x, idx=None)       = 1/(2|I|) ||A_I x - b_I||^2
        grad_f(x, idx=None)  = A_I^T (A_I x - b_I) / |I|
        hess_f(x)            = A^T A / n

    where ``I = idx`` (all rows when ``None``).  With the ``1/n`` scaling ``f`` is the *average* of
    the per-sample losses ``f_i(x) = 1/2 (a_i^T x - b_i)^2``, which is what SGD samples from.
    """
    A = as_array(A, "A", ndim=2)
    if A.shape[0] == 0:
        raise ValueError("A must have at least one row")
    b = as_array(b, "b", shape=(A.shape[0],))
    n, d = A.shape

    def f(x, idx=None):
        Ai, bi = _rows(idx, A, b)
        r = Ai @ _vector_arg(x, d) - bi
        return float(0.5 * (r @ r) / r.size)

    def grad_f(x, idx=None):
        Ai, bi = _rows(idx, A, b)
        return Ai.T @ (Ai @ _vector_arg(x, d) - bi) / bi.size

    def hess_f(x):
        _vector_arg(x, d)
        return A.T @ A / n

    return f, grad_f, hess_f


def _sigmoid(t):
    """``1 / (1 + exp(-t))`` without overflow."""
    return np.exp(-np.logaddexp(0.0, -t))


def logistic_loss(X, y, lam=0.0):
    """Mean logistic loss with labels ``y_i in {-1, +1}`` and a ridge penalty::

        f(w)      = 1/n sum_i log(1 + exp(-y_i x_i^T w)) + lam/2 ||w||^2
        grad_f(w) = -1/n X^T (y * sigma(-y * X w)) + lam w
        hess_f(w) = 1/n X^T diag(s (1 - s)) X + lam I,   s = sigma(X w)

    with ``sigma(t) = 1 / (1 + exp(-t))``.  Labels in {0, 1} are rejected: map them with ``2 y - 1``.
    There is no intercept: append a column of ones to ``X`` for one (it is then penalised too).
    ``f(w, idx)`` and ``grad_f(w, idx)`` average over the samples ``idx`` (the penalty is kept), so
    ``f`` is the average of ``f_i(w) = log(1 + exp(-y_i x_i^T w)) + lam/2 ||w||^2``.
    Returns closures ``(f, grad_f, hess_f)``.
    """
    X = as_array(X, "X", ndim=2)
    n, d = X.shape
    if n == 0:
        raise ValueError("X must have at least one row")
    y = as_array(y, "y", shape=(n,))
    if not np.all(np.abs(y) == 1):
        raise ValueError("y must hold labels in {-1, +1} (map {0, 1} labels with 2*y - 1)")
    lam = as_scalar(lam, "lam", nonnegative=True)

    def f(w, idx=None):
        w = _vector_arg(w, d)
        Xi, yi = _rows(idx, X, y)
        margins = yi * (Xi @ w)
        return float(np.mean(np.logaddexp(0.0, -margins)) + 0.5 * lam * (w @ w))

    def grad_f(w, idx=None):
        w = _vector_arg(w, d)
        Xi, yi = _rows(idx, X, y)
        return -Xi.T @ (yi * _sigmoid(-yi * (Xi @ w))) / Xi.shape[0] + lam * w

    def hess_f(w):
        s = _sigmoid(X @ _vector_arg(w, d))
        return (X.T * (s * (1.0 - s))) @ X / n + lam * np.eye(d)

    return f, grad_f, hess_f


def logistic_smoothness(X, lam=0.0):
    """Smoothness constant of ``logistic_loss(X, y, lam)``: ``L = ||X||_2^2 / (4n) + lam``
    (since ``sigma' <= 1/4``); the loss is ``lam``-strongly convex, so ``mu = lam``.
    Returns ``(L, mu)``."""
    X = as_array(X, "X", ndim=2)
    if X.shape[0] == 0:
        raise ValueError("X must have at least one row")
    lam = as_scalar(lam, "lam", nonnegative=True)
    sigma_max = np.linalg.norm(X, 2) if X.size else 0.0
    return float(sigma_max**2 / (4 * X.shape[0]) + lam), float(lam)
