"""Derivatives of Python functions by either mode (Chapter 6): grad, jacobian, jvp, vjp.

For ``F: R^n -> R^m`` written with operations every engine has (``+ - * / ** @``, the functions
of ``autodiff.functions``, ``.sum()``, indexing):

* ``jvp(F, x, v) = (F(x), J v)``: one forward-mode pass on ``Dual(x, v)``;
* ``vjp(F, x, v) = (F(x), v^T J)``: one reverse-mode sweep of the ``Tensor`` graph seeded with ``v``;
* ``jacobian(F, x, mode)``: ``n`` forward passes (columns ``J e_j``) or ``m`` reverse sweeps of one
  recorded graph (rows ``e_i^T J``): which is cheaper depends on the shape ``(m, n)``;
* ``grad(f, x, mode)`` for a scalar ``f`` (``m = 1``): one reverse sweep, or ``x.size`` forward
  passes; the gradient has the shape of ``x``.
"""
from __future__ import annotations

import numpy as np

from course_lib._shared import check_callable
from course_lib.autodiff.forward import Dual
from course_lib.autodiff.scalar import Var
from course_lib.autodiff.tensor import Tensor
from course_lib.utils import as_array, check_result

__all__ = ["grad", "jacobian", "jvp", "vjp"]


def _value_of(x):
    return x.value if isinstance(x, (Tensor, Dual, Var)) else np.asarray(x)


def _mode(mode):
    if mode not in ("forward", "reverse"):
        raise ValueError(f"mode must be 'forward' or 'reverse', got {mode!r}")
    return mode


def _output(out):
    """The value of f's output as a finite real array (f may return a constant that ignores its
    input); ``None``, NaN, inf or complex values raise ``ValueError`` naming ``f``."""
    if isinstance(out, (Tensor, Dual, Var)):
        out = out.value if not isinstance(out, Dual) else out.value
    return check_result(out, "f", where="at x")


def grad(f, x, mode="reverse"):
    """Gradient of a scalar function ``f`` at ``x`` (any shape; the gradient has that shape).

    ``mode="reverse"``: one sweep of the ``Tensor`` engine. ``mode="forward"``: one ``Dual`` pass
    per coordinate of ``x``, seeded with the basis vector ``e_i``, so ``x.size`` passes.
    ``f`` must be written with operations every engine has (``+ - * / ** @``, ``exp log tanh relu``
    from this module, ``.sum()``, indexing).
    """
    check_callable(f, "f")
    x = as_array(x, "x")
    if _mode(mode) == "reverse":
        xt = Tensor(x)
        out = f(xt)
        if _output(out).size != 1:
            raise ValueError(f"f must return a scalar, got shape {_output(out).shape}")
        if not isinstance(out, Tensor):
            return np.zeros_like(x)
        out.backward()
        return xt.grad
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = 1.0
        out = f(Dual(x, e))
        if _output(out).size != 1:
            raise ValueError(f"f must return a scalar, got shape {_output(out).shape}")
        g[idx] = np.reshape(out.deriv, ()) if isinstance(out, Dual) else 0.0
    return g


def jacobian(f, x, mode="reverse"):
    """Jacobian ``(m, n)`` of ``F: R^n -> R^m`` at the 1-D point ``x`` (``m = 1`` for a scalar ``F``).

    ``mode="forward"``: column ``j`` is the Jacobian-vector product ``J e_j`` of one ``Dual`` pass,
    ``n`` passes. ``mode="reverse"``: row ``i`` is the vector-Jacobian product ``e_i^T J`` of one
    backward sweep through a single recorded graph, ``m`` sweeps. Which is cheaper depends on the shape.
    """
    check_callable(f, "f")
    x = as_array(x, "x", ndim=1)
    if _mode(mode) == "reverse":
        xt = Tensor(x)
        out = f(xt)
        m = _output(out).size
        if _output(out).ndim > 1:
            raise ValueError(f"f must return a scalar or a 1-D array, got shape {_output(out).shape}")
        J = np.zeros((m, x.size))
        if not isinstance(out, Tensor):
            return J
        for i in range(m):
            seed = np.zeros(out.value.shape)
            seed.reshape(-1)[i] = 1.0
            out.backward(seed)
            J[i] = xt.grad
        return J
    columns = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = 1.0
        out = f(Dual(x, e))
        if _output(out).ndim > 1:
            raise ValueError(f"f must return a scalar or a 1-D array, got shape {_output(out).shape}")
        d = out.deriv if isinstance(out, Dual) else np.zeros(_output(out).shape)
        columns.append(np.reshape(d, -1))
    if not columns:
        return np.zeros((_output(f(x)).size, 0))
    return np.stack(columns, axis=1)


def jvp(f, x, v):
    """Jacobian-vector product ``(F(x), dF(x) v)`` by one forward-mode pass."""
    check_callable(f, "f")
    x = as_array(x, "x")
    v = as_array(v, "v", shape=x.shape)
    out = f(Dual(x, v))
    value = _output(out)
    if not isinstance(out, Dual):
        return value, np.zeros_like(value)
    return value, np.asarray(out.deriv, dtype=np.float64)


def vjp(f, x, v):
    """Vector-Jacobian product ``(F(x), v^T dF(x))`` by one reverse-mode sweep (shaped like ``x``)."""
    check_callable(f, "f")
    x = as_array(x, "x")
    xt = Tensor(x)
    out = f(xt)
    v = as_array(v, "v", shape=_output(out).shape)
    if not isinstance(out, Tensor):
        return _output(out), np.zeros_like(x)
    out.backward(v)
    return out.value.copy(), xt.grad

