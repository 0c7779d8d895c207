"""Functions written once for every engine (Chapter 6): elementary functions, an MLP, a loss.

``exp, log, tanh, relu`` call the method of their argument when it has one (``Dual``, ``Var``,
``Tensor``, torch tensors) and NumPy otherwise (on a finite real number or array: NaN, inf, complex
or text raise ``ValueError`` naming ``x``), so one function definition serves plain numbers and
arrays, forward mode and reverse mode alike:

* ``init_mlp(widths)``: ``W_l`` of shape ``(widths[l-1], widths[l])`` with ``N(0, 1/widths[l-1])``
  entries, ``b_l = 0``;
* ``mlp(params, x)``: ``h_0 = x``, ``h_l = activation(h_{l-1} W_l + b_l)``, output
  ``h_{L-1} W_L + b_L``;
* ``softmax_cross_entropy(z, y) = 1/n sum_i [log sum_k exp(z_ik) - z_{i, y_i}]``, with the maximal
  logit of each row subtracted first (same loss, no overflow).
"""
from __future__ import annotations

import numpy as np

from course_lib._shared import check_callable
from course_lib.autodiff.forward import Dual
from course_lib.autodiff.scalar import Var
from course_lib.autodiff.tensor import Tensor
from course_lib.utils import as_array, as_rng, as_scalar, check_size

__all__ = ["exp", "init_mlp", "log", "mlp", "relu", "softmax_cross_entropy", "tanh"]


def exp(x):
    """``e^x`` for a number, an array, a ``Dual``, a ``Var`` or a ``Tensor``."""
    return x.exp() if hasattr(x, "exp") else np.exp(as_array(x, "x"))


def log(x):
    """``log x`` for a number, an array, a ``Dual``, a ``Var`` or a ``Tensor``."""
    if hasattr(x, "log"):
        return x.log()
    x = as_array(x, "x")
    if np.any(x <= 0):
        raise ValueError(f"x must be positive for log, got min {x.min()!r}")
    return np.log(x)


def tanh(x):
    """``tanh x`` for a number, an array, a ``Dual``, a ``Var`` or a ``Tensor``."""
    return x.tanh() if hasattr(x, "tanh") else np.tanh(as_array(x, "x"))


def relu(x):
    """``max(x, 0)`` for a number, an array, a ``Dual``, a ``Var`` or a ``Tensor``."""
    return x.relu() if hasattr(x, "relu") else np.maximum(as_array(x, "x"), 0.0)


def _value_of(x):
    return x.value if isinstance(x, (Tensor, Dual, Var)) else np.asarray(x)


def _check_finite(x, name):
    """``ValueError`` naming ``name`` unless ``x`` (an array, a number or an engine's value, or a
    torch tensor) holds finite real numbers."""
    if x is None or isinstance(x, (str, bytes)):
        raise ValueError(f"{name} must be an array or a tensor of numbers, got {x!r}")
    if type(x).__module__.startswith("torch"):
        import torch
        ok = not x.is_complex() and bool(torch.isfinite(x.detach()).all())
    else:
        try:
            v = np.asarray(_value_of(x))
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be an array of numbers, got {type(x).__name__}") from None
        ok = v.dtype.kind in "biuf" and bool(np.all(np.isfinite(v)))
    if not ok:
        raise ValueError(f"{name} must hold finite real numbers (NaN, inf or complex found)")


def _shape_of(x):
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def init_mlp(widths, rng=None):
    """Parameters ``[(W_1, b_1), ..., (W_L, b_L)]`` of an MLP with layer widths ``widths``.

    ``W_l`` has shape ``(widths[l-1], widths[l])`` with i.i.d. ``N(0, 1/widths[l-1])`` entries (so
    that pre-activations have unit variance), ``b_l = 0``. NumPy arrays: wrap them in ``Tensor`` (or
    torch tensors) to differentiate.
    """
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__"):
        raise ValueError(f"widths must be a list of layer widths, got {widths!r}")
    widths = [int(as_scalar(w, "widths", positive=True, integer=True)) for w in widths]
    if len(widths) < 2:
        raise ValueError(f"widths must list at least an input and an output width, got {widths}")
    for m, n in zip(widths[:-1], widths[1:]):
        check_size((m + 1, n), "widths")
    rng = as_rng(rng, allow_none=True)
    return [(rng.standard_normal((m, n)) / np.sqrt(m), np.zeros(n)) for m, n in zip(widths[:-1], widths[1:])]


def mlp(params, x, activation=tanh):
    """The MLP ``h_0 = x``, ``h_l = activation(h_{l-1} W_l + b_l)``, output ``h_{L-1} W_L + b_L``
    (no activation on the last layer). Rows of ``x`` are samples. Works with arrays, ``Tensor``,
    ``Dual`` and torch tensors alike."""
    if (not isinstance(params, (list, tuple)) or not params
            or any(not isinstance(layer, (list, tuple)) or len(layer) != 2 for layer in params)):
        raise ValueError("params must be a non-empty list of (W, b) pairs")
    check_callable(activation, "activation")
    for k, (W, b) in enumerate(params):
        _check_finite(W, f"params[{k}][0] (W)")
        _check_finite(b, f"params[{k}][1] (b)")
        if len(_shape_of(W)) != 2 or _shape_of(b) != _shape_of(W)[1:]:
            raise ValueError(f"params[{k}] must be a pair (W, b) of shapes (n_in, n_out) and "
                             f"(n_out,), got {_shape_of(W)} and {_shape_of(b)}")
        if k and _shape_of(W)[0] != _shape_of(params[k - 1][0])[1]:
            raise ValueError(f"params[{k}] (W) has {_shape_of(W)[0]} rows but layer {k - 1} has "
                             f"{_shape_of(params[k - 1][0])[1]} outputs")
    _check_finite(x, "x")
    n_in = _shape_of(params[0][0])[0]
    if not _shape_of(x) or _shape_of(x)[-1] != n_in:
        raise ValueError(f"x must have {n_in} columns (the input width), got shape {_shape_of(x)}")
    h = x
    for k, (W, b) in enumerate(params[:-1]):
        z = h @ W + b
        h = activation(z)
        if k == 0:                                   # the activation, tried on the first layer
            if h is None or _shape_of(h) != _shape_of(z):
                raise ValueError(f"activation must return an array shaped like its input "
                                 f"{_shape_of(z)}, got {type(h).__name__} {_shape_of(h)}")
            try:
                _check_finite(h, "activation")
            except ValueError:
                raise ValueError("activation returned NaN, inf or complex values on the first "
                                 "layer") from None
    W, b = params[-1]
    return h @ W + b


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy ``1/n sum_i [log sum_k exp(z_ik) - z_{i, y_i}]`` of logits ``z`` (n, K).

    Written with the primitives of the engines (``exp``, ``log``, ``sum``, indexing, ``mean``), so it
    works on arrays, ``Tensor`` and ``Dual``. The maximal logit of each row is subtracted first, as a
    constant: the loss does not change, and ``exp`` cannot overflow.
    """
    _check_finite(logits, "logits")
    z_value = _value_of(logits)
    if np.ndim(z_value) != 2:
        raise ValueError(f"logits must have shape (n, K), got {np.shape(z_value)}")
    n, K = z_value.shape
    labels = np.asarray(labels)
    if labels.shape != (n,) or labels.dtype.kind not in "iu" or np.any((labels < 0) | (labels >= K)):
        raise ValueError(f"labels must be {n} integers in [0, {K})")
    z = logits - np.max(z_value, axis=1, keepdims=True)
    return (log(exp(z).sum(axis=1)) - z[np.arange(n), labels]).mean()

