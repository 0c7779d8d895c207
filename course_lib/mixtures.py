"""Gaussian densities and Gaussian mixtures fitted by expectation-maximisation (Chapter 9).

A mixture of ``k`` Gaussians in ``R^d`` has weights ``π`` on the simplex, means ``μ_j`` and
covariances ``Σ_j``: ``p(x) = Σ_j π_j N(x; μ_j, Σ_j)``. Its log-likelihood has no closed-form
maximiser; EM alternates two closed-form steps, each of which cannot decrease it.

Public API (NumPy in, NumPy out, float64; ``X`` holds one sample per row, shape ``(n, d)``;
``weights`` ``(k,)``, ``means`` ``(k, d)``, ``covs`` ``(k, d, d)``)

* ``gaussian_logpdf(X, mean, cov)`` → ``(n,)``:
  ``log N(x; μ, Σ) = -½ [d log 2π + log det Σ + (x-μ)ᵀ Σ⁻¹ (x-μ)]`` (by a Cholesky factor).
* ``gaussian_kl(m1, S1, m2, S2)`` → ``KL(N(m1, S1) ‖ N(m2, S2))
  = ½ [tr(S2⁻¹ S1) + (m2-m1)ᵀ S2⁻¹ (m2-m1) - d + log det S2 - log det S1]``.
* ``gaussian_mle(X)`` → ``(mean, cov)``: the maximum-likelihood Gaussian,
  ``μ̂ = (1/n) Σ x_i``, ``Σ̂ = (1/n) Σ (x_i - μ̂)(x_i - μ̂)ᵀ``.
* ``gmm_logpdf(X, weights, means, covs)`` → ``(n,)``:
  ``log p(x_i) = logsumexp_j [log π_j + log N(x_i; μ_j, Σ_j)]``.
* ``gmm_log_likelihood(X, weights, means, covs)`` → the *average* ``(1/n) Σ_i log p(x_i)``
  (scikit-learn's ``GaussianMixture.score``).
* ``e_step(X, weights, means, covs)`` → ``(resp, log_likelihood)``: the responsibilities
  ``γ_ij = π_j N(x_i; μ_j, Σ_j) / p(x_i)`` (the posterior of the latent label), computed in
  log-space, and the average log-likelihood at these parameters.
* ``m_step(X, resp, reg_covar=1e-6)`` → ``(weights, means, covs)``: with ``N_j = Σ_i γ_ij``,
  ``π_j = N_j / n``, ``μ_j = Σ_i γ_ij x_i / N_j``,
  ``Σ_j = Σ_i γ_ij (x_i - μ_j)(x_i - μ_j)ᵀ / N_j + reg_covar Id``.
* ``em(X, weights, means, covs, n_iter=100, tol=1e-6, reg_covar=1e-6)`` → ``GMMFit``: E- and
  M-steps from the given start until the average log-likelihood changes by less than ``tol``
  (scikit-learn's rule; ``tol=0`` runs exactly ``n_iter`` iterations). ``GMMFit`` holds
  ``weights, means, covs``, ``log_likelihoods`` (at the start and after each iteration: it never
  decreases when ``reg_covar = 0``; the regularised M-step is no longer an exact maximiser),
  ``resp`` and ``converged``.
* ``init_params(X, k, rng=None, reg_covar=1e-6)`` → ``(weights, means, covs)``: ``k`` distinct
  data points as means, the data covariance ``+ reg_covar Id`` for every component, equal weights.
* ``gmm_sample(n, weights, means, covs, rng=None)`` → ``(X, labels)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import cholesky, solve_triangular
from scipy.special import logsumexp

from course_lib.utils import as_array, as_rng, as_scalar, check_size

__all__ = [
    "GMMFit",
    "e_step",
    "em",
    "gaussian_kl",
    "gaussian_logpdf",
    "gaussian_mle",
    "gmm_log_likelihood",
    "gmm_logpdf",
    "gmm_sample",
    "init_params",
    "m_step",
]


# ----------------------------------------------------------------------------- validation

def _rng(rng) -> np.random.Generator:
    return as_rng(rng, "rng", allow_none=True)


def _samples(X, name="X") -> np.ndarray:
    X = as_array(X, name, ndim=2)
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"{name} must hold at least one sample of dimension >= 1, "
                         f"got shape {X.shape}")
    return X


def _cholesky(S, name: str) -> np.ndarray:
    """Lower Cholesky factor of a symmetric positive definite ``S``, or ``ValueError`` naming it."""
    if not np.allclose(S, S.T, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(S).max())):
        raise ValueError(f"{name} must be symmetric")
    try:
        return cholesky(S, lower=True)
    except np.linalg.LinAlgError:
        raise ValueError(f"{name} must be positive definite") from None


def _weights(weights, k=None) -> np.ndarray:
    w = as_array(weights, "weights", ndim=1)
    if w.size < 1:
        raise ValueError("weights must hold at least one component (k >= 1)")
    if k is not None and w.size != k:
        raise ValueError(f"weights must have one entry per component ({k}), got {w.size}")
    if np.any(w < 0) or abs(w.sum() - 1) > 1e-8:
        raise ValueError(f"weights must lie on the simplex (>= 0, sum 1), got sum {w.sum():.6g}, "
                         f"min {w.min():.3g}")
    return w


def _mixture(X, weights, means, covs):
    """Validate a mixture against the samples; return ``X, w, means, chol`` (Cholesky factors)."""
    X = _samples(X)
    means = as_array(means, "means", ndim=2)
    k, d = means.shape
    if k < 1:
        raise ValueError("means must hold at least one component (k >= 1)")
    if d != X.shape[1]:
        raise ValueError(f"means must have the dimension of X ({X.shape[1]}), got {d}")
    w = _weights(weights, k)
    covs = as_array(covs, "covs", ndim=3)
    if covs.shape != (k, d, d):
        raise ValueError(f"covs must have shape ({k}, {d}, {d}), got {covs.shape}")
    chol = np.stack([_cholesky(covs[j], f"covs[{j}]") for j in range(k)])
    return X, w, means, chol


def _logpdf_chol(X, mean, L) -> np.ndarray:
    d = X.shape[1]
    r = solve_triangular(L, (X - mean).T, lower=True)           # L⁻¹ (x - μ), shape (d, n)
    return -0.5 * (d * np.log(2 * np.pi) + 2 * np.log(np.diag(L)).sum() + np.sum(r**2, axis=0))


# ----------------------------------------------------------------------------- single Gaussians

def gaussian_logpdf(X, mean, cov) -> np.ndarray:
    """``log N(x_i; mean, cov)`` for each row ``x_i`` of ``X``, shape ``(n,)``."""
    X = _samples(X)
    mean = as_array(mean, "mean", ndim=1)
    if mean.size != X.shape[1]:
        raise ValueError(f"mean must have the dimension of X ({X.shape[1]}), got {mean.size}")
    cov = as_array(cov, "cov", shape=(mean.size, mean.size))
    return _logpdf_chol(X, mean, _cholesky(cov, "cov"))


def gaussian_kl(m1, S1, m2, S2) -> float:
    """``KL(N(m1, S1) ‖ N(m2, S2))`` in closed form (in nats)."""
    m1, m2 = as_array(m1, "m1", ndim=1), as_array(m2, "m2", ndim=1)
    d = m1.size
    if m2.size != d:
        raise ValueError(f"m2 must have the dimension of m1 ({d}), got {m2.size}")
    S1, S2 = as_array(S1, "S1", shape=(d, d)), as_array(S2, "S2", shape=(d, d))
    L1, L2 = _cholesky(S1, "S1"), _cholesky(S2, "S2")
    A = solve_triangular(L2, L1, lower=True)            # tr(S2⁻¹ S1) = ‖L2⁻¹ L1‖_F²
    r = solve_triangular(L2, m2 - m1, lower=True)
    logdet = 2 * (np.log(np.diag(L2)).sum() - np.log(np.diag(L1)).sum())
    return float(0.5 * (np.sum(A**2) + r @ r - d + logdet))


def gaussian_mle(X):
    """The maximum-likelihood Gaussian of the samples: ``(mean, cov)``, covariance with ``1/n``."""
    X = _samples(X)
    mean = X.mean(axis=0)
    Xc = X - mean
    return mean, Xc.T @ Xc / X.shape[0]


# ----------------------------------------------------------------------------- mixtures

def _log_joint(X, w, means, chol) -> np.ndarray:
    """``log π_j + log N(x_i; μ_j, Σ_j)``, shape ``(n, k)``."""
    return np.stack([np.log(w[j]) + _logpdf_chol(X, means[j], chol[j]) if w[j] > 0
                     else np.full(X.shape[0], -np.inf) for j in range(len(w))], axis=1)


def gmm_logpdf(X, weights, means, covs) -> np.ndarray:
    """``log p(x_i)`` of the mixture for each row of ``X``, shape ``(n,)``."""
    return logsumexp(_log_joint(*_mixture(X, weights, means, covs)), axis=1)


def gmm_log_likelihood(X, weights, means, covs) -> float:
    """Average log-likelihood ``(1/n) Σ_i log p(x_i)`` (scikit-learn's ``score``)."""
    return float(np.mean(gmm_logpdf(X, weights, means, covs)))


def e_step(X, weights, means, covs):
    """Responsibilities ``γ_ij = p(z_i = j | x_i)``, shape ``(n, k)``, and the average
    log-likelihood."""
    log_joint = _log_joint(*_mixture(X, weights, means, covs))
    log_px = logsumexp(log_joint, axis=1, keepdims=True)
    return np.exp(log_joint - log_px), float(np.mean(log_px))


def m_step(X, resp, reg_covar: float = 1e-6):
    """Weights, means and covariances that maximise the expected complete log-likelihood.

    A component with no responsibility at all (``N_j = 0``) keeps weight 0, mean 0 and covariance
    ``reg_covar Id`` (``N_j`` is floored at ``10 ε`` as in scikit-learn, to avoid dividing by 0).
    """
    X = _samples(X)
    resp = as_array(resp, "resp", ndim=2)
    n, d = X.shape
    if resp.shape[0] != n or resp.shape[1] < 1:
        raise ValueError(f"resp must have shape ({n}, k) with k >= 1, got {resp.shape}")
    if np.any(resp < 0) or not np.allclose(resp.sum(axis=1), 1, atol=1e-8):
        raise ValueError("resp must hold probabilities: rows >= 0 summing to 1")
    reg_covar = as_scalar(reg_covar, "reg_covar", nonnegative=True)
    Nk = resp.sum(axis=0) + 10 * np.finfo(np.float64).eps
    weights = Nk / n
    means = resp.T @ X / Nk[:, None]
    covs = np.empty((resp.shape[1], d, d))
    for j in range(resp.shape[1]):
        Xc = X - means[j]
        covs[j] = (resp[:, j, None] * Xc).T @ Xc / Nk[j] + reg_covar * np.eye(d)
    return weights / weights.sum(), means, covs


@dataclass
class GMMFit:
    """Result of ``em``: the parameters, the log-likelihood history, the last responsibilities."""

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    log_likelihoods: np.ndarray
    resp: np.ndarray
    converged: bool

    @property
    def n_iter(self) -> int:
        """Number of EM iterations (M-steps) made."""
        return len(self.log_likelihoods) - 1


def em(X, weights, means, covs, n_iter: int = 100, tol: float = 1e-6,
       reg_covar: float = 1e-6) -> GMMFit:
    """Expectation-maximisation for a Gaussian mixture, from the given parameters.

    Iteration ``t``: ``γ = e_step(θ_t)``, ``θ_{t+1} = m_step(γ)``. Stops after ``n_iter``
    iterations or when the average log-likelihood changes by less than ``tol`` between two
    iterations. ``log_likelihoods[t]`` is the average log-likelihood at ``θ_t`` (``t = 0`` is the
    start).
    """
    n_iter = int(as_scalar(n_iter, "n_iter", integer=True, positive=True))
    tol = as_scalar(tol, "tol", nonnegative=True)
    reg_covar = as_scalar(reg_covar, "reg_covar", nonnegative=True)
    resp, ll = e_step(X, weights, means, covs)
    X = np.asarray(X, dtype=np.float64)
    history, converged = [ll], False
    for _ in range(n_iter):
        weights, means, covs = m_step(X, resp, reg_covar)
        resp, ll = e_step(X, weights, means, covs)
        history.append(ll)
        if abs(history[-1] - history[-2]) < tol:
            converged = True
            break
    return GMMFit(weights, means, covs, np.array(history), resp, converged)


def init_params(X, k: int, rng=None, reg_covar: float = 1e-6):
    """A starting point for EM: ``k`` distinct random data points as means, the covariance of the
    data plus ``reg_covar Id`` (the regularisation the M-steps will add) for every component, equal
    weights."""
    X = _samples(X)
    k = int(as_scalar(k, "k", integer=True))
    if k < 1 or k > X.shape[0]:
        raise ValueError(f"k must be an integer between 1 and the number of samples "
                         f"{X.shape[0]}, got {k}")
    reg_covar = as_scalar(reg_covar, "reg_covar", nonnegative=True)
    rng = _rng(rng)
    means = X[rng.choice(X.shape[0], size=k, replace=False)]
    cov = np.atleast_2d(np.cov(X.T, bias=True)) + reg_covar * np.eye(X.shape[1])
    return np.full(k, 1.0 / k), means.copy(), np.repeat(cov[None], k, axis=0)


def gmm_sample(n: int, weights, means, covs, rng=None):
    """``n`` samples of the mixture and their component labels: ``(X (n, d), labels (n,))``."""
    n = int(as_scalar(n, "n", integer=True, positive=True))
    means = as_array(means, "means", ndim=2)
    check_size((n, max(means.shape[1], 1)), "n")
    _, w, means, chol = _mixture(np.zeros((1, means.shape[1])), weights, means, covs)
    rng = _rng(rng)
    labels = rng.choice(len(w), size=n, p=w)
    z = rng.standard_normal((n, means.shape[1]))
    X = means[labels] + np.einsum("nij,nj->ni", chol[labels], z)
    return X, labels
