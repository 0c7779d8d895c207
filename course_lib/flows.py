"""Normalizing flows: densities by change of variables through affine coupling layers (Chapter 9).

An invertible map ``f : R^d → R^d`` sends the data to a latent ``z = f(x)`` with base density
``N(0, Id)``; the model's density is exact, by the change-of-variables formula,

    log p(x) = log N(f(x); 0, Id) + log |det ∂f(x)| .

A coupling layer keeps the coordinates selected by a binary ``mask`` ``m`` and moves the others by
an affine map whose scale and shift depend only on the kept ones (RealNVP, Dinh et al.):

    y = m ⊙ x + (1 - m) ⊙ (x ⊙ exp(s(m ⊙ x)) + t(m ⊙ x)),

so ``∂y/∂x`` is triangular (after reordering) and ``log |det ∂y/∂x| = Σ_i (1 - m_i) s_i(m ⊙ x)``:
the cost of a log-determinant is that of one evaluation, and the inverse is explicit,
``x = m ⊙ y + (1 - m) ⊙ (y - t(m ⊙ y)) ⊙ exp(-s(m ⊙ y))``.

Public API (torch in, torch out; ``x`` has shape ``(B, d)``)

* ``AffineCoupling(mask, hidden=64)`` — ``forward(x)`` → ``(y, log_det)``, ``inverse(y)`` → ``x``;
  ``s = scale ⊙ tanh(·)`` and ``t`` come from one MLP of the kept coordinates (``tanh`` bounds the
  scale at initialisation; ``scale`` is learned).
* ``RealNVP(d, n_layers=6, hidden=64)`` — ``n_layers`` couplings with alternating masks;
  ``transform(x)`` → ``(z, log_det)`` (data to latent), ``inverse(z)`` → ``x``,
  ``log_prob(x)`` → ``(B,)``, ``sample(n)`` → ``(n, d)``; ``forward(x)`` → ``-log p(x)`` per
  sample, the loss of ``nets.train(flow, X, None, n_steps, loss="mean")``.
* ``jacobian_log_det(f, x)`` → ``(B,)``: ``log |det ∂f(x_b)|`` from the full Jacobian computed
  by ``torch.autograd`` (the slow ``O(d^3)`` reference the coupling layers avoid); ``f`` maps a
  ``(B, d)`` batch to ``(B, d)`` sample by sample.
* ``grid_integral(log_density, xlim, ylim, n=400)`` → ``∫ p`` over the box by the midpoint rule
  (2-D densities; close to 1 when the box holds the mass).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from course_lib.nets import mlp
from course_lib.utils import as_array, as_scalar, check_size

__all__ = ["AffineCoupling", "RealNVP", "grid_integral", "jacobian_log_det"]


def _int(x, name, minimum=1, size=None):
    """An integer ``>= minimum``; ``size(v)``, when given, is the shape it asks to allocate."""
    v = as_scalar(x, name, integer=True)
    if v < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {x!r}")
    if size is not None:
        check_size(size(int(v)), name)
    return int(v)


def _batch(x, d, name="x"):
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point torch.Tensor, got {type(x).__name__}")
    if x.ndim != 2 or x.shape[1] != d:
        raise ValueError(f"{name} must have shape (B, {d}), got {tuple(x.shape)}")
    if not torch.all(torch.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


class AffineCoupling(nn.Module):
    """``y = m ⊙ x + (1 - m) ⊙ (x ⊙ exp(s) + t)`` with ``(s, t)`` functions of ``m ⊙ x``."""

    def __init__(self, mask, hidden: int = 64):
        super().__init__()
        m = torch.as_tensor(as_array(mask, "mask", ndim=1))
        if m.numel() < 2 or not torch.all((m == 0) | (m == 1)) or m.sum() in (0, m.numel()):
            raise ValueError("mask must be a 0/1 vector of length >= 2 with both values present")
        self.d = m.numel()
        self.register_buffer("mask", m.float())
        hidden = _int(hidden, "hidden", size=lambda h: (h, h + 3 * self.d))
        self.net = mlp([self.d, hidden, hidden, 2 * self.d], activation="tanh")
        self.scale = nn.Parameter(torch.ones(self.d))
        nn.init.zeros_(self.net[-1].weight)   # start at the identity map: s = t = 0
        nn.init.zeros_(self.net[-1].bias)

    def _s_t(self, kept):
        s, t = self.net(kept).chunk(2, dim=1)
        free = 1 - self.mask
        return free * self.scale * torch.tanh(s), free * t

    def forward(self, x):
        """``(y, log |det ∂y/∂x|)``; the log-determinant is ``Σ_i (1 - m_i) s_i``."""
        return self._forward(_batch(x, self.d))

    def _forward(self, x):
        kept = self.mask * x
        s, t = self._s_t(kept)
        return kept + (1 - self.mask) * (x * torch.exp(s) + t), s.sum(dim=1)

    def inverse(self, y):
        return self._inverse(_batch(y, self.d, "y"))

    def _inverse(self, y):
        kept = self.mask * y
        s, t = self._s_t(kept)
        return kept + (1 - self.mask) * (y - t) * torch.exp(-s)


class RealNVP(nn.Module):
    """A stack of affine couplings with alternating masks and a standard normal base density."""

    def __init__(self, d: int = 2, n_layers: int = 6, hidden: int = 64):
        super().__init__()
        self.d = _int(d, "d", minimum=2, size=lambda v: (v, v))
        hidden = _int(hidden, "hidden", size=lambda h: (h, h + 3 * self.d))
        n_layers = _int(n_layers, "n_layers",
                        size=lambda k: (k, (hidden + 3 * self.d) * (hidden + 1)))
        half = torch.arange(self.d) % 2
        self.layers = nn.ModuleList(AffineCoupling(half if k % 2 == 0 else 1 - half, hidden)
                                    for k in range(n_layers))

    def transform(self, x):
        """Data to latent: ``(z = f(x), log |det ∂f(x)|)``."""
        return self._transform(_batch(x, self.d))

    def _transform(self, x):
        log_det = 0
        for layer in self.layers:
            x, ld = layer._forward(x)
            log_det = log_det + ld
        return x, log_det

    def inverse(self, z):
        """Latent to data: ``x = f⁻¹(z)``, the layers inverted in reverse order."""
        z = _batch(z, self.d, "z")
        for layer in reversed(self.layers):
            z = layer._inverse(z)
        return z

    def log_prob(self, x):
        """``log p(x) = log N(f(x); 0, Id) + log |det ∂f(x)|`` per sample."""
        return self._log_prob(_batch(x, self.d))

    def _log_prob(self, x):
        z, log_det = self._transform(x)
        return -0.5 * (z**2).sum(dim=1) - 0.5 * self.d * math.log(2 * math.pi) + log_det

    @torch.no_grad()
    def sample(self, n: int):
        """``n`` samples ``f⁻¹(z)``, ``z ~ N(0, Id)``."""
        p = next(self.parameters())
        return self.inverse(torch.randn(_int(n, "n"), self.d, dtype=p.dtype, device=p.device))

    def forward(self, x):
        """``-log p(x)`` per sample: the maximum-likelihood training loss (``x`` is not
        re-validated: ``nets.train`` has checked the data once)."""
        return -self._log_prob(x)


def jacobian_log_det(f, x):
    """``log |det ∂f(x_b)|`` for each row ``x_b`` of ``x``, from ``torch.autograd``'s full
    Jacobian."""
    if not callable(f):
        raise ValueError(f"f must be a callable mapping (B, d) to (B, d), got {type(f).__name__}")
    if not isinstance(x, torch.Tensor) or x.ndim != 2 or not x.is_floating_point():
        raise ValueError("x must be a floating-point torch.Tensor of shape (B, d)")
    x = _batch(x, x.shape[1])
    with torch.no_grad():
        y = f(x)
    if not isinstance(y, torch.Tensor) or y.shape != x.shape:
        raise ValueError(f"f must map a (B, d) tensor to a (B, d) tensor, it returned "
                         f"{type(y).__name__} {tuple(getattr(y, 'shape', ()))}")
    if y.is_complex() or not torch.all(torch.isfinite(y)):
        raise ValueError("f returned NaN, infinite or complex values")
    out = []
    for xb in x:
        J = torch.autograd.functional.jacobian(lambda v: f(v[None])[0], xb)
        if J.shape != (x.shape[1], x.shape[1]):
            raise ValueError(f"f must map R^{x.shape[1]} to itself, its Jacobian has shape "
                             f"{tuple(J.shape)}")
        if not torch.all(torch.isfinite(J)):
            raise ValueError("f returned NaN or infinite values (its Jacobian is not finite)")
        out.append(torch.linalg.slogdet(J)[1])
    return torch.stack(out)


@torch.no_grad()
def grid_integral(log_density, xlim, ylim, n: int = 400) -> float:
    """Midpoint-rule integral of ``exp(log_density)`` over ``xlim × ylim`` on an ``n × n`` grid."""
    if not callable(log_density):
        raise ValueError("log_density must be a callable (m, 2) tensor -> (m,) tensor")
    (x0, x1), (y0, y1) = as_array(xlim, "xlim", shape=(2,)), as_array(ylim, "ylim", shape=(2,))
    if x1 <= x0 or y1 <= y0:
        raise ValueError("xlim and ylim must be increasing pairs (low, high)")
    n = _int(n, "n", minimum=2, size=lambda v: (v * v, 2))
    hx, hy = (x1 - x0) / n, (y1 - y0) / n
    gx = torch.linspace(x0 + hx / 2, x1 - hx / 2, n, dtype=torch.float64)
    gy = torch.linspace(y0 + hy / 2, y1 - hy / 2, n, dtype=torch.float64)
    P = torch.cartesian_prod(gx, gy)
    values = log_density(P)
    if not isinstance(values, torch.Tensor) or values.shape != (n * n,):
        raise ValueError(f"log_density must return one number per point, shape ({n * n},)")
    if torch.any(torch.isnan(values)) or torch.any(values == float("inf")):
        raise ValueError("log_density returned NaN or +inf")
    return float(torch.exp(values).sum() * hx * hy)
