"""Small pieces shared by the topic modules: input validation and rate fitting.

Every public function of ``course_lib`` checks its inputs with these helpers, so that bad input
raises a ``ValueError`` that names the argument instead of failing later with a NaN.
"""
from __future__ import annotations

import numbers

import numpy as np


def as_array(x, name: str, ndim: int | None = None, shape: tuple | None = None) -> np.ndarray:
    """Return ``x`` as a finite real float64 array, or raise ``ValueError`` naming ``name``.

    Complex input is refused (NumPy would silently keep only its real part).

    ``ndim`` fixes the number of axes; ``shape`` fixes the shape (``None`` entries match anything).
    """
    if _holds_complex(x):
        raise ValueError(f"{name} must be real, got complex values")
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers, got {type(x).__name__}") from None
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {a.shape}")
    if shape is not None:
        if a.ndim != len(shape) or any(s is not None and s != t for s, t in zip(shape, a.shape)):
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {want}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def _holds_complex(x) -> bool:
    """True when ``x`` holds complex numbers (NumPy would silently drop their imaginary part)."""
    try:
        return np.iscomplexobj(np.asarray(x))
    except (TypeError, ValueError):
        return False


def as_scalar(x, name: str, *, positive: bool = False, nonnegative: bool = False,
              integer: bool = False, upper: float | None = None) -> float:
    """Return ``x`` as a finite Python number with the requested sign, or raise ``ValueError``."""
    if isinstance(x, bool) or not isinstance(x, (numbers.Real, np.ndarray)) or np.ndim(x) != 0:
        raise ValueError(f"{name} must be a real number, got {x!r}")
    if _holds_complex(x):
        raise ValueError(f"{name} must be real, got complex {x!r}")
    v = float(x)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if integer:
        if v != int(v):
            raise ValueError(f"{name} must be an integer, got {x!r}")
        v = int(v)
    if positive and v <= 0:
        raise ValueError(f"{name} must be > 0, got {x!r}")
    if nonnegative and v < 0:
        raise ValueError(f"{name} must be >= 0, got {x!r}")
    if upper is not None and v > upper:
        raise ValueError(f"{name} must be <= {upper}, got {x!r}")
    return v


def loglog_slope(x, y) -> float:
    """Least-squares slope of ``log y`` against ``log x``: the exponent ``p`` in ``y ≈ C x^p``."""
    x, y = as_array(x, "x", ndim=1), as_array(y, "y", ndim=1)
    if x.shape != y.shape or x.size < 2:
        raise ValueError(f"x and y must be 1-D of the same length >= 2, got {x.shape} and {y.shape}")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("x and y must be positive to fit a log-log slope")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def linear_rate(errors) -> float:
    """Geometric contraction factor ``q`` in ``e_k ≈ C q^k``, fitted by least squares on ``log e_k``."""
    e = as_array(errors, "errors", ndim=1)
    if e.size < 2 or np.any(e <= 0):
        raise ValueError("errors must hold at least two positive numbers")
    return float(np.exp(np.polyfit(np.arange(e.size), np.log(e), 1)[0]))
