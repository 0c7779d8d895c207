"""Helpers shared by the engines ``Dual`` and ``Tensor`` (and ``Var``): operand checks (private)."""
from __future__ import annotations

import numbers

import numpy as np


def is_number(x) -> bool:
    return isinstance(x, numbers.Real)


def check_power(base, p):
    """Real powers need a positive base unless the exponent is an integer."""
    if float(p) != int(p) and np.any(np.asarray(base) < 0):
        raise ValueError(f"a negative number to the non-integer power {p} is not real")


def check_log(x):
    if np.any(np.asarray(x) <= 0):
        raise ValueError("log needs positive arguments")


def constant(x):
    """A plain number or array taking part in an operation (derivative 0), or NotImplemented."""
    if is_number(x):
        return float(x)
    if isinstance(x, np.ndarray):
        return x.astype(np.float64, copy=False)
    return NotImplemented

