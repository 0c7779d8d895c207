"""Small pieces shared by the topic modules: input validation, divergence warnings, rate fitting.

Every public function of ``course_lib`` checks its inputs with these helpers, so that bad input
raises a ``ValueError`` that names the argument instead of failing later with a NaN, a
``MemoryError`` or an error from deep inside NumPy or PyTorch:

* ``as_array``, ``as_scalar``, ``as_count``, ``as_points``, ``as_choice``: arrays and numbers
  (finite, real, of the expected shape, sign or set of values);
* ``as_rng``: a NumPy ``Generator`` (or a non-negative integer seed);
* ``check_callable`` and ``check_result``: a user callable and what it returned (``None``, complex,
  NaN or inf, a wrong shape: the error names the callable);
* ``check_size``: an allocation that would not fit in this machine's memory is refused up front,
  naming the argument that asked for it;
* ``warn_divergence`` (a ``DivergenceWarning``) and ``GrowthMonitor``: an iterative method whose
  iterates blow up says so once, naming its step and the bound it must respect;
* ``loglog_slope`` and ``linear_rate``: fitted rates.
"""
from __future__ import annotations

import math
import numbers
import os
import sys
import warnings

import numpy as np

__all__ = [
    "DivergenceWarning",
    "GrowthMonitor",
    "as_array",
    "as_choice",
    "as_count",
    "as_points",
    "as_rng",
    "as_scalar",
    "check_callable",
    "check_result",
    "check_size",
    "linear_rate",
    "loglog_slope",
    "warn_divergence",
]


# ----------------------------------------------------------------------------- arrays and numbers

def as_array(x, name: str, ndim: int | None = None, shape: tuple | None = None) -> np.ndarray:
    """Return ``x`` as a finite real float64 array, or raise ``ValueError`` naming ``name``.

    Complex input is refused (NumPy would silently keep only its real part), and so are ``None``
    and text (NumPy would read ``None`` as NaN and ``"1.5"`` as a number).

    ``ndim`` fixes the number of axes; ``shape`` fixes the shape (``None`` entries match anything).
    """
    if x is None or isinstance(x, (str, bytes)):
        raise ValueError(f"{name} must be an array of numbers, got {x!r}")
    if _holds_complex(x):
        raise ValueError(f"{name} must be real, got complex values")
    if isinstance(x, np.ndarray) and x.dtype.kind in "USV":
        raise ValueError(f"{name} must be an array of numbers, got an array of dtype {x.dtype}")
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
    if isinstance(x, complex):
        return True
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
    if isinstance(x, np.ndarray) and x.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be a real number, got {x!r}")
    v = float(x)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if integer:
        if v != int(v):
            raise ValueError(f"{name} must be an integer, got {x!r}")
        v = int(x) if isinstance(x, numbers.Integral) else int(v)
    if positive and v <= 0:
        raise ValueError(f"{name} must be > 0, got {x!r}")
    if nonnegative and v < 0:
        raise ValueError(f"{name} must be >= 0, got {x!r}")
    if upper is not None and v > upper:
        raise ValueError(f"{name} must be <= {upper}, got {x!r}")
    return v


def as_count(n, name: str, minimum: int = 1) -> int:
    """An integer ``>= minimum`` (a number of points, steps, features...), or ``ValueError``."""
    n = as_scalar(n, name, integer=True)
    if n < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {n!r}")
    return int(n)


def as_points(x, name: str = "x", d: int | None = None) -> np.ndarray:
    """Inputs as an (n, d) float64 array, ``n >= 1``; a 1-D array is read as n points of R^1."""
    x = as_array(x, name)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"{name} must be an (n, d) array of n >= 1 points, got shape {x.shape}")
    if d is not None and x.shape[1] != d:
        raise ValueError(f"{name} must have {d} column(s) (the input dimension), got shape {x.shape}")
    return x


def as_choice(x, name: str, options) -> object:
    """``x`` if it is one of ``options`` (strings, or ``None``), else ``ValueError`` listing them."""
    try:
        ok = any(x is o or (isinstance(x, str) and x == o) for o in options)
    except TypeError:  # pragma: no cover - options is a plain sequence
        ok = False
    if not ok:
        shown = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be one of {shown}, got {x!r}")
    return x


