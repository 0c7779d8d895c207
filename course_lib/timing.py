"""CPU times measured fairly on a shared machine: the timing helpers of notebooks and benchmarks.

Timing is not part of any algorithm's module: every notebook and ``benchmarks/`` script that compares
costs uses these two functions.

* ``median_times(fns)``: the median CPU time of one call of each function.  Each function is called
  in blocks lasting at least ``min_time`` seconds (``number`` calls, calibrated by doubling), so one
  measurement is ``t = (CPU time of the block) / number``; each of the ``repeats`` rounds times one
  block of *every* function in turn (interleaved), so that a change of machine load affects all of
  them alike, and the result is ``median over rounds of t``.
* ``gradient_cost_ratio(value, value_and_grad)``: the cheap-gradient principle measured, the median
  over rounds of ``t(value and gradient) / t(value)`` (the ratio of each round is formed before the
  median, which makes it robust to the outliers of a shared machine), returned as a ``CostRatio``
  ``(ratio, t_value, t_grad)``.

Times are CPU times of this process (``time.process_time``): they do not count the moments when
other processes hold the core.  Limit BLAS to one thread (e.g. with ``threadpoolctl``) so that CPU
time measures work, not parallelism.  The garbage collector is paused while timing, as in ``timeit``.
"""
from __future__ import annotations

import gc
import time
from typing import Callable, NamedTuple

import numpy as np

from course_lib._shared import check_callable
from course_lib.utils import as_scalar, check_size

__all__ = ["CostRatio", "gradient_cost_ratio", "median_times"]


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
    if not hasattr(fns, "__iter__") or isinstance(fns, (str, bytes)):
        raise ValueError(f"fns must be a sequence of callables, got {type(fns).__name__}")
    fns = list(fns)
    for i, fn in enumerate(fns):
        check_callable(fn, f"fns[{i}]")
    repeats = as_scalar(repeats, "repeats", positive=True, integer=True)
    check_size((repeats, len(fns)), "repeats")
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
    check_callable(value, "value")
    check_callable(value_and_grad, "value_and_grad")
    t = _interleaved_times([value, value_and_grad], repeats, min_time)
    t_value, t_grad = t[:, 0], t[:, 1]
    return CostRatio(float(np.median(t_grad / t_value)), float(np.median(t_value)), float(np.median(t_grad)))
