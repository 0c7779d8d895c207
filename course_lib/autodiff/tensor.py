"""Reverse mode on arrays (Chapter 6): a computational graph of NumPy arrays.

The Jacobian of an array operation is a huge matrix that is never formed: a ``Tensor`` stores, for
each operation ``c = g(a, b, ...)``, a *vector-Jacobian product* ``vjp(g_c) -> (g_c^T dc/da,
g_c^T dc/db, ...)``, e.g. ``(g, g)`` for ``a + b``, ``(g * b, g * a)`` for ``a * b``,
``(g b^T, a^T g)`` for ``a @ b``, ``g * (1 - tanh(a)^2)`` for ``tanh(a)``.  ``out.backward(seed)``
sweeps the graph in reverse topological order (``graph.topological_order``) with the cotangents::

    bar_out = seed,      bar_p = sum_{r child of p} vjp_r(bar_r)[p],

one vector-Jacobian product ``seed^T J`` per sweep; the gradient of a scalar output needs one sweep.
The cotangent of an operand that was broadcast is summed back to its shape (``_unbroadcast``).
A new primitive is one small function::

    def sin(x):
        x = as_tensor(x)
        return Tensor(np.sin(x.value), parents=(x,), vjp=lambda g: (g * np.cos(x.value),))

``as_tensor`` wraps a constant, ``stack`` stacks Tensors along a new axis.
"""
from __future__ import annotations

import math

import numpy as np

from course_lib.autodiff._shared import check_log, check_power, constant, is_number
from course_lib.autodiff.graph import Node, topological_order
from course_lib.utils import as_array

__all__ = ["Tensor", "as_tensor", "stack"]


