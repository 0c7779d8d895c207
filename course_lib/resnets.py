"""ResNets are Euler schemes (Chapter 5): residual networks as discretisations of ODEs.

A ResNet of depth ``T`` with blocks ``x -> x + h v(t_k, x)``, ``h = t1 / T``, ``t_k = k h``, is the
explicit Euler scheme of the ODE ``x'(t) = v(t, x)``::

    x_{k+1} = x_k + h v(t_k, x_k),           k = 0, ..., T - 1.

* ``euler`` (that ResNet, for any velocity ``v(t, x)``) and ``rk4`` (the classical Runge-Kutta
  scheme, global error ``O(h^4)``: an accurate reference for the flow), both stepping with
  ``course_lib.ode.rk_step_t``;
* a velocity smooth in time, ``v(t, x) = W2(t) tanh(W1(t) x + b(t))`` with cosine-series weights
  ``W(t) = sum_q C_q cos(q pi t)`` (``smooth_velocity_params``, ``velocity``), and
  ``smooth_resnet``: its depth-T ResNet converges to the ODE flow at time 1 with error ``O(1/T)``;
* ``random_resnet``: i.i.d. Gaussian weights in every block and residual scaling ``T^(-beta)``:
  the residuals average out for ``beta = 1`` (``x_T -> x_0``) and add up like a random walk for
  ``beta = 1/2`` (an Euler-Maruyama scheme of an SDE);
* ``quadratic_variation``: ``sum_k ||x_{k+1} - x_k||^2``, ``O(1/T)`` along a smooth path and
  ``O(1)`` along a Brownian-like one.
"""
from __future__ import annotations

import numpy as np

from course_lib import ode
from course_lib._shared import as_count, as_points, as_rng, check_callable
from course_lib.utils import as_array, as_scalar, check_result, check_size

__all__ = [
    "euler",
    "quadratic_variation",
    "random_resnet",
    "rk4",
    "smooth_resnet",
    "smooth_velocity_params",
    "velocity",
]


def _velocity_value(v, t, x):
    return check_result(v(t, x), "v", shape=x.shape, where=f"at t = {t:.4g}")


def euler(v, x0, T, t1: float = 1.0, return_path: bool = False):
    """Explicit Euler with T steps of size ``h = t1/T`` for ``x'(t) = v(t, x)``, ``x(0) = x0``:

        x_{k+1} = x_k + h v(t_k, x_k),    t_k = k h,

    which is a ResNet of depth T whose k-th residual block is ``x -> x + h v(t_k, x)``. ``x0`` is
    any array (e.g. ``(n, d)``: n points) and ``v(t, x)`` returns an array of the same shape.
    Returns ``x_T`` (or the whole path ``(T + 1, *x0.shape)`` with ``return_path``).
    """
    check_callable(v, "v")
    x = as_array(x0, "x0").copy()
    T = as_count(T, "T")
    t1 = as_scalar(t1, "t1", positive=True)
    h = t1 / T
    field = lambda t, z: _velocity_value(v, t, z)  # noqa: E731
    path = [x]
    for k in range(T):
        x = ode.rk_step_t(field, k * h, x, h, "euler")
        path.append(x)
    return np.stack(path) if return_path else x


def rk4(v, x0, n_steps: int = 200, t1: float = 1.0, return_path: bool = False):
    """The classical fourth-order Runge-Kutta scheme for ``x'(t) = v(t, x)`` on ``[0, t1]``:

        k1 = v(t, x), k2 = v(t + h/2, x + h k1/2), k3 = v(t + h/2, x + h k2/2), k4 = v(t + h, x + h k3),
        x <- x + h (k1 + 2 k2 + 2 k3 + k4) / 6,

    with global error ``O(h^4)``: an accurate reference for the flow ``x(t1)``. Same conventions as
    ``euler``; returns ``x(t1)`` (or the path at the ``n_steps + 1`` grid times).
    """
    check_callable(v, "v")
    x = as_array(x0, "x0").copy()
    n_steps = as_count(n_steps, "n_steps")
    t1 = as_scalar(t1, "t1", positive=True)
    h = t1 / n_steps
    field = lambda t, z: _velocity_value(v, t, z)  # noqa: E731
    path = [x]
    for k in range(n_steps):
        x = ode.rk_step_t(field, k * h, x, h, "rk4")
        path.append(x)
    return np.stack(path) if return_path else x


def smooth_velocity_params(d, hidden, rng, n_modes: int = 3, scale: float = 1.0) -> dict:
    """Random weights of a velocity field ``v(t, x) = W2(t) tanh(W1(t) x + b(t))`` smooth in ``t``.

    Each weight is a cosine series ``W(t) = sum_{q < n_modes} C_q cos(q pi t)`` with independent
    Gaussian coefficients of standard deviation ``scale / (q + 1) / sqrt(fan_in)``. Returns a dict
    with ``"W1"`` (n_modes, hidden, d), ``"b"`` (n_modes, hidden) and ``"W2"`` (n_modes, d, hidden).
    """
    d, hidden, n_modes = as_count(d, "d"), as_count(hidden, "hidden"), as_count(n_modes, "n_modes")
    check_size((d, 1), "d")
    check_size((hidden, 1), "hidden")
    check_size((n_modes, 1), "n_modes")
    check_size((n_modes, hidden, d), "hidden")
    rng = as_rng(rng)
    scale = as_scalar(scale, "scale", positive=True)
    decay = scale / np.arange(1, n_modes + 1)
    return {"W1": decay[:, None, None] * rng.standard_normal((n_modes, hidden, d)) / np.sqrt(d),
            "b": decay[:, None] * rng.standard_normal((n_modes, hidden)),
            "W2": decay[:, None, None] * rng.standard_normal((n_modes, d, hidden)) / np.sqrt(hidden)}


