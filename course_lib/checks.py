"""Feedback for exercise sheets.

Each check prints one line starting with ``✓`` when the answer is right, and otherwise raises an
``AssertionError`` whose message says *where* and *by how much* it is wrong, e.g.
``grad_f differs from finite differences at coordinate 3 (0.41 vs 0.12) on test input 2``.
"""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from .utils import loglog_slope

OK = "\u2713"


class CheckFailed(AssertionError):
    """An exercise check that failed; the message is the feedback for the student."""


def _fail(msg: str):
    raise CheckFailed(msg)


def _as_result(value, name: str) -> np.ndarray:
    if value is None:
        _fail(f"{name} returned None: did you forget a `return`?")
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        _fail(f"{name} returned {type(value).__name__}, expected numbers")
    return a


def _compare(got, want, name: str, where: str, rtol: float, atol: float) -> None:
    got, want = _as_result(got, name), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        if got.size == want.size == 1:
            got = got.reshape(want.shape)
        else:
            _fail(f"{name} has shape {got.shape}, expected {want.shape}{where}")
    if not np.all(np.isfinite(got)):
        _fail(f"{name} contains NaN or inf{where}")
    idx = _worst(got, want, rtol, atol) if got.ndim else (None if np.isclose(got, want, rtol, atol) else ())
    if idx is not None:
        n_bad = int(np.sum(np.abs(got - want) > atol + rtol * np.abs(want)))
        coord = f" at coordinate {idx[0] if len(idx) == 1 else idx}" if idx else ""
        g, w = (got[idx], want[idx]) if idx else (float(got), float(want))
        _fail(f"{name} is wrong{coord} ({g:.6g} vs {w:.6g} expected){where}; "
              f"{n_bad} of {got.size} entries differ")


def check_close(value, expected, name: str = "your answer", rtol: float = 1e-6,
                atol: float = 1e-9) -> None:
    """Check a number or array against the expected one, entry by entry."""
    _compare(value, expected, name, "", rtol, atol)
    print(f"{OK} {name} is correct")


def check_function(student: Callable, reference: Callable, inputs: Iterable,
                   name: str | None = None, rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """Compare ``student(*args)`` with ``reference(*args)`` on each tuple of arguments in ``inputs``."""
    name = name or getattr(student, "__name__", "your function")
    inputs = [a if isinstance(a, tuple) else (a,) for a in inputs]
    for i, args in enumerate(inputs):
        _compare(student(*args), reference(*args), name, f" on test input {i}", rtol, atol)
    print(f"{OK} {name} agrees with the reference on {len(inputs)} test inputs")


def _worst(got: np.ndarray, want: np.ndarray, rtol: float, atol: float):
    """Index (tuple of ints) of the entry that misses the tolerance by the most, or None."""
    err = np.abs(got - want)
    bad = err > atol + rtol * np.abs(want)
    if not np.any(bad):
        return None
    return tuple(int(i) for i in np.unravel_index(np.argmax(np.where(bad, err, -1)), err.shape))


def _against_fd(got, want, name: str, i: int, rtol: float, atol: float, where: str, shape_hint: str):
    if got.shape != want.shape:
        _fail(f"{name} has shape {got.shape}, expected {want.shape} {shape_hint}")
    if not np.all(np.isfinite(got)):
        _fail(f"{name} contains NaN or inf on test point {i}")
    idx = _worst(got, want, rtol, atol)
    if idx is not None:
        at = where.format(idx[0] if len(idx) == 1 else idx)
        _fail(f"{name} differs from finite differences at {at} ({got[idx]:.6g} vs {want[idx]:.6g}) "
              f"on test point {i}")


def _fd_gradient(f: Callable, x: np.ndarray, h: float) -> np.ndarray:
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (float(f(x + e)) - float(f(x - e))) / (2 * h)
    return g


def check_gradient(f: Callable, grad_f: Callable, points: Iterable, name: str | None = None,
                   h: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Check ``grad_f`` against central finite differences of ``f`` at each point.

    Points may be vectors or matrices (then the gradient has the matrix's shape).
    """
    name = name or getattr(grad_f, "__name__", "your gradient")
    points = [np.asarray(p, dtype=np.float64) for p in points]
    for i, x in enumerate(points):
        want = _fd_gradient(f, x, h)
        got = _as_result(grad_f(x.copy()), name)
        _against_fd(got, want, name, i, rtol, atol, "coordinate {}", "(the shape of x)")
    print(f"{OK} {name} matches finite differences at {len(points)} test points")


def check_jacobian(F: Callable, jac_F: Callable, points: Iterable, name: str | None = None,
                   h: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Check ``jac_F(x)`` (shape (m, n)) against central finite differences of ``F: R^n -> R^m``."""
    name = name or getattr(jac_F, "__name__", "your Jacobian")
    points = [np.asarray(p, dtype=np.float64) for p in points]
    for i, x in enumerate(points):
        m = np.atleast_1d(np.asarray(F(x), dtype=np.float64)).size
        want = np.stack([_fd_gradient(lambda z: np.atleast_1d(F(z))[r], x, h) for r in range(m)])
        got = _as_result(jac_F(x.copy()), name)
        _against_fd(got, want, name, i, rtol, atol, "entry {}", "= (outputs, inputs)")
    print(f"{OK} {name} matches finite differences at {len(points)} test points")


def check_rate(x, errors, expected_slope: float, tol: float = 0.15, name: str = "the error") -> float:
    """Check that ``errors ≈ C x^p`` with ``p`` within ``tol`` of ``expected_slope``; returns p."""
    p = loglog_slope(x, errors)
    if abs(p - expected_slope) > tol:
        _fail(f"{name} decays like x^{p:.2f}, expected x^{expected_slope:.2f} (± {tol})")
    print(f"{OK} {name} decays like x^{p:.2f} (theory: {expected_slope:.2f})")
    return p


def check_decreasing(values, name: str = "the objective", strict: bool = False,
                     rtol: float = 1e-12) -> None:
    """Check that a sequence is non-increasing (up to round-off); names the first violation."""
    v = np.asarray(values, dtype=np.float64)
    slack = 0.0 if strict else rtol * np.maximum(np.abs(v[:-1]), 1.0)
    up = np.nonzero(v[1:] > v[:-1] + slack if not strict else v[1:] >= v[:-1])[0]
    if up.size:
        k = int(up[0])
        _fail(f"{name} increases at iteration {k + 1} ({v[k]:.6g} -> {v[k + 1]:.6g})")
    print(f"{OK} {name} decreases over {v.size} iterations")
