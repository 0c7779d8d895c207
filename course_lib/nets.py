"""Neural networks written out in PyTorch: MLPs, a small CNN, ResNets, attention, a tiny transformer
(Chapter 4; Chapter 5 builds on the same pieces).

Public API (names and meanings are stable: other chapters import them)

Builders — each returns a ``torch.nn.Module`` in float32 (call ``.double()`` for float64 checks);
``activation`` is a name (``"relu"``, ``"tanh"``, ``"gelu"``, ``"sigmoid"``, ``"identity"``), an
``nn.Module`` or any callable acting entrywise on tensors.

* ``mlp(widths, activation="relu", bias=True)`` — ``x_{k+1} = σ(W_k x_k + b_k)`` through
  ``widths = [d_in, h_1, ..., h_L, d_out]``, no activation after the last layer.
* ``small_cnn(n_classes=10, channels=(16, 32), in_channels=1, image_size=8)`` — two stages
  ``3x3 conv → ReLU → 2x2 max-pool`` and a linear head; input ``(B, in_channels, H, W)``.
* ``plain_net(d_in, width, depth, d_out, activation="relu")`` — ``depth`` hidden layers
  ``x_{t+1} = σ(W_t x_t + b_t)`` of the same width.
* ``ResidualBlock(width, scale=1.0, activation="relu")`` — ``x + scale * (W_2 σ(W_1 x + b_1) + b_2)``.
* ``resnet(d_in, width, depth, d_out, scale=1.0, activation="relu")`` — linear embedding, ``depth``
  residual blocks, linear head (the same parameter count per block as two layers of ``plain_net``).
* ``he_init(model, seed=0)`` — re-draw the weights of every linear and convolution layer from
  ``N(0, 2 / fan_in)`` and set the biases to 0 (He's initialisation), in place; returns ``model``.

Attention — tensors ``(..., L, d)``; masks are boolean (``True`` = may attend, as in
``torch.nn.functional.scaled_dot_product_attention``) or float (added to the scores).

* ``attention(q, k, v, mask=None, causal=False)`` → ``(out, weights)``,
  ``out = softmax(q kᵀ/√d + M) v``, ``weights`` the softmax matrix (rows sum to one).
* ``MultiHeadAttention(d_model, n_heads, bias=True, rope=False)`` — self-attention with ``n_heads``
  heads of size ``d_model // n_heads``; ``forward(x, mask=None, causal=False, cache=None)``; the
  attention weights of the last call are kept in ``.weights`` with shape ``(B, n_heads, L, S)``.
  ``rope=True`` rotates queries and keys by ``apply_rope`` (Chapter 8). ``cache``, a dict (empty at
  the first call), keeps the keys and values of the tokens seen so far: each call appends those of
  ``x`` and attends to all of them (with ``causal``, query ``i`` of ``x`` sees the keys up to its own
  position ``S - L + i``: the causal mask aligned to the bottom-right corner).
* ``sinusoidal_positions(n_positions, d_model)`` — the ``(n_positions, d_model)`` encodings
  ``P[t, 2i] = sin(t / 10000^{2i/d})``, ``P[t, 2i+1] = cos(t / 10000^{2i/d})``.
* ``apply_rope(x, offset=0, base=10000.0)`` — rotary positions (Su et al.): in ``x`` of shape
  ``(..., L, d)``, each pair ``(x[2i], x[2i+1])`` of the row at position ``m = offset + t`` turns by
  the angle ``m θ_i``, ``θ_i = base^{-2i/d}`` (interleaved pairs), so that
  ``<R_m q, R_n k>`` depends on ``m - n`` only.
* ``TransformerBlock(d_model, n_heads, d_ff=None, causal=False, rope=False)`` — pre-norm block
  ``h = x + MHA(LN(x))``, ``out = h + MLP(LN(h))``; ``forward(x, mask=None, cache=None)``.
* ``TinyTransformer(vocab_size, d_model, n_heads, n_layers, max_len, d_ff=None,
  positions="sinusoidal", causal=False, n_out=None)`` — tokens ``(B, L)`` → logits ``(B, L, n_out)``;
  ``positions`` is ``"sinusoidal"``, ``"learned"``, ``"rope"`` or ``None``; ``.attention_maps()``
  lists the weights of each layer from the last forward pass; ``forward(tokens, cache=None)`` with
  ``cache`` a list of one dict per layer (``[{} for _ in range(n_layers)]`` at the start) decodes
  incrementally: the logits of the new tokens, as if the whole sequence had been passed.

Convolution as a matrix

* ``conv1d_matrix(w, n, padding=0, circular=False)`` — the ``(n_out, n)`` Toeplitz (or circulant)
  matrix ``M`` with ``M @ x == conv1d(x, w)`` (PyTorch's cross-correlation).

Training (seeded, with a ``tqdm`` progress bar; runs on the device the model lives on)

* ``train(model, X, y, n_steps, batch_size=64, lr=1e-3, loss="cross_entropy", optimizer="adam",
  weight_decay=0.0, seed=0, progress=True, desc="training", betas=(0.9, 0.999), shuffle=True,
  step=None, schedule="constant", warmup=0)`` → ``np.ndarray`` of the minibatch losses, one per
  step; ``"adam"`` and ``"sgd"`` are written out (same iterates as ``torch.optim``);
  ``schedule="cosine"`` decays the step to 0, after ``warmup`` steps of linear increase. Unsupervised models (Chapter 9) pass ``y=None``
  and ``loss="mean"``: the model's output is a per-sample loss (a negative ELBO, a negative
  log-likelihood) and its mean is minimised. ``step(X_batch, y_batch) -> float`` replaces the
  gradient step by the caller's own update (a GAN's alternating steps), keeping the batches, the
  seed and the progress bar.
* ``Optimizer(params, name="adam", lr=1e-3, weight_decay=0.0, betas=(0.9, 0.999))`` — the update of
  ``train`` as an object: ``.zero_grad()``, then ``.step()`` after ``backward()``.
* ``evaluate(model, X, y, loss="cross_entropy")`` → the loss on the whole set (a float).
* ``accuracy(model, X, y)`` → the fraction of ``argmax`` predictions equal to ``y``.
* ``count_parameters(model)`` → the number of trainable scalars.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.utils import as_array, as_choice, as_count, as_scalar, check_size, GrowthMonitor

__all__ = [
    "accuracy",
    "apply_rope",
    "attention",
    "conv1d_matrix",
    "count_parameters",
    "evaluate",
    "he_init",
    "mlp",
    "MultiHeadAttention",
    "Optimizer",
    "plain_net",
    "ResidualBlock",
    "resnet",
    "sinusoidal_positions",
    "small_cnn",
    "TinyTransformer",
    "train",
    "TransformerBlock",
]


# ----------------------------------------------------------------------------- validation helpers


class _Lambda(nn.Module):
    """Wrap an entrywise function ``f`` (e.g. ``lambda t: t**2``) as a module."""

    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, x):
        return self.f(x)


_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "sigmoid": nn.Sigmoid,
                "identity": nn.Identity}


def _activation(activation, name="activation") -> nn.Module:
    """A fresh module for ``activation`` (a name, a module, a module class or a callable)."""
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            raise ValueError(f"{name} must be one of {sorted(_ACTIVATIONS)} or a callable, got {activation!r}")
        return _ACTIVATIONS[activation]()
    if isinstance(activation, type) and issubclass(activation, nn.Module):
        activation = activation()
    elif not isinstance(activation, nn.Module):
        if not callable(activation):
            raise ValueError(f"{name} must be a name, a torch module or a callable, "  # noqa: TRY004
                             f"got {type(activation).__name__}")
        activation = _Lambda(activation)
    t = torch.linspace(-3.0, 3.0, 7)                    # try it once: a bad one fails here, by name
    with torch.no_grad():
        out = activation(t)
    if not isinstance(out, torch.Tensor) or out.shape != t.shape or not out.is_floating_point():
        raise ValueError(f"{name} must map a tensor to a real tensor of the same shape, got "
                         f"{type(out).__name__} {getattr(out, 'shape', '')} {getattr(out, 'dtype', '')}")
    if not torch.isfinite(out).all():
        raise ValueError(f"{name} returned NaN or inf on [-3, 3]")
    return activation


# ----------------------------------------------------------------------------- builders

def mlp(widths, activation="relu", bias: bool = True) -> nn.Sequential:
    """Multi-layer perceptron ``x_{k+1} = σ(W_k x_k + b_k)``, ``k = 0..L``, linear last layer.

    ``widths = [d_in, h_1, ..., h_L, d_out]`` (at least two entries; ``[d_in, d_out]`` is a linear
    model). PyTorch's default initialisation: entries of ``W_k`` uniform in ``±1/sqrt(fan_in)``.
    """
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__") or len(widths) < 2:
        raise ValueError(f"widths must be a sequence [d_in, ..., d_out] of length >= 2, got {widths!r}")
    widths = [as_count(w, "widths") for w in widths]
    for a, b in zip(widths[:-1], widths[1:]):
        check_size((a + 1, b), "widths")
    _activation(activation)  # validate it even when there is no hidden layer
    layers = []
    for k, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b, bias=bias))
        if k < len(widths) - 2:
            layers.append(_activation(activation))
    return nn.Sequential(*layers)


def small_cnn(n_classes: int = 10, channels=(16, 32), in_channels: int = 1, image_size: int = 8) -> nn.Sequential:
    """A LeNet-style network for small images, input ``(B, in_channels, image_size, image_size)``.

    ``conv3x3(padding 1) → ReLU → maxpool 2`` twice (the image side halves each time), then a linear
    layer from the flattened feature maps to ``n_classes`` logits. The first module (``net[0]``) is
    the first convolution: its ``weight`` holds the learned filters, shape ``(channels[0], in_channels, 3, 3)``.
    """
    n_classes = as_count(n_classes, "n_classes")
    in_channels = as_count(in_channels, "in_channels")
    image_size = as_count(image_size, "image_size", minimum=4)
    if isinstance(channels, (str, bytes)) or not hasattr(channels, "__len__") or len(channels) != 2:
        raise ValueError(f"channels must be a pair (c1, c2), got {channels!r}")
    c1, c2 = (as_count(c, "channels") for c in channels)
    check_size((c2, c1, 9), "channels")
    check_size((c1, in_channels, 9), "in_channels")
    side = image_size // 4
    check_size((c2, side, side), "image_size")
    check_size((c2 * side * side, n_classes), "n_classes")
    return nn.Sequential(
        nn.Conv2d(in_channels, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * side * side, n_classes),
    )


def plain_net(d_in: int, width: int, depth: int, d_out: int, activation="relu") -> nn.Sequential:
    """A plain deep network: ``depth`` hidden layers of size ``width``, then a linear head.

    ``x_1 = σ(W_0 x + b_0)``, ``x_{t+1} = σ(W_t x_t + b_t)`` for ``t = 1..depth-1``, output ``W x_depth + b``.
    """
    d_in, width, d_out = as_count(d_in, "d_in"), as_count(width, "width"), as_count(d_out, "d_out")
    depth = as_count(depth, "depth")
    _check_layers(d_in, width, depth, d_out, 1)
    return mlp([d_in] + [width] * depth + [d_out], activation=activation)


def _check_layers(d_in, width, depth, d_out, per_block):
    """Refuse, by name, a network whose weights would not fit in memory."""
    check_size((width, width), "width")
    check_size((d_in, width), "d_in")
    check_size((depth, per_block, width, width), "depth")
    check_size((width, d_out), "d_out")


class ResidualBlock(nn.Module):
    """``x ↦ x + scale * v(x)`` with the two-layer residual ``v(x) = W_2 σ(W_1 x + b_1) + b_2``.

    The Jacobian is ``Id + scale * ∂v(x)``: close to the identity when ``v`` is small, so products of
    many such Jacobians (backpropagation through a deep ResNet) neither vanish nor explode as fast as
    products of plain layers. ``scale = 1/depth`` or ``1/sqrt(depth)`` gives the ODE limits of Chapter 5.
    """

    def __init__(self, width: int, scale: float = 1.0, activation="relu"):
        super().__init__()
        width = as_count(width, "width")
        check_size((2, width, width), "width")
        self.scale = as_scalar(scale, "scale")
        self.lin1, self.act, self.lin2 = nn.Linear(width, width), _activation(activation), nn.Linear(width, width)

    def forward(self, x):
        return x + self.scale * self.lin2(self.act(self.lin1(x)))


def resnet(d_in: int, width: int, depth: int, d_out: int, scale: float = 1.0, activation="relu") -> nn.Sequential:
    """A residual network: ``x_0 = W_in x``, ``x_{t+1} = x_t + scale * v_t(x_t)`` (``depth`` blocks), ``W_out x_depth``."""
    d_in, width, d_out = as_count(d_in, "d_in"), as_count(width, "width"), as_count(d_out, "d_out")
    depth = as_count(depth, "depth")
    _check_layers(d_in, width, depth, d_out, 2)
    blocks = [ResidualBlock(width, scale=scale, activation=activation) for _ in range(depth)]
    return nn.Sequential(nn.Linear(d_in, width), *blocks, nn.Linear(width, d_out))


def he_init(model: nn.Module, seed: int = 0) -> nn.Module:
    """He's initialisation, in place: weights ``N(0, 2 / fan_in)``, biases ``0``, for every
    ``nn.Linear`` and ``nn.Conv*d`` of ``model``; returns ``model``.

    With relu, a layer then keeps the mean square of the signal (and of the backpropagated gradient)
    constant on average, where PyTorch's default (uniform in ``±1/sqrt(fan_in)``) divides it by 6.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    gen = torch.Generator().manual_seed(as_count(seed, "seed", minimum=0))
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
                fan_in = layer.weight[0].numel()
                w = torch.randn(layer.weight.shape, generator=gen, dtype=torch.float64)
                layer.weight.copy_(w * math.sqrt(2.0 / fan_in))
                if layer.bias is not None:
                    layer.bias.zero_()
    return model


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars of ``model``."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ----------------------------------------------------------------------------- convolution

