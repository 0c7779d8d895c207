"""Tests of course_lib.autodiff.forward: every primitive of Dual against torch.autograd and finite
differences, on numbers and on arrays (torch's jvp), and bad input."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from course_lib import autodiff as ad
from tests._autodiff_helpers import (BINARY, FAST, UNARY, finite, float64_torch,  # noqa: F401
                                     like, torch_grads)


# ----------------------------------------------------------------------------- scalar primitives

@pytest.mark.parametrize("name", UNARY)
@FAST
@given(data=st.data())
def test_dual_unary_primitives_match_torch_and_finite_differences(name, data):
    op, values = UNARY[name]
    t, v = data.draw(values), data.draw(finite)
    y = op(ad.Dual(t, v))
    value, (g,) = torch_grads(op, t)
    assert y.value == pytest.approx(value, rel=1e-12, abs=1e-12)
    assert y.deriv == pytest.approx(g * v, rel=1e-12, abs=1e-12)
    h = 1e-6                       # central difference of the values the engine computes
    fd = (op(ad.Dual(t + h, 0.0)).value - op(ad.Dual(t - h, 0.0)).value) / (2 * h)
    assert y.deriv == pytest.approx(fd * v, rel=1e-5, abs=1e-5)


@pytest.mark.parametrize("name", BINARY)
@FAST
@given(data=st.data())
def test_dual_binary_primitives_match_torch(name, data):
    op, values = BINARY[name]
    s, t = data.draw(values), data.draw(values)
    vs, vt = data.draw(finite), data.draw(finite)
    y = op(ad.Dual(s, vs), ad.Dual(t, vt))
    value, (gs, gt) = torch_grads(op, s, t)
    assert y.value == pytest.approx(value, rel=1e-12, abs=1e-12)
    assert y.deriv == pytest.approx(gs * vs + gt * vt, rel=1e-10, abs=1e-10)



# ----------------------------------------------------------------------------- arrays

def test_dual_arrays_match_torch_jvp():
    rng = np.random.default_rng(6)
    W, x, v = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(4)

    def F(z):
        h = ad.tanh(like(W, z) @ z) * z[1:]
        return ((h * h).sum() + (z / (z * z + 1)).mean()) * h[[2, 1, 0]] + (z @ z) ** 0.5 - 2.0 ** z[:3]

    out = F(ad.Dual(x, v))
    value, tangent = torch.autograd.functional.jvp(F, torch.tensor(x), torch.tensor(v))
    assert np.allclose(out.value, value.numpy(), rtol=1e-12)
    assert np.allclose(out.deriv, tangent.numpy(), rtol=1e-10)


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("make, match", [
    (lambda: ad.Dual(1.0, np.ones(2)), "deriv"),
    (lambda: ad.Dual(np.ones(3), np.ones(2)), "deriv"),
    (lambda: ad.Dual(float("inf"), 1.0), "value"),
])
def test_bad_input_raises_value_error_naming_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_unsupported_operands_raise_type_errors():
    with pytest.raises(TypeError):
        ad.Dual(1.0, 1.0) * ad.Var(1.0)
    with pytest.raises(TypeError):
        ad.Dual(1.0, 1.0) + "a"
