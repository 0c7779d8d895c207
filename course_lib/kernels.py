"""Kernel methods from scratch: kernels, ridge and kernel ridge regression, random Fourier features
(Chapter 4). NumPy in, NumPy out.

Conventions. Data sets are arrays ``X`` of shape ``(n, d)``, one sample per row. A *kernel* is a
function ``k(X, Y)`` returning the ``(n, m)`` Gram matrix ``K[i, j] = k(x_i, y_j)`` (``Y`` defaults
to ``X``); to fix a parameter, close over it: ``k = lambda X, Y=None: gaussian_kernel(X, Y, sigma=0.5)``.
Ridge and kernel ridge minimise the same objective as Chapter 1,

    (1/2n) Σ_i (f(x_i) - y_i)^2 + (λ/2) ||f||^2,

with ``f(x) = <w, x>`` (ridge) or ``f`` in the reproducing kernel Hilbert space of ``k`` (kernel
ridge). Then ``w = (AᵀA + nλ Id)^{-1} Aᵀ y`` and, by the representer theorem,
``f = Σ_i α_i k(·, x_i)`` with ``α = (K + nλ Id)^{-1} y``. scikit-learn's ``KernelRidge(alpha=a)``
is the same estimator with ``a = nλ``.

Public API
* ``linear_kernel(X, Y=None)`` — ``<x, y>``.
* ``polynomial_kernel(X, Y=None, degree=3, c=1.0)`` — ``(<x, y> + c)^degree``.
* ``gaussian_kernel(X, Y=None, sigma=1.0)`` — ``exp(-||x - y||^2 / (2σ^2))``.
* ``laplace_kernel(X, Y=None, sigma=1.0)`` — ``exp(-||x - y||_1 / σ)``.
* ``ridge(A, y, lam)`` — the primal ridge weights ``w``.
* ``kernel_ridge(K, y, lam)`` — the dual coefficients ``α``.
* ``kernel_ridge_predict(K_new, alpha)`` — ``K_new @ α``, predictions at new points.
* ``fourier_frequencies(d, n_features, sigma=1.0, kernel="gaussian", rng=None)`` — ``(W, b)``.
* ``fourier_features(X, W, b)`` — ``sqrt(2/D) cos(X W + b)``, with ``Φ(X) Φ(Y)ᵀ ≈ K(X, Y)``.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg

from course_lib import linear_models
from course_lib.utils import as_array, as_choice, as_rng, as_scalar, check_size

__all__ = [
    "fourier_features",
    "fourier_frequencies",
    "gaussian_kernel",
    "kernel_ridge",
    "kernel_ridge_predict",
    "laplace_kernel",
    "linear_kernel",
    "polynomial_kernel",
    "ridge",
]


def _pair(X, Y):
    """``X`` (n, d) and ``Y`` (m, d) as float arrays with the same number of columns; ``Y = X`` if None."""
    X = as_array(X, "X", ndim=2)
    if Y is None:
        return X, X
    Y = as_array(Y, "Y", ndim=2)
    if Y.shape[1] != X.shape[1]:
        raise ValueError(f"Y must have as many columns as X ({X.shape[1]}), got shape {Y.shape}")
    return X, Y


def _sq_distances(X, Y):
    """Matrix of squared Euclidean distances ``||x_i - y_j||^2``, clipped at 0 against round-off."""
    d2 = np.sum(X**2, axis=1)[:, None] + np.sum(Y**2, axis=1)[None, :] - 2 * X @ Y.T
    return np.maximum(d2, 0.0)


def linear_kernel(X, Y=None) -> np.ndarray:
    """``K[i, j] = <x_i, y_j>``: kernel ridge with it is ridge regression."""
    X, Y = _pair(X, Y)
    return X @ Y.T


def polynomial_kernel(X, Y=None, degree: int = 3, c: float = 1.0) -> np.ndarray:
    """``K[i, j] = (<x_i, y_j> + c)^degree``: all monomials of degree <= ``degree`` (``c > 0``)."""
    X, Y = _pair(X, Y)
    degree = as_scalar(degree, "degree", positive=True, integer=True)
    c = as_scalar(c, "c", nonnegative=True)
    return (X @ Y.T + c) ** degree


def gaussian_kernel(X, Y=None, sigma: float = 1.0) -> np.ndarray:
    """``K[i, j] = exp(-||x_i - y_j||^2 / (2 σ^2))`` (scikit-learn's ``rbf`` with ``gamma = 1/(2σ^2)``)."""
    X, Y = _pair(X, Y)
    sigma = as_scalar(sigma, "sigma", positive=True)
    with np.errstate(over="ignore"):               # sigma**2 could underflow; d2 / sigma^2 = inf is fine
        return np.exp(-0.5 * (_sq_distances(X, Y) / sigma) / sigma)


def laplace_kernel(X, Y=None, sigma: float = 1.0) -> np.ndarray:
    """``K[i, j] = exp(-||x_i - y_j||_1 / σ)`` (scikit-learn's ``laplacian`` with ``gamma = 1/σ``).

    A product over coordinates of the 1-D Laplace kernel ``exp(-|s - t|/σ)``, hence positive definite;
    its functions are continuous but not differentiable (a Sobolev space of order 1 in 1-D).
    """
    X, Y = _pair(X, Y)
    sigma = as_scalar(sigma, "sigma", positive=True)
    dist1 = np.zeros((X.shape[0], Y.shape[0]))
    for j in range(X.shape[1]):  # one coordinate at a time: (n, m) memory, not (n, m, d)
        dist1 += np.abs(X[:, j, None] - Y[None, :, j])
    return np.exp(-dist1 / sigma)


def ridge(A, y, lam: float) -> np.ndarray:
    """Ridge regression with the ``1/n`` scaling of this chapter:
    ``w = argmin (1/2n)||A w - y||^2 + (λ/2)||w||^2``, that is ``(AᵀA + nλ Id) w = Aᵀ y``.

    This is Chapter 2's ``linear_models.ridge`` (plain sums) with weight ``nλ``. The dual form
    ``w = Aᵀ α``, ``α = (AAᵀ + nλ Id)^{-1} y`` is ``kernel_ridge`` with the linear kernel.
    """
    A = as_array(A, "A", ndim=2)
    lam = as_scalar(lam, "lam", positive=True)
    return linear_models.ridge(A, y, A.shape[0] * lam, form="primal")


def kernel_ridge(K, y, lam: float) -> np.ndarray:
    """Dual coefficients of kernel ridge regression: ``α = (K + nλ Id)^{-1} y``.

    ``K`` is the ``(n, n)`` Gram matrix of the training points (symmetric positive semidefinite) and
    ``y`` (n,) or (n, c) the targets; ``lam > 0``. The fitted function is
    ``f(x) = Σ_i α_i k(x, x_i)``: predict with ``kernel_ridge_predict(k(X_new, X), α)``.
    """
    K = as_array(K, "K", ndim=2)
    n = K.shape[0]
    if K.shape != (n, n):
        raise ValueError(f"K must be a square Gram matrix, got shape {K.shape}")
    if not np.allclose(K, K.T, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(K).max(initial=0.0))):
        raise ValueError("K must be symmetric (a Gram matrix k(X, X))")
    y = as_array(y, "y")
    if y.ndim not in (1, 2) or y.shape[0] != n:
        raise ValueError(f"y must have shape ({n},) or ({n}, c) to match K, got {y.shape}")
    lam = as_scalar(lam, "lam", positive=True)
    try:
        return scipy.linalg.solve(K + n * lam * np.eye(n), y, assume_a="pos")
    except np.linalg.LinAlgError:
        low = float(np.linalg.eigvalsh(K)[0])
        raise ValueError(f"K must be positive semidefinite (a Gram matrix): K + n lam I is not "
                         f"positive definite, K has the eigenvalue {low:.3g} < -n lam = "
                         f"{-n * lam:.3g}") from None