class Tensor(Node):
    """An array node of a computational graph: reverse mode on NumPy arrays.

    ``Tensor(value)`` is an input (a leaf). An operation creates
    ``Tensor(value, parents, vjp)`` where ``vjp(g)`` returns, for an output cotangent ``g`` (an
    array shaped like ``value``), the tuple of cotangents ``g^T d value / d parent`` of the parents
    (or ``None`` for a parent that needs none). ``out.backward()`` (``out`` of size 1) or
    ``out.backward(seed)`` sweeps the graph and fills ``.grad`` (shaped like ``.value``) on every node.

    Operations: ``+ - * /`` with broadcasting and plain numbers or arrays on either side, ``**`` with
    a number, ``@``, unary ``-``, ``.exp() .log() .tanh() .relu()``, ``.sum(axis) .mean(axis)``,
    indexing (slices, integer arrays), ``.reshape() .T``, and ``stack``.
    """

    __slots__ = ("value", "grad", "_parents", "_vjp")
    __array_ufunc__ = None  # `ndarray op Tensor` defers to Tensor's reflected operators

    def __init__(self, value, parents=(), vjp=None):
        self.value = as_array(value, "value")
        if not hasattr(parents, "__iter__") or isinstance(parents, (str, bytes)):
            raise ValueError(f"parents must be a sequence of Tensors, got {type(parents).__name__}")
        self._parents = tuple(as_tensor(p) for p in parents)
        if self._parents and not callable(vjp):
            raise ValueError("vjp must be a function g -> cotangents of the parents when parents are given")
        self._vjp = vjp if self._parents else None
        self.grad = None

    def __repr__(self):
        return f"Tensor({np.array2string(self.value, precision=4, threshold=8)})"

    @property
    def shape(self):
        return self.value.shape

    @property
    def ndim(self):
        return self.value.ndim

    # -- arithmetic with broadcasting (the engine sums cotangents back to the operands' shapes).
    #    A number or a NumPy array on either side is a constant: it gets no cotangent.
    def __add__(self, other):
        if isinstance(other, Tensor):
            return _tensor(self.value + other.value, (self, other), lambda g: (g, g))
        c = constant(other)
        return c if c is NotImplemented else _tensor(self.value + c, (self,), lambda g: (g,))

    __radd__ = __add__

    def __neg__(self):
        return _tensor(-self.value, (self,), lambda g: (-g,))

    def __sub__(self, other):
        if isinstance(other, Tensor):
            return _tensor(self.value - other.value, (self, other), lambda g: (g, -g))
        c = constant(other)
        return c if c is NotImplemented else _tensor(self.value - c, (self,), lambda g: (g,))

    def __rsub__(self, other):
        c = constant(other)
        return c if c is NotImplemented else _tensor(c - self.value, (self,), lambda g: (-g,))

    def __mul__(self, other):
        a = self.value
        if isinstance(other, Tensor):
            b = other.value
            return _tensor(a * b, (self, other), lambda g: (g * b, g * a))
        c = constant(other)
        return c if c is NotImplemented else _tensor(a * c, (self,), lambda g: (g * c,))

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, Tensor):
            b, q = other.value, self.value / other.value
            return _tensor(q, (self, other), lambda g: (g / b, -g * q / b))
        c = constant(other)
        return c if c is NotImplemented else _tensor(self.value / c, (self,), lambda g: (g / c,))

    def __rtruediv__(self, other):  # c / a, cotangent -g c / a^2 = -g q / a
        c = constant(other)
        if c is NotImplemented:
            return c
        a, q = self.value, c / self.value
        return _tensor(q, (self,), lambda g: (-g * q / a,))

    def __pow__(self, p):
        if not is_number(p):
            return NotImplemented
        check_power(self.value, p)
        a, p = self.value, float(p)
        return _tensor(a**p, (self,), lambda g: (g * p * a ** (p - 1),))

    def __rpow__(self, c):
        if not is_number(c):
            return NotImplemented
        if c <= 0:
            raise ValueError(f"the base of a power of a Tensor must be positive, got {c}")
        out = float(c) ** self.value
        return _tensor(out, (self,), lambda g: (g * out * math.log(c),))

    def __matmul__(self, other):
        a = self.value
        if isinstance(other, Tensor):
            b = other.value
            return _tensor(a @ b, (self, other), lambda g: _matmul_vjp(a, b, g))
        c = constant(other)
        if c is NotImplemented:
            return c
        return _tensor(a @ c, (self,), lambda g: _matmul_vjp(a, c, g, need_b=False)[:1])

    def __rmatmul__(self, other):
        c = constant(other)
        if c is NotImplemented:
            return c
        b = self.value
        return _tensor(c @ b, (self,), lambda g: _matmul_vjp(c, b, g, need_a=False)[1:])

    # -- elementary functions
    def exp(self):
        out = np.exp(self.value)
        return _tensor(out, (self,), lambda g: (g * out,))

    def log(self):
        check_log(self.value)
        a = self.value
        return _tensor(np.log(a), (self,), lambda g: (g / a,))

    def tanh(self):
        out = np.tanh(self.value)

        def vjp(g):  # g * (1 - out^2), computed in one temporary array
            d = np.multiply(out, out)
            np.subtract(1.0, d, out=d)
            return (np.multiply(g, d, out=d),)
        return _tensor(out, (self,), vjp)

    def relu(self):
        a = self.value
        return _tensor(np.maximum(a, 0.0), (self,), lambda g: (g * (a > 0),))

    # -- reductions and reshaping
    def sum(self, axis=None, keepdims=False):
        shape = self.value.shape

        def vjp(g):
            if axis is not None and not keepdims:
                g = np.expand_dims(g, axis)
            return (np.broadcast_to(g, shape),)
        return _tensor(np.sum(self.value, axis=axis, keepdims=keepdims), (self,), vjp)

    def mean(self, axis=None, keepdims=False):
        count = self.value.size / np.size(np.sum(self.value, axis=axis, keepdims=keepdims))
        return self.sum(axis=axis, keepdims=keepdims) / count

    def __getitem__(self, idx):
        shape = self.value.shape

        def vjp(g):
            full = np.zeros(shape)
            np.add.at(full, idx, g)  # add.at, not =, so repeated indices accumulate
            return (full,)
        return _tensor(self.value[idx], (self,), vjp)

    def reshape(self, *shape):
        old = self.value.shape
        return _tensor(self.value.reshape(*shape), (self,), lambda g: (g.reshape(old),))

    @property
    def T(self):
        return _tensor(self.value.T, (self,), lambda g: (g.T,))

    # -- the backward sweep
    def backward(self, seed=None):
        """Fill ``.grad`` of every node this one depends on with ``seed^T d self / d node``.

        ``seed`` (shaped like ``self.value``) defaults to 1 when ``self`` holds one number; a
        non-scalar output needs an explicit seed: the vector ``v`` of the product ``v^T J``.
        The ``.grad`` arrays of different nodes may share memory: read them, do not modify them in place.
        """
        if seed is None:
            if self.value.size != 1:
                raise ValueError(f"backward() on a Tensor of shape {self.value.shape} needs a seed: pass "
                                 f"seed=v, an array of that shape, to get the vector-Jacobian product v^T J")
            seed = np.ones_like(self.value)
        else:
            seed = np.array(as_array(seed, "seed"))
            if seed.shape != self.value.shape:
                raise ValueError(f"seed must have the shape of the output {self.value.shape}, "
                                 f"got {seed.shape}")
        order = topological_order(self)
        for node in order:
            node.grad = None
        self.grad = seed
        for node in reversed(order):  # children before parents
            if node._vjp is None or node.grad is None:
                continue
            cotangents = node._vjp(node.grad)
            if len(cotangents) != len(node._parents):
                raise ValueError(f"a vjp returned {len(cotangents)} cotangents "
                                 f"for {len(node._parents)} parents")
            for parent, g in zip(node._parents, cotangents):
                if g is None:
                    continue
                g = _unbroadcast(g, parent.value.shape)
                parent.grad = g if parent.grad is None else parent.grad + g
        for node in order:
            if node.grad is None:
                node.grad = np.zeros_like(node.value)
            elif not node.grad.flags.writeable:  # a broadcast view: give the user a plain array
                node.grad = node.grad.copy()