def as_rng(rng, name: str = "rng", allow_none: bool = False) -> np.random.Generator:
    """A NumPy ``Generator``: ``rng`` itself, or ``default_rng(rng)`` for a non-negative integer
    seed (and for ``None`` when ``allow_none``: fresh entropy)."""
    if rng is None and allow_none:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (numbers.Integral, np.integer)) and not isinstance(rng, (bool, np.bool_)):
        if rng < 0:
            raise ValueError(f"{name} must be a numpy Generator or a non-negative integer seed, "
                             f"got {rng!r}")
        return np.random.default_rng(int(rng))
    also = ", None" if allow_none else ""
    raise ValueError(f"{name} must be a numpy Generator (np.random.default_rng(seed)) or a "  # noqa: TRY004
                     f"non-negative integer seed{also}, got {type(rng).__name__} {rng!r:.40}")


# ----------------------------------------------------------------------------- user callables

def check_callable(f, name: str) -> None:
    """``ValueError`` naming ``name`` unless ``f`` can be called (the house rule: ``ValueError``
    for every bad argument, wrong types included)."""
    if not callable(f):
        raise ValueError(f"{name} must be a callable, got {type(f).__name__}")  # noqa: TRY004


def check_result(out, name: str, *, shape: tuple | None = None, scalar: bool = False,
                 finite: bool = True, where: str = ""):
    """What the user callable ``name`` returned, as float64 (a float if ``scalar``), or a
    ``ValueError`` naming the callable: ``None`` (a missing ``return``?), complex values, a wrong
    shape, or (when ``finite``) NaN or inf.  ``where`` says at which point it was called."""
    if type(out) is np.ndarray and out.dtype == np.float64 and not scalar:  # the usual case, fast
        if shape is not None and out.shape != tuple(shape):
            raise ValueError(f"{name} must return an array of shape {tuple(shape)}, got "
                             f"{out.shape} {where}".rstrip())
        if not finite or np.isfinite(np.vdot(out, out)):
            return out
    at = f" {where}" if where else ""
    if out is None:
        raise ValueError(f"{name} returned None{at}: it must return "
                         + ("a number" if scalar else "an array") + " (a missing return?)")
    if _holds_complex(out):
        raise ValueError(f"{name} returned complex values{at}: it must return real numbers")
    try:
        a = np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must return numbers, got {type(out).__name__}{at}") from None
    if scalar and a.size != 1:
        raise ValueError(f"{name} must return a scalar, got an array of shape {a.shape}{at}")
    if shape is not None and a.shape != tuple(shape):
        raise ValueError(f"{name} must return an array of shape {tuple(shape)}, got {a.shape}{at}")
    if finite and not np.all(np.isfinite(a)):
        bad = np.flatnonzero(~np.isfinite(a.reshape(-1)))
        entry = "" if a.ndim == 0 else f" (entry {np.unravel_index(bad[0], a.shape)} is {a.reshape(-1)[bad[0]]})"
        raise ValueError(f"{name} returned NaN or inf{at}{entry}")
    return float(a.reshape(())) if scalar else a


# ----------------------------------------------------------------------------- sizes

def _memory_bytes() -> int:
    """Physical memory of this machine (64 GiB when it cannot be read)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not Linux / macOS
        return 2**36


def check_size(shape, name: str, itemsize: int = 8) -> None:
    """``ValueError`` naming ``name`` (the argument that asked for it) when an array of ``shape``
    would not fit in this machine's memory: better than a ``MemoryError`` or an hour of swapping."""
    n = 1
    for s in np.atleast_1d(shape):
        n *= int(s)
    if n * itemsize > _memory_bytes():
        raise ValueError(f"{name} is too large: it asks for an array of shape {tuple(np.atleast_1d(shape))} "
                         f"({n * itemsize:.1e} bytes), more than this machine's memory "
                         f"({_memory_bytes():.1e} bytes)")


# ----------------------------------------------------------------------------- divergence

class DivergenceWarning(RuntimeWarning):
    """An iterative method diverged (its iterates blew up): the history is still returned."""