def conv1d_matrix(w, n: int, padding: int = 0, circular: bool = False) -> np.ndarray:
    """The matrix of the 1-D convolution (cross-correlation, as in PyTorch) with the filter ``w``.

    For ``x ∈ R^n`` padded by ``padding`` zeros (or periodically, if ``circular``) on both sides,
    ``(w ⋆ x)_i = Σ_j w_j x_{i + j - padding}``, ``i = 0..n_out-1``, ``n_out = n + 2 padding - len(w) + 1``.
    Hence ``M[i, i + j - padding] = w_j``: ``M`` is constant along its diagonals (Toeplitz), and
    circulant when ``circular`` and ``n_out = n``. One filter of ``len(w)`` numbers is shared by all
    ``n_out`` rows: that is weight sharing.
    """
    w = as_array(w, "w", ndim=1)
    n = as_count(n, "n")
    padding = as_count(padding, "padding", minimum=0)
    if w.size == 0:
        raise ValueError("w must hold at least one number")
    if circular and padding > n:
        raise ValueError(f"padding must be <= n for circular padding, got padding={padding} > n={n}")
    n_out = n + 2 * padding - w.size + 1
    if n_out < 1:
        raise ValueError(f"w is longer than the padded signal: len(w)={w.size}, n + 2 padding={n + 2 * padding}")
    check_size((n, n), "n")
    check_size((n_out, n), "padding")
    M = np.zeros((n_out, n))
    for i in range(n_out):
        for j in range(w.size):
            c = i + j - padding
            if circular:
                M[i, c % n] += w[j]
            elif 0 <= c < n:
                M[i, c] = w[j]
    return M