def _tensor(value, parents, vjp):
    """Fast constructor used by the operations (no validation)."""
    t = object.__new__(Tensor)
    t.value, t._parents, t._vjp, t.grad = np.asarray(value, dtype=np.float64), parents, vjp, None
    return t


def as_tensor(x) -> Tensor:
    """``x`` itself if it is a Tensor, else a constant leaf holding ``x`` (a number or an array)."""
    if isinstance(x, Tensor):
        return x
    return Tensor(as_array(x, "x"))


def _unbroadcast(g, shape):
    """Sum the cotangent ``g`` over the axes along which an operand of shape ``shape`` was broadcast."""
    g = np.asarray(g, dtype=np.float64)
    if g.shape == shape:
        return g
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if g.shape != shape:
        try:
            g = np.broadcast_to(g, shape)
        except ValueError:
            raise ValueError(f"a vjp returned a cotangent of shape {g.shape} "
                             f"for a parent of shape {shape}") from None
    return g


def _matmul_vjp(a, b, g, need_a=True, need_b=True):
    """Cotangents ``(g b^T, a^T g)`` of ``c = a @ b`` (NumPy's rules for 1-D operands), or ``None``."""
    swap = lambda m: np.swapaxes(m, -1, -2)  # noqa: E731  (transpose of the last two axes)
    ga = gb = None
    if a.ndim == 1 and b.ndim == 1:      # inner product: c = sum a b
        ga, gb = (g * b if need_a else None), (g * a if need_b else None)
    elif a.ndim == 1:                    # (n,) @ (..., n, m) -> (..., m)
        ga = (g[..., None, :] * b).sum(axis=-1) if need_a else None
        gb = a[:, None] * g[..., None, :] if need_b else None
    elif b.ndim == 1:                    # (..., m, n) @ (n,) -> (..., m)
        ga = g[..., :, None] * b if need_a else None
        gb = (swap(a) @ g[..., None])[..., 0] if need_b else None
    else:
        ga = g @ swap(b) if need_a else None
        gb = swap(a) @ g if need_b else None
    return ga, gb


def stack(xs, axis=0):
    """Stack Tensors (or arrays) along a new axis; for plain arrays this is ``np.stack``."""
    if not hasattr(xs, "__iter__") or isinstance(xs, (str, bytes)):
        raise ValueError(f"xs must be a sequence of Tensors or arrays, got {type(xs).__name__}")
    xs = list(xs)
    if not xs:
        raise ValueError("xs must hold at least one array")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"axis must be an integer, got {axis!r}")
    values = [x.value if isinstance(x, Tensor) else as_array(x, f"xs[{i}]") for i, x in enumerate(xs)]
    if any(v.shape != values[0].shape for v in values):
        raise ValueError(f"xs must hold arrays of one shape, got {sorted({v.shape for v in values})}")
    if not -values[0].ndim - 1 <= axis <= values[0].ndim:
        raise ValueError(f"axis must lie in [{-values[0].ndim - 1}, {values[0].ndim}], got {axis}")
    if not any(isinstance(x, Tensor) for x in xs):
        return np.stack(values, axis=axis)
    xs = [as_tensor(x) for x in xs]
    value = np.stack([x.value for x in xs], axis=axis)
    return _tensor(value, tuple(xs), lambda g: tuple(np.moveaxis(g, axis, 0)))