def warn_divergence(solver: str, detail: str, advice: str, stacklevel: int | None = None) -> None:
    """One ``DivergenceWarning``: ``"<solver> diverges: <detail>; <advice>."``, attributed to the
    line of the user's code that called ``course_lib`` (unless ``stacklevel`` says otherwise)."""
    if stacklevel is None:
        stacklevel, frame = 1, sys._getframe(0)
        while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
            frame, stacklevel = frame.f_back, stacklevel + 1
    warnings.warn(f"{solver} diverges: {detail}; {advice}.", DivergenceWarning, stacklevel=stacklevel)


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


class GrowthMonitor:
    """Warns once (``warn_divergence``) when a quantity that a converging method drives down (a
    gradient, a residual, a loss) becomes NaN or inf, or grows by a factor ``GROWTH = 1e6`` over
    its first value.  ``monitor.update(k, value, x)`` is called at each iteration ``k``.

    The warning names the step: ``step_name = step is too large: <solver> converges only for
    step_name < bound``, followed by the value of the bound when ``L`` is known, or else by the
    secant estimate ``||g_k - g_{k-1}|| / ||x_k - x_{k-1}||`` of the last two iterations (a lower
    bound on the Lipschitz constant ``L`` of ``x -> g``, when ``update`` is given the points ``x``;
    once the iterates blow up it is the curvature of the direction that blows up).  ``advice``
    (a string, or a callable returning one, called only if the warning is issued) replaces that
    sentence.
    """

    GROWTH = 1e6

    def __init__(self, solver: str, quantity: str, *, step=None, step_name: str = "step",
                 bound: str = "2/L", factor: float = 2.0, L=None, advice=None):
        self.solver, self.quantity = str(solver), str(quantity)
        self.step, self.step_name, self.bound = step, str(step_name), str(bound)
        self.factor = as_scalar(factor, "factor", positive=True)
        self.L = None if L is None else as_scalar(L, "L", nonnegative=True)
        self.advice = advice
        self.first, self.warned, self.secant_L = None, False, 0.0
        self._prev = self._last = None

    def update(self, k: int, value, x=None) -> bool:
        """Record ``value`` (an array or a number) at iteration ``k`` (and the point ``x`` it was
        computed at, for the secant estimate of ``L``); warn once and return True if the method
        diverges.  Cheap: one inner product per call (the arrays are kept, not copied)."""
        if self.warned:
            return True
        v = value if isinstance(value, np.ndarray) else np.asarray(value, dtype=np.float64)
        norm = math.sqrt(abs(float(np.vdot(v, v))))  # vdot: no overflow warning, inf/NaN propagate
        self._prev, self._last = self._last, (x, v)
        if self.first is None:
            self.first = norm
            return False
        if not math.isfinite(norm):
            detail = f"{self.quantity} is NaN or inf at iteration {k}"
        elif norm > self.GROWTH * self.first > 0:
            detail = f"{self.quantity} grew from {self.first:.3g} to {norm:.3g} in {k} iterations"
        else:
            return False
        self.warned = True
        self.secant_L = self._secant()
        warn_divergence(self.solver, detail, self._advice())
        return True

    def _secant(self) -> float:
        """``||g_k - g_{k-1}|| / ||x_k - x_{k-1}||`` from the last two finite updates (0 if none)."""
        if self._prev is None or self._prev[0] is None or self._last[0] is None:
            return 0.0
        with np.errstate(all="ignore"):
            (x0, v0), (x1, v1) = self._prev, self._last
            dx = float(np.linalg.norm(np.asarray(x1, dtype=float) - np.asarray(x0, dtype=float)))
            dv = float(np.linalg.norm(np.asarray(v1, dtype=float) - np.asarray(v0, dtype=float)))
        return dv / dx if dx > 0 and math.isfinite(dv) and math.isfinite(dx) else 0.0

    def _advice(self) -> str:
        if self.advice is not None:
            return self.advice() if callable(self.advice) else str(self.advice)
        name = self.step_name
        text = f"{self.solver} converges only for {name} < {self.bound}"
        if self.step is not None:
            text = f"{name} = {self.step:.4g} is too large: " + text
        if self.L:
            text += f" = {self.factor / self.L:.4g} (L = {self.L:.4g})"
        elif self.secant_L > 0:
            text += (f", and the last gradients give L >= {self.secant_L:.4g}, "
                     f"so {self.bound} <= {self.factor / self.secant_L:.4g}")
        return text


# ----------------------------------------------------------------------------- fitted rates

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
