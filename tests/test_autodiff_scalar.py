"""Tests of course_lib.autodiff.scalar: every primitive of Var against torch.autograd and finite
differences, a composite program in both modes, NumPy interplay, and bad input."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib import autodiff as ad
from tests._autodiff_helpers import (BINARY, FAST, UNARY, finite, float64_torch,  # noqa: F401
                                     positive, torch_grads)


# ----------------------------------------------------------------------------- scalar primitives

@pytest.mark.parametrize("name", UNARY)
@FAST
@given(data=st.data())
def test_var_unary_primitives_match_torch(name, data):
    op, values = UNARY[name]
    t = data.draw(values)
    x = ad.Var(t)
    y = op(x)
    y.backward()
    value, (g,) = torch_grads(op, t)
    assert y.value == pytest.approx(value, rel=1e-12, abs=1e-12)
    assert x.grad == pytest.approx(g, rel=1e-12, abs=1e-12)
    h = 1e-6                       # and a central difference of the values the engine computes
    assert x.grad == pytest.approx((op(ad.Var(t + h)).value - op(ad.Var(t - h)).value) / (2 * h),
                                   rel=1e-5, abs=1e-5)


@pytest.mark.parametrize("name", BINARY)
@FAST
@given(data=st.data())
def test_var_binary_primitives_match_torch(name, data):
    op, values = BINARY[name]
    s, t = data.draw(values), data.draw(values)
    x, w = ad.Var(s), ad.Var(t)
    y = op(x, w)
    y.backward()
    value, (gx, gw) = torch_grads(op, s, t)
    assert y.value == pytest.approx(value, rel=1e-12, abs=1e-12)
    assert (x.grad, w.grad) == pytest.approx((gx, gw), rel=1e-12, abs=1e-12)


@FAST
@given(finite, positive)
def test_a_composite_scalar_program_in_both_modes(s, t):
    def f(x, w):
        inner = x * w + (x.exp() / w) - 2 ** (x / 3) + (x**2 + w).log() * (w - x).tanh()
        return inner.relu() + 1 / (1 + w**2)

    x, w = ad.Var(s), ad.Var(t)
    y = f(x, w)
    y.backward()
    value, (gx, gw) = torch_grads(f, s, t)
    assert y.value == pytest.approx(value, rel=1e-12, abs=1e-12)
    assert (x.grad, w.grad) == pytest.approx((gx, gw), rel=1e-10, abs=1e-10)
    fwd = [f(ad.Dual(s, 1.0), ad.Dual(t, 0.0)).deriv, f(ad.Dual(s, 0.0), ad.Dual(t, 1.0)).deriv]
    assert fwd == pytest.approx([gx, gw], rel=1e-10, abs=1e-10)


def test_plain_numpy_scalars_on_the_left_defer_to_the_engines():
    x = ad.Var(2.0)
    y = np.float64(3.0) * x + np.float64(1.0) / x
    y.backward()
    assert isinstance(y, ad.Var) and x.grad == pytest.approx(3.0 - 0.25)
    d = np.float64(3.0) * ad.Dual(2.0, 1.0)
    assert isinstance(d, ad.Dual) and d.deriv == 3.0


def test_var_works_inside_numpy_object_arrays():
    xs = np.array([ad.Var(t) for t in (0.1, 0.2, 0.3)], dtype=object)
    y = (np.exp(xs) * np.array([1.0, 2.0, 3.0])).sum()
    y.backward()
    assert [x.grad for x in xs] == pytest.approx([k * math.exp(t) for k, t in ((1, 0.1), (2, 0.2), (3, 0.3))])


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("make, match", [
    (lambda: ad.Var(float("nan")), "value"),
    (lambda: ad.Var("1.0"), "value"),
    (lambda: ad.Var(np.ones(2)), "value"),
    (lambda: ad.Var(1.0, parents=(1.0,), local_grads=(1.0,)), "parents"),
    (lambda: ad.Var(1.0, parents=(ad.Var(1.0),), local_grads=()), "local_grads"),
    (lambda: ad.Var(-1.0).log(), "log"),
    (lambda: ad.Var(-2.0) ** 0.5, "power"),
])
def test_bad_input_raises_value_error_naming_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_unsupported_operands_raise_type_errors():
    with pytest.raises(TypeError):
        ad.Var(1.0) + "a"
