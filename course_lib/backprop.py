"""Backpropagation by hand (Chapter 5): a multi-layer perceptron, its backward pass, and
vanishing / exploding gradients.

The MLP, one input per row of ``x``, parameters ``[(W_1, b_1), ..., (W_L, b_L)]``::

    h_0 = x,   z_k = h_{k-1} W_k^T + b_k,   h_k = sigma(z_k) (k < L),   output z_L (last layer linear).

``mlp_forward`` returns the output and a cache (the ``h_{k-1}`` and ``z_k``); ``mlp_backward``
applies the reverse-mode chain rule, one vector-Jacobian product per layer, from
``g_L = dl/d out``::

    dl/dW_k = g_k^T h_{k-1},   dl/db_k = sum_i g_k[i],   dl/dh_{k-1} = g_k W_k,
    g_{k-1} = (dl/dh_{k-1}) * sigma'(z_{k-1})          (entrywise).

* ``mlp_init``: ``W_k`` with i.i.d. ``N(0, gain^2 c / n_{k-1})`` entries, ``c = 2`` for relu
  (He), ``c = 1`` otherwise (Glorot / LeCun);
* ``mse_loss``: ``l = 1/(2n) sum_i ||out_i - y_i||^2`` and its gradient ``(out - y) / n``;
* ``gradient_norms_vs_depth``: ``||dl/dW_1||_F`` as the depth ``L`` grows, a product of ``L - 1``
  layer Jacobians: it is multiplied by about ``gain`` per layer (He's initialization, relu), so it
  vanishes (``gain < 1``) or explodes (``gain > 1``) geometrically.

Activations come from ``course_lib.approximation.ACTIVATIONS``.  The automatic version of the same
sweep, for any program, is ``course_lib.autodiff``.
"""
from __future__ import annotations

import numpy as np

from course_lib._shared import as_count, as_points, as_rng
from course_lib.approximation import get_activation
from course_lib.utils import as_array, as_scalar, check_size

__all__ = [
    "gradient_norms_vs_depth",
    "mlp_backward",
    "mlp_forward",
    "mlp_init",
    "mse_loss",
]


def _params(params, name: str = "params"):
    """A list of (W_k, b_k) with chained shapes: W_k is (n_k, n_{k-1}), b_k is (n_k,)."""
    if not isinstance(params, (list, tuple)) or len(params) == 0:
        raise ValueError(f"{name} must be a non-empty list of (W, b) pairs")
    out = []
    for k, layer in enumerate(params):
        if not isinstance(layer, (list, tuple)) or len(layer) != 2:
            raise ValueError(f"{name}[{k}] must be a pair (W, b)")
        W = as_array(layer[0], f"{name}[{k}][0] (W)", ndim=2)
        b = as_array(layer[1], f"{name}[{k}][1] (b)", shape=(W.shape[0],))
        if out and out[-1][0].shape[0] != W.shape[1]:
            raise ValueError(f"{name}[{k}] (W) has {W.shape[1]} columns but layer {k - 1} has "
                             f"{out[-1][0].shape[0]} outputs")
        out.append((W, b))
    return out


def mlp_init(widths, rng, gain: float = 1.0, activation: str = "relu", bias_std: float = 0.0):
    """Random parameters ``[(W_1, b_1), ..., (W_L, b_L)]`` of an MLP with layer widths ``widths``.

    ``W_k`` is ``(widths[k], widths[k-1])`` with i.i.d. ``N(0, gain^2 c / widths[k-1])`` entries, where
    ``c = 2`` for relu (He's initialization) and ``c = 1`` otherwise (Glorot / LeCun); ``b_k`` is
    ``N(0, bias_std^2)``. With ``gain = 1`` the squared norm of a backpropagated relu signal is
    preserved in expectation from layer to layer; ``gain = g`` multiplies it by ``g^2`` per layer.
    """
    if not isinstance(widths, (list, tuple, np.ndarray)) or len(widths) < 2:
        raise ValueError(f"widths must be a list of at least two layer widths, got {widths!r}")
    widths = [as_count(w, "widths") for w in widths]
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        check_size((n_out, n_in + 1), "widths")
    rng = as_rng(rng)
    gain = as_scalar(gain, "gain", positive=True)
    get_activation(activation)
    bias_std = as_scalar(bias_std, "bias_std", nonnegative=True)
    c = 2.0 if activation == "relu" else 1.0
    return [(gain * np.sqrt(c / n_in) * rng.standard_normal((n_out, n_in)),
             bias_std * rng.standard_normal(n_out))
            for n_in, n_out in zip(widths[:-1], widths[1:])]


