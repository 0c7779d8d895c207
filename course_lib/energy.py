"""Energy-based models: the restricted Boltzmann machine and contrastive divergence (Chapter 9).

A restricted Boltzmann machine (RBM) on binary visible units ``v ∈ {0,1}^{n_v}`` and hidden units
``h ∈ {0,1}^{n_h}`` has the energy and the Gibbs distribution

    E(v, h) = -bᵀv - cᵀh - vᵀ W h,       p(v, h) = exp(-E(v, h)) / Z,   Z = Σ_{v,h} exp(-E(v, h)).

There is no edge inside a layer, so the conditionals factorise,
``p(h_j = 1 | v) = σ(c_j + (vᵀW)_j)``, ``p(v_i = 1 | h) = σ(b_i + (W h)_i)``, and summing out ``h``
gives the *free energy* ``F(v) = -bᵀv - Σ_j softplus(c_j + (vᵀW)_j)``, with
``p(v) = exp(-F(v)) / Z``.
The gradient of the log-likelihood is a difference of two expectations,

    ∇_W log p(v) = v p(h|v)ᵀ - E_{p(v')}[v' p(h|v')ᵀ],

whose second term (the model's) is intractable; contrastive divergence (CD-k, Hinton 2002)
replaces it by the same statistic at the end of a ``k``-step Gibbs chain started at the data.

Public API (torch in, torch out; ``v`` has shape ``(B, n_v)``)

* ``RBM(n_visible, n_hidden, k=1)`` — parameters ``W (n_v, n_h)``, ``b (n_v,)``, ``c (n_h,)``.
  Methods: ``energy(v, h)`` and ``free_energy(v)`` (both ``(B,)``); ``p_h_given_v(v)``,
  ``p_v_given_h(h)``; ``gibbs(v, n_steps)`` (``v → h → v`` sweeps); ``sample(n, n_steps=1000,
  v0=None)`` (chains from uniform noise); ``log_partition()`` (exact, by enumerating the smaller
  layer: ``2^{min(n_v, n_h)}`` terms, at most ``2^22``); ``log_likelihood(v)`` → ``(B,)``,
  ``-F(v) - log Z``; ``cd_gradients(v)`` → ``(dW, db, dc)``, the CD-k estimate of the gradient of
  the average log-likelihood, written out as above; ``forward(v)`` → ``F(v) - F(v_k)`` per
  sample with ``v_k`` the end of the CD chain (no gradient through it): its gradient is minus the
  CD estimate, so ``nets.train(rbm, V, None, n_steps, loss="mean", optimizer="sgd")`` is CD-k.
* ``all_binary(n)`` → the ``(2^n, n)`` matrix of all binary vectors of length ``n``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.utils import as_count, as_scalar, check_size

__all__ = ["RBM", "all_binary"]

_MAX_ENUMERATION = 22



def all_binary(n: int, dtype=torch.float64) -> torch.Tensor:
    """All ``2^n`` binary vectors of length ``n``, one per row (row ``i`` is ``i`` in base 2)."""
    n = as_count(n, "n")
    if n > _MAX_ENUMERATION:
        raise ValueError(f"n must be <= {_MAX_ENUMERATION} to enumerate 2^n vectors, got {n}")
    i = torch.arange(2**n)
    return ((i[:, None] >> torch.arange(n - 1, -1, -1)) & 1).to(dtype)


class RBM(nn.Module):
    """A binary restricted Boltzmann machine (see the module docstring)."""

    def __init__(self, n_visible: int, n_hidden: int, k: int = 1):
        super().__init__()
        self.n_visible, self.n_hidden = as_count(n_visible, "n_visible"), as_count(n_hidden, "n_hidden")
        check_size(self.n_visible, "n_visible")
        check_size((self.n_visible, self.n_hidden), "n_hidden")
        self.k = as_count(k, "k")
        self.W = nn.Parameter(0.01 * torch.randn(self.n_visible, self.n_hidden))
        self.b = nn.Parameter(torch.zeros(self.n_visible))
        self.c = nn.Parameter(torch.zeros(self.n_hidden))

    def _v(self, v, name="v"):
        if not isinstance(v, torch.Tensor) or not v.is_floating_point():
            raise ValueError(f"{name} must be a floating-point torch.Tensor, "
                             f"got {type(v).__name__}")
        if v.ndim != 2 or v.shape[1] != self.n_visible:
            raise ValueError(f"{name} must have shape (B, {self.n_visible}), got {tuple(v.shape)}")
        if not torch.all((v == 0) | (v == 1)):
            raise ValueError(f"{name} must be binary (0/1 entries)")
        return v.to(self.W.dtype)

    def _h(self, h):
        if not isinstance(h, torch.Tensor) or h.ndim != 2 or h.shape[1] != self.n_hidden:
            raise ValueError(f"h must be a tensor of shape (B, {self.n_hidden})")
        return h.to(self.W.dtype)

    # ------------------------------------------------------------------ energies and conditionals
    def energy(self, v, h):
        """``E(v, h) = -bᵀv - cᵀh - vᵀWh`` per sample."""
        v, h = self._v(v), self._h(h)
        if v.shape[0] != h.shape[0]:
            raise ValueError(f"v and h must have the same number of rows, "
                             f"got {v.shape[0]} and {h.shape[0]}")
        return -(v @ self.b) - (h @ self.c) - ((v @ self.W) * h).sum(1)

    def free_energy(self, v):
        """``F(v) = -bᵀv - Σ_j softplus(c_j + (vᵀW)_j)``, so that ``p(v) ∝ exp(-F(v))``."""
        return self._free_energy(self._v(v))

    def _free_energy(self, v):
        return -(v @ self.b) - F.softplus(v @ self.W + self.c).sum(1)

    def p_h_given_v(self, v):
        return torch.sigmoid(self._v(v) @ self.W + self.c)

    def p_v_given_h(self, h):
        return torch.sigmoid(self._h(h) @ self.W.T + self.b)

    @torch.no_grad()
    def gibbs(self, v, n_steps: int = 1):
        """``n_steps`` block-Gibbs sweeps ``h ~ p(h|v)``, ``v ~ p(v|h)`` from ``v``."""
        return self._gibbs(self._v(v), as_count(n_steps, "n_steps"))

    @torch.no_grad()
    def _gibbs(self, v, n_steps):
        for _ in range(n_steps):
            h = torch.bernoulli(torch.sigmoid(v @ self.W + self.c))
            v = torch.bernoulli(torch.sigmoid(h @ self.W.T + self.b))
        return v

    # ------------------------------------------------------------------ exact likelihood
    @torch.no_grad()
    def log_partition(self) -> float:
        """``log Z``, exact: sums ``exp(-F)`` over all states of the smaller layer."""
        m = min(self.n_visible, self.n_hidden)
        if m > _MAX_ENUMERATION:
            raise ValueError(f"the smaller layer has {m} units: enumerating 2^{m} states is "
                             f"too many (at most {_MAX_ENUMERATION})")
        terms = []
        for states in all_binary(m, self.W.dtype).to(self.W.device).split(2**16):
            if self.n_hidden <= self.n_visible:   # Σ_h exp(cᵀh) Π_i (1 + exp(b_i + (W h)_i))
                terms.append(states @ self.c + F.softplus(states @ self.W.T + self.b).sum(1))
            else:                                 # Σ_v exp(-F(v))
                terms.append(-self._free_energy(states))
        return float(torch.logsumexp(torch.cat(terms), dim=0))

    @torch.no_grad()
    def log_likelihood(self, v):
        """``log p(v) = -F(v) - log Z`` per sample (exact)."""
        return -self.free_energy(v) - self.log_partition()

    # ------------------------------------------------------------------ learning
    @torch.no_grad()
    def cd_gradients(self, v, v_k=None):
        """CD-k estimate of the gradient of the average log-likelihood at the data ``v``:
        ``(⟨v p(h|v)ᵀ⟩ - ⟨v_k p(h|v_k)ᵀ⟩, ⟨v⟩ - ⟨v_k⟩, ⟨p(h|v)⟩ - ⟨p(h|v_k)⟩)``, averages over the
        batch; ``v_k`` is the end of a ``k``-step Gibbs chain from ``v`` unless given."""
        v = self._v(v)
        v_k = self.gibbs(v, self.k) if v_k is None else self._v(v_k, "v_k")
        ph, ph_k = self.p_h_given_v(v), self.p_h_given_v(v_k)
        n = v.shape[0]
        return (v.T @ ph - v_k.T @ ph_k) / n, (v - v_k).mean(0), (ph - ph_k).mean(0)

    def forward(self, v):
        """``F(v) - F(v_k)`` per sample, ``v_k`` the CD-k chain's end: minus its gradient is CD-k
        (``v`` is not re-validated: ``nets.train`` has checked the data once)."""
        v_k = self._gibbs(v, self.k)
        return self._free_energy(v) - self._free_energy(v_k)

    @torch.no_grad()
    def sample(self, n: int, n_steps: int = 1000, v0=None):
        """``n`` chains of ``n_steps`` Gibbs sweeps, started from ``v0`` or from uniform noise."""
        n = as_count(n, "n")
        if v0 is None:
            half = torch.full((n, self.n_visible), 0.5, dtype=self.W.dtype, device=self.W.device)
            v0 = torch.bernoulli(half)
        return self.gibbs(v0, n_steps)
