"""Exact attention without the ``L x S`` matrix: the online softmax and flash attention (Chapter 8).

Attention ``softmax(Q Kᵀ/√d) V`` is usually computed by materialising the ``L x S`` scores: memory
``O(L S)``. The softmax of a row ``s`` can instead be accumulated block by block with two running
statistics, the maximum ``m`` and the normaliser ``l`` (Milakov and Gimelshein 2018):

    m' = max(m, max_j s_j),   l' = e^{m - m'} l + Σ_j e^{s_j - m'},

and the output row ``o = Σ_j e^{s_j - m} v_j / l`` with it, rescaling the partial sums by
``e^{m - m'}`` each time the maximum grows. Flash attention (Dao et al. 2022) applies this to tiles
of queries and keys: memory ``O(L d + B²)`` for tiles of size ``B``, and the result is *exact*
(the same numbers up to round-off), not an approximation.

Public API (NumPy arrays or torch tensors in, float64 NumPy arrays out; batch axes in front)

* ``naive_attention(Q, K, V, causal=False)`` — ``softmax(Q Kᵀ/√d + M) V`` with the whole score matrix.
* ``online_softmax(x, block_size=1)`` — the softmax of the last axis computed with one pass of the
  running ``(m, l)`` over blocks of ``block_size`` entries, then one normalising pass.
* ``flash_attention(Q, K, V, causal=False, block_size=64)`` — attention in tiles of
  ``block_size`` queries by ``block_size`` keys with the online softmax.

Shapes: ``Q`` ``(..., L, d)``, ``K`` ``(..., S, d)``, ``V`` ``(..., S, d_v)``. ``causal`` lets query
``i`` see the keys ``j <= i + S - L``: the usual mask when ``L = S`` (PyTorch's ``is_causal``), and
for ``L < S`` the mask of decoding with a KV cache (the last ``L`` positions of ``S``), aligned to the
bottom-right corner, whereas ``is_causal`` aligns it to the top-left.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from course_lib.utils import as_array

__all__ = ["flash_attention", "naive_attention", "online_softmax"]


def _numpy(x, name):
    try:
        import torch
        if isinstance(x, torch.Tensor):
            x = x.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    a = as_array(x, name)
    if a.ndim < 2:
        raise ValueError(f"{name} must have shape (..., length, dim), got {a.shape}")
    return a


def _qkv(Q, K, V, causal):
    Q, K, V = _numpy(Q, "Q"), _numpy(K, "K"), _numpy(V, "V")
    if Q.shape[-1] != K.shape[-1]:
        raise ValueError(f"Q and K must have the same last dimension, got {Q.shape} and {K.shape}")
    if K.shape[-2] != V.shape[-2]:
        raise ValueError(f"K and V must have the same length (axis -2), got {K.shape} and {V.shape}")
    if not Q.shape[:-2] == K.shape[:-2] == V.shape[:-2]:
        raise ValueError(f"Q, K and V must have the same batch axes, got {Q.shape}, {K.shape}, "
                         f"{V.shape}")
    if Q.shape[-2] == 0 or K.shape[-2] == 0:
        raise ValueError(f"Q and K must hold at least one row, got {Q.shape} and {K.shape}")
    if causal and Q.shape[-2] > K.shape[-2]:
        raise ValueError(f"causal attention needs at least as many keys as queries, got "
                         f"Q {Q.shape} and K {K.shape}")
    return Q, K, V


def _block(block_size):
    if isinstance(block_size, bool) or not isinstance(block_size, numbers.Integral) or block_size < 1:
        raise ValueError(f"block_size must be a positive integer, got {block_size!r}")
    return int(block_size)


def naive_attention(Q, K, V, causal: bool = False) -> np.ndarray:
    """``softmax(Q Kᵀ/√d + M) V`` with the ``L x S`` scores in memory (``M`` causal, bottom-right)."""
    Q, K, V = _qkv(Q, K, V, causal)
    L, S = Q.shape[-2], K.shape[-2]
    scores = Q @ np.swapaxes(K, -1, -2) / math.sqrt(Q.shape[-1])
    if causal:
        scores[..., ~np.tri(L, S, S - L, dtype=bool)] = -np.inf
    scores -= scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ V


def online_softmax(x, block_size: int = 1) -> np.ndarray:
    """Softmax over the last axis from one streaming pass of ``(m, l)`` over blocks, then ``e^{x - m}/l``.

    ``m`` is the running maximum and ``l = Σ e^{x_j - m}`` the running normaliser; when a block
    raises the maximum from ``m`` to ``m'`` the old sum is rescaled by ``e^{m - m'}``.
    """
    x = as_array(x, "x")
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"x must have a non-empty last axis, got shape {x.shape}")
    B = _block(block_size)
    m = np.full(x.shape[:-1], -np.inf)
    l = np.zeros(x.shape[:-1])
    for j in range(0, x.shape[-1], B):
        block = x[..., j:j + B]
        m_new = np.maximum(m, block.max(axis=-1))
        l = np.exp(m - m_new) * l + np.exp(block - m_new[..., None]).sum(axis=-1)
        m = m_new
    return np.exp(x - m[..., None]) / l[..., None]


def flash_attention(Q, K, V, causal: bool = False, block_size: int = 64) -> np.ndarray:
    """Exact attention computed in tiles of ``block_size`` queries x ``block_size`` keys.

    For each tile of queries, running ``m`` (row maxima), ``l`` (row normalisers) and ``acc`` (the
    unnormalised output rows) are updated key tile by key tile:

        S = Q_i K_jᵀ/√d,  m' = max(m, rowmax S),  P = e^{S - m'},
        l = e^{m - m'} l + rowsum P,  acc = e^{m - m'} acc + P V_j,   and finally  O_i = acc / l.

    Only one ``block_size x block_size`` tile of scores exists at a time; with ``causal`` the key
    tiles entirely above the (bottom-right aligned) diagonal are skipped.
    """
    Q, K, V = _qkv(Q, K, V, causal)
    B = _block(block_size)
    L, S, d = Q.shape[-2], K.shape[-2], Q.shape[-1]
    shift = S - L                                        # query i sits at key position i + shift
    out = np.empty(Q.shape[:-1] + V.shape[-1:])
    Kt = np.swapaxes(K, -1, -2)
    for i0 in range(0, L, B):                            # the temporaries are updated in place:
        i1 = min(i0 + B, L)                              # besides Q, K, V and the output, only
        q = Q[..., i0:i1, :]                             # O(B^2 + B d) numbers are ever stored
        m = np.full(q.shape[:-1], -np.inf)
        l = np.zeros(q.shape[:-1])
        acc = np.zeros(q.shape[:-1] + V.shape[-1:])
        stop = min(S, i1 + shift) if causal else S       # later keys are masked for every row
        for j0 in range(0, stop, B):
            j1 = min(j0 + B, S)
            s = q @ Kt[..., :, j0:j1]
            s *= 1 / math.sqrt(d)
            if causal and j1 - 1 > i0 + shift:           # the tile crosses the diagonal
                rows, cols = np.arange(i0, i1)[:, None] + shift, np.arange(j0, j1)[None, :]
                s[..., cols > rows] = -np.inf
            m_new = np.maximum(m, s.max(axis=-1))
            s -= m_new[..., None]
            p = np.exp(s, out=s)                         # P = e^{S - m'}
            scale = np.exp(m - m_new)
            l *= scale
            l += p.sum(axis=-1)
            acc *= scale[..., None]
            acc += p @ V[..., j0:j1, :]
            m = m_new
        acc /= l[..., None]
        out[..., i0:i1, :] = acc
    return out
