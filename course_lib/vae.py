"""Variational autoencoders: the ELBO, the reparametrisation trick, the IWAE bound (Chapter 9).

A latent-variable model ``p_θ(x) = ∫ p_θ(x|z) p(z) dz`` with prior ``p(z) = N(0, Id_q)`` is fitted
by maximising, instead of the intractable ``log p_θ(x)``, the evidence lower bound with an
*amortised* Gaussian encoder ``q_φ(z|x) = N(μ_φ(x), diag σ²_φ(x))``:

    ELBO(x) = E_q[log p_θ(x|z)] - KL(q_φ(z|x) ‖ p(z))
            = log p_θ(x) - KL(q_φ(z|x) ‖ p_θ(z|x)) <= log p_θ(x).

Public API (torch in, torch out; ``x`` has shape ``(B, d)``)

* ``reparametrize(mu, logvar, eps)`` → ``z = μ + exp(logvar/2) ⊙ ε``: a sample of
  ``N(μ, diag σ²)`` that is a differentiable function of ``(μ, logvar)`` for a fixed
  ``ε ~ N(0, Id)``.
* ``gaussian_kl(mu, logvar)`` → ``KL(N(μ, diag σ²) ‖ N(0, Id))`` per coordinate,
  ``½ (μ² + σ² - 1 - log σ²)``, same shape as ``mu``.
* ``VAE(encoder, decoder, q, likelihood="bernoulli")`` — ``encoder(x)`` returns ``2q`` numbers per
  sample, ``(μ, log σ²)``; ``decoder(z)`` returns the logits of ``d`` Bernoulli variables
  (``"bernoulli"``) or the mean of ``N(·, s² Id)`` with a learned scalar ``s = exp(log_sigma)``
  (``"gaussian"``). Methods:

  - ``encode(x)`` → ``(mu, logvar)``; ``log_px_given_z(x, z)`` → ``log p_θ(x|z)``;
  - ``elbo(x, n_samples=1, eps=None)`` → ``(B,)``: ``(1/S) Σ_s log p_θ(x|z_s) - Σ_j KL_j`` with
    ``z_s = reparametrize(μ, logvar, ε_s)`` (the KL term in closed form);
  - ``iwae(x, k)`` → ``(B,)``: ``log (1/k) Σ_{s<=k} p_θ(x, z_s) / q_φ(z_s|x)``, ``z_s ~ q_φ``;
    ``ELBO = IWAE_1 <= IWAE_k <= IWAE_{k'} <= log p_θ(x)`` in expectation for ``k <= k'``
    (Burda et al.);
  - ``kl_per_dim(x)`` → ``(q,)``: ``KL_j`` averaged over the samples (a collapsed coordinate has 0);
  - ``sample(n)`` → decoder means (probabilities for ``"bernoulli"``) at ``z ~ N(0, Id)``;
  - ``forward(x, eps=None)`` → ``-ELBO(x)`` per sample with one ``ε``: the loss minimised by
    ``nets.train(model, X, None, n_steps, loss="mean")``.

* ``mlp_vae(d, q, hidden=128, likelihood="bernoulli")`` — encoder ``d → hidden → 2q`` and decoder
  ``q → hidden → d`` (``tanh`` hidden layers).
* ``linear_vae(d, q)`` — linear encoder and decoder, Gaussian likelihood: the model
  ``x = W z + b + s ε`` of probabilistic PCA (the decoder's ``weight`` is ``W``, its ``bias``
  ``b``).
* ``ppca(X, q)`` → ``(W, b, s2, log_lik)``: the maximum-likelihood probabilistic PCA of the rows of
  ``X`` (Tipping and Bishop): with ``λ_1 >= ... >= λ_d`` and ``U`` the eigen-pairs of the ``1/n``
  covariance, ``b = mean``, ``s2 = mean(λ_{q+1..d})``, ``W = U_q (Λ_q - s2 Id)^{1/2}`` and the
  maximal average log-likelihood ``-½ [d log 2π + Σ_{j<=q} log λ_j + (d-q) log s2 + d]``.
* ``ppca_log_likelihood(X, W, b, s2)`` → the average ``log N(x_i; b, W Wᵀ + s2 Id)`` (NumPy).
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.nets import mlp
from course_lib.utils import as_array, as_count, as_scalar, check_size

__all__ = [
    "VAE",
    "gaussian_kl",
    "linear_vae",
    "mlp_vae",
    "ppca",
    "ppca_log_likelihood",
    "reparametrize",
]

_LIKELIHOODS = ("bernoulli", "gaussian")


def _tensor(x, name, ndim=None):
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point torch.Tensor, got {type(x).__name__}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {tuple(x.shape)}")
    if not torch.all(torch.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x



def reparametrize(mu, logvar, eps):
    """``z = μ + exp(logvar/2) ⊙ ε``; ``eps`` broadcasts against ``mu`` (extra leading sample
    axes allowed)."""
    mu, logvar, eps = _tensor(mu, "mu"), _tensor(logvar, "logvar"), _tensor(eps, "eps")
    if mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must have the same shape, got {tuple(mu.shape)} "
                         f"and {tuple(logvar.shape)}")
    if eps.shape[-mu.ndim:] != mu.shape:
        raise ValueError(f"eps must end with the shape of mu {tuple(mu.shape)}, "
                         f"got {tuple(eps.shape)}")
    return _reparametrize(mu, logvar, eps)


def _reparametrize(mu, logvar, eps):
    return mu + torch.exp(0.5 * logvar) * eps


def gaussian_kl(mu, logvar):
    """``KL(N(μ, diag e^{logvar}) ‖ N(0, Id))`` per coordinate,
    ``½ (μ² + e^{logvar} - 1 - logvar)``."""
    mu, logvar = _tensor(mu, "mu"), _tensor(logvar, "logvar")
    if mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must have the same shape, got {tuple(mu.shape)} "
                         f"and {tuple(logvar.shape)}")
    return _gaussian_kl(mu, logvar)


def _gaussian_kl(mu, logvar):
    return 0.5 * (mu**2 + torch.exp(logvar) - 1 - logvar)


def _log_normal(z, mu, logvar):
    """``log N(z; μ, diag e^{logvar})`` summed over the last axis."""
    sq = (z - mu) ** 2 / torch.exp(logvar)
    return -0.5 * torch.sum(math.log(2 * math.pi) + logvar + sq, dim=-1)


class VAE(nn.Module):
    """A variational autoencoder with Gaussian encoder, standard normal prior and a Bernoulli or
    Gaussian decoder (see the module docstring)."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module, q: int,
                 likelihood: str = "bernoulli"):
        super().__init__()
        if not isinstance(encoder, nn.Module) or not isinstance(decoder, nn.Module):
            raise ValueError("encoder and decoder must be torch.nn.Module instances")
        if likelihood not in _LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {_LIKELIHOODS}, got {likelihood!r}")
        self.encoder, self.decoder, self.likelihood = encoder, decoder, likelihood
        self.q = as_count(q, "q")
        check_size(self.q, "q")
        if likelihood == "gaussian":
            self.log_sigma = nn.Parameter(torch.zeros(()))

    # ------------------------------------------------------------------ the model
    def encode(self, x):
        """``(μ, log σ²)`` of ``q_φ(z|x)``, each ``(B, q)``."""
        return self._encode(_tensor(x, "x", ndim=2))

    def _encode(self, x):
        try:
            h = self.encoder(x)
        except RuntimeError as err:   # typically a shape mismatch in the first layer
            raise ValueError(f"x of shape {tuple(x.shape)} does not fit the encoder: "
                             f"{err}") from err
        if h.ndim != 2 or h.shape[1] != 2 * self.q:
            raise ValueError(f"the encoder must return (B, 2q) = (B, {2 * self.q}) numbers, "
                             f"got {tuple(h.shape)}")
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar

    def log_px_given_z(self, x, z):
        """``log p_θ(x|z)`` for ``z`` of shape ``(..., B, q)``: shape ``(..., B)``."""
        out = self.decoder(z)
        if out.shape[-1] != x.shape[-1]:
            raise ValueError(f"the decoder returns {out.shape[-1]} numbers per sample, "
                             f"x has {x.shape[-1]}")
        if self.likelihood == "bernoulli":
            bce = F.binary_cross_entropy_with_logits(out, x.expand_as(out), reduction="none")
            return -bce.sum(-1)
        s2 = torch.exp(2 * self.log_sigma)
        return -0.5 * (x.shape[-1] * torch.log(2 * math.pi * s2) + ((x - out) ** 2).sum(-1) / s2)

    def _eps(self, mu, n_samples, eps):
        if eps is None:
            return torch.randn((n_samples, *mu.shape), dtype=mu.dtype, device=mu.device)
        eps = _tensor(eps, "eps")
        return eps if eps.ndim == mu.ndim + 1 else eps.unsqueeze(0)

    # ------------------------------------------------------------------ the bounds
    def elbo(self, x, n_samples: int = 1, eps=None):
        """Monte Carlo ELBO per sample, ``(B,)``: ``n_samples`` reparametrised draws (or the given
        ``eps`` of shape ``(B, q)`` or ``(S, B, q)``) for ``E_q log p(x|z)``, the KL in closed
        form."""
        n_samples = as_count(n_samples, "n_samples")
        mu, logvar = self.encode(x)
        if eps is None:
            check_size((n_samples, *mu.shape), "n_samples")
        eps = self._eps(mu, n_samples, eps)
        if eps.shape[-2:] != mu.shape:
            raise ValueError(f"eps must have shape {tuple(mu.shape)} or (S, *{tuple(mu.shape)}), "
                             f"got {tuple(eps.shape)}")
        return self._elbo(x, mu, logvar, eps)

    def _elbo(self, x, mu, logvar, eps):
        z = _reparametrize(mu, logvar, eps)
        return self.log_px_given_z(x, z).mean(0) - _gaussian_kl(mu, logvar).sum(-1)

    def iwae(self, x, k: int):
        """The importance-weighted bound ``log (1/k) Σ_s p(x, z_s)/q(z_s|x)`` per sample."""
        k = as_count(k, "k")
        mu, logvar = self.encode(x)
        check_size((k, *mu.shape), "k")
        z = _reparametrize(mu, logvar, self._eps(mu, k, None))
        log_prior = _log_normal(z, torch.zeros_like(z), torch.zeros_like(z))
        log_w = self.log_px_given_z(x, z) + log_prior - _log_normal(z, mu, logvar)
        return torch.logsumexp(log_w, dim=0) - math.log(k)

    @torch.no_grad()
    def kl_per_dim(self, x):
        """``KL(q(z_j|x) ‖ N(0, 1))`` averaged over the samples, one number per coordinate."""
        mu, logvar = self.encode(x)
        return _gaussian_kl(mu, logvar).mean(0)

    @torch.no_grad()
    def sample(self, n: int):
        """Decoder means at ``n`` latent points drawn from the prior (probabilities if
        Bernoulli)."""
        n = as_count(n, "n")
        check_size((n, self.q), "n")
        p = next(self.decoder.parameters())
        out = self.decoder(torch.randn(n, self.q, dtype=p.dtype, device=p.device))
        return torch.sigmoid(out) if self.likelihood == "bernoulli" else out

    def forward(self, x, eps=None):
        """``-ELBO(x)`` per sample with one reparametrised draw: the training loss (``x`` is not
        re-validated here: ``nets.train`` has checked the data once)."""
        if eps is not None:
            return -self.elbo(x, 1, eps)
        mu, logvar = self._encode(x)
        eps = torch.randn((1, *mu.shape), dtype=mu.dtype, device=mu.device)
        return -self._elbo(x, mu, logvar, eps)


