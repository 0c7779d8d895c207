"""Small helpers shared by several topic modules (private: notebooks never import this module).

* the argument checks ``check_callable``, ``as_count`` (an integer ``>= minimum``), ``as_rng`` (a
  NumPy Generator or an int seed), ``as_points`` (an ``(n, d)`` array), imported from ``utils``;
* the plumbing of the iterative solvers of ``lasso``, ``splitting`` and ``images`` (their calling
  convention is described in ``splitting``): ``one_blas_thread`` and ``quiet_overflow``
  (decorators), ``iteration_args`` (``n_iter``, ``tol``, ``callback``), ``initial_point``,
  ``as_history``, and the unchecked inner-loop kernels ``soft`` (soft-thresholding) and
  ``fast_norm``;
* ``moved_names``: the module ``__getattr__`` that keeps a name reachable from the module it lived
  in before it moved to its own module (older notebooks and sheets keep working).
"""
from __future__ import annotations

import contextlib
import functools
import importlib

import numpy as np

# the argument checks live in utils (imported here so that the topic modules keep importing them
# from _shared)
from course_lib.utils import as_array, as_count, as_points, as_rng, as_scalar, check_callable  # noqa: F401

# ----------------------------------------------------------------------------- iterative solvers

try:  # threadpoolctl comes with scikit-learn
    from threadpoolctl import ThreadpoolController
    _THREADPOOLS = ThreadpoolController()
except Exception:  # pragma: no cover - without it, BLAS keeps its default threads
    _THREADPOOLS = None


def one_blas_thread(solver):
    """Run ``solver`` with single-threaded BLAS.  The matrices of these solvers are small: threads
    cost more than they save, and on a busy machine a threaded 150 x 150 solve can be 50 times
    slower than a sequential one."""
    @functools.wraps(solver)
    def wrapper(*args, **kwargs):
        ctx = (_THREADPOOLS.limit(limits=1, user_api="blas") if _THREADPOOLS is not None
               else contextlib.nullcontext())
        with ctx:
            return solver(*args, **kwargs)
    return wrapper


def quiet_overflow(solver):
    """Run ``solver`` without NumPy's overflow / invalid-value warnings: an iterative solver reports
    a blow-up itself, once, with a ``DivergenceWarning`` that names the step (``utils.GrowthMonitor``)."""
    @functools.wraps(solver)
    def wrapper(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore"):
            return solver(*args, **kwargs)
    return wrapper


def initial_point(x0, n, name="x0"):
    if x0 is None:
        return np.zeros(n)
    return as_array(x0, name, shape=(n,)).copy()


def iteration_args(n_iter, tol, callback):
    n_iter = as_scalar(n_iter, "n_iter", nonnegative=True, integer=True)
    tol = as_scalar(tol, "tol", nonnegative=True)
    if callback is not None:
        check_callable(callback, "callback")
    return n_iter, tol


def fast_norm(x):
    """Euclidean norm of an array of any shape, without BLAS (``np.linalg.norm`` calls a threaded
    ``dot``, which is slow on small arrays when the cores are busy)."""
    return float(np.sqrt(np.sum(x * x)))


def soft(x, tau):
    """Unchecked soft-thresholding for the inner loops: ``x - clip(x, -tau, tau)``."""
    return x - np.clip(x, -tau, tau)


def as_history(**lists):
    return {k: np.asarray(v, dtype=np.float64) for k, v in lists.items()}


# ----------------------------------------------------------------------------- moved names

def moved_names(module: str, moved: dict):
    """A module-level ``__getattr__`` for ``module`` that finds each name of ``moved`` in its new
    home ``course_lib.<moved[name]>`` (imported when first asked for, so no import cycle)."""
    def __getattr__(name):
        if name in moved:
            return getattr(importlib.import_module(f"course_lib.{moved[name]}"), name)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    return __getattr__
