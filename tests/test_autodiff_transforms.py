"""Tests of course_lib.autodiff.transforms: grad and jacobian in both modes against torch and
finite differences, jvp and vjp as transposes, constant functions, and bad input."""
import numpy as np
import pytest
import torch

from course_lib import autodiff as ad
from course_lib.derivatives import central_difference, numerical_jacobian
from tests._autodiff_helpers import float64_torch, like  # noqa: F401  (float64_torch: autouse)


# ----------------------------------------------------------------------------- grad, jacobian, jvp, vjp

def test_grad_in_both_modes_matches_torch_and_finite_differences():
    rng = np.random.default_rng(7)
    A = rng.standard_normal((5, 4))
    x = rng.standard_normal(4)

    def f(z):
        return ad.log(1 + ad.exp(A @ z)).sum() + 0.5 * (z * z).sum() + ad.relu(z - 0.1).mean()

    g_rev, g_fwd = ad.grad(f, x), ad.grad(f, x, mode="forward")
    zt = torch.tensor(x, requires_grad=True)
    (torch.log(1 + torch.exp(torch.tensor(A) @ zt)).sum() + 0.5 * (zt * zt).sum()
     + torch.relu(zt - 0.1).mean()).backward()
    assert np.allclose(g_rev, zt.grad.numpy(), rtol=1e-12) and np.allclose(g_fwd, g_rev, rtol=1e-12)
    assert np.allclose(g_rev, central_difference(lambda z: float(f(z)), x, 1e-6), rtol=1e-6, atol=1e-8)
    M = rng.standard_normal((2, 3))      # gradients of functions of matrices have their shape
    assert np.allclose(ad.grad(lambda Z: (Z * Z).sum(), M, mode="forward"), 2 * M)
    assert np.allclose(ad.grad(lambda Z: (Z * Z).sum(), M), 2 * M)


@pytest.mark.parametrize("m", [1, 3, 7])
def test_jacobian_in_both_modes_matches_torch_func(m):
    rng = np.random.default_rng(8)
    W = rng.standard_normal((m, 5))
    x = rng.standard_normal(5)

    def F(z):
        return ad.tanh(like(W, z) @ z) * (z * z).sum() + like(W, z) @ ad.exp(z / 5)

    J_fwd, J_rev = ad.jacobian(F, x, mode="forward"), ad.jacobian(F, x, mode="reverse")
    J_torch = torch.autograd.functional.jacobian(F, torch.tensor(x)).numpy()
    assert J_fwd.shape == J_rev.shape == (m, 5)
    assert np.allclose(J_fwd, J_torch, rtol=1e-12) and np.allclose(J_rev, J_torch, rtol=1e-12)
    assert np.allclose(J_rev, numerical_jacobian(F, x), rtol=1e-6, atol=1e-8)
    scalar = ad.jacobian(lambda z: (z * z).sum(), x)
    assert scalar.shape == (1, 5) and np.allclose(scalar[0], 2 * x)


def test_jvp_and_vjp_are_transposes():
    rng = np.random.default_rng(9)
    W, x = rng.standard_normal((3, 4)), rng.standard_normal(4)
    F = lambda z: ad.tanh(W @ z)  # noqa: E731
    u, v = rng.standard_normal(4), rng.standard_normal(3)
    (_, Ju), (_, vJ) = ad.jvp(F, x, u), ad.vjp(F, x, v)
    assert v @ Ju == pytest.approx(vJ @ u, rel=1e-12)


def test_constant_functions_have_zero_derivatives():
    x = np.array([1.0, 2.0])
    assert np.array_equal(ad.grad(lambda z: 3.0, x), [0.0, 0.0])
    assert np.array_equal(ad.grad(lambda z: 3.0, x, mode="forward"), [0.0, 0.0])
    assert np.array_equal(ad.jacobian(lambda z: np.ones(3), x), np.zeros((3, 2)))


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("make, match", [
    (lambda: ad.grad("f", np.ones(2)), "f"),
    (lambda: ad.grad(lambda z: z.sum(), np.ones(2), mode="sideways"), "mode"),
    (lambda: ad.grad(lambda z: z * 2, np.ones(2)), "scalar"),
    (lambda: ad.grad(lambda z: z * 2, np.ones(2), mode="forward"), "scalar"),
    (lambda: ad.grad(lambda z: z.sum(), [np.nan]), "x"),
    (lambda: ad.jacobian(lambda z: z, np.ones((2, 2))), "x"),
    (lambda: ad.jvp(lambda z: z, np.ones(2), np.ones(3)), "v"),
    (lambda: ad.vjp(lambda z: z, np.ones(2), np.ones(3)), "v"),
])
def test_bad_input_raises_value_error_naming_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()
