"""Automatic differentiation from scratch: forward mode, reverse mode on scalars and on arrays (Chapter 6).

A program is a list of elementary operations ``theta_r = g_r(theta_parents(r))``. There are two
ways to push the chain rule through it:

* **forward mode** (``Dual``) carries, next to each value, its derivative along one direction ``v``,
  ``dtheta_r = sum_p dg_r/dtheta_p * dtheta_p``. One pass gives one Jacobian-vector product
  ``J v``: the full Jacobian of ``F: R^n -> R^m`` takes ``n`` passes.
* **reverse mode** (``Var`` on scalars, ``Tensor`` on arrays) records the graph, then sweeps it
  backwards with the adjoints ``bar_theta_p = sum_{r child of p} bar_theta_r * dg_r/dtheta_p``.
  One sweep gives one vector-Jacobian product ``v^T J``: the Jacobian takes ``m`` sweeps, and the
  gradient of a scalar function takes one, at a small constant times the cost of the function.

What each engine stores per operation is the lesson:

* ``Var`` keeps the local partial derivatives, numbers ``dg_r/dtheta_p`` (micrograd style);
* ``Tensor`` keeps a *vector-Jacobian product* ``vjp(g) -> (g^T dg_r/dtheta_p for each parent)``,
  since the Jacobian of an array operation is a huge matrix that is never formed. A new primitive
  is one small function::

      def sin(x):
          x = as_tensor(x)
          return Tensor(np.sin(x.value), parents=(x,), vjp=lambda g: (g * np.cos(x.value),))

  (gradients of broadcast operands are summed back to their shape by the engine).

Both backward sweeps visit the nodes in a topological order computed *without recursion*, so graphs
of millions of nodes work; each call to ``backward`` starts from zero gradients (unlike PyTorch,
nothing accumulates across calls), and within a sweep the contributions of a node used several times
add up. ``exp, log, tanh, relu`` below work on numbers, arrays, ``Dual``, ``Var``, ``Tensor`` (and
torch tensors), so one function definition serves every engine: ``grad(f, x, mode=...)``.
"""
from __future__ import annotations

import gc
import math
import numbers
import time
from typing import Callable, NamedTuple

import numpy as np

from course_lib.utils import as_array, as_scalar

__all__ = [
    "CostRatio",
    "Dual",
    "Tensor",
    "Var",
    "as_tensor",
    "exp",
    "gradient_cost_ratio",
    "grad",
    "init_mlp",
    "jacobian",
    "jvp",
    "log",
    "median_times",
    "mlp",
    "relu",
    "softmax_cross_entropy",
    "stack",
    "tanh",
    "topological_order",
    "vjp",
]


def _is_number(x) -> bool:
    return isinstance(x, numbers.Real)


def _check_callable(f, name):
    if not callable(f):
        raise ValueError(f"{name} must be a callable, got {type(f).__name__}")  # noqa: TRY004


def _check_power(base, p):
    """Real powers need a positive base unless the exponent is an integer."""
    if float(p) != int(p) and np.any(np.asarray(base) < 0):
        raise ValueError(f"a negative number to the non-integer power {p} is not real")


def _check_log(x):
    if np.any(np.asarray(x) <= 0):
        raise ValueError("log needs positive arguments")


