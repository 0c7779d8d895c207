"""Forward mode: dual numbers (Chapter 6).

A dual number is ``value + deriv * eps`` with ``eps^2 = 0``.  For a differentiable ``g``::

    g(a + b eps) = g(a) + g'(a) b eps,

so evaluating a program on ``Dual(x, v)`` returns ``Dual(f(x), df(x)[v])``: the value and the
directional derivative, i.e. one Jacobian-vector product ``J v`` per pass (the full Jacobian of
``F: R^n -> R^m`` takes ``n`` passes).  Each operation applies its rule to the pair, e.g.
``d(u w) = u dw + w du``, ``d(u / w) = (du - (u / w) dw) / w``, ``d(u^p) = p u^(p-1) du``,
``d exp(u) = exp(u) du``, ``d log(u) = du / u``, ``d tanh(u) = (1 - tanh(u)^2) du``; linear operations
(``sum``, ``mean``, indexing, ``.T``, ``@`` by a constant) act on value and deriv alike.

``value`` and ``deriv`` are numbers, or arrays of one shape (then ``deriv`` is the tangent array).
"""
from __future__ import annotations

import math

import numpy as np

from course_lib.autodiff._shared import check_log, check_power, constant, is_number
from course_lib.utils import as_array, as_scalar

__all__ = ["Dual"]


class Dual:
    """A dual number ``value + deriv * eps`` with ``eps^2 = 0``: forward-mode differentiation.

    For a differentiable ``g``, ``g(a + b eps) = g(a) + g'(a) b eps``: evaluating a program on
    ``Dual(x, v)`` returns ``Dual(f(x), f'(x) v)``, the value and the directional derivative.
    ``value`` and ``deriv`` are numbers, or arrays of one shape (then the operations act entrywise,
    ``@`` is the matrix product, and ``deriv`` is the tangent array ``df(x)[v]``). Operations:
    ``+ - * / **`` and ``@`` with plain numbers or arrays on either side, unary ``-``,
    ``.exp() .log() .tanh() .relu()``, ``.sum() .mean()``, indexing, ``.T``.
    """

    __slots__ = ("value", "deriv")
    __array_ufunc__ = None  # `ndarray op Dual` defers to Dual's reflected operators

    def __init__(self, value, deriv=0.0):
        if np.ndim(value) == 0:
            if np.ndim(deriv) != 0:
                raise ValueError(f"deriv must be a number when value is a number, got shape "
                                 f"{np.shape(deriv)}")
            self.value, self.deriv = as_scalar(value, "value"), as_scalar(deriv, "deriv")
            return
        self.value = as_array(value, "value")
        d = as_array(deriv, "deriv")
        if d.ndim == 0:
            d = np.full(self.value.shape, float(d))
        if d.shape != self.value.shape:
            raise ValueError(f"deriv must have the shape of value {self.value.shape}, got {d.shape}")
        self.deriv = d

    def __repr__(self):
        return f"Dual(value={self.value!r}, deriv={self.deriv!r})"

    @property
    def shape(self):
        return np.shape(self.value)

    # -- arithmetic: the product rule and friends, d(uv) = u dv + v du
    def __add__(self, other):
        if isinstance(other, Dual):
            return _dual(self.value + other.value, self.deriv + other.deriv)
        c = constant(other)
        return c if c is NotImplemented else _dual(self.value + c, self.deriv)

    __radd__ = __add__

    def __neg__(self):
        return _dual(-self.value, -self.deriv)

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def __mul__(self, other):
        if isinstance(other, Dual):
            return _dual(self.value * other.value, self.deriv * other.value + self.value * other.deriv)
        c = constant(other)
        return c if c is NotImplemented else _dual(self.value * c, self.deriv * c)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, Dual):
            q = self.value / other.value
            return _dual(q, (self.deriv - q * other.deriv) / other.value)
        c = constant(other)
        return c if c is NotImplemented else _dual(self.value / c, self.deriv / c)

    def __rtruediv__(self, other):  # c / u, d = -c du / u^2
        c = constant(other)
        return c if c is NotImplemented else _dual(c / self.value, -c * self.deriv / self.value**2)

    def __pow__(self, p):
        if isinstance(p, Dual):  # u^w = exp(w log u)
            return (p * self.log()).exp()
        if not is_number(p):
            return NotImplemented
        check_power(self.value, p)
        return _dual(self.value**p, p * self.value ** (p - 1) * self.deriv)

    def __rpow__(self, c):  # c^u, d = c^u log(c) du
        if not is_number(c):
            return NotImplemented
        if c <= 0:
            raise ValueError(f"the base of a power of a Dual must be positive, got {c}")
        out = c**self.value
        return _dual(out, out * math.log(c) * self.deriv)

    def __matmul__(self, other):
        if isinstance(other, Dual):
            return _dual(self.value @ other.value, self.deriv @ other.value + self.value @ other.deriv)
        c = constant(other)
        return c if c is NotImplemented else _dual(self.value @ c, self.deriv @ c)

    def __rmatmul__(self, other):
        c = constant(other)
        return c if c is NotImplemented else _dual(c @ self.value, c @ self.deriv)

    # -- elementary functions: (g(u))' = g'(u) du
    def exp(self):
        out = np.exp(self.value)
        return _dual(out, out * self.deriv)

    def log(self):
        check_log(self.value)
        return _dual(np.log(self.value), self.deriv / self.value)

    def tanh(self):
        out = np.tanh(self.value)
        return _dual(out, (1 - out**2) * self.deriv)

    def relu(self):
        return _dual(np.maximum(self.value, 0.0), self.deriv * (self.value > 0))

    # -- linear operations act on value and deriv alike
    def sum(self, axis=None, keepdims=False):
        return _dual(np.sum(self.value, axis=axis, keepdims=keepdims),
                     np.sum(self.deriv, axis=axis, keepdims=keepdims))

    def mean(self, axis=None, keepdims=False):
        return _dual(np.mean(self.value, axis=axis, keepdims=keepdims),
                     np.mean(self.deriv, axis=axis, keepdims=keepdims))

    def __getitem__(self, idx):
        return _dual(np.asarray(self.value)[idx], np.asarray(self.deriv)[idx])

    @property
    def T(self):
        return _dual(np.transpose(self.value), np.transpose(self.deriv))


def _dual(value, deriv):
    """Fast constructor: no validation; broadcasts ``deriv`` to the shape of ``value``."""
    d = object.__new__(Dual)
    if isinstance(value, np.ndarray) and np.shape(deriv) != value.shape:
        deriv = np.broadcast_to(deriv, value.shape)
    d.value, d.deriv = value, deriv
    return d

