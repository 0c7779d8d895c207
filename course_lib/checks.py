"""Feedback for exercise sheets.

Each check prints one line starting with ``✓`` when the answer is right, and otherwise raises
:class:`CheckFailed` (an ``AssertionError``) whose message says *where* and *by how much* it is
wrong, e.g. ``grad_f differs from finite differences at coordinate 3 (0.41 vs 0.12) on test
point 2``.

A check says ✓ only when it compared at least one finite, real number and everything matched.
An answer that is complex, NaN or infinite fails and says where; so does a reference that is not
finite there (then nothing can be compared), and a check given nothing to compare (no test input,
fewer than two iterates). Tolerances and steps that are not finite positive numbers are the sheet
author's mistake: ``ValueError`` naming the argument.

Public functions:

- ``check_close(value, expected)``: ``|value - expected| <= atol + rtol |expected|`` entrywise.
- ``check_function(student, reference, inputs)``: the same for ``student(*args)`` against
  ``reference(*args)`` on each test input.
- ``check_gradient(f, grad_f, points)``: ``grad_f(x)`` against central differences
  ``(f(x + h e_i) - f(x - h e_i)) / 2h``.
- ``check_jacobian(F, jac_F, points)``: the same, row by row, for ``F: R^n -> R^m``.
- ``check_rate(x, errors, expected_slope)``: the log-log slope ``p`` of ``errors ≈ C x^p``.
- ``check_decreasing(values)``: ``v_{k+1} <= v_k`` (up to round-off) for every ``k``.
"""
from __future__ import annotations

import math
from typing import Callable, Iterable

import numpy as np

from .utils import loglog_slope

__all__ = ["CheckFailed", "check_close", "check_function", "check_gradient", "check_jacobian",
           "check_rate", "check_decreasing"]

OK = "\u2713"


class CheckFailed(AssertionError):
    """An exercise check that failed; the message is the feedback for the student."""


def _fail(msg: str):
    raise CheckFailed(msg)