# ============================================================================ forward mode

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
        c = _constant(other)
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
        c = _constant(other)
        return c if c is NotImplemented else _dual(self.value * c, self.deriv * c)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, Dual):
            q = self.value / other.value
            return _dual(q, (self.deriv - q * other.deriv) / other.value)
        c = _constant(other)
        return c if c is NotImplemented else _dual(self.value / c, self.deriv / c)

    def __rtruediv__(self, other):  # c / u, d = -c du / u^2
        c = _constant(other)
        return c if c is NotImplemented else _dual(c / self.value, -c * self.deriv / self.value**2)

    def __pow__(self, p):
        if isinstance(p, Dual):  # u^w = exp(w log u)
            return (p * self.log()).exp()
        if not _is_number(p):
            return NotImplemented
        _check_power(self.value, p)
        return _dual(self.value**p, p * self.value ** (p - 1) * self.deriv)

    def __rpow__(self, c):  # c^u, d = c^u log(c) du
        if not _is_number(c):
            return NotImplemented
        if c <= 0:
            raise ValueError(f"the base of a power of a Dual must be positive, got {c}")
        out = c**self.value
        return _dual(out, out * math.log(c) * self.deriv)

    def __matmul__(self, other):
        if isinstance(other, Dual):
            return _dual(self.value @ other.value, self.deriv @ other.value + self.value @ other.deriv)
        c = _constant(other)
        return c if c is NotImplemented else _dual(self.value @ c, self.deriv @ c)

    def __rmatmul__(self, other):
        c = _constant(other)
        return c if c is NotImplemented else _dual(c @ self.value, c @ self.deriv)

    # -- elementary functions: (g(u))' = g'(u) du
    def exp(self):
        out = np.exp(self.value)
        return _dual(out, out * self.deriv)

    def log(self):
        _check_log(self.value)
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


def _constant(x):
    """A plain number or array taking part in an operation (derivative 0), or NotImplemented."""
    if _is_number(x):
        return float(x)
    if isinstance(x, np.ndarray):
        return x.astype(np.float64, copy=False)
    return NotImplemented


def _dual(value, deriv):
    """Fast constructor: no validation; broadcasts ``deriv`` to the shape of ``value``."""
    d = object.__new__(Dual)
    if isinstance(value, np.ndarray) and np.shape(deriv) != value.shape:
        deriv = np.broadcast_to(deriv, value.shape)
    d.value, d.deriv = value, deriv
    return d


# ============================================================================ reverse mode, scalars

class Var:
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
        if not _is_number(other):
            return NotImplemented
        return _var(self.value + other, (self,), (1.0,))

    __radd__ = __add__

    def __neg__(self):
        return _var(-self.value, (self,), (-1.0,))

    def __sub__(self, other):
        if isinstance(other, Var):
            return _var(self.value - other.value, (self, other), (1.0, -1.0))
        if not _is_number(other):
            return NotImplemented
        return _var(self.value - other, (self,), (1.0,))

    def __rsub__(self, other):
        if not _is_number(other):
            return NotImplemented
        return _var(other - self.value, (self,), (-1.0,))

    def __mul__(self, other):
        if isinstance(other, Var):
            return _var(self.value * other.value, (self, other), (other.value, self.value))
        if not _is_number(other):
            return NotImplemented
        return _var(self.value * other, (self,), (float(other),))

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, Var):
            q = self.value / other.value
            return _var(q, (self, other), (1.0 / other.value, -q / other.value))
        if not _is_number(other):
            return NotImplemented
        return _var(self.value / other, (self,), (1.0 / other,))

    def __rtruediv__(self, other):
        if not _is_number(other):
            return NotImplemented
        q = other / self.value
        return _var(q, (self,), (-q / self.value,))

    def __pow__(self, p):
        if isinstance(p, Var):  # u^w: partials w u^(w-1) and u^w log u
            if self.value <= 0:
                raise ValueError(f"u ** w with w a Var needs u > 0, got u = {self.value}")
            out = self.value**p.value
            return _var(out, (self, p), (p.value * self.value ** (p.value - 1), out * math.log(self.value)))
        if not _is_number(p):
            return NotImplemented
        _check_power(self.value, p)
        return _var(self.value**p, (self,), (p * self.value ** (p - 1),))

    def __rpow__(self, c):
        if not _is_number(c):
            return NotImplemented
        if c <= 0:
            raise ValueError(f"the base of a power of a Var must be positive, got {c}")
        out = c**self.value
        return _var(out, (self,), (out * math.log(c),))

    def exp(self):
        out = math.exp(self.value)
        return _var(out, (self,), (out,))

    def log(self):
        _check_log(self.value)
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


