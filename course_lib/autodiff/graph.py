"""The recorded computational graph of reverse mode (Chapter 6): its nodes and their order.

A reverse-mode engine (``Var`` on scalars, ``Tensor`` on arrays) records each operation as a
``Node`` that remembers its parents.  The backward sweep needs the nodes in a *topological order*,
every node after all of its parents, to visit them in reverse, children before parents, with the
adjoints ``bar_theta_p = sum_{r child of p} bar_theta_r * dg_r/dtheta_p``.

``topological_order(output)`` computes it by an iterative depth-first search with an explicit stack:
no recursion, so graphs of millions of nodes (a deep loop, a long ODE solve) work whatever Python's
recursion limit.
"""
from __future__ import annotations

__all__ = ["Node", "topological_order"]


class Node:
    """The common base of ``Var`` and ``Tensor``: a node of a recorded graph, with ``_parents``."""

    __slots__ = ()


def topological_order(output):
    """The nodes ``output`` depends on (itself included), each after all of its parents.

    An iterative depth-first search with an explicit stack: no recursion, so the depth of the graph
    is not limited by Python's recursion limit.
    """
    if not isinstance(output, Node):
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