# ----------------------------------------------------------------------------- builders

def mlp_vae(d: int, q: int, hidden: int = 128, likelihood: str = "bernoulli") -> VAE:
    """A VAE with one hidden ``tanh`` layer in the encoder ``d → hidden → 2q`` and in the decoder
    ``q → hidden → d``."""
    d, q, hidden = as_count(d, "d"), as_count(q, "q"), as_count(hidden, "hidden")
    check_size(d, "d")
    check_size(q, "q")
    check_size((hidden, d + 2 * q + 2), "hidden")
    encoder = mlp([d, hidden, 2 * q], activation="tanh")
    return VAE(encoder, mlp([q, hidden, d], activation="tanh"), q, likelihood)


def linear_vae(d: int, q: int) -> VAE:
    """Linear encoder ``x ↦ (A x + a, C x + c)`` and decoder ``z ↦ W z + b``, Gaussian likelihood
    with scalar standard deviation: the generative model of probabilistic PCA."""
    d, q = as_count(d, "d"), as_count(q, "q")
    if q > d:
        raise ValueError(f"q must be <= d={d}, got {q}")
    check_size(d, "d")
    check_size((3 * q, d), "q")
    return VAE(nn.Sequential(nn.Linear(d, 2 * q)), nn.Sequential(nn.Linear(q, d)), q, "gaussian")