def _param(value, name: str, sign: str = "non-negative") -> float:
    """A tolerance, step or rate of the check itself: a finite real number of the given sign
    (``"non-negative"``, ``"positive"`` or ``"any"``); otherwise ``ValueError`` naming it."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                    np.floating)):
        raise ValueError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    wrong = {"non-negative": value < 0, "positive": value <= 0, "any": False}[sign]
    if not math.isfinite(value) or wrong:
        kind = "" if sign == "any" else sign + " "
        raise ValueError(f"{name} must be a finite {kind}number, got {value}")
    return value


def _at(idx: tuple) -> str:
    return f" at coordinate {idx[0] if len(idx) == 1 else idx}" if idx else ""


def _real(value, name: str, what: str = "returned", where: str = "") -> np.ndarray:
    """``value`` as a float64 array; complex values, None and non-numbers fail with feedback."""
    if value is None:
        _fail(f"{name} {what} None{where}: did you forget a `return`?")
    try:
        raw = np.asarray(value)
        if np.iscomplexobj(raw):
            imag = np.abs(np.imag(raw))
            idx = tuple(int(i) for i in np.unravel_index(np.argmax(imag), raw.shape))
            _fail(f"{name} {what} a complex number{_at(idx)} ({raw[idx]:.6g}){where}: "
                  "expected real numbers")
        a = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError, RuntimeError):
        _fail(f"{name} {what} {type(value).__name__}{where}, expected numbers")
    return a


def _first_non_finite(a: np.ndarray):
    """Index (tuple) of the first NaN or inf entry of ``a``, or None."""
    bad = ~np.isfinite(a)
    if not np.any(bad):
        return None
    return tuple(int(i) for i in np.unravel_index(np.argmax(bad), a.shape))


def _finite(a: np.ndarray, name: str, where: str, kind: str = "contains") -> None:
    idx = _first_non_finite(a)
    if idx is not None:
        _fail(f"{name} {kind} {a[idx]}{_at(idx)}{where}")


def _worst(got: np.ndarray, want: np.ndarray, rtol: float, atol: float):
    """Index (tuple of ints) of the entry that misses the tolerance by the most, or None."""
    err = np.abs(got - want)
    bad = err > atol + rtol * np.abs(want)
    if not np.any(bad):
        return None
    return tuple(int(i) for i in np.unravel_index(np.argmax(np.where(bad, err, -1)), err.shape))


def _compare(got, want, name: str, where: str, rtol: float, atol: float,
             reference: str = "the expected value") -> None:
    got = _real(got, name, "returned" if where else "is", where)
    want = _real(want, reference, "is", where)
    if got.shape != want.shape:
        if got.size == want.size == 1:
            got = got.reshape(want.shape)
        else:
            _fail(f"{name} has shape {got.shape}, expected {want.shape}{where}")
    if want.size == 0:
        _fail(f"nothing to compare: {reference} is empty{where}")
    _finite(want, reference, where + ": the check cannot compare there", "is")
    _finite(got, name, where)
    idx = _worst(got, want, rtol, atol)
    if idx is not None:
        n_bad = int(np.sum(np.abs(got - want) > atol + rtol * np.abs(want)))
        _fail(f"{name} is wrong{_at(idx)} ({got[idx]:.6g} vs {want[idx]:.6g} expected){where}; "
              f"{n_bad} of {got.size} entries differ")


def check_close(value, expected, name: str = "your answer", rtol: float = 1e-6,
                atol: float = 1e-9) -> None:
    """Check a number or array against the expected one, entry by entry."""
    rtol, atol = _param(rtol, "rtol"), _param(atol, "atol")
    _compare(value, expected, name, "", rtol, atol)
    print(f"{OK} {name} is correct")


def _nonempty(items, what: str, name: str) -> list:
    items = list(items)
    if not items:
        _fail(f"nothing to compare: no {what} were given to check {name}")
    return items


def check_function(student: Callable, reference: Callable, inputs: Iterable,
                   name: str | None = None, rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """Compare ``student(*args)`` with ``reference(*args)`` on each tuple of arguments in ``inputs``."""
    name = name or getattr(student, "__name__", "your function")
    rtol, atol = _param(rtol, "rtol"), _param(atol, "atol")
    inputs = [a if isinstance(a, tuple) else (a,) for a in _nonempty(inputs, "test inputs", name)]
    for i, args in enumerate(inputs):
        _compare(student(*args), reference(*args), name, f" on test input {i}", rtol, atol,
                 reference="the reference")
    print(f"{OK} {name} agrees with the reference on {len(inputs)} test inputs")


def _against_fd(got, want, name: str, i: int, rtol: float, atol: float, where: str, shape_hint: str):
    if got.shape != want.shape:
        _fail(f"{name} has shape {got.shape}, expected {want.shape} {shape_hint}")
    _finite(got, name, f" on test point {i}")
    idx = _worst(got, want, rtol, atol)
    if idx is not None:
        at = where.format(idx[0] if len(idx) == 1 else idx)
        _fail(f"{name} differs from finite differences at {at} ({got[idx]:.6g} vs {want[idx]:.6g}) "
              f"on test point {i}")


def _value(f: Callable, x: np.ndarray, name: str, i: int) -> float:
    """``f(x)`` as a finite real number, or feedback naming ``f`` and the test point."""
    v = _real(f(x), name, "returned", f" near test point {i}")
    if v.size != 1:
        _fail(f"{name} returned shape {v.shape} near test point {i}, expected a number")
    v = float(v.reshape(()))
    if not math.isfinite(v):
        _fail(f"{name} returned {v} near test point {i}: finite differences need finite "
              "values (is the point outside its domain?)")
    return v


def _fd_gradient(f: Callable, x: np.ndarray, h: float, name: str = "f", i: int = 0) -> np.ndarray:
    g = np.zeros_like(x)
    for j in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[j] = h
        g[j] = (_value(f, x + e, name, i) - _value(f, x - e, name, i)) / (2 * h)
    return g


def _points(points, name: str) -> list:
    out = []
    for i, p in enumerate(_nonempty(points, "test points", name)):
        x = _real(p, f"test point {i}", "is")
        if x.size == 0:
            _fail(f"nothing to compare: test point {i} of {name} is empty")
        _finite(x, f"test point {i}", "", "is")
        out.append(x)
    return out


def check_gradient(f: Callable, grad_f: Callable, points: Iterable, name: str | None = None,
                   h: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Check ``grad_f`` against central finite differences of ``f`` at each point.

    Points may be vectors or matrices (then the gradient has the matrix's shape).
    """
    name = name or getattr(grad_f, "__name__", "your gradient")
    h = _param(h, "h", "positive")
    rtol, atol = _param(rtol, "rtol"), _param(atol, "atol")
    f_name = getattr(f, "__name__", "f")
    f_name = "the function" if f_name == "<lambda>" else f_name
    points = _points(points, name)
    for i, x in enumerate(points):
        want = _fd_gradient(f, x, h, f_name, i)
        got = _real(grad_f(x.copy()), name, "returned", f" on test point {i}")
        _against_fd(got, want, name, i, rtol, atol, "coordinate {}", "(the shape of x)")
    print(f"{OK} {name} matches finite differences at {len(points)} test points")