def mlp_forward(params, x, activation: str = "tanh"):
    """Forward pass of the MLP ``h_0 = x``, ``z_k = h_{k-1} W_k^T + b_k``, ``h_k = sigma(z_k)`` (k < L),
    output ``z_L`` (the last layer is linear).

    ``x`` is ``(n, n_0)``, one input per row. Returns ``(out, cache)`` with ``out = z_L`` of shape
    ``(n, n_L)`` and ``cache = {"h": [h_0, ..., h_{L-1}], "z": [z_1, ..., z_L]}``: exactly what the
    backward pass needs (the inputs of each layer and the pre-activations).
    """
    sigma, _ = get_activation(activation)
    params = _params(params)
    h = as_points(x, "x", params[0][0].shape[1])
    hs, zs = [], []
    for k, (W, b) in enumerate(params):
        hs.append(h)
        z = h @ W.T + b
        zs.append(z)
        h = sigma(z) if k < len(params) - 1 else z
    return h, {"h": hs, "z": zs, "activation": activation}


def mlp_backward(params, cache, grad_out, activation: str = "tanh"):
    """Backward pass: all parameter gradients of a scalar loss ``l(out)``, given ``grad_out = dl/d out``.

    Reverse-mode chain rule, one vector-Jacobian product per layer, with ``g_L = grad_out`` (n, n_L)::

        dl/dW_k = g_k^T h_{k-1},   dl/db_k = sum_i g_k[i],   dl/dh_{k-1} = g_k W_k,
        g_{k-1} = (dl/dh_{k-1}) * sigma'(z_{k-1})          (entrywise).

    Returns ``(grads, grad_x)``: ``grads = [(dW_1, db_1), ..., (dW_L, db_L)]`` (same shapes as
    ``params``) and ``grad_x = dl/dx`` of shape ``(n, n_0)``.
    """
    _, dsigma = get_activation(activation)
    params = _params(params)
    if not isinstance(cache, dict) or not {"h", "z"} <= set(cache) or len(cache["h"]) != len(params):
        raise ValueError("cache must be the cache returned by mlp_forward for these params")
    if cache.get("activation", activation) != activation:
        raise ValueError(f"activation {activation!r} differs from the forward pass's "
                         f"{cache['activation']!r}")
    n, n_out = cache["z"][-1].shape
    g = as_array(grad_out, "grad_out", shape=(n, n_out))
    grads = [None] * len(params)
    for k in range(len(params) - 1, -1, -1):
        W, _ = params[k]
        grads[k] = (g.T @ cache["h"][k], g.sum(axis=0))
        g_h = g @ W
        if k > 0:
            g = g_h * dsigma(cache["z"][k - 1])
    return grads, g_h


def mse_loss(out, y):
    """``l = 1/(2n) sum_i ||out_i - y_i||^2`` and its gradient ``(out - y)/n``; returns ``(l, grad)``."""
    out = as_array(out, "out")
    y = as_array(y, "y", shape=out.shape)
    if out.ndim == 0:
        raise ValueError("out must hold at least one prediction")
    n = out.shape[0]
    r = out - y
    return 0.5 * float(np.sum(r ** 2)) / n, r / n


def gradient_norms_vs_depth(depths, width, gain, rng, n: int = 32, n_seeds: int = 4,
                            activation: str = "relu"):
    """``||dl/dW_1||_F`` for MLPs of ``width`` x ``width`` layers and growing depth L (weight matrices).

    For each depth, ``mlp_init([width] * (L + 1), gain=gain)`` with zero biases, ``n`` inputs drawn
    uniformly on the unit sphere and ``l = 1/n sum_i <v_i, F(x_i)>`` with random unit cotangents
    ``v_i``: ``dl/dW_1`` is then a product of L - 1 layer Jacobians applied to the ``v_i``. For relu
    and He's initialization the norm is multiplied by about ``gain`` per layer: it vanishes
    (``gain < 1``) or explodes (``gain > 1``) geometrically with depth. Returns ``(n_seeds, len(depths))``.
    """
    depths = as_array(depths, "depths", ndim=1)
    if depths.size == 0 or np.any(depths < 1) or np.any(depths != np.round(depths)):
        raise ValueError(f"depths must hold positive integers, got {depths}")
    width, n, n_seeds = as_count(width, "width"), as_count(n, "n"), as_count(n_seeds, "n_seeds")
    check_size((width, width), "width")
    check_size((n, width), "n")
    check_size((n_seeds, depths.size), "n_seeds")
    rng = as_rng(rng)
    gain = as_scalar(gain, "gain", positive=True)
    out = np.empty((n_seeds, depths.size))
    for s in range(n_seeds):
        for i, L in enumerate(depths.astype(int)):
            params = mlp_init([width] * (L + 1), rng, gain=gain, activation=activation)
            x = rng.standard_normal((n, width))
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            v = rng.standard_normal((n, width))
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            _, cache = mlp_forward(params, x, activation)
            grads, _ = mlp_backward(params, cache, v / n, activation)
            out[s, i] = np.linalg.norm(grads[0][0])
    return out

