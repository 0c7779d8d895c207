"""Tests of course_lib.timing: shapes and signs of the measured times (never a wall time), the
names kept in autodiff for older notebooks, and bad input."""
import numpy as np
import pytest

from course_lib import autodiff as ad
from course_lib import timing


def test_median_times_one_positive_time_per_function():
    A = np.ones((30, 30))
    t = timing.median_times([lambda: A @ A, lambda: A.sum(), lambda: None], repeats=3)
    assert t.shape == (3,) and np.all(t > 0)


def test_gradient_cost_ratio_returns_positive_times():
    A = np.ones((30, 30))
    r = timing.gradient_cost_ratio(lambda: A @ A, lambda: (A @ A, A.T @ A), repeats=3)
    assert r.ratio > 0 and r.t_value > 0 and r.t_grad > 0


def test_the_timing_names_are_still_found_in_autodiff():
    for name in timing.__all__:
        assert getattr(ad, name) is getattr(timing, name)


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("make, match", [
    (lambda: timing.gradient_cost_ratio(lambda: 1, lambda: 2, repeats=0), "repeats"),
    (lambda: timing.gradient_cost_ratio(1, lambda: 2), "value"),
    (lambda: timing.median_times([lambda: 1, "f"]), "fns"),
    (lambda: timing.median_times([lambda: 1], min_time=-1.0), "min_time"),
])
def test_bad_input_raises_value_error_naming_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()