def check_jacobian(F: Callable, jac_F: Callable, points: Iterable, name: str | None = None,
                   h: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Check ``jac_F(x)`` (shape (m, n)) against central finite differences of ``F: R^n -> R^m``."""
    name = name or getattr(jac_F, "__name__", "your Jacobian")
    h = _param(h, "h", "positive")
    rtol, atol = _param(rtol, "rtol"), _param(atol, "atol")
    F_name = getattr(F, "__name__", "F")
    F_name = "the function" if F_name == "<lambda>" else F_name
    points = _points(points, name)
    for i, x in enumerate(points):
        m = np.atleast_1d(_real(F(x), F_name, "returned", f" at test point {i}")).size
        if m == 0:
            _fail(f"nothing to compare: {F_name} returned an empty array at test point {i}")
        rows = [_fd_gradient(lambda z: np.atleast_1d(np.asarray(F(z)))[r], x, h, F_name, i)
                for r in range(m)]
        got = _real(jac_F(x.copy()), name, "returned", f" on test point {i}")
        _against_fd(got, np.stack(rows), name, i, rtol, atol, "entry {}", "= (outputs, inputs)")
    print(f"{OK} {name} matches finite differences at {len(points)} test points")


def check_rate(x, errors, expected_slope: float, tol: float = 0.15, name: str = "the error") -> float:
    """Check that ``errors ≈ C x^p`` with ``p`` within ``tol`` of ``expected_slope``; returns p."""
    expected_slope = _param(expected_slope, "expected_slope", "any")
    tol = _param(tol, "tol", "positive")
    e = _real(errors, name, "is")
    _finite(e, name, "", "is")
    if e.ndim == 1 and e.size and np.any(e <= 0):
        k = int(np.argmax(e <= 0))
        _fail(f"{name} is {e[k]:.6g} at entry {k}: a rate needs positive errors")
    try:
        p = loglog_slope(x, e)
    except ValueError as err:
        _fail(f"cannot fit a rate to {name}: {err}")
    if abs(p - expected_slope) > tol:
        _fail(f"{name} decays like x^{p:.2f}, expected x^{expected_slope:.2f} (± {tol})")
    print(f"{OK} {name} decays like x^{p:.2f} (theory: {expected_slope:.2f})")
    return p


def check_decreasing(values, name: str = "the objective", strict: bool = False,
                     rtol: float = 1e-12) -> None:
    """Check that a sequence is non-increasing (up to round-off); names the first violation."""
    rtol = _param(rtol, "rtol")
    v = _real(values, name, "is")
    if v.ndim != 1:
        _fail(f"{name} has shape {v.shape}, expected a sequence of numbers")
    if v.size < 2:
        _fail(f"nothing to compare: {name} holds {v.size} value(s), a decrease needs at least 2")
    k = _first_non_finite(v)
    if k is not None:
        _fail(f"{name} is {v[k[0]]} at iteration {k[0]}")
    slack = 0.0 if strict else rtol * np.maximum(np.abs(v[:-1]), 1.0)
    up = np.nonzero(v[1:] > v[:-1] + slack if not strict else v[1:] >= v[:-1])[0]
    if up.size:
        k = int(up[0])
        _fail(f"{name} increases at iteration {k + 1} ({v[k]:.6g} -> {v[k + 1]:.6g})")
    print(f"{OK} {name} decreases over {v.size} iterations")
