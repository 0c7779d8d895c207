"""Tests of course_lib.autodiff.tensor: every Tensor operation against torch.autograd (vjps with
broadcasting) and finite differences, stack, a user-defined primitive, and bad input."""
import math

import numpy as np
import pytest
import torch

from course_lib import autodiff as ad
from tests._autodiff_helpers import float64_torch  # noqa: F401  (an autouse fixture)


# ----------------------------------------------------------------------------- Tensor primitives

def torch_vjp(fun, arrays, seed):
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fun(*ts)
    grads = torch.autograd.grad(out, ts, torch.tensor(seed), allow_unused=True)
    return out.detach().numpy(), [np.zeros_like(a) if g is None else g.numpy() for g, a in zip(grads, arrays)]


def check_tensor_op(fun, arrays, rng, torch_fun=None, atol=1e-12):
    ts = [ad.Tensor(a) for a in arrays]
    out = fun(*ts)
    seed = rng.standard_normal(out.shape)
    out.backward(seed)
    value, grads = torch_vjp(torch_fun or fun, arrays, seed)
    assert np.allclose(out.value, value, rtol=1e-12, atol=atol)
    for t, g in zip(ts, grads):
        assert t.grad.shape == t.value.shape
        assert np.allclose(t.grad, g, rtol=1e-10, atol=atol)
    # finite differences along a random direction: <seed, F(x + h v) - F(x - h v)> / 2h = sum <grad, v>
    vs = [rng.standard_normal(np.shape(a)) for a in arrays]
    h = 1e-6
    plus = fun(*[ad.Tensor(a + h * v) for a, v in zip(arrays, vs)]).value
    minus = fun(*[ad.Tensor(a - h * v) for a, v in zip(arrays, vs)]).value
    directional = sum(np.sum(t.grad * v) for t, v in zip(ts, vs))
    assert np.sum(seed * (plus - minus)) / (2 * h) == pytest.approx(directional, rel=1e-5, abs=1e-6)


SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((3, 4), ()), ((2, 3, 4), (3, 1)),
          ((4,), (2, 3, 4)), ((1,), (5,))]
BINARY_T = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 0.5),
}


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("name", BINARY_T)
def test_tensor_binary_ops_broadcast_like_torch(name, shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    check_tensor_op(BINARY_T[name], arrays, rng)


UNARY_T = {
    "exp": (lambda a: a.exp(), None),
    "log": (lambda a: (a * a + 0.1).log(), None),
    "tanh": (lambda a: a.tanh(), None),
    "relu": (lambda a: a.relu(), None),
    "neg": (lambda a: -a, None),
    "pow": (lambda a: (a * a + 1) ** 1.5, None),
    "rpow": (lambda a: 3.0**a, None),
    "number-ops": (lambda a: 2 - (1.5 + a * 3) / 4 + 1 / (a * a + 1), None),
    "sum": (lambda a: a.sum(), None),
    "sum-axis": (lambda a: a.sum(axis=1), None),
    "sum-keepdims": (lambda a: a.sum(axis=0, keepdims=True) * a, None),
    "mean": (lambda a: a.mean(axis=(0, 2)), None),
    "mean-all": (lambda a: a.mean(), None),
    "slice": (lambda a: a[1:, ::2], None),
    "fancy": (lambda a: a[np.array([0, 1, 0]), np.array([2, 2, 2])], None),
    "reshape": (lambda a: a.reshape(6, 4), None),
    "T": (lambda a: a.T, lambda a: a.permute(2, 1, 0)),
}


@pytest.mark.parametrize("name", UNARY_T)
def test_tensor_unary_ops_match_torch(name):
    rng = np.random.default_rng(1)
    fun, torch_fun = UNARY_T[name]
    check_tensor_op(fun, [rng.standard_normal((2, 3, 4))], rng, torch_fun)


@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
                                    ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((3, 4), (2, 4, 5))],
                         ids=str)
def test_tensor_matmul_matches_torch(shapes):
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(s) for s in shapes]
    check_tensor_op(lambda a, b: a @ b, arrays, rng)
    # a constant array on either side of @
    check_tensor_op(lambda a: arrays[0] @ a, [arrays[1]], rng, lambda a: torch.tensor(arrays[0]) @ a)
    check_tensor_op(lambda a: a @ arrays[1], [arrays[0]], rng, lambda a: a @ torch.tensor(arrays[1]))


def test_tensor_with_arrays_on_either_side():
    rng = np.random.default_rng(3)
    c = rng.standard_normal((3, 4))
    check_tensor_op(lambda a: c * a + c / (a * a + 1) - c, [rng.standard_normal(4)], rng,
                    lambda a: torch.tensor(c) * a + torch.tensor(c) / (a * a + 1) - torch.tensor(c))


def test_stack_and_repeated_indices():
    rng = np.random.default_rng(4)
    check_tensor_op(lambda a, b: ad.stack([a, b * 2, a * b], axis=1),
                    [rng.standard_normal(3), rng.standard_normal(3)], rng,
                    lambda a, b: torch.stack([a, b * 2, a * b], dim=1))
    x = ad.Tensor(np.arange(3.0))
    x[np.array([0, 0, 2, 0])].sum().backward()
    assert np.array_equal(x.grad, [3.0, 0.0, 1.0])


def test_a_new_primitive_is_one_small_function():
    def sin(x):
        x = ad.as_tensor(x)
        return ad.Tensor(np.sin(x.value), parents=(x,), vjp=lambda g: (g * np.cos(x.value),))

    rng = np.random.default_rng(5)
    check_tensor_op(lambda a, b: sin(a * b).sum(axis=0),
                    [rng.standard_normal((3, 2)), rng.standard_normal(2)], rng,
                    lambda a, b: torch.sin(a * b).sum(dim=0))
    x = ad.Var(0.3)
    y = ad.Var(math.sin(x.value), (x,), (math.cos(x.value),)) * x
    y.backward()
    assert x.grad == pytest.approx(math.cos(0.3) * 0.3 + math.sin(0.3))


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("make, match", [
    (lambda: ad.Tensor([1.0, np.nan]), "value"),
    (lambda: ad.Tensor([1.0], parents=(ad.Tensor(1.0),)), "vjp"),
    (lambda: ad.Tensor(np.ones(3)).backward(), "seed"),
    (lambda: ad.Tensor(np.ones(3)).exp().backward(np.ones(2)), "seed"),
    (lambda: ad.Tensor(-np.ones(2)).log(), "log"),
])
def test_bad_input_raises_value_error_naming_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_a_vjp_returning_the_wrong_shape_is_reported():
    x = ad.Tensor(np.ones(3))
    y = ad.Tensor(np.ones(3), parents=(x,), vjp=lambda g: (np.ones(2),))
    with pytest.raises(ValueError, match="vjp"):
        y.sum().backward()


def test_unsupported_operands_raise_type_errors():
    with pytest.raises(TypeError):
        ad.Tensor(np.ones(2)) ** ad.Tensor(np.ones(2))
