"""State-space models: a linear recurrence computed as a loop, a convolution and a parallel scan
(Chapter 8).

The recurrence ``h_t = a_t h_{t-1} + b_t`` (``h_{-1} = 0``, entrywise products) is the core of S4
and Mamba. Three ways to compute it:

* a loop, ``n`` sequential steps;
* when ``a_t = a`` does not depend on ``t``, a causal convolution ``h_t = Σ_{s<=t} a^{t-s} b_s``,
  computed with the FFT in ``O(n log n)``;
* a parallel scan: the pairs ``(a_t, b_t)`` compose by the *associative* operator

      (a, b) • (a', b') = (a a', a' b + b')      (first (a, b), then (a', b')),

  so all prefixes ``(a_0, b_0) • ... • (a_t, b_t) = (·, h_t)`` come from a Blelloch scan: an
  up-sweep that combines neighbours pairwise (a tree of depth ``log2 n``) and a down-sweep that
  hands the prefixes back down, ``about 2n`` applications of ``•`` in ``about 2 log2 n`` parallel
  rounds.

Public API (NumPy arrays or torch tensors; the time axis is axis 0)

* ``linear_recurrence(a, b)`` — the loop.
* ``parallel_scan(a, b, return_stats=False)`` — the scan (``a`` broadcasts against ``b``); with
  ``return_stats`` also ``{"work": applications of •, "depth": rounds}``. Torch tensors keep their
  autograd graph (the operations are out of place).
* ``convolution_kernel(a, n)`` → ``(a^0, a^1, ..., a^{n-1})`` and ``causal_convolution(k, b)`` →
  ``y_t = Σ_{s<=t} k_{t-s} b_s`` by FFT (NumPy).
* ``selective_scan(x, delta, A, B, C)`` — Mamba's selective SSM for one sequence, ``x`` ``(n, D)``,
  ``delta`` ``(n, D)`` positive, ``A`` ``(D, N)`` negative, ``B``, ``C`` ``(n, N)``:

      h_t = exp(Δ_t A) ⊙ h_{t-1} + (Δ_t B_t) x_t,    y_t = h_t C_t   (h_t ∈ R^{D x N}),

  by ``parallel_scan``; ``selective_scan_loop`` is the same recurrence as a loop.
* ``SelectiveSSM(d_model, d_state=8, selective=True)`` — a layer ``x -> W_out (y ⊙ silu(z))``
  whose ``Δ``, ``B``, ``C`` are linear functions of the input (the *selection*), for a batch
  ``(batch, n, d_model)``; ``selective=False`` makes them learned constants (a time-invariant SSM,
  S4-like, whose recurrence is a convolution).
* ``SSMModel(vocab_size, d_model, n_layers, d_state=8, selective=True)`` — tokens ``(B, n)`` →
  logits ``(B, n, vocab_size)``: an embedding, ``n_layers`` residual blocks ``x + SSM(LN(x))``, a
  layer norm and a linear head (the state-space analogue of ``nets.TinyTransformer``).
"""
from __future__ import annotations

import math
import numbers

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.utils import as_array, check_size

__all__ = ["SSMModel", "SelectiveSSM", "causal_convolution", "convolution_kernel", "linear_recurrence",
           "parallel_scan", "selective_scan", "selective_scan_loop"]