# ----------------------------------------------------------------------------- probabilistic PCA

def ppca(X, q: int):
    """Maximum-likelihood probabilistic PCA in closed form: ``(W (d, q), b (d,), s2, log_lik)``,
    ``log_lik`` the maximal *average* log-likelihood (see the module docstring)."""
    X = as_array(X, "X", ndim=2)
    n, d = X.shape
    q = as_count(q, "q")
    if q >= d:
        raise ValueError(f"q must be < d={d} (the noise variance is the mean of the d - q "
                         f"smallest eigenvalues), got {q}")
    if n < 2:
        raise ValueError("X must hold at least two samples")
    b = X.mean(0)
    lam, U = np.linalg.eigh((X - b).T @ (X - b) / n)
    lam, U = lam[::-1], U[:, ::-1]
    s2 = lam[q:].mean()
    if s2 <= 0:
        raise ValueError("X has rank <= q: the noise variance is 0 and the likelihood is unbounded")
    W = U[:, :q] * np.sqrt(np.maximum(lam[:q] - s2, 0.0))
    log_lik = -0.5 * (d * np.log(2 * np.pi) + np.log(lam[:q]).sum() + (d - q) * np.log(s2) + d)
    return W, b, float(s2), float(log_lik)


def ppca_log_likelihood(X, W, b, s2) -> float:
    """Average ``log N(x_i; b, W Wᵀ + s2 Id)`` over the rows of ``X``: the exact marginal
    log-likelihood of the linear-Gaussian model (a linear VAE's decoder)."""
    X = as_array(X, "X", ndim=2)
    if X.shape[0] == 0:
        raise ValueError("X must hold at least one sample (row)")
    d = X.shape[1]
    W = as_array(W, "W", ndim=2)
    if W.shape[0] != d:
        raise ValueError(f"W must have {d} rows (the dimension of X), got shape {W.shape}")
    b = as_array(b, "b", shape=(d,))
    s2 = as_scalar(s2, "s2", positive=True)
    C = W @ W.T + s2 * np.eye(d)
    L = np.linalg.cholesky(C)
    r = np.linalg.solve(L, (X - b).T)
    logdet = 2 * np.log(np.diag(L)).sum()
    return float(-0.5 * (d * np.log(2 * np.pi) + logdet + np.mean(np.sum(r**2, 0))))
