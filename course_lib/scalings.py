"""Lazy vs mean-field training of two-layer networks (Chapter 5).

The network, with ``m`` neurons and a scaling exponent ``gamma``::

    f(x) = m^(-gamma) sum_j a_j sigma(<w_j, x>),    gamma = 1/2 ("ntk") or gamma = 1 ("mean_field").

* ``two_layer_scaled`` evaluates ``f``;
* ``train_two_layer``: full-batch gradient descent on ``L(W, a) = 1/(2n) sum_i (f(x_i) - y_i)^2``
  with learning rate ``step * m^(2 gamma - 1)``, the rate for which the training dynamics of ``f``
  have a limit as ``m -> infinity``: a kernel regression with the neural tangent kernel (each
  parameter moves by ``O(m^(-1/2))``: *lazy* training) or a mean-field PDE on the law of the neurons
  (each parameter moves by ``O(1)``: features are learned);
* ``relative_change``: ``||theta - theta_0|| / ||theta_0||`` for ``theta = (W, a)``.
"""
from __future__ import annotations

import math

import numpy as np

from course_lib._shared import as_count, as_points
from course_lib.approximation import get_activation
from course_lib.utils import GrowthMonitor, as_array, as_scalar, check_size

__all__ = [
    "relative_change",
    "train_two_layer",
    "two_layer_scaled",
]


_GAMMA = {"ntk": 0.5, "mean_field": 1.0}


def _gamma(scaling) -> float:
    if not isinstance(scaling, str) or scaling not in _GAMMA:
        raise ValueError(f"scaling must be 'ntk' or 'mean_field', got {scaling!r}")
    return _GAMMA[scaling]


def two_layer_scaled(x, W, a, scaling: str = "ntk", activation: str = "tanh") -> np.ndarray:
    """``f(x) = m^(-gamma) sum_j a_j sigma(<w_j, x>)`` with ``gamma = 1/2`` (``"ntk"``) or ``1``
    (``"mean_field"``); ``W`` is (m, d), ``a`` is (m,). Put a constant 1 in ``x`` for a bias."""
    gamma = _gamma(scaling)
    x = as_points(x, "x")
    W = as_array(W, "W", shape=(None, x.shape[1]))
    a = as_array(a, "a", shape=(W.shape[0],))
    sigma, _ = get_activation(activation)
    return sigma(x @ W.T) @ a / W.shape[0] ** gamma


def train_two_layer(x, y, W0, a0, scaling: str = "ntk", step: float = 1.0, n_iter: int = 100,
                    activation: str = "tanh"):
    """Full-batch gradient descent on ``L(W, a) = 1/(2n) sum_i (f(x_i) - y_i)^2``, ``f = two_layer_scaled``.

    The learning rate is ``step * m^(2 gamma - 1)``: ``step`` for the NTK scaling and ``step * m`` for the
    mean-field one, the rates for which the training dynamics of ``f`` have a limit as ``m -> infinity``
    (a kernel regression with the neural tangent kernel, respectively a mean-field PDE on the law of
    the neurons). Each parameter then moves by ``O(m^(-1/2))`` (NTK) or ``O(1)`` (mean field).
    Returns ``(W, a, losses)`` with ``losses`` of length ``n_iter + 1``; ``W0``, ``a0`` are not modified.
    """
    gamma = _gamma(scaling)
    sigma, dsigma = get_activation(activation)
    x = as_points(x, "x")
    W = as_array(W0, "W0", shape=(None, x.shape[1])).copy()
    a = as_array(a0, "a0", shape=(W.shape[0],)).copy()
    y = as_array(y, "y", shape=(x.shape[0],))
    step = as_scalar(step, "step", positive=True)
    n_iter = as_count(n_iter, "n_iter", minimum=0)
    check_size(n_iter + 1, "n_iter")
    m, n = W.shape[0], x.shape[0]
    lr, c = step * m ** (2 * gamma - 1), m ** (-gamma)
    losses = np.empty(n_iter + 1)
    monitor = GrowthMonitor("train_two_layer", "the loss", advice=(
        f"step = {step:.4g} is too large (the learning rate is step * m^(2 gamma - 1) = {lr:.4g})"))
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(n_iter + 1):
            Z = x @ W.T
            r = c * (sigma(Z) @ a) - y
            losses[k] = 0.5 * np.mean(r ** 2)
            monitor.update(k, losses[k])
            if k == n_iter:
                break
            grad_a = c * sigma(Z).T @ r / n
            grad_W = c * ((r[:, None] * dsigma(Z)) * a).T @ x / n
            a -= lr * grad_a
            W -= lr * grad_W
    return W, a, losses


def relative_change(W0, a0, W, a) -> float:
    """``||theta - theta_0|| / ||theta_0||`` for ``theta = (W, a)`` (Frobenius / Euclidean norms)."""
    W0 = as_array(W0, "W0", ndim=2)
    a0 = as_array(a0, "a0", shape=(W0.shape[0],))
    W = as_array(W, "W", shape=W0.shape)
    a = as_array(a, "a", shape=a0.shape)
    den = math.sqrt(float(np.sum(W0 ** 2) + np.sum(a0 ** 2)))
    if den == 0:
        raise ValueError("W0 and a0 are zero: the relative change is undefined")
    return math.sqrt(float(np.sum((W - W0) ** 2) + np.sum((a - a0) ** 2))) / den