def topological_order(output):
    """The nodes ``output`` depends on (itself included), each after all of its parents.

    An iterative depth-first search with an explicit stack: no recursion, so the depth of the graph
    is not limited by Python's recursion limit.
    """
    if not isinstance(output, (Var, Tensor)):
        raise ValueError(f"output must be a Var or a Tensor, got {type(output).__name__}")
    order, seen, stack = [], set(), [(output, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((p, False) for p in node._parents if id(p) not in seen)
    return order


# ============================================================================ reverse mode, arrays

class Tensor:
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
        c = _constant(other)
        return c if c is NotImplemented else _tensor(self.value + c, (self,), lambda g: (g,))

    __radd__ = __add__

    def __neg__(self):
        return _tensor(-self.value, (self,), lambda g: (-g,))

    def __sub__(self, other):
        if isinstance(other, Tensor):
            return _tensor(self.value - other.value, (self, other), lambda g: (g, -g))
        c = _constant(other)
        return c if c is NotImplemented else _tensor(self.value - c, (self,), lambda g: (g,))

    def __rsub__(self, other):
        c = _constant(other)
        return c if c is NotImplemented else _tensor(c - self.value, (self,), lambda g: (-g,))

    def __mul__(self, other):
        a = self.value
        if isinstance(other, Tensor):
            b = other.value
            return _tensor(a * b, (self, other), lambda g: (g * b, g * a))
        c = _constant(other)
        return c if c is NotImplemented else _tensor(a * c, (self,), lambda g: (g * c,))

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, Tensor):
            b, q = other.value, self.value / other.value
            return _tensor(q, (self, other), lambda g: (g / b, -g * q / b))
        c = _constant(other)
        return c if c is NotImplemented else _tensor(self.value / c, (self,), lambda g: (g / c,))

    def __rtruediv__(self, other):  # c / a, cotangent -g c / a^2 = -g q / a
        c = _constant(other)
        if c is NotImplemented:
            return c
        a, q = self.value, c / self.value
        return _tensor(q, (self,), lambda g: (-g * q / a,))

    def __pow__(self, p):
        if not _is_number(p):
            return NotImplemented
        _check_power(self.value, p)
        a, p = self.value, float(p)
        return _tensor(a**p, (self,), lambda g: (g * p * a ** (p - 1),))

    def __rpow__(self, c):
        if not _is_number(c):
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
        c = _constant(other)
        if c is NotImplemented:
            return c
        return _tensor(a @ c, (self,), lambda g: _matmul_vjp(a, c, g, need_b=False)[:1])

    def __rmatmul__(self, other):
        c = _constant(other)
        if c is NotImplemented:
            return c
        b = self.value
        return _tensor(c @ b, (self,), lambda g: _matmul_vjp(c, b, g, need_a=False)[1:])

    # -- elementary functions
    def exp(self):
        out = np.exp(self.value)
        return _tensor(out, (self,), lambda g: (g * out,))

    def log(self):
        _check_log(self.value)
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
    return Tensor(x)


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
    xs = list(xs)
    if not xs:
        raise ValueError("xs must hold at least one array")
    if not any(isinstance(x, Tensor) for x in xs):
        return np.stack([np.asarray(x, dtype=np.float64) for x in xs], axis=axis)
    xs = [as_tensor(x) for x in xs]
    value = np.stack([x.value for x in xs], axis=axis)
    return _tensor(value, tuple(xs), lambda g: tuple(np.moveaxis(g, axis, 0)))


# ============================================================================ functions for every engine

def exp(x):
    """``e^x`` for a number, an array, a ``Dual``, a ``Var`` or a ``Tensor``."""
    return x.exp() if hasattr(x, "exp") else np.exp(x)


def log(x):
    """``log x`` for a number, an array, a ``Dual``, a ``Var`` or a ``Tensor``."""
    return x.log() if hasattr(x, "log") else np.log(x)


def tanh(x):
    """``tanh x`` for a number, an array, a ``Dual``, a ``Var`` or a ``Tensor``."""
    return x.tanh() if hasattr(x, "tanh") else np.tanh(x)


def relu(x):
    """``max(x, 0)`` for a number, an array, a ``Dual``, a ``Var`` or a ``Tensor``."""
    return x.relu() if hasattr(x, "relu") else np.maximum(x, 0.0)


def _value_of(x):
    return x.value if isinstance(x, (Tensor, Dual, Var)) else np.asarray(x)


def _shape_of(x):
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


# ============================================================================ gradients and Jacobians

def _mode(mode):
    if mode not in ("forward", "reverse"):
        raise ValueError(f"mode must be 'forward' or 'reverse', got {mode!r}")
    return mode


def _output(out):
    """The value of f's output as an array (f may return a constant that ignores its input)."""
    return np.asarray(_value_of(out), dtype=np.float64)


def grad(f, x, mode="reverse"):
    """Gradient of a scalar function ``f`` at ``x`` (any shape; the gradient has that shape).

    ``mode="reverse"``: one sweep of the ``Tensor`` engine. ``mode="forward"``: one ``Dual`` pass
    per coordinate of ``x``, seeded with the basis vector ``e_i``, so ``x.size`` passes.
    ``f`` must be written with operations every engine has (``+ - * / ** @``, ``exp log tanh relu``
    from this module, ``.sum()``, indexing).
    """
    _check_callable(f, "f")
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
    _check_callable(f, "f")
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
    _check_callable(f, "f")
    x = as_array(x, "x")
    v = as_array(v, "v", shape=x.shape)
    out = f(Dual(x, v))
    if not isinstance(out, Dual):
        return _output(out), np.zeros_like(_output(out))
    return np.asarray(out.value, dtype=np.float64), np.asarray(out.deriv, dtype=np.float64)


def vjp(f, x, v):
    """Vector-Jacobian product ``(F(x), v^T dF(x))`` by one reverse-mode sweep (shaped like ``x``)."""
    _check_callable(f, "f")
    x = as_array(x, "x")
    xt = Tensor(x)
    out = f(xt)
    v = as_array(v, "v", shape=_output(out).shape)
    if not isinstance(out, Tensor):
        return _output(out), np.zeros_like(x)
    out.backward(v)
    return out.value.copy(), xt.grad


# ============================================================================ an MLP for every engine

def init_mlp(widths, rng=None):
    """Parameters ``[(W_1, b_1), ..., (W_L, b_L)]`` of an MLP with layer widths ``widths``.

    ``W_l`` has shape ``(widths[l-1], widths[l])`` with i.i.d. ``N(0, 1/widths[l-1])`` entries (so
    that pre-activations have unit variance), ``b_l = 0``. NumPy arrays: wrap them in ``Tensor`` (or
    torch tensors) to differentiate.
    """
    widths = [int(as_scalar(w, "widths", positive=True, integer=True)) for w in widths]
    if len(widths) < 2:
        raise ValueError(f"widths must list at least an input and an output width, got {widths}")
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    return [(rng.standard_normal((m, n)) / np.sqrt(m), np.zeros(n)) for m, n in zip(widths[:-1], widths[1:])]


def mlp(params, x, activation=tanh):
    """The MLP ``h_0 = x``, ``h_l = activation(h_{l-1} W_l + b_l)``, output ``h_{L-1} W_L + b_L``
    (no activation on the last layer). Rows of ``x`` are samples. Works with arrays, ``Tensor``,
    ``Dual`` and torch tensors alike."""
    if not params or any(len(layer) != 2 for layer in params):
        raise ValueError("params must be a non-empty list of (W, b) pairs")
    _check_callable(activation, "activation")
    n_in = _shape_of(params[0][0])[0]
    if not _shape_of(x) or _shape_of(x)[-1] != n_in:
        raise ValueError(f"x must have {n_in} columns (the input width), got shape {_shape_of(x)}")
    h = x
    for W, b in params[:-1]:
        h = activation(h @ W + b)
    W, b = params[-1]
    return h @ W + b


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy ``1/n sum_i [log sum_k exp(z_ik) - z_{i, y_i}]`` of logits ``z`` (n, K).

    Written with the primitives of the engines (``exp``, ``log``, ``sum``, indexing, ``mean``), so it
    works on arrays, ``Tensor`` and ``Dual``. The maximal logit of each row is subtracted first, as a
    constant: the loss does not change, and ``exp`` cannot overflow.
    """
    z_value = _value_of(logits)
    if np.ndim(z_value) != 2:
        raise ValueError(f"logits must have shape (n, K), got {np.shape(z_value)}")
    n, K = z_value.shape
    labels = np.asarray(labels)
    if labels.shape != (n,) or labels.dtype.kind not in "iu" or np.any((labels < 0) | (labels >= K)):
        raise ValueError(f"labels must be {n} integers in [0, {K})")
    z = logits - np.max(z_value, axis=1, keepdims=True)
    return (log(exp(z).sum(axis=1)) - z[np.arange(n), labels]).mean()


# ============================================================================ cheap gradients, measured

def _timed(fn, number):
    t0 = time.process_time()
    for _ in range(number):
        fn()
    return time.process_time() - t0


def _calibrate(fn, min_time):
    """The number of calls of ``fn`` that lasts at least ``min_time`` seconds (1, 2, 4, ...)."""
    number = 1
    while _timed(fn, number) < min_time and number < 2**20:
        number *= 2
    return number


def _interleaved_times(fns, repeats, min_time):
    """Per-call CPU times, shape ``(repeats, len(fns))``; each repeat times one block of each function."""
    fns = list(fns)
    for i, fn in enumerate(fns):
        _check_callable(fn, f"fns[{i}]")
    repeats = as_scalar(repeats, "repeats", positive=True, integer=True)
    min_time = as_scalar(min_time, "min_time", nonnegative=True)
    gc_enabled = gc.isenabled()
    gc.disable()  # as timeit does: a garbage collection pass would be charged to whichever call triggers it
    try:
        numbers = [_calibrate(fn, min_time) for fn in fns]
        times = np.empty((repeats, len(fns)))
        for r in range(repeats):
            for i, (fn, number) in enumerate(zip(fns, numbers)):
                times[r, i] = _timed(fn, number) / number
    finally:
        if gc_enabled:
            gc.enable()
    return times


def median_times(fns, repeats: int = 7, min_time: float = 2e-3) -> np.ndarray:
    """Median CPU time of one call of each function, measured *interleaved*.

    Times are CPU times of this process (``time.process_time``): they do not count the moments when
    other processes hold the core (limit BLAS to one thread, e.g. with ``threadpoolctl``, so that CPU
    time measures work, not parallelism). Each function is called in blocks lasting at least
    ``min_time`` seconds (calibrated first), and each repeat times one block of every function in
    turn, so that a change of machine load during the measurement affects all of them alike. The
    garbage collector is paused meanwhile, as in ``timeit``.
    """
    return np.median(_interleaved_times(fns, repeats, min_time), axis=0)


class CostRatio(NamedTuple):
    ratio: float      # median over repeats of time(value and gradient) / time(value)
    t_value: float    # median CPU time of one evaluation of the value (s)
    t_grad: float     # median CPU time of one evaluation of value and gradient (s)


def gradient_cost_ratio(value: Callable, value_and_grad: Callable, repeats: int = 21,
                        min_time: float = 2e-3) -> CostRatio:
    """Time ``value()`` and ``value_and_grad()`` side by side and return the median ratio.

    Measured as in ``median_times`` (CPU time, blocks of at least ``min_time`` seconds, the two
    interleaved); the ratio of each repeat is formed before taking the median, which makes it robust
    to the outliers of a shared machine.
    """
    _check_callable(value, "value")
    _check_callable(value_and_grad, "value_and_grad")
    t = _interleaved_times([value, value_and_grad], repeats, min_time)
    t_value, t_grad = t[:, 0], t[:, 1]
    return CostRatio(float(np.median(t_grad / t_value)), float(np.median(t_value)), float(np.median(t_grad)))