# ----------------------------------------------------------------------------- attention

def _tensor(x, name):
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise ValueError(f"{name} must hold floating-point numbers, got dtype {x.dtype}")
    if x.ndim < 2:
        raise ValueError(f"{name} must have shape (..., length, dim), got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def attention(q, k, v, mask=None, causal: bool = False):
    """Scaled dot-product attention, written out: returns ``(out, weights)`` with

        weights = softmax(q kᵀ / √d + M)   (softmax over the last axis),   out = weights v,

    for ``q`` of shape ``(..., L, d)``, ``k`` ``(..., S, d)``, ``v`` ``(..., S, d_v)``. ``M`` is
    ``-inf`` where a boolean ``mask`` is ``False`` (and above the diagonal when ``causal``), or the
    float ``mask`` itself (finite or ``-inf``), broadcast to ``(..., L, S)``. A query that may attend
    to nothing (a row of ``M`` all ``-inf``) gets zero weights and a zero output, as in
    ``torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)``,
    which this equals.
    """
    q, k, v = _tensor(q, "q"), _tensor(k, "k"), _tensor(v, "v")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must have the same last dimension, got {q.shape[-1]} and {k.shape[-1]}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v must have the same length (axis -2), got {k.shape[-2]} and {v.shape[-2]}")
    L, S = q.shape[-2], k.shape[-2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        allowed = torch.ones(L, S, dtype=torch.bool, device=q.device).tril()
        scores = scores.masked_fill(~allowed, float("-inf"))
    if mask is not None:
        if not isinstance(mask, torch.Tensor):
            raise ValueError(f"mask must be a torch.Tensor (boolean or float), got {type(mask).__name__}")
        try:
            torch.broadcast_shapes(mask.shape, scores.shape)
        except RuntimeError:
            raise ValueError(f"mask of shape {tuple(mask.shape)} does not broadcast to the scores "
                             f"{tuple(scores.shape)}") from None
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, float("-inf"))
        elif mask.is_floating_point():
            if torch.isnan(mask).any() or torch.isposinf(mask).any():
                raise ValueError("mask must hold finite numbers or -inf (a float mask is added to "
                                 "the scores), got NaN or +inf")
            scores = scores + mask
        else:
            raise ValueError(f"mask must be boolean or floating-point, got dtype {mask.dtype}")
    # a row that may attend to nothing: zero weights (a softmax of -inf alone would be NaN); its
    # scores are set to 0 first so that the gradient through the softmax stays finite
    dead = torch.isneginf(scores).all(dim=-1, keepdim=True)
    if dead.any():
        weights = torch.softmax(scores.masked_fill(dead, 0.0), dim=-1).masked_fill(dead, 0.0)
    else:
        weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


class MultiHeadAttention(nn.Module):
    """Multi-head self-attention ``MHA(x) = concat(head_1, ..., head_H) W_O``, with
    ``head_h = attention(x W_Q^h, x W_K^h, x W_V^h)``.

    The ``H = n_heads`` heads split ``d_model`` into blocks of ``d_model / H`` columns of the
    projections ``q_proj``, ``k_proj``, ``v_proj`` (``nn.Linear(d_model, d_model)`` each);
    ``out_proj`` is ``W_O``. Input ``(B, L, d_model)``. Without positional information it is
    permutation equivariant: permuting the tokens of ``x`` permutes the rows of the output.
    """

    def __init__(self, d_model: int, n_heads: int, bias: bool = True, rope: bool = False):
        super().__init__()
        d_model, n_heads = as_count(d_model, "d_model"), as_count(n_heads, "n_heads")
        if d_model % n_heads:
            raise ValueError(f"n_heads must divide d_model, got d_model={d_model}, n_heads={n_heads}")
        if rope and (d_model // n_heads) % 2:
            raise ValueError(f"rope needs an even head size, got d_model/n_heads={d_model // n_heads}")
        check_size((4, d_model, d_model), "d_model")
        self.d_model, self.n_heads, self.rope = d_model, n_heads, bool(rope)
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d_model, d_model, bias=bias)
                                                               for _ in range(4))
        self.weights = None

    def forward(self, x, mask=None, causal: bool = False, cache: dict | None = None):
        x = _tensor(x, "x")
        if x.shape[-1] != self.d_model:
            raise ValueError(f"x must have last dimension d_model={self.d_model}, got {tuple(x.shape)}")
        *batch, L, _ = x.shape
        split = lambda t: t.reshape(*batch, L, self.n_heads, -1).transpose(-3, -2)  # (..., H, L, d_h)
        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        if cache is not None and not isinstance(cache, dict):
            raise ValueError(f"cache must be a dict (empty at the first call), got {type(cache).__name__}")
        past = cache["k"].shape[-2] if cache else 0
        if self.rope:
            q, k = apply_rope(q, past), apply_rope(k, past)
        if cache is not None:
            if past:
                k, v = torch.cat([cache["k"], k], dim=-2), torch.cat([cache["v"], v], dim=-2)
            cache["k"], cache["v"] = k, v
            if causal and past:             # query i sits at position past + i: bottom-right mask
                if mask is not None:
                    raise ValueError("mask cannot be combined with a non-empty cache")
                mask = torch.ones(L, past + L, dtype=torch.bool, device=x.device).tril(past)
                causal = False
        out, w = attention(q, k, v, mask=mask, causal=causal)
        self.weights = w.detach()
        return self.out_proj(out.transpose(-3, -2).reshape(*batch, L, self.d_model))


