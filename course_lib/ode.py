"""Explicit Runge-Kutta solvers, and two ways to differentiate through them (Chapter 6).

The model is an autonomous ODE with parameters ``theta``, observed at times ``0 < t_1 < ... < t_K``::

    dx/dt = f(x, theta),   x(0) = x0,        loss  L = loss(X),   X = (x(t_1), ..., x(t_K)).

Each interval ``[t_{k-1}, t_k]`` (``t_0 = 0``) is cut into ``n_steps`` steps of an explicit
Runge-Kutta method (Butcher tableaux in ``TABLEAUX``: Euler, midpoint, Heun, classical RK4).

Two ways to get ``dL/dx0`` and ``dL/dtheta``:

* **backpropagation through the solver** (``backprop_gradient``): run the solver on ``Tensor`` inputs
  and sweep the recorded graph backwards. This is the *exact* gradient of the discrete solution, but
  every intermediate stage is stored: memory grows linearly with the number of steps.
* **the continuous adjoint method** (``adjoint_gradient``): the adjoint ``a(t) = dL/dx(t)`` solves,
  backwards in time, ::

        da/dt = -(df/dx)^T a,          a(t_K) = dL/dx(t_K),   a jumps by dL/dx(t_k) at each t_k,
        dL/dtheta = int_0^{t_K} (df/dtheta)^T a dt,             dL/dx0 = a(0);

  it is solved with the same Runge-Kutta method together with ``x`` (re-integrated backwards from
  the checkpoints ``x(t_k)``) and the running integral. Memory does not depend on the number of
  steps; the result approximates the gradient of the continuous problem, and agrees with
  backpropagation up to the discretization error, ``O(h^order)``.

The solver code only uses ``+`` and ``*`` by numbers, so it runs unchanged on NumPy arrays, on
``course_lib.autodiff.Tensor`` and on torch tensors; ``f`` must be written the same way (see
``lotka_volterra``).

Inputs are checked on every engine: NaN, inf or complex states and parameters, an unknown method,
and a field that returns ``None``, NaN or inf at the first step raise ``ValueError`` naming them.
If the numerical solution blows up later (too few steps for a stiff or exploding problem), a
``utils.DivergenceWarning`` says so once and the remaining states are the last, non-finite one.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from course_lib.autodiff import Dual, Tensor, stack, topological_order
from course_lib.utils import as_array, as_scalar, check_callable, check_result, warn_divergence

__all__ = [
    "ODEGradient",
    "ORDERS",
    "TABLEAUX",
    "adjoint_gradient",
    "backprop_gradient",
    "integrate",
    "lotka_volterra",
    "lotka_volterra_vjp",
    "rk_step",
    "rk_step_t",
    "solve",
]

# Butcher tableaux (A strictly lower triangular, given row by row from the second stage; weights b)
TABLEAUX = {
    "euler": ((), (1.0,)),
    "midpoint": (((0.5,),), (0.0, 1.0)),
    "heun": (((1.0,),), (0.5, 0.5)),
    "rk4": (((0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)), (1 / 6, 1 / 3, 1 / 3, 1 / 6)),
}
ORDERS = {"euler": 1, "midpoint": 2, "heun": 2, "rk4": 4}


class ODEGradient(NamedTuple):
    value: float             # the loss L
    grad_x0: np.ndarray      # dL/dx0
    grad_theta: np.ndarray   # dL/dtheta
    n_stored: int            # arrays kept in memory for the backward pass


# ----------------------------------------------------------------------------- validation

def _method(method):
    if not isinstance(method, str) or method not in TABLEAUX:
        raise ValueError(f"method must be one of {sorted(TABLEAUX)}, got {method!r}")
    return method


def _values(z):
    """The numbers held by a state of any engine, as a NumPy array (for the checks)."""
    if isinstance(z, np.ndarray):
        return z
    if isinstance(z, (Tensor, Dual)):
        return np.asarray(z.value)
    if type(z).__module__.startswith("torch"):
        return z.detach().cpu().numpy()
    return np.asarray(z)


def _finite(z, name):
    """``ValueError`` naming ``name`` unless ``z`` (any engine) holds finite real numbers."""
    v = _values(z)
    if v.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {v.dtype}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return z


def _stage(k, name, x, where):
    """What the field ``name`` returned at the state ``x``: not None, shaped like ``x``, finite."""
    if k is None:
        raise ValueError(f"{name} returned None {where} (a missing return?)")
    v = _values(k)
    if v.shape != _values(x).shape:
        raise ValueError(f"{name} must return an array shaped like the state {_values(x).shape}, "
                         f"got {v.shape} {where}")
    if v.dtype.kind not in "biuf" or not np.all(np.isfinite(v)):
        raise ValueError(f"{name} returned NaN, inf or complex values {where}")
    return k


def _times(times):
    t = np.atleast_1d(as_array(times, "times"))
    if t.ndim != 1 or t.size == 0 or t[0] <= 0 or np.any(np.diff(t) <= 0):
        raise ValueError(f"times must be a non-empty increasing sequence of positive times, got {times!r}")
    return t


def _problem(f, x0, theta, times, n_steps, method):
    check_callable(f, "f")
    x0 = as_array(x0, "x0", ndim=1)
    theta = as_array(theta, "theta", ndim=1)
    n_steps = int(as_scalar(n_steps, "n_steps", positive=True, integer=True))
    return x0, theta, _times(times), n_steps, _method(method)


# ----------------------------------------------------------------------------- solvers

def rk_step_t(v, t, x, h, method="rk4"):
    """One explicit Runge-Kutta step for a time-dependent field ``x' = v(t, x)``::

        k_i = v(t + c_i h, x + h sum_{j<i} a_ij k_j),   c_i = sum_j a_ij,   x_new = x + h sum_i b_i k_i.

    Every stage ``k_i`` is checked: ``None``, a wrong shape, NaN or inf raise ``ValueError``.
    """
    check_callable(v, "v")
    t, h = as_scalar(t, "t"), as_scalar(h, "h")
    _finite(x, "x")
    return _rk_step_t(v, t, x, h, _method(method), check=True)


def _rk_step_t(v, t, x, h, method, check=False):
    """``rk_step_t`` without the input checks (the solvers' inner loop); ``check`` checks the stages."""
    A, b = TABLEAUX[method]
    ks = [v(t, x)]
    if check:
        _stage(ks[0], "v", x, f"at t = {t:.4g}")
    for row in A:
        xi = x
        for a_ij, k in zip(row, ks):
            if a_ij:
                xi = xi + (h * a_ij) * k
        ks.append(v(t + h * sum(row), xi))
        if check:
            _stage(ks[-1], "v", x, f"at t = {t + h * sum(row):.4g}")
    increment = None
    for b_i, k in zip(b, ks):
        if b_i:
            term = (h * b_i) * k
            increment = term if increment is None else increment + term
    return x + increment


def rk_step(f, x, theta, h, method="rk4"):
    """One explicit Runge-Kutta step ``x + h sum_i b_i k_i``, ``k_i = f(x + h sum_{j<i} a_ij k_j, theta)``
    for the autonomous field ``f(x, theta)`` (``rk_step_t`` with a field that ignores the time)."""
    check_callable(f, "f")
    _finite(theta, "theta")
    _finite(x, "x")
    h = as_scalar(h, "h")

    def field(t, z):
        return _stage(f(z, theta), "f", z, "")
    return _rk_step_t(field, 0.0, x, h, _method(method))


def integrate(f, x0, theta, times, n_steps, method="rk4"):
    """The list of states ``[x(t_1), ..., x(t_K)]``, ``n_steps`` steps per interval ``[t_{k-1}, t_k]``.

    Engine-agnostic: ``x0`` and ``theta`` may be NumPy arrays, ``Tensor`` or torch tensors.
    ``f`` must return a finite array shaped like ``x0`` at the first step (``ValueError`` naming
    it otherwise); a solution that blows up later gives one ``DivergenceWarning`` and the last,
    non-finite state for the remaining times.
    """
    check_callable(f, "f")
    _finite(x0, "x0")
    _finite(theta, "theta")
    times, method = _times(times), _method(method)
    n_steps = int(as_scalar(n_steps, "n_steps", positive=True, integer=True))
    _stage(f(x0, theta), "f", x0, "at x0")

    def field(t, z):
        return f(z, theta)
    states, x, t = [], x0, 0.0
    for k, t_next in enumerate(times):
        h = float(t_next - t) / n_steps
        for _ in range(n_steps):
            x = _rk_step_t(field, 0.0, x, h, method)
        if not np.all(np.isfinite(_values(x))):
            warn_divergence("the ODE solver", f"the state is NaN or inf at t = {t_next:.4g}",
                            f"n_steps = {n_steps} steps per interval (h = {h:.3g}) may be too few "
                            f"for this {method} scheme, or the solution itself blows up; the "
                            "remaining states repeat the last one")
            states.extend([x] * (len(times) - k))
            return states
        states.append(x)
        t = t_next
    return states


def solve(f, x0, theta, times, n_steps=10, method="rk4"):
    """``x(t_k)`` for each time, as a ``(K, d)`` array (see ``integrate``)."""
    x0, theta, times, n_steps, method = _problem(f, x0, theta, times, n_steps, method)
    states = integrate(f, x0, theta, times, n_steps, method)
    return np.array([np.asarray(x, dtype=np.float64) for x in states])


# ----------------------------------------------------------------------------- gradients

def backprop_gradient(f, x0, theta, times, n_steps, loss, method="rk4"):
    """``dL/dx0``, ``dL/dtheta`` by reverse mode through every step of the solver (``Tensor`` engine).

    ``loss`` maps the ``(K, d)`` states to a scalar, with ``Tensor`` operations. ``n_stored`` is the
    number of nodes of the recorded graph: it grows linearly with ``n_steps``.
    """
    x0, theta, times, n_steps, method = _problem(f, x0, theta, times, n_steps, method)
    check_callable(loss, "loss")
    x0t, thetat = Tensor(x0), Tensor(theta)
    states = integrate(f, x0t, thetat, times, n_steps, method)
    L = _loss_value(loss(stack(states)), states[-1])
    L.backward()
    grad_theta = thetat.grad if thetat.grad is not None else np.zeros_like(theta)
    grad_x0 = x0t.grad if x0t.grad is not None else np.zeros_like(x0)
    return ODEGradient(float(L.value), grad_x0, grad_theta, len(topological_order(L)))


def _loss_value(L, last_state):
    """``loss`` must return a scalar Tensor, finite whenever the states are."""
    if not isinstance(L, Tensor) or L.value.size != 1:
        raise ValueError(f"loss must return a scalar Tensor, got {type(L).__name__}")
    if not np.isfinite(L.value).all() and np.all(np.isfinite(_values(last_state))):
        raise ValueError(f"loss returned {float(L.value.reshape(()))} on finite states")
    return L


def _tensor_vjp(f):
    """``(x, theta, a) -> (f(x, theta), a^T df/dx, a^T df/dtheta)`` by one reverse sweep of a small graph."""
    def f_and_vjp(x, theta, a):
        xt, thetat = Tensor(x), Tensor(theta)
        out = f(xt, thetat)
        out.backward(a)
        gt = thetat.grad if thetat.grad is not None else np.zeros_like(theta)
        gx = xt.grad if xt.grad is not None else np.zeros_like(x)
        return out.value, gx, gt
    return f_and_vjp


def adjoint_gradient(f, x0, theta, times, n_steps, loss, method="rk4", vjp_f=None):
    """``dL/dx0``, ``dL/dtheta`` by the continuous adjoint method, solved backwards with ``method``.

    The augmented state ``s = (x, a, g)`` obeys ``dx/dt = f(x)``, ``da/dt = -(df/dx)^T a``,
    ``dg/dt = -(df/dtheta)^T a`` from ``t_K`` down to 0, starting from ``x(t_K)``,
    ``a = dL/dx(t_K)``, ``g = 0``; at each ``t_k`` the forward state is restored (a checkpoint) and
    ``dL/dx(t_k)`` is added to ``a``. Then ``dL/dx0 = a(0)`` and ``dL/dtheta = g(0)``.

    ``vjp_f(x, theta, a)`` returns ``(a^T df/dx, a^T df/dtheta)``; by default it is computed with the
    ``Tensor`` engine. ``n_stored`` counts the arrays kept: the ``K`` checkpoints, the ``K``
    cotangents ``dL/dx(t_k)`` and the augmented state, whatever ``n_steps``.
    """
    x0, theta, times, n_steps, method = _problem(f, x0, theta, times, n_steps, method)
    check_callable(loss, "loss")
    if vjp_f is None:
        f_and_vjp = _tensor_vjp(f)
    else:
        check_callable(vjp_f, "vjp_f")
        first = [True]

        def f_and_vjp(x, th, a):
            out = vjp_f(x, th, a)
            if first[0]:                                    # checked at the first call
                first[0] = False
                if not isinstance(out, tuple) or len(out) != 2:
                    raise ValueError(f"vjp_f must return a pair (a^T df/dx, a^T df/dtheta), "
                                     f"got {type(out).__name__}")
                out = (check_result(out[0], "vjp_f", shape=np.shape(x), where="(its first entry)"),
                       check_result(out[1], "vjp_f", shape=np.shape(th), where="(its second entry)"))
            return (f(x, th), *out)

    X = solve(f, x0, theta, times, n_steps, method)        # forward: the K checkpoints only
    if not np.all(np.isfinite(X)):                          # blew up (a warning was given)
        return ODEGradient(float("nan"), np.full(x0.size, np.nan), np.full(theta.size, np.nan),
                           2 * len(times) + 1)
    Xt = Tensor(X)
    L = _loss_value(loss(Xt), X[-1])
    L.backward()
    G = Xt.grad                                             # dL/dx(t_k), shape (K, d)
    d, p = x0.size, theta.size

    def augmented(s, th):                                   # ds/dt for s = (x, a, g)
        fx, ax, ath = f_and_vjp(s[:d], th, s[d:2 * d])
        return np.concatenate([fx, -ax, -ath])

    s = np.concatenate([X[-1], G[-1], np.zeros(p)])
    t_grid = np.concatenate([[0.0], times])

    def augmented_field(t, z):
        return augmented(z, theta)

    for k in range(len(times), 0, -1):
        h = -(t_grid[k] - t_grid[k - 1]) / n_steps          # backwards in time
        for _ in range(n_steps):
            s = _rk_step_t(augmented_field, 0.0, s, h, method)
        if k > 1:
            s[:d] = X[k - 2]                                # restore the checkpoint x(t_{k-1})
            s[d:2 * d] += G[k - 2]                          # the jump of a at an observation
    return ODEGradient(float(L.value), s[d:2 * d].copy(), s[2 * d:].copy(), 2 * len(times) + 1)


# ----------------------------------------------------------------------------- Lotka-Volterra

_SIGN = np.array([1.0, -1.0])


def lotka_volterra(x, theta):
    """Predator-prey dynamics, ``x = (u, v)`` (prey, predators), ``theta = (alpha, beta, gamma, delta)``::

        du/dt = alpha u - beta u v,      dv/dt = delta u v - gamma v.

    On ``Tensor`` inputs it is computed as
    ``x * (theta[[0, 2]] * (1, -1) - theta[[1, 3]] * (1, -1) * x[[1, 0]])``, with operations every
    engine has; on NumPy arrays, with Python floats (ten times faster on two numbers).
    """
    if isinstance(x, (list, tuple)):
        x = as_array(x, "x")
    if isinstance(theta, (list, tuple)):
        theta = as_array(theta, "theta")
    _lv_shapes(x, theta)
    if isinstance(x, np.ndarray) and isinstance(theta, np.ndarray):
        (u, v), (alpha, beta, gamma, delta) = _floats(x, "x"), _floats(theta, "theta")
        return np.array([alpha * u - beta * u * v, delta * u * v - gamma * v])
    return x * (theta[[0, 2]] * _SIGN - theta[[1, 3]] * _SIGN * x[[1, 0]])


def _lv_shapes(x, theta):
    for z, name, n in ((x, "x", 2), (theta, "theta", 4)):
        if tuple(getattr(z, "shape", ())) != (n,):
            raise ValueError(f"{name} must be a vector of {n} numbers for lotka_volterra, got "
                             f"{type(z).__name__} of shape {getattr(z, 'shape', None)}")


def _floats(z, name):
    """The entries of a small NumPy vector as Python floats, checked real and finite (fast)."""
    if z.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {z.dtype}")
    values = z.tolist()
    if not all(map(math.isfinite, values)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return values


def lotka_volterra_vjp(x, theta, a):
    """``(a^T df/dx, a^T df/dtheta)`` for ``lotka_volterra``, in closed form::

        df/dx = [[alpha - beta v, -beta u], [delta v, delta u - gamma]],
        df/dtheta = [[u, -u v, 0, 0], [0, 0, -v, u v]].
    """
    (u, v), (alpha, beta, gamma, delta), (a0, a1) = (
        _floats(as_array(z, name, shape=(n,)) if not isinstance(z, np.ndarray) or z.shape != (n,)
                else z, name)
        for z, name, n in ((x, "x", 2), (theta, "theta", 4), (a, "a", 2)))
    ax = np.array([a0 * (alpha - beta * v) + a1 * delta * v, -a0 * beta * u + a1 * (delta * u - gamma)])
    ath = np.array([a0 * u, -a0 * u * v, -a1 * v, a1 * u * v])
    return ax, ath
