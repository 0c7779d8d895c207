"""Tests of course_lib.autodiff: every primitive of Dual, Var and Tensor against torch.autograd and
finite differences, broadcasting, node reuse, deep graphs, and bad input."""
import math
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import autodiff as ad
from course_lib.derivatives import central_difference, numerical_jacobian


@pytest.fixture(autouse=True)
def float64_torch():
    """torch in float64 for these tests only (the default dtype is process-wide state)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


finite = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)
positive = st.floats(0.1, 3.0, allow_nan=False, allow_infinity=False)
nonzero = finite.filter(lambda t: abs(t) > 0.05)
FAST = settings(max_examples=25, deadline=None)


def torch_grads(fun, *values):
    """Value and gradient of a scalar function of scalars by torch.autograd."""
    ts = [torch.tensor(float(v), requires_grad=True) for v in values]
    out = fun(*ts)
    grads = torch.autograd.grad(out, ts, allow_unused=True)
    return out.item(), [0.0 if g is None else g.item() for g in grads]


# ----------------------------------------------------------------------------- scalar primitives

UNARY = {
    "neg": (lambda u: -u, finite),
    "exp": (lambda u: u.exp(), finite),
    "log": (lambda u: u.log(), positive),
    "tanh": (lambda u: u.tanh(), finite),
    "relu": (lambda u: u.relu(), nonzero),
    "square": (lambda u: u**2, finite),
    "cube": (lambda u: u**3, finite),
    "sqrt": (lambda u: u**0.5, positive),
    "pow-1.5": (lambda u: u**-1.5, positive),
    "2**u": (lambda u: 2.0**u, finite),
    "add-number": (lambda u: 3.0 + u + 2, finite),
    "sub-number": (lambda u: 1.5 - u - 0.5, finite),
    "mul-number": (lambda u: 2.5 * u * -3, finite),
    "div-number": (lambda u: u / 4.0, finite),
    "number-div": (lambda u: 2.0 / u, nonzero),
}
BINARY = {
    "add": (lambda u, w: u + w, finite),
    "sub": (lambda u, w: u - w, finite),
    "mul": (lambda u, w: u * w, finite),
    "div": (lambda u, w: u / w, nonzero),
    "pow": (lambda u, w: u**w, positive),
}


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


# ----------------------------------------------------------------------------- node reuse and deep graphs

def test_gradients_accumulate_when_a_node_is_reused_many_times():
    x = ad.Var(0.7)
    y = x * x                      # one node with the same parent twice
    for k in range(1, 501):
        y = y + (k * x).tanh()     # x reused 500 more times
    y.backward()
    expected = 2 * 0.7 + sum(k * (1 - math.tanh(k * 0.7) ** 2) for k in range(1, 501))
    assert x.grad == pytest.approx(expected, rel=1e-12)
    xt = ad.Tensor(np.array([0.3, -0.2]))
    yt = xt * xt
    for k in range(1, 201):
        yt = yt + xt * k
    yt.sum().backward()
    assert np.allclose(xt.grad, 2 * xt.value + 200 * 201 / 2)


def test_diamond_graph_counts_each_path_once():
    x = ad.Var(1.5)
    a, b = x.exp(), x * 3
    y = a * b + a
    y.backward()
    assert x.grad == pytest.approx(math.exp(1.5) * 4.5 + math.exp(1.5) * 3 + math.exp(1.5))
    assert a.grad == pytest.approx(4.5 + 1) and b.grad == pytest.approx(math.exp(1.5))


@pytest.fixture
def low_recursion_limit():
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(400)
    yield
    sys.setrecursionlimit(old)


def test_deep_var_graph_without_recursion(low_recursion_limit):
    n = 10_000
    x = ad.Var(0.3)
    y = x
    for _ in range(n):
        y = 0.5 * y + x            # y_n = x (2 - 2^-n) + ... exactly y_n = (2 - 2^{-n}) x  (y_0 = x)
    assert len(ad.topological_order(y)) == 2 * n + 1
    y.backward()
    assert y.value == pytest.approx((2 - 0.5**n) * 0.3)
    assert x.grad == pytest.approx(2 - 0.5**n, rel=1e-12)
    del y                          # freeing a deep graph must not crash either


def test_deep_tensor_graph_without_recursion(low_recursion_limit):
    x = ad.Tensor(np.array([0.1, -0.4, 0.8]))
    y = x
    for _ in range(2_500):         # 4 nodes per step: 10^4 nodes
        y = y * 0.999 + 0.001 * x.tanh()
    assert len(ad.topological_order(y)) > 10_000
    y.sum().backward()
    # y_n = c^n x + (1 - c^n) tanh(x), c = 0.999
    c = 0.999**2_500
    assert np.allclose(x.grad, c + (1 - c) * (1 - np.tanh(x.value) ** 2), rtol=1e-10)


def test_backward_twice_gives_the_same_gradients():
    x = ad.Var(0.4)
    y = x.exp() * x
    y.backward()
    first = x.grad
    y.backward()
    assert x.grad == first
    xt = ad.Tensor(np.ones(3))
    yt = (xt * 2).sum()
    yt.backward()
    yt.backward()
    assert np.array_equal(xt.grad, 2 * np.ones(3))


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


def like(A, z):
    """The constant A as a torch tensor when z is one (torch does not mix with NumPy arrays in @)."""
    return torch.tensor(A) if isinstance(z, torch.Tensor) else A


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


# ----------------------------------------------------------------------------- MLP, loss, cost ratio

def test_mlp_softmax_cross_entropy_gradients_match_torch():
    rng = np.random.default_rng(10)
    params = ad.init_mlp([3, 8, 8, 4], rng)
    params = [(W, rng.standard_normal(b.shape)) for W, b in params]
    X, y = rng.standard_normal((20, 3)), rng.integers(0, 4, size=20)
    tparams = [(ad.Tensor(W), ad.Tensor(b)) for W, b in params]
    loss = ad.softmax_cross_entropy(ad.mlp(tparams, X), y)
    loss.backward()
    torch_params = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
                    for W, b in params]
    ref = torch.nn.functional.cross_entropy(ad.mlp(torch_params, torch.tensor(X)), torch.tensor(y))
    ref.backward()
    assert loss.value == pytest.approx(ref.item(), rel=1e-13)
    for (W, b), (tW, tb) in zip(tparams, torch_params):
        assert np.allclose(W.grad, tW.grad.numpy(), rtol=1e-10, atol=1e-14)
        assert np.allclose(b.grad, tb.grad.numpy(), rtol=1e-10, atol=1e-14)
    # the same loss on plain arrays, and its derivative along a direction by forward mode
    assert ad.softmax_cross_entropy(ad.mlp(params, X), y) == pytest.approx(ref.item(), rel=1e-13)
    V = rng.standard_normal(X.shape)
    tangent = ad.softmax_cross_entropy(ad.mlp(params, ad.Dual(X, V)), y).deriv
    Xt = ad.Tensor(X)
    ad.softmax_cross_entropy(ad.mlp(params, Xt), y).backward()
    assert tangent == pytest.approx(np.sum(Xt.grad * V), rel=1e-10)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    z = ad.Tensor(np.array([[1000.0, 0.0], [0.0, -1000.0]]))
    loss = ad.softmax_cross_entropy(z, np.array([0, 1]))
    loss.backward()
    assert loss.value == pytest.approx(500.0) and np.all(np.isfinite(z.grad))


def test_gradient_cost_ratio_returns_positive_times():
    A = np.ones((30, 30))
    r = ad.gradient_cost_ratio(lambda: A @ A, lambda: (A @ A, A.T @ A), repeats=3)
    assert r.ratio > 0 and r.t_value > 0 and r.t_grad > 0


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("make, match", [
    (lambda: ad.Var(float("nan")), "value"),
    (lambda: ad.Var("1.0"), "value"),
    (lambda: ad.Var(np.ones(2)), "value"),
    (lambda: ad.Var(1.0, parents=(1.0,), local_grads=(1.0,)), "parents"),
    (lambda: ad.Var(1.0, parents=(ad.Var(1.0),), local_grads=()), "local_grads"),
    (lambda: ad.Dual(1.0, np.ones(2)), "deriv"),
    (lambda: ad.Dual(np.ones(3), np.ones(2)), "deriv"),
    (lambda: ad.Dual(float("inf"), 1.0), "value"),
    (lambda: ad.Tensor([1.0, np.nan]), "value"),
    (lambda: ad.Tensor([1.0], parents=(ad.Tensor(1.0),)), "vjp"),
    (lambda: ad.Tensor(np.ones(3)).backward(), "seed"),
    (lambda: ad.Tensor(np.ones(3)).exp().backward(np.ones(2)), "seed"),
    (lambda: ad.Var(-1.0).log(), "log"),
    (lambda: ad.Var(-2.0) ** 0.5, "power"),
    (lambda: ad.Tensor(-np.ones(2)).log(), "log"),
    (lambda: ad.grad("f", np.ones(2)), "f"),
    (lambda: ad.grad(lambda z: z.sum(), np.ones(2), mode="sideways"), "mode"),
    (lambda: ad.grad(lambda z: z * 2, np.ones(2)), "scalar"),
    (lambda: ad.grad(lambda z: z * 2, np.ones(2), mode="forward"), "scalar"),
    (lambda: ad.grad(lambda z: z.sum(), [np.nan]), "x"),
    (lambda: ad.jacobian(lambda z: z, np.ones((2, 2))), "x"),
    (lambda: ad.jvp(lambda z: z, np.ones(2), np.ones(3)), "v"),
    (lambda: ad.vjp(lambda z: z, np.ones(2), np.ones(3)), "v"),
    (lambda: ad.topological_order(3.0), "output"),
    (lambda: ad.init_mlp([3]), "widths"),
    (lambda: ad.init_mlp([3, 0]), "widths"),
    (lambda: ad.mlp(ad.init_mlp([3, 2]), np.ones((4, 2))), "x"),
    (lambda: ad.mlp([], np.ones((4, 2))), "params"),
    (lambda: ad.softmax_cross_entropy(np.ones((3, 2)), np.array([0, 1, 2])), "labels"),
    (lambda: ad.softmax_cross_entropy(np.ones((3, 2)), np.array([0.0, 1.0, 1.0])), "labels"),
    (lambda: ad.softmax_cross_entropy(np.ones(3), np.array([0, 1, 1])), "logits"),
    (lambda: ad.gradient_cost_ratio(lambda: 1, lambda: 2, repeats=0), "repeats"),
    (lambda: ad.gradient_cost_ratio(1, lambda: 2), "value"),
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
        ad.Var(1.0) + "a"
    with pytest.raises(TypeError):
        ad.Dual(1.0, 1.0) * ad.Var(1.0)
    with pytest.raises(TypeError):
        ad.Tensor(np.ones(2)) ** ad.Tensor(np.ones(2))