def sinusoidal_positions(n_positions: int, d_model: int) -> torch.Tensor:
    """Sinusoidal positional encodings of Vaswani et al., shape ``(n_positions, d_model)``, float32:

        P[t, 2i] = sin(t ω_i),   P[t, 2i+1] = cos(t ω_i),   ω_i = 10000^{-2i/d_model}.

    For every offset ``s``, ``P[t + s]`` is a fixed linear function (rotations) of ``P[t]``.
    """
    n_positions, d_model = as_count(n_positions, "n_positions"), as_count(d_model, "d_model")
    if d_model % 2:
        raise ValueError(f"d_model must be even for sinusoidal positions, got {d_model}")
    check_size((n_positions, 1), "n_positions")
    check_size((d_model, 1), "d_model")
    check_size((n_positions, d_model), "n_positions")
    t = torch.arange(n_positions, dtype=torch.float64)[:, None]
    omega = 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    P = torch.zeros(n_positions, d_model, dtype=torch.float64)
    P[:, 0::2], P[:, 1::2] = torch.sin(t * omega), torch.cos(t * omega)
    return P.float()


def apply_rope(x, offset: int = 0, base: float = 10000.0):
    """Rotary position embedding of Su et al. (RoFormer), interleaved-pair convention.

    For ``x`` of shape ``(..., L, d)`` (``d`` even), the row ``t`` sits at position ``m = offset + t``
    and each pair ``(x_{2i}, x_{2i+1})``, read as the complex number ``x_{2i} + i x_{2i+1}``, is
    multiplied by ``e^{i m θ_i}`` with ``θ_i = base^{-2i/d}``:

        out_{2i} = x_{2i} cos(m θ_i) - x_{2i+1} sin(m θ_i),
        out_{2i+1} = x_{2i} sin(m θ_i) + x_{2i+1} cos(m θ_i).

    Rotations preserve inner products, so ``<R_m q, R_n k> = <q, R_{n-m} k>`` depends on ``n - m``
    only. (GPT-NeoX and LLaMA's Hugging Face code pair ``x_i`` with ``x_{i + d/2}`` instead,
    "rotate-half": the same rotations on permuted coordinates, not interchangeable with these.)
    """
    x = _tensor(x, "x")
    offset = as_count(offset, "offset", minimum=0)
    base = as_scalar(base, "base", positive=True)
    L, d = x.shape[-2], x.shape[-1]
    if d % 2:
        raise ValueError(f"x must have an even last dimension for rotary positions, got {d}")
    m = torch.arange(offset, offset + L, dtype=torch.float64, device=x.device)
    theta = base ** (-torch.arange(0, d, 2, dtype=torch.float64, device=x.device) / d)
    angle = m[:, None] * theta                                     # (L, d/2)
    cos, sin = torch.cos(angle).to(x.dtype), torch.sin(angle).to(x.dtype)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2)