def _velocity_params(params) -> dict:
    if not isinstance(params, dict) or not {"W1", "b", "W2"} <= set(params):
        raise ValueError("params must be a dict with keys 'W1', 'b', 'W2' (see smooth_velocity_params)")
    W1 = as_array(params["W1"], "params['W1']", ndim=3)
    q, hidden, d = W1.shape
    return {"W1": W1, "b": as_array(params["b"], "params['b']", shape=(q, hidden)),
            "W2": as_array(params["W2"], "params['W2']", shape=(q, d, hidden))}


def velocity(params, t, x) -> np.ndarray:
    """``v(t, x) = W2(t) tanh(W1(t) x + b(t))`` for points ``x`` of shape (n, d) (or (d,)), with the
    cosine-series weights of ``smooth_velocity_params`` evaluated at time ``t``."""
    P = _velocity_params(params)
    t = as_scalar(t, "t")
    d = P["W1"].shape[2]
    x = as_array(x, "x")
    if x.shape[-1:] != (d,) or x.ndim > 2:
        raise ValueError(f"x must have shape (n, {d}) or ({d},), got {x.shape}")
    c = np.cos(np.pi * t * np.arange(P["W1"].shape[0]))
    W1, b, W2 = (np.tensordot(c, P[key], axes=1) for key in ("W1", "b", "W2"))
    return np.tanh(x @ W1.T + b) @ W2.T


def smooth_resnet(params, x0, T, return_path: bool = False):
    """The depth-T ResNet ``x_{k+1} = x_k + (1/T) W2(t_k) tanh(W1(t_k) x_k + b(t_k))``, ``t_k = k/T``:
    ``euler`` on ``velocity(params, ., .)``. As ``T -> infinity`` its output converges to the flow of the
    ODE ``x' = v(t, x)`` at time 1, with error ``O(1/T)``."""
    d = _velocity_params(params)["W1"].shape[2]
    x0 = as_array(x0, "x0")
    if x0.shape[-1:] != (d,) or x0.ndim > 2:
        raise ValueError(f"x0 must have shape (n, {d}) or ({d},) to match params, got {x0.shape}")
    return euler(lambda t, x: velocity(params, t, x), x0, T, 1.0, return_path)


def random_resnet(x0, T, hidden, rng, beta: float = 0.5, n_draws: int | None = None,
                  return_path: bool = False):
    """A depth-T ResNet with i.i.d. Gaussian weights and residual scaling ``T^(-beta)``:

        x_{k+1} = x_k + T^(-beta) W2_k tanh(W1_k x_k + b_k),

    ``W1_k`` (hidden, d) with ``N(0, 1/d)`` entries, ``b_k`` ``N(0, 1)``, ``W2_k`` (d, hidden) with
    ``N(0, 1/hidden)`` entries, independent across blocks. For ``beta = 1`` the residuals average out
    (law of large numbers: ``x_T -> x_0``); for ``beta = 1/2`` they add up like a random walk and the
    ResNet is an Euler-Maruyama scheme of a stochastic differential equation: the limit is noisy.

    ``x0`` is ``(n, d)``. With ``n_draws = R``, R independent networks are run at once on the same
    inputs and the result has a leading axis R. Returns ``x_T`` (or the path, time first).
    """
    x0 = as_points(x0, "x0")
    T, hidden = as_count(T, "T"), as_count(hidden, "hidden")
    rng = as_rng(rng)
    beta = as_scalar(beta, "beta", positive=True)
    R = 1 if n_draws is None else as_count(n_draws, "n_draws")
    n, d = x0.shape
    check_size((hidden, d), "hidden")
    check_size((R, max(hidden, n), d), "n_draws")
    x = np.broadcast_to(x0, (R, n, d)).copy()
    path = [x]
    for _ in range(T):
        W1 = rng.standard_normal((R, hidden, d)) / np.sqrt(d)
        b = rng.standard_normal((R, 1, hidden))
        W2 = rng.standard_normal((R, d, hidden)) / np.sqrt(hidden)
        h = np.tanh(np.einsum("rnd,rhd->rnh", x, W1) + b)
        x = x + T ** (-beta) * np.einsum("rnh,rdh->rnd", h, W2)
        path.append(x)
    out = np.stack(path) if return_path else x
    if n_draws is None:
        out = out[:, 0] if return_path else out[0]
    return out


def quadratic_variation(path) -> np.ndarray:
    """``sum_k ||x_{k+1} - x_k||^2`` along a path ``(T + 1, ..., d)`` (time first, space last).

    ``O(1/T)`` for a smooth path sampled at T steps; ``O(1)`` for a Brownian-like path. Returns the
    value for each trajectory (the shape of ``path[0]`` without its last axis)."""
    path = as_array(path, "path")
    if path.ndim < 2 or path.shape[0] < 2:
        raise ValueError(f"path must have shape (T + 1, ..., d) with T >= 1, got {path.shape}")
    return np.sum(np.diff(path, axis=0) ** 2, axis=(0, path.ndim - 1))