def _pair(a, b):
    """``a`` and ``b`` as float arrays (or tensors) with a common time axis 0, ``a`` broadcast."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
            raise ValueError("a and b must both be torch tensors or both be arrays")
        for x, name in ((a, "a"), (b, "b")):
            if not x.is_floating_point() or not torch.all(torch.isfinite(x.detach())):
                raise ValueError(f"{name} must hold finite floating-point numbers")
    else:
        a, b = as_array(a, "a"), as_array(b, "b")
    if b.ndim == 0 or b.shape[0] == 0:
        raise ValueError(f"b must have a non-empty time axis 0, got shape {tuple(b.shape)}")
    if a.ndim == 0 or a.shape[0] != b.shape[0]:
        raise ValueError(f"a must have the same length as b along axis 0, got {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    try:
        shape = np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    except ValueError:
        raise ValueError(f"a of shape {tuple(a.shape)} does not broadcast against b of shape "
                         f"{tuple(b.shape)}") from None
    if shape != tuple(b.shape):
        raise ValueError(f"a of shape {tuple(a.shape)} must broadcast to the shape of b "
                         f"{tuple(b.shape)}")
    if isinstance(a, torch.Tensor):
        return a.expand(b.shape).to(b.dtype), b
    return np.broadcast_to(a, b.shape), b


def linear_recurrence(a, b):
    """``h_t = a_t h_{t-1} + b_t`` with ``h_{-1} = 0``, as a loop over ``t`` (axis 0)."""
    a, b = _pair(a, b)
    h = [b[0]]
    for t in range(1, b.shape[0]):
        h.append(a[t] * h[-1] + b[t])
    return torch.stack(h) if isinstance(b, torch.Tensor) else np.stack(h)


def _combine(left, right):
    """``(a, b) • (a', b') = (a a', a' b + b')``: first the left map ``h -> a h + b``, then the right."""
    (a1, b1), (a2, b2) = left, right
    return a1 * a2, a2 * b1 + b2


def _cat(xs, like):
    return torch.cat(xs) if isinstance(like, torch.Tensor) else np.concatenate(xs)


def _interleave(even, odd, n):
    """``z[0::2] = even``, ``z[1::2] = odd`` for a result of length ``n`` (out of place)."""
    if isinstance(even, torch.Tensor):
        z = torch.stack([even[: odd.shape[0]], odd], dim=1).flatten(0, 1)
        return torch.cat([z, even[odd.shape[0]:]]) if n % 2 else z
    z = np.empty((n,) + even.shape[1:], dtype=np.result_type(even, odd))
    z[0::2], z[1::2] = even, odd
    return z


def _scan(a, b, stats):
    """Inclusive scan of the pairs ``(a_t, b_t)`` under ``•`` (Blelloch, written recursively)."""
    n = b.shape[0]
    if n == 1:
        return a, b
    m = n // 2                                                 # up-sweep: combine neighbours
    pa, pb = _combine((a[0:2 * m:2], b[0:2 * m:2]), (a[1:2 * m:2], b[1:2 * m:2]))
    stats["work"] += m
    stats["depth"] += 1
    if n % 2:                                                  # the last one waits a level
        pa, pb = _cat([pa, a[-1:]], a), _cat([pb, b[-1:]], b)
    sa, sb = _scan(pa, pb, stats)                              # prefixes ending at 1, 3, 5, ...
    # down-sweep: odd t takes the prefix of its pair; even t > 0 adds itself to the previous one
    k = (n - 1) // 2                                           # number of even t > 0
    ea, eb = _combine((sa[:k], sb[:k]), (a[2:2 * k + 1:2], b[2:2 * k + 1:2]))
    if k:
        stats["work"] += k
        stats["depth"] += 1
    even_a, even_b = _cat([a[:1], ea], a), _cat([b[:1], eb], b)
    return _interleave(even_a, sa[:m], n), _interleave(even_b, sb[:m], n)


def parallel_scan(a, b, return_stats: bool = False):
    """``h_t = a_t h_{t-1} + b_t`` (``h_{-1} = 0``) along axis 0 by a Blelloch parallel scan.

    The prefix ``(a_0, b_0) • (a_1, b_1) • ... • (a_t, b_t)`` of the associative operator
    ``(a, b) • (a', b') = (a a', a' b + b')`` is the map ``h -> A_t h + h_t``, so its second entry is
    ``h_t``. Up-sweep: ``ceil(n/2)`` combined neighbours, recursively (``log2 n`` levels). Down-sweep:
    the odd positions read their prefix, the even ones combine it with themselves. Each level is one
    round of independent operations (vectorised here, parallel on a GPU): ``depth <= 2 ceil(log2 n)``
    rounds, ``work < 2 n`` applications of ``•``, against ``n - 1`` sequential ones for the loop.
    Returns ``h`` (and ``{"work", "depth"}`` with ``return_stats``).
    """
    a, b = _pair(a, b)
    stats = {"work": 0, "depth": 0}
    _, h = _scan(a, b, stats)
    return (h, stats) if return_stats else h


# ----------------------------------------------------------------------------- convolution view

def convolution_kernel(a, n: int) -> np.ndarray:
    """``K_k = a^k`` for ``k = 0..n-1`` (``a`` a scalar or an array of channels): the impulse
    response of ``h_t = a h_{t-1} + b_t``, so that ``h = K * b`` (a causal convolution)."""
    a = as_array(a, "a")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    check_size((n,) + a.shape, "n")
    return a[None] ** np.arange(n).reshape((n,) + (1,) * a.ndim)


def causal_convolution(k, b) -> np.ndarray:
    """``y_t = Σ_{s<=t} k_{t-s} b_s`` along axis 0, by FFT of length ``>= 2n`` (no wrap-around)."""
    k, b = as_array(k, "k"), as_array(b, "b")
    if b.ndim == 0 or b.shape[0] == 0 or k.ndim == 0 or k.shape[0] != b.shape[0]:
        raise ValueError(f"k and b must have the same non-empty length along axis 0, got "
                         f"{k.shape} and {b.shape}")
    n = b.shape[0]
    size = 1 << (2 * n - 1).bit_length()
    y = np.fft.irfft(np.fft.rfft(k, size, axis=0) * np.fft.rfft(b, size, axis=0), size, axis=0)
    return y[:n]


# ----------------------------------------------------------------------------- selective scan

def _selective_inputs(x, delta, A, B, C):
    torch_in = isinstance(x, torch.Tensor)
    if torch_in:
        for t, name in ((x, "x"), (delta, "delta"), (A, "A"), (B, "B"), (C, "C")):
            if not isinstance(t, torch.Tensor) or not t.is_floating_point():
                raise ValueError(f"{name} must be a floating-point torch tensor, like x")
    else:
        x, delta, A = as_array(x, "x", ndim=2), as_array(delta, "delta", ndim=2), as_array(A, "A", ndim=2)
        B, C = as_array(B, "B", ndim=2), as_array(C, "C", ndim=2)
    n, D = x.shape
    N = A.shape[1]
    for t, name, shape in ((delta, "delta", (n, D)), (A, "A", (D, N)), (B, "B", (n, N)),
                           (C, "C", (n, N))):
        if tuple(t.shape) != shape:
            raise ValueError(f"{name} must have shape {shape}, got {tuple(t.shape)}")
    if not torch_in and (np.any(delta <= 0) or np.any(A >= 0)):
        raise ValueError("delta must be positive and A negative (a stable recurrence)")
    return x, delta, A, B, C


def _discretize(x, delta, A, B):
    exp = torch.exp if isinstance(x, torch.Tensor) else np.exp
    a = exp(delta[:, :, None] * A[None])                            # (n, D, N) in (0, 1)
    b = delta[:, :, None] * B[:, None, :] * x[:, :, None]           # (n, D, N)
    return a, b


def selective_scan(x, delta, A, B, C):
    """Mamba's selective scan ``h_t = exp(Δ_t A) h_{t-1} + Δ_t B_t x_t``, ``y_t = h_t C_t``.

    ``x``, ``delta``: ``(n, D)``; ``A``: ``(D, N)``; ``B``, ``C``: ``(n, N)``; returns ``y`` ``(n, D)``.
    The transition depends on the input through ``Δ_t`` (and ``B_t``, ``C_t``): no convolution kernel
    exists, but the recurrence is still linear in ``h``, so ``parallel_scan`` applies.
    """
    x, delta, A, B, C = _selective_inputs(x, delta, A, B, C)
    h = parallel_scan(*_discretize(x, delta, A, B))
    return (h * C[:, None, :]).sum(-1)


def selective_scan_loop(x, delta, A, B, C):
    """The same recurrence as ``selective_scan``, one step at a time."""
    x, delta, A, B, C = _selective_inputs(x, delta, A, B, C)
    a, b = _discretize(x, delta, A, B)
    h, ys = 0 * b[0], []
    for t in range(x.shape[0]):
        h = a[t] * h + b[t]
        ys.append((h * C[t][None, :]).sum(-1))
    return torch.stack(ys) if isinstance(x, torch.Tensor) else np.stack(ys)


def _check_sizes(**sizes):
    """Positive integers, and parameter tensors that fit in memory (float32), each named."""
    for name, v in sizes.items():
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    d = sizes["d_model"]
    check_size((d, 2 * d), "d_model", 4)
    check_size((d, sizes["d_state"]), "d_state", 4)
    if "vocab_size" in sizes:
        check_size((sizes["vocab_size"], d), "vocab_size", 4)
        check_size((sizes["n_layers"], 6 * d * d + 3 * d * sizes["d_state"]), "n_layers", 4)


class SelectiveSSM(nn.Module):
    """A minimal Mamba-style layer on ``(batch, n, d_model)``:

        u = W_u x,  z = W_z x,  Δ = softplus(W_Δ u + b_Δ),  B = W_B u,  C = W_C u,
        y = selective_scan(u, Δ, A, B, C) + D ⊙ u,    out = W_out (y ⊙ silu(z)),

    with ``A = -exp(A_log)`` (``d_model x d_state``, initialised to ``-(1, 2, ..., d_state)``).
    Because ``Δ_t`` depends on the token, the layer can keep a token in its state (``Δ`` small: ``h``
    barely decays) or overwrite it (``Δ`` large): the selection that a time-invariant SSM lacks.
    With ``selective=False``, ``Δ``, ``B`` and ``C`` are learned constants instead.
    """

    def __init__(self, d_model: int, d_state: int = 8, selective: bool = True):
        super().__init__()
        _check_sizes(d_model=d_model, d_state=d_state)
        self.selective = bool(selective)
        self.in_proj = nn.Linear(d_model, 2 * d_model)
        if self.selective:
            self.dt_proj = nn.Linear(d_model, d_model)
            self.bc_proj = nn.Linear(d_model, 2 * d_state, bias=False)
        else:
            self.dt = nn.Parameter(torch.zeros(d_model))
            self.bc = nn.Parameter(torch.randn(2 * d_state) / math.sqrt(d_state))
        self.A_log = nn.Parameter(torch.log(torch.arange(1, d_state + 1.0)).repeat(d_model, 1))
        self.D = nn.Parameter(torch.ones(d_model))
        self.out_proj = nn.Linear(d_model, d_model)

    def forward(self, x):
        if not isinstance(x, torch.Tensor) or x.ndim != 3:
            raise ValueError("x must be a tensor of shape (batch, length, d_model)")
        if not x.is_floating_point() or not torch.isfinite(x.detach()).all():
            raise ValueError(f"x must hold finite floating-point numbers, got dtype {x.dtype}")
        u, z = self.in_proj(x).chunk(2, dim=-1)
        if self.selective:
            delta = F.softplus(self.dt_proj(u))                          # (batch, n, D)
            B, C = self.bc_proj(u).chunk(2, dim=-1)                      # (batch, n, N) each
        else:
            delta = F.softplus(self.dt).expand_as(u)
            B, C = self.bc.expand(*u.shape[:2], -1).chunk(2, dim=-1)
        A = -torch.exp(self.A_log)
        a = torch.exp(delta[..., None] * A)                              # (batch, n, D, N)
        b = delta[..., None] * B[:, :, None, :] * u[..., None]
        h = parallel_scan(a.transpose(0, 1), b.transpose(0, 1)).transpose(0, 1)
        y = (h * C[:, :, None, :]).sum(-1) + self.D * u
        return self.out_proj(y * F.silu(z))


class SSMModel(nn.Module):
    """Tokens ``(B, n)`` → logits: embedding, ``n_layers`` blocks ``x + SSM(LN(x))``, LN, head."""

    def __init__(self, vocab_size: int, d_model: int, n_layers: int, d_state: int = 8,
                 selective: bool = True):
        super().__init__()
        _check_sizes(d_model=d_model, d_state=d_state, vocab_size=vocab_size, n_layers=n_layers)
        self.embed = nn.Embedding(vocab_size, d_model)
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in range(n_layers))
        self.layers = nn.ModuleList(SelectiveSSM(d_model, d_state, selective) for _ in range(n_layers))
        self.ln, self.head = nn.LayerNorm(d_model), nn.Linear(d_model, vocab_size)

    def forward(self, tokens):
        if not isinstance(tokens, torch.Tensor) or tokens.ndim != 2 or tokens.is_floating_point():
            raise ValueError("tokens must be an integer tensor of shape (batch, length)")
        V = self.embed.num_embeddings
        if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= V):
            raise ValueError(f"tokens must be ids in [0, {V}), got {int(tokens.min())}..{int(tokens.max())}")
        x = self.embed(tokens)
        for norm, layer in zip(self.norms, self.layers):
            x = x + layer(norm(x))
        return self.head(self.ln(x))