def kernel_ridge_predict(K_new, alpha) -> np.ndarray:
    """Predictions ``f(x'_j) = Σ_i α_i k(x'_j, x_i)``: ``K_new @ α`` with ``K_new = k(X_new, X_train)``."""
    K_new = as_array(K_new, "K_new", ndim=2)
    alpha = as_array(alpha, "alpha")
    if alpha.ndim not in (1, 2) or alpha.shape[0] != K_new.shape[1]:
        raise ValueError(f"alpha must have {K_new.shape[1]} rows (one per training point, the columns "
                         f"of K_new), got shape {alpha.shape}")
    return K_new @ alpha


def fourier_frequencies(d: int, n_features: int, sigma: float = 1.0, kernel: str = "gaussian", rng=None):
    """Random frequencies and phases ``(W, b)`` for the random Fourier features of Rahimi and Recht.

    By Bochner's theorem a translation-invariant kernel is ``k(x - y) = E_ω[cos(<ω, x - y>)]`` for a
    probability density of frequencies ``ω``: ``N(0, σ^{-2} Id)`` for the Gaussian kernel, i.i.d.
    Cauchy coordinates of scale ``1/σ`` for the Laplace kernel. Returns ``W`` of shape
    ``(d, n_features)`` (columns ``ω_j``) and ``b`` of shape ``(n_features,)``, uniform on ``[0, 2π)``.
    """
    d = as_scalar(d, "d", positive=True, integer=True)
    D = as_scalar(n_features, "n_features", positive=True, integer=True)
    sigma = as_scalar(sigma, "sigma", positive=True)
    rng = as_rng(rng, allow_none=True)
    as_choice(kernel, "kernel", ("gaussian", "laplace"))
    check_size((d, 1), "d")
    check_size((1, D), "n_features")
    check_size((d, D), "n_features")
    if kernel == "gaussian":
        W = rng.standard_normal((d, D)) / sigma
    elif kernel == "laplace":
        W = rng.standard_cauchy((d, D)) / sigma
    else:
        raise ValueError(f"kernel must be 'gaussian' or 'laplace', got {kernel!r}")
    return W, rng.uniform(0.0, 2 * np.pi, size=D)


def fourier_features(X, W, b) -> np.ndarray:
    """Random Fourier features ``Φ(X) = sqrt(2/D) cos(X W + b)``, shape ``(n, D)``.

    Since ``E[2 cos(<ω, x> + b) cos(<ω, y> + b)] = E[cos(<ω, x - y>)] = k(x, y)``, the product
    ``Φ(X) Φ(Y)ᵀ`` is an unbiased Monte Carlo estimate of the Gram matrix, with error ``O(D^{-1/2})``;
    ridge regression on ``Φ(X)`` (a ``D x D`` system) then approximates kernel ridge (``n x n``).
    """
    W = as_array(W, "W", ndim=2)
    X = as_array(X, "X", ndim=2)
    if X.shape[1] != W.shape[0]:
        raise ValueError(f"X must have {W.shape[0]} columns (the rows of W), got shape {X.shape}")
    b = as_array(b, "b", shape=(W.shape[1],))
    return np.sqrt(2.0 / W.shape[1]) * np.cos(X @ W + b)
