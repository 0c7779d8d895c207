"""Reverse mode on scalars (Chapter 6): a computational graph of numbers, micrograd style.

Each operation ``theta_r = g_r(theta_parents)`` creates a ``Var`` that stores its parents and the
*local partial derivatives*, numbers ``dg_r/dtheta_p`` (e.g. ``(w, u)`` for ``u * w``,
``(1 / w, -u / w^2)`` for ``u / w``, ``exp(u)`` for ``exp(u)``, ``1 - tanh(u)^2`` for ``tanh(u)``).
``out.backward()`` sweeps the graph in reverse topological order (``graph.topological_order``)::

    bar_out = 1,      bar_theta_p = sum_{r child of p} bar_theta_r * dg_r/dtheta_p,

and leaves ``v.grad = d out / d v`` in every node ``v``: one sweep gives the whole gradient of a
scalar function, at a small constant times the cost of the function.  A node used several times
receives one contribution per use; each call to ``backward`` starts from zero gradients.
"""
from __future__ import annotations

import math

from course_lib.autodiff._shared import check_log, check_power, is_number
from course_lib.autodiff.graph import Node, topological_order
from course_lib.utils import as_scalar

__all__ = ["Var"]


class Var(Node):
    """A scalar node of a computational graph: reverse-mode differentiation (micrograd style).

    Each operation creates a node that remembers its parents and the local partial derivatives
    ``dg/dparent``. ``out.backward()`` sweeps the graph from ``out`` to its inputs and leaves in
    every node ``v`` it depends on ``v.grad = d out / d v``, using
    ``bar_p = sum_{children r of p} bar_r * dg_r/dp`` (a node used twice receives two contributions).
    Operations: ``+ - * / **`` with plain numbers on either side, unary ``-``,
    ``.exp() .log() .tanh() .relu()``. A new primitive is ``Var(g(x.value), (x,), (g'(x.value),))``.
    """

    __slots__ = ("value", "grad", "_parents", "_local_grads")
    __array_ufunc__ = None  # `np.float64 op Var` defers to Var's reflected operators

    def __init__(self, value, parents=(), local_grads=()):
        self.value = as_scalar(value, "value")
        for seq, name in ((parents, "parents"), (local_grads, "local_grads")):
            if not hasattr(seq, "__iter__") or isinstance(seq, (str, bytes)):
                raise ValueError(f"{name} must be a sequence, got {type(seq).__name__}")
        parents, local_grads = tuple(parents), tuple(local_grads)
        if not all(isinstance(p, Var) for p in parents):
            raise ValueError("parents must be a sequence of Var")
        if len(local_grads) != len(parents):
            raise ValueError(f"local_grads must hold one number per parent ({len(parents)}), "
                             f"got {len(local_grads)}")
        self._parents = parents
        self._local_grads = tuple(as_scalar(d, "local_grads") for d in local_grads)
        self.grad = 0.0

    def __repr__(self):
        return f"Var(value={self.value!r}, grad={self.grad!r})"

    @property
    def parents(self):
        """The nodes this one was computed from (empty for an input)."""
        return self._parents

    @property
    def local_grads(self):
        """The local partial derivatives ``d self / d parent``, one per parent."""
        return self._local_grads

    def __add__(self, other):
        if isinstance(other, Var):
            return _var(self.value + other.value, (self, other), (1.0, 1.0))
        if not is_number(other):
            return NotImplemented
        return _var(self.value + other, (self,), (1.0,))

    __radd__ = __add__

    def __neg__(self):
        return _var(-self.value, (self,), (-1.0,))

    def __sub__(self, other):
        if isinstance(other, Var):
            return _var(self.value - other.value, (self, other), (1.0, -1.0))
        if not is_number(other):
            return NotImplemented
        return _var(self.value - other, (self,), (1.0,))

    def __rsub__(self, other):
        if not is_number(other):
            return NotImplemented
        return _var(other - self.value, (self,), (-1.0,))

    def __mul__(self, other):
        if isinstance(other, Var):
            return _var(self.value * other.value, (self, other), (other.value, self.value))
        if not is_number(other):
            return NotImplemented
        return _var(self.value * other, (self,), (float(other),))

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, Var):
            q = self.value / other.value
            return _var(q, (self, other), (1.0 / other.value, -q / other.value))
        if not is_number(other):
            return NotImplemented
        return _var(self.value / other, (self,), (1.0 / other,))

    def __rtruediv__(self, other):
        if not is_number(other):
            return NotImplemented
        q = other / self.value
        return _var(q, (self,), (-q / self.value,))

    def __pow__(self, p):
        if isinstance(p, Var):  # u^w: partials w u^(w-1) and u^w log u
            if self.value <= 0:
                raise ValueError(f"u ** w with w a Var needs u > 0, got u = {self.value}")
            out = self.value**p.value
            return _var(out, (self, p), (p.value * self.value ** (p.value - 1), out * math.log(self.value)))
        if not is_number(p):
            return NotImplemented
        check_power(self.value, p)
        return _var(self.value**p, (self,), (p * self.value ** (p - 1),))

    def __rpow__(self, c):
        if not is_number(c):
            return NotImplemented
        if c <= 0:
            raise ValueError(f"the base of a power of a Var must be positive, got {c}")
        out = c**self.value
        return _var(out, (self,), (out * math.log(c),))

    def exp(self):
        out = math.exp(self.value)
        return _var(out, (self,), (out,))

    def log(self):
        check_log(self.value)
        return _var(math.log(self.value), (self,), (1.0 / self.value,))

    def tanh(self):
        out = math.tanh(self.value)
        return _var(out, (self,), (1.0 - out * out,))

    def relu(self):
        return _var(max(self.value, 0.0), (self,), (1.0 if self.value > 0 else 0.0,))

    def backward(self):
        """Fill ``.grad`` of every node this one depends on with ``d self / d node``."""
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):  # children before parents
            for parent, local in zip(node._parents, node._local_grads):
                parent.grad += local * node.grad


def _var(value, parents, local_grads):
    """Fast constructor used by the operations (no validation)."""
    v = object.__new__(Var)
    v.value, v.grad, v._parents, v._local_grads = value, 0.0, parents, local_grads
    return v