class TransformerBlock(nn.Module):
    """Pre-norm transformer block: ``h = x + MHA(LN(x))``, ``out = h + W_2 GELU(W_1 LN(h))``.

    ``d_ff`` (default ``4 d_model``) is the hidden width of the MLP; ``causal`` makes position ``i``
    attend to positions ``<= i`` only; ``rope`` rotates queries and keys (``apply_rope``); ``cache``
    is passed to the attention (see ``MultiHeadAttention``).
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int | None = None, causal: bool = False,
                 rope: bool = False):
        super().__init__()
        d_model = as_count(d_model, "d_model")
        d_ff = 4 * d_model if d_ff is None else as_count(d_ff, "d_ff")
        check_size((4, d_model, d_model), "d_model")
        check_size((2, d_model, d_ff), "d_ff")
        self.causal = bool(causal)
        self.ln1, self.attn = nn.LayerNorm(d_model), MultiHeadAttention(d_model, n_heads, rope=rope)
        self.ln2, self.mlp = nn.LayerNorm(d_model), mlp([d_model, d_ff, d_model], activation="gelu")

    def forward(self, x, mask=None, cache=None):
        h = x + self.attn(self.ln1(x), mask=mask, causal=self.causal, cache=cache)
        return h + self.mlp(self.ln2(h))


class TinyTransformer(nn.Module):
    """A small transformer on token sequences: logits ``(B, L, n_out)`` from tokens ``(B, L)``.

    ``x_0 = E[tokens] + P[:L]`` (token embedding plus positions: ``"sinusoidal"``, ``"learned"`` or
    ``None``; with ``"rope"`` nothing is added and every attention rotates its queries and keys), then ``n_layers`` :class:`TransformerBlock`, a final layer norm and a linear head to
    ``n_out`` classes (default ``vocab_size``). Non-causal by default (an encoder: every output sees
    the whole input, as needed to sort it); ``causal=True`` gives a decoder as in GPT.
    """

    def __init__(self, vocab_size: int, d_model: int, n_heads: int, n_layers: int, max_len: int,
                 d_ff: int | None = None, positions="sinusoidal", causal: bool = False, n_out: int | None = None):
        super().__init__()
        vocab_size, d_model = as_count(vocab_size, "vocab_size"), as_count(d_model, "d_model")
        n_layers, max_len = as_count(n_layers, "n_layers"), as_count(max_len, "max_len")
        n_out = vocab_size if n_out is None else as_count(n_out, "n_out")
        as_choice(positions, "positions", ("sinusoidal", "learned", "rope", None))
        check_size((4, d_model, d_model), "d_model")
        check_size((vocab_size, d_model), "vocab_size")
        check_size((max_len, d_model), "max_len")
        check_size((n_layers, 12, d_model, d_model), "n_layers")
        check_size((n_out, d_model), "n_out")
        if d_ff is not None:
            check_size((n_layers, 2, d_model, as_count(d_ff, "d_ff")), "d_ff")
        self.vocab_size = vocab_size
        self.max_len, self.positions = max_len, positions
        self.embed = nn.Embedding(vocab_size, d_model)
        if positions == "sinusoidal":
            self.register_buffer("pos", sinusoidal_positions(max_len, d_model))
        elif positions == "learned":
            self.pos = nn.Parameter(0.02 * torch.randn(max_len, d_model))
        else:                                                      # None or "rope"
            self.pos = None
        rope = positions == "rope"
        self.blocks = nn.ModuleList(TransformerBlock(d_model, n_heads, d_ff, causal, rope=rope)
                                    for _ in range(n_layers))
        self.ln, self.head = nn.LayerNorm(d_model), nn.Linear(d_model, n_out)

    def forward(self, tokens, cache=None):
        if not isinstance(tokens, torch.Tensor) or tokens.dtype not in (torch.int32, torch.int64) or tokens.ndim != 2:
            raise ValueError("tokens must be an integer tensor of shape (batch, length)")
        if cache is not None and (not isinstance(cache, list) or len(cache) != len(self.blocks)):
            raise ValueError(f"cache must be a list of {len(self.blocks)} dicts, one per layer")
        past = cache[0]["k"].shape[-2] if cache and cache[0] else 0
        L = tokens.shape[1]
        if past + L > self.max_len:
            raise ValueError(f"tokens are longer ({past + L}) than max_len={self.max_len}")
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= self.vocab_size):
            raise ValueError(f"tokens must lie in [0, vocab_size) = [0, {self.vocab_size}), got "
                             f"values in [{int(tokens.min())}, {int(tokens.max())}]")
        x = self.embed(tokens)
        if isinstance(self.pos, torch.Tensor):
            x = x + self.pos[past:past + L]
        for i, block in enumerate(self.blocks):
            x = block(x, cache=None if cache is None else cache[i])
        return self.head(self.ln(x))

    def attention_maps(self) -> list:
        """Attention weights ``(B, n_heads, L, L)`` of each layer from the last forward pass."""
        return [block.attn.weights for block in self.blocks]


# ----------------------------------------------------------------------------- training

def _model(model):
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    p = next(model.parameters(), None)
    return (p.device, p.dtype) if p is not None else (torch.device("cpu"), torch.get_default_dtype())


def _to_tensor(x, name, device, dtype, keep_integers):
    """``x`` as a tensor on ``device`` with at least one row: floating-point data in ``dtype``;
    integers kept when ``keep_integers`` (labels, tokens), else converted to ``dtype`` (features)."""
    if isinstance(x, torch.Tensor):
        t = x
    else:
        if x is None or isinstance(x, (str, bytes)):
            raise ValueError(f"{name} must be an array or a tensor, got {x!r}")
        try:
            t = torch.as_tensor(np.asarray(x))
        except (TypeError, ValueError, RuntimeError):
            raise ValueError(f"{name} must be an array or a tensor, got {type(x).__name__}") from None
    if t.is_complex():
        raise ValueError(f"{name} must hold real numbers, got dtype {t.dtype}")
    if t.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension (one row per sample)")
    if t.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample (row), got shape {tuple(t.shape)}")
    if t.is_floating_point():
        if not torch.all(torch.isfinite(t)):
            raise ValueError(f"{name} contains NaN or infinite values")
        t = t.to(dtype)
    elif t.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool):
        raise ValueError(f"{name} must hold real numbers, got dtype {t.dtype}")
    elif not keep_integers:
        t = t.to(dtype)
    return t.to(device)


_LOSSES = ("cross_entropy", "mse")


def _check_labels(y, C):
    """Labels must lie in ``[0, C)``, or be -100: a position that the loss ignores, as in torch
    (which fails deep inside on any other label out of range)."""
    kept = y[y != -100]
    if kept.numel() and (int(kept.min()) < 0 or int(kept.max()) >= C):
        raise ValueError(f"y must hold class labels in [0, {C}) (the model has {C} outputs) or -100 "
                         f"(ignored), got labels in [{int(kept.min())}, {int(kept.max())}]")


def _cross_entropy(out, y):
    """Cross-entropy of logits ``(B, C)`` or ``(B, L, C)`` against labels ``(B,)`` or ``(B, L)``."""
    _check_labels(y, out.shape[-1])
    if out.shape[:-1] != y.shape:
        raise ValueError(f"y must have shape {tuple(out.shape[:-1])} to match the logits "
                         f"{tuple(out.shape)}, got {tuple(y.shape)}")
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))


def _loss_fn(loss, unsupervised=False):
    if unsupervised:  # y is None: the model's output is a per-sample loss, or loss(output) a scalar
        if isinstance(loss, str) and loss == "mean":
            return lambda out, y: out.mean()
        if callable(loss):
            return lambda out, y: loss(out)
        raise ValueError(f"loss must be 'mean' or a callable output -> scalar when y is None, "
                         f"got {loss!r}")
    if callable(loss):
        return loss
    if isinstance(loss, str) and loss == "cross_entropy":
        return _cross_entropy
    if isinstance(loss, str) and loss == "mse":
        return lambda out, y: F.mse_loss(out.reshape(y.shape), y)
    raise ValueError(f"loss must be one of {_LOSSES} or a callable (output, y) -> scalar, got {loss!r}")


def _data(model, X, y, loss):
    device, dtype = _model(model)
    tokens = any(isinstance(m, nn.Embedding) for m in model.modules())  # integer inputs are tokens
    X = _to_tensor(X, "X", device, dtype, keep_integers=tokens)
    if y is None:                            # unsupervised: the model's output is the loss
        return X, None
    y = _to_tensor(y, "y", device, dtype, keep_integers=True)
    if isinstance(loss, str) and loss == "cross_entropy":   # labels: integers in [0, C)
        if y.is_floating_point() and not torch.all(y == torch.round(y)):
            bad = y[y != torch.round(y)].reshape(-1)[0]
            raise ValueError(f"y must hold integer class labels for cross_entropy, got {float(bad)}")
        y = y.long()
    elif isinstance(loss, str) and loss == "mse":
        y = y.to(dtype)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have the same number of rows, got {X.shape[0]} and {y.shape[0]}")
    return X, y


def _loss_value(value, loss, t):
    """The loss of step ``t`` as a float: a real scalar tensor, finite at the first step."""
    name = "loss" if callable(loss) else f"the {loss} loss"
    if not isinstance(value, torch.Tensor) or value.numel() != 1 or not value.is_floating_point():
        raise ValueError(f"loss must return a real scalar tensor, got {type(value).__name__} "
                         f"{getattr(value, 'shape', '')}")
    v = value.item()
    if t == 1 and not math.isfinite(v):
        raise ValueError(f"{name} is {v} at the first step: check the model (its parameters, its "
                         "activation) and the data")
    return v


def _sgd_step(params, state, lr, weight_decay, t):
    """``x <- x - lr (g + weight_decay x)``, as ``torch.optim.SGD`` without momentum."""
    for p in params:
        if p.grad is not None:
            g = p.grad if weight_decay == 0 else p.grad + weight_decay * p
            p.sub_(lr * g)


def _adam_step(params, state, lr, weight_decay, t, betas=(0.9, 0.999), eps=1e-8):
    """One Adam step (Chapter 1), operation for operation as ``torch.optim.Adam`` (its defaults):
    ``m <- β1 m + (1-β1) g``, ``v <- β2 v + (1-β2) g²``, ``x <- x - lr m̂ / (sqrt(v̂) + eps)``
    with the bias corrections ``m̂ = m/(1-β1^t)``, ``v̂ = v/(1-β2^t)``."""
    b1, b2 = betas
    for i, p in enumerate(params):
        if p.grad is None:
            continue
        g = p.grad if weight_decay == 0 else p.grad + weight_decay * p
        if i not in state:
            state[i] = (torch.zeros_like(p), torch.zeros_like(p))
        m, v = state[i]
        m.mul_(b1).add_(g, alpha=1 - b1)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)
        denom = (v.sqrt() / math.sqrt(1 - b2**t)).add_(eps)
        p.addcdiv_(m, denom, value=-lr / (1 - b1**t))


_OPTIMIZERS = {"adam": _adam_step, "sgd": _sgd_step}
_SCHEDULES = ("constant", "cosine")


def _betas(betas):
    try:
        b1, b2 = (as_scalar(b, "betas", nonnegative=True) for b in betas)
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair (beta1, beta2) in [0, 1), got {betas!r}") from None
    if b1 >= 1 or b2 >= 1:
        raise ValueError(f"betas must be a pair (beta1, beta2) in [0, 1), got {betas!r}")
    return b1, b2


class Optimizer:
    """The update of ``train`` (``"adam"`` or ``"sgd"``, written out above) as an object, for loops
    that alternate between models (a GAN's generator and critic each have one).

    ``opt.zero_grad()`` clears the gradients; ``opt.step()``, after ``backward()``, moves every
    parameter once: the same iterates as ``torch.optim.Adam`` / ``torch.optim.SGD``.
    """

    def __init__(self, params, name: str = "adam", lr: float = 1e-3, weight_decay: float = 0.0,
                 betas=(0.9, 0.999)):
        if isinstance(params, torch.Tensor):
            raise ValueError("params must be an iterable of tensors (model.parameters()), got one tensor")
        try:
            self.params = [p for p in params if p.requires_grad]
        except (TypeError, AttributeError):
            raise ValueError(f"params must be an iterable of tensors, got {type(params).__name__}") from None
        if not isinstance(name, str) or name not in _OPTIMIZERS:
            raise ValueError(f"name must be one of {sorted(_OPTIMIZERS)}, got {name!r}")
        self.name, self.t, self.state = name, 0, {}
        self.lr = as_scalar(lr, "lr", positive=True)
        self.weight_decay = as_scalar(weight_decay, "weight_decay", nonnegative=True)
        self.betas = _betas(betas)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        if self.name == "adam":
            _adam_step(self.params, self.state, self.lr, self.weight_decay, self.t, betas=self.betas)
        else:
            _sgd_step(self.params, self.state, self.lr, self.weight_decay, self.t)


def train(model: nn.Module, X, y, n_steps: int, batch_size: int = 64, lr: float = 1e-3,
          loss="cross_entropy", optimizer: str = "adam", weight_decay: float = 0.0, seed: int = 0,
          progress: bool = True, desc: str = "training", betas=(0.9, 0.999), shuffle: bool = True,
          step=None, schedule: str = "constant", warmup: int = 0) -> np.ndarray:
    """Minimise the average ``loss(model(X_batch), y_batch)`` by minibatch ``optimizer`` steps.

    * ``X``, ``y``: arrays or tensors, one sample per row; they are moved to the model's device
      (floats to the model's dtype; labels to ``long`` for ``"cross_entropy"``).
    * ``n_steps`` steps of size ``lr`` with ``optimizer`` ``"adam"`` or ``"sgd"`` (plain, no
      momentum), written out as in Chapter 1: the iterates are those of ``torch.optim.Adam`` and
      ``torch.optim.SGD`` with the same ``lr`` and ``weight_decay`` (checked in the tests), without
      the import cost of ``torch.optim``. Each epoch visits the samples in a fresh random order drawn
      from ``seed``; ``batch_size >= n`` gives full-batch steps.
    * ``loss``: ``"cross_entropy"`` (logits ``(B, C)`` or ``(B, L, C)``), ``"mse"`` or a callable
      ``(output, y) -> scalar tensor``.
    * ``schedule``: the step size of step ``t = 1..n_steps`` is ``lr * min(1, t / warmup) * c_t``
      with ``c_t = 1`` (``"constant"``) or ``c_t = (1 + cos(pi (t - 1) / n_steps)) / 2``
      (``"cosine"``: large steps first, small ones at the end, where a constant step lets Adam
      spike away from a good point); ``warmup = 0`` means no warm-up.
    * ``y=None`` (unsupervised): ``loss`` is ``"mean"`` (the model returns one loss per sample, e.g.
      a negative ELBO) or a callable ``output -> scalar tensor``.
    * ``betas``: Adam's ``(β1, β2)``; ``shuffle=False`` visits the samples in their order (the
      first step of a full-batch run then sees ``X`` itself, as a written-out step does).
    * ``step``: a callable ``(X_batch, y_batch) -> float`` that makes the update itself (with its
      own ``Optimizer`` objects); ``loss``, ``optimizer``, ``lr``, ``betas``, ``weight_decay`` are then unused.

    The model is trained in place and left in ``eval`` mode. Returns the ``n_steps`` minibatch losses.
    Bad data is refused by name (labels that are not integers in ``[0, C)``, NaN, no sample); a
    loss that is not finite at the first step is an error, and if training diverges later (``lr``
    too large) a ``utils.DivergenceWarning`` says so, training stops and the remaining losses are NaN.
    """
    X, y = _data(model, X, y, loss)
    n_steps = as_count(n_steps, "n_steps")
    batch_size = as_count(batch_size, "batch_size")
    lr = as_scalar(lr, "lr", positive=True)
    weight_decay = as_scalar(weight_decay, "weight_decay", nonnegative=True)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(shuffle, bool):
        raise ValueError(f"shuffle must be True or False, got {shuffle!r}")
    if step is not None and not callable(step):
        raise ValueError(f"step must be a callable (X_batch, y_batch) -> float, "
                         f"got {type(step).__name__}")
    if step is None:
        loss_fn = _loss_fn(loss, unsupervised=y is None)
        if not isinstance(optimizer, str) or optimizer not in _OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {sorted(_OPTIMIZERS)}, got {optimizer!r}")
        opt = Optimizer(model.parameters(), optimizer, lr, weight_decay, betas)
    if schedule not in _SCHEDULES:
        raise ValueError(f"schedule must be one of {_SCHEDULES}, got {schedule!r}")
    warmup = as_count(warmup, "warmup", minimum=0)
    check_size(n_steps, "n_steps")
    from tqdm.auto import tqdm

    gen = torch.Generator().manual_seed(int(seed))
    n = X.shape[0]
    batch_size = min(batch_size, n)
    draw = (lambda: torch.randperm(n, generator=gen)) if shuffle else (lambda: torch.arange(n))
    losses, order, pos = np.full(n_steps, np.nan), draw(), 0
    monitor = GrowthMonitor("train", "the loss", advice=f"lr = {lr:.4g} is too large; the losses "
                            "after the first non-finite one are NaN")
    model.train()
    for t in tqdm(range(1, n_steps + 1), desc=desc, disable=not progress, leave=False):
        if pos + batch_size > n:
            order, pos = draw(), 0
        idx = order[pos:pos + batch_size].to(X.device)
        pos += batch_size
        yb = None if y is None else y[idx]
        if step is not None:
            value = step(X[idx], yb)
            if isinstance(value, torch.Tensor):
                value = value.item() if value.numel() == 1 else None
            if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                    or not math.isfinite(value):
                raise ValueError(f"step returned {value!r} at step {t}: it must return a finite "
                                 "loss")
            losses[t - 1] = float(value)
            continue
        opt.zero_grad()
        value = loss_fn(model(X[idx]), yb)
        losses[t - 1] = _loss_value(value, loss, t)
        if monitor.update(t, losses[t - 1]) and not math.isfinite(losses[t - 1]):
            break                                    # diverged: the parameters are NaN from here
        value.backward()
        lr_t = lr * min(1.0, t / warmup) if warmup else lr
        if schedule == "cosine":
            lr_t *= 0.5 * (1.0 + math.cos(math.pi * (t - 1) / n_steps))
        opt.lr = lr_t
        opt.step()
    model.eval()
    return losses


@torch.no_grad()
def evaluate(model: nn.Module, X, y, loss="cross_entropy") -> float:
    """The loss of ``model`` on the whole set ``(X, y)`` (no gradient); ``y=None`` with
    ``loss="mean"`` (or a callable of the output) for an unsupervised model, as in ``train``."""
    X, y = _data(model, X, y, loss)
    return float(_loss_fn(loss, unsupervised=y is None)(model(X), y))


@torch.no_grad()
def accuracy(model: nn.Module, X, y) -> float:
    """Fraction of samples (or tokens, for ``(B, L, C)`` logits) whose ``argmax`` logit equals ``y``."""
    if y is None:
        raise ValueError("y must hold the class labels, got None")
    X, y = _data(model, X, y, "cross_entropy")
    logits = model(X)
    _check_labels(y, logits.shape[-1])
    pred = logits.argmax(dim=-1)
    if pred.shape != y.shape:
        raise ValueError(f"the predictions have shape {tuple(pred.shape)} but y has shape {tuple(y.shape)}")
    return float((pred == y).double().mean())
