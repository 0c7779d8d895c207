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
add up. ``exp, log, tanh, relu`` work on numbers, arrays, ``Dual``, ``Var``, ``Tensor`` (and
torch tensors), so one function definition serves every engine: ``grad(f, x, mode=...)``.

Every name is imported from this package (``from course_lib import autodiff as ad``); each engine
reads one screen at a time in its own module:

====================  =====================================================================
``forward``           ``Dual``: forward mode, dual numbers
``scalar``            ``Var``: reverse mode on numbers, local partial derivatives
``tensor``            ``Tensor``, ``as_tensor``, ``stack``: reverse mode on arrays, vjps
``graph``             ``topological_order`` (and ``Node``, the base of ``Var`` and ``Tensor``)
``transforms``        ``grad``, ``jacobian``, ``jvp``, ``vjp``: derivatives of functions
``functions``         ``exp``, ``log``, ``tanh``, ``relu``, ``init_mlp``, ``mlp``,
                      ``softmax_cross_entropy``: written once for every engine
====================  =====================================================================

The timing helpers ``median_times`` and ``gradient_cost_ratio`` live in ``course_lib.timing``
(still found here too, so that older notebooks keep working).
"""
from __future__ import annotations

from course_lib._shared import moved_names
from course_lib.autodiff.forward import Dual
from course_lib.autodiff.functions import (exp, init_mlp, log, mlp, relu, softmax_cross_entropy,
                                           tanh)
from course_lib.autodiff.graph import topological_order
from course_lib.autodiff.scalar import Var
from course_lib.autodiff.tensor import Tensor, as_tensor, stack
from course_lib.autodiff.transforms import grad, jacobian, jvp, vjp

__all__ = [
    "Dual",
    "Tensor",
    "Var",
    "as_tensor",
    "exp",
    "grad",
    "init_mlp",
    "jacobian",
    "jvp",
    "log",
    "mlp",
    "relu",
    "softmax_cross_entropy",
    "stack",
    "tanh",
    "topological_order",
    "vjp",
]

# the timing helpers moved to course_lib.timing: still reachable as course_lib.autodiff.<name>
__getattr__ = moved_names(__name__, dict.fromkeys(
    ["CostRatio", "gradient_cost_ratio", "median_times"], "timing"))
