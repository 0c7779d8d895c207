"""Tests of course_lib.ode: solvers against SciPy, backprop through the solver against torch.autograd,
the continuous adjoint against backprop and closed forms, and bad input."""
import numpy as np
import pytest
import scipy.integrate
import scipy.linalg
import torch

from course_lib import autodiff as ad
from course_lib import ode
from course_lib.utils import loglog_slope

THETA = np.array([2 / 3, 4 / 3, 1.0, 1.0])
X0 = np.array([1.0, 0.8])
TIMES = np.linspace(0.5, 4.0, 8)


@pytest.fixture(scope="module")
def data():
    noise = 0.05 * np.random.default_rng(0).standard_normal((8, 2))
    return ode.solve(ode.lotka_volterra, X0, THETA, TIMES, 50) + noise


def lv_torch(x, th):
    """Lotka-Volterra written independently for torch."""
    return torch.stack([th[0] * x[0] - th[1] * x[0] * x[1], th[3] * x[0] * x[1] - th[2] * x[1]])


def squared_error(Y):
    return lambda X: 0.5 * ((X - Y) ** 2).sum()


@pytest.mark.parametrize("method", sorted(ode.TABLEAUX))
def test_solvers_converge_at_their_order_to_scipy(method):
    ref = scipy.integrate.solve_ivp(lambda t, x: ode.lotka_volterra(x, THETA), (0, 2.0), X0,
                                    rtol=1e-12, atol=1e-12).y[:, -1]
    steps = np.array([20, 40, 80, 160])
    errors = [np.linalg.norm(ode.solve(ode.lotka_volterra, X0, THETA, [2.0], n, method=method)[-1] - ref)
              for n in steps]
    assert loglog_slope(steps, errors) == pytest.approx(-ode.ORDERS[method], abs=0.2)


def test_rk4_on_a_linear_system_matches_the_matrix_exponential():
    A = np.array([[-0.5, 1.0], [-1.0, -0.2]])
    X = ode.solve(lambda x, th: A @ x, X0, np.zeros(1), [0.5, 1.0, 3.0], 200)
    for t, x in zip([0.5, 1.0, 3.0], X):
        assert np.allclose(x, scipy.linalg.expm(t * A) @ X0, atol=1e-10)


def test_integrate_runs_on_tensors_and_torch_alike():
    states_np = ode.integrate(ode.lotka_volterra, X0, THETA, TIMES, 5)
    states_t = ode.integrate(ode.lotka_volterra, ad.Tensor(X0), ad.Tensor(THETA), TIMES, 5)
    states_torch = ode.integrate(lv_torch, torch.tensor(X0), torch.tensor(THETA), TIMES, 5)
    for a, b, c in zip(states_np, states_t, states_torch):
        assert np.allclose(a, b.value, atol=1e-14) and np.allclose(a, c.numpy(), atol=1e-14)


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_backprop_through_the_solver_matches_torch_autograd(data, method):
    loss = squared_error(data)
    got = ode.backprop_gradient(ode.lotka_volterra, X0, THETA, TIMES, 7, loss, method=method)
    x0, th = torch.tensor(X0, requires_grad=True), torch.tensor(THETA, requires_grad=True)
    X = torch.stack(ode.integrate(lv_torch, x0, th, TIMES, 7, method=method))
    ref = 0.5 * ((X - torch.tensor(data)) ** 2).sum()
    ref.backward()
    assert got.value == pytest.approx(ref.item(), rel=1e-13)
    assert np.allclose(got.grad_x0, x0.grad.numpy(), rtol=1e-11, atol=1e-13)
    assert np.allclose(got.grad_theta, th.grad.numpy(), rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("method", sorted(ode.TABLEAUX))
def test_adjoint_agrees_with_backprop_up_to_the_discretization_error(data, method):
    loss = squared_error(data)
    steps = np.array([4, 8, 16]) if method == "rk4" else np.array([8, 16, 32])
    gaps = []
    for n in steps:
        a = ode.adjoint_gradient(ode.lotka_volterra, X0, THETA, TIMES, n, loss, method=method)
        b = ode.backprop_gradient(ode.lotka_volterra, X0, THETA, TIMES, n, loss, method=method)
        assert a.value == pytest.approx(b.value, rel=1e-14)
        gaps.append(np.linalg.norm(np.r_[a.grad_x0 - b.grad_x0, a.grad_theta - b.grad_theta]))
    # at least the order of the method (the two second-order methods even gain one order here)
    assert loglog_slope(steps, gaps) < -ode.ORDERS[method] + 0.3
    if method in ("euler", "rk4"):
        assert loglog_slope(steps, gaps) == pytest.approx(-ode.ORDERS[method], abs=0.3)
    assert gaps[-1] < {"euler": 3e-2, "heun": 1e-3, "midpoint": 1e-3, "rk4": 1e-7}[method]


def test_adjoint_matches_torch_through_a_fine_solver(data):
    loss = squared_error(data)
    a = ode.adjoint_gradient(ode.lotka_volterra, X0, THETA, TIMES, 40, loss)
    x0, th = torch.tensor(X0, requires_grad=True), torch.tensor(THETA, requires_grad=True)
    X = torch.stack(ode.integrate(lv_torch, x0, th, TIMES, 40))
    (0.5 * ((X - torch.tensor(data)) ** 2).sum()).backward()
    assert np.allclose(a.grad_x0, x0.grad.numpy(), rtol=1e-8, atol=1e-10)
    assert np.allclose(a.grad_theta, th.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_closed_form_vjp_equals_the_autodiff_one(data):
    rng = np.random.default_rng(1)
    for _ in range(5):
        x, th, a = rng.uniform(0.2, 2, 2), rng.uniform(0.2, 2, 4), rng.standard_normal(2)
        Jx = ad.jacobian(lambda z, th=th: ode.lotka_volterra(z, ad.Tensor(th)), x)
        Jth = ad.jacobian(lambda z, x=x: ode.lotka_volterra(ad.Tensor(x), z), th)
        ax, ath = ode.lotka_volterra_vjp(x, th, a)
        assert np.allclose(ax, a @ Jx, atol=1e-14) and np.allclose(ath, a @ Jth, atol=1e-14)
        assert np.allclose(ode.lotka_volterra(x, th), ode.lotka_volterra(ad.Tensor(x), ad.Tensor(th)).value)
    loss = squared_error(data)
    g1 = ode.adjoint_gradient(ode.lotka_volterra, X0, THETA, TIMES, 10, loss)
    g2 = ode.adjoint_gradient(ode.lotka_volterra, X0, THETA, TIMES, 10, loss, vjp_f=ode.lotka_volterra_vjp)
    assert np.allclose(g1.grad_theta, g2.grad_theta, atol=1e-14)
    assert np.allclose(g1.grad_x0, g2.grad_x0, atol=1e-14)


def test_adjoint_of_a_linear_ode_matches_the_closed_form():
    # dx/dt = A x, L = 1/2 |x(T) - y|^2: dL/dx0 = expm(T A)^T (x(T) - y), and dL/dA is the upper-right
    # block of expm(T [[A^T, r x0^T], [0, A^T]]) (Van Loan), with r = x(T) - y.
    rng = np.random.default_rng(2)
    A, y, T = 0.5 * rng.standard_normal((3, 3)), rng.standard_normal(3), 1.5
    x0 = rng.standard_normal(3)
    r = scipy.linalg.expm(T * A) @ x0 - y
    grad_x0 = scipy.linalg.expm(T * A).T @ r
    big = np.block([[A.T, np.outer(r, x0)], [np.zeros((3, 3)), A.T]])
    grad_A = scipy.linalg.expm(T * big)[:3, 3:]
    f = lambda x, a: a.reshape(3, 3) @ x  # noqa: E731
    got = ode.adjoint_gradient(f, x0, A.ravel(), [T], 100, lambda X: 0.5 * ((X[0] - y) ** 2).sum())
    assert np.allclose(got.grad_x0, grad_x0, atol=1e-9)
    assert np.allclose(got.grad_theta, grad_A.ravel(), atol=1e-9)


def test_memory_backprop_grows_linearly_adjoint_is_constant(data):
    loss = squared_error(data)
    steps = np.array([2, 4, 8, 16])
    stored_bp = [ode.backprop_gradient(ode.lotka_volterra, X0, THETA, TIMES, n, loss).n_stored for n in steps]
    stored_adj = [ode.adjoint_gradient(ode.lotka_volterra, X0, THETA, TIMES, n, loss,
                                       vjp_f=ode.lotka_volterra_vjp).n_stored for n in steps]
    assert loglog_slope(steps, stored_bp) == pytest.approx(1.0, abs=0.05)
    assert len(set(stored_adj)) == 1 and stored_adj[0] == 2 * len(TIMES) + 1


@pytest.mark.parametrize("segment", [1, 2, 3, 5, 8, 24, 100])
def test_checkpointing_gives_the_backprop_gradient(data, segment):
    loss = squared_error(data)
    bp = ode.backprop_gradient(ode.lotka_volterra, X0, THETA, TIMES, 3, loss)
    ck = ode.checkpointed_gradient(ode.lotka_volterra, X0, THETA, TIMES, 3, loss, segment)
    assert ck.value == pytest.approx(bp.value, rel=1e-13)
    assert np.allclose(ck.grad_theta, bp.grad_theta, rtol=1e-11, atol=1e-12)
    assert np.allclose(ck.grad_x0, bp.grad_x0, rtol=1e-11, atol=1e-12)


def test_checkpointing_stores_about_n_over_s_plus_s_states(data):
    """n_stored = N/s checkpoints + s steps of graph (c nodes each): minimal near s = sqrt(N/c),
    and with s = sqrt(N) it grows like sqrt(N) (Chapter 6, checkpointing a chain)."""
    loss = squared_error(data)
    stored = {s: ode.checkpointed_gradient(ode.lotka_volterra, X0, THETA, TIMES, 32, loss, s).n_stored
              for s in (1, 4, 16, 64, 256)}
    assert min(stored, key=stored.get) in (4, 16) and stored[256] > 3 * min(stored.values())
    steps = np.array([8, 32, 128])                  # N = 8 n: the segment sqrt(N)
    sqrt_stored = [ode.checkpointed_gradient(ode.lotka_volterra, X0, THETA, TIMES, n, loss,
                                             round(np.sqrt(8 * n))).n_stored for n in steps]
    assert loglog_slope(8 * steps, sqrt_stored) == pytest.approx(0.5, abs=0.1)


def test_mlp_field_vjp_equals_the_autodiff_one_and_the_field_runs_on_both_engines():
    rng = np.random.default_rng(3)
    theta = ode.mlp_field_init(3, 5, rng, scale=1.0)
    assert theta.shape == (5 * 7 + 3,)
    x, a = rng.standard_normal(3), rng.standard_normal(3)
    xt, thetat = ad.Tensor(x), ad.Tensor(theta)
    out = ode.mlp_field(xt, thetat)
    out.backward(a)
    gx, gtheta = ode.mlp_field_vjp(x, theta, a)
    assert np.allclose(out.value, ode.mlp_field(x, theta), rtol=1e-14)
    assert np.allclose(gx, xt.grad, rtol=1e-13) and np.allclose(gtheta, thetat.grad, rtol=1e-13)
    W1, b1, W2, b2 = (theta[:15].reshape(5, 3), theta[15:20], theta[20:35].reshape(3, 5),
                      theta[35:])
    assert np.allclose(ode.mlp_field(x, theta), W2 @ np.tanh(W1 @ x + b1) + b2, rtol=1e-14)


# The claim of Section 8 of notebooks/06_differentiable_programming.ipynb for other seeds (of the
# noise and of the initial weights): a neural ODE trained by Adam with adjoint gradients.
@pytest.mark.parametrize("seed", range(5))
def test_a_neural_ode_trained_with_the_adjoint_reaches_the_noise_level(seed):
    from course_lib import optim
    rng = np.random.default_rng(seed)
    A = np.array([[-0.1, 2.0], [-2.0, -0.1]])
    spiral = lambda x, theta: theta.reshape(2, 2) @ x               # noqa: E731
    z0, times = np.array([2.0, 0.0]), 0.25 * np.arange(1, 21)
    clean = ode.solve(spiral, z0, A.ravel(), times, n_steps=20)
    loss = squared_error(clean + 0.05 * rng.standard_normal(clean.shape))
    theta0 = ode.mlp_field_init(2, 16, rng)

    def adjoint(theta):
        return ode.adjoint_gradient(ode.mlp_field, z0, theta, times, 1, loss,
                                    vjp_f=ode.mlp_field_vjp)

    theta, _ = optim.adam(lambda th: adjoint(th).grad_theta, theta0, 5e-2, 700)
    L_noise, L_end = loss(clean), adjoint(theta).value          # noise level: 1/2 |noise|^2
    assert L_end < 3 * L_noise and adjoint(theta0).value > 100 * L_end


@pytest.mark.parametrize("call, match", [
    (lambda: ode.solve("f", X0, THETA, TIMES), "f"),
    (lambda: ode.solve(ode.lotka_volterra, np.ones((2, 2)), THETA, TIMES), "x0"),
    (lambda: ode.solve(ode.lotka_volterra, X0, [np.nan] * 4, TIMES), "theta"),
    (lambda: ode.solve(ode.lotka_volterra, X0, THETA, [1.0, 0.5]), "times"),
    (lambda: ode.solve(ode.lotka_volterra, X0, THETA, [0.0, 0.5]), "times"),
    (lambda: ode.solve(ode.lotka_volterra, X0, THETA, TIMES, n_steps=0), "n_steps"),
    (lambda: ode.solve(ode.lotka_volterra, X0, THETA, TIMES, n_steps=2.5), "n_steps"),
    (lambda: ode.solve(ode.lotka_volterra, X0, THETA, TIMES, method="rk5"), "method"),
    (lambda: ode.integrate(ode.lotka_volterra, X0, THETA, TIMES, 3, method="rk5"), "method"),
    (lambda: ode.backprop_gradient(ode.lotka_volterra, X0, THETA, TIMES, 3, "loss"), "loss"),
    (lambda: ode.backprop_gradient(ode.lotka_volterra, X0, THETA, TIMES, 3, lambda X: X), "loss"),
    (lambda: ode.adjoint_gradient(ode.lotka_volterra, X0, THETA, TIMES, 3, lambda X: X.sum(), vjp_f=1),
     "vjp_f"),
    (lambda: ode.adjoint_gradient(ode.lotka_volterra, X0, THETA, TIMES, 3, lambda X: X), "loss"),
    (lambda: ode.checkpointed_gradient(ode.lotka_volterra, X0, THETA, TIMES, 3, lambda X: X.sum(), 0),
     "segment"),
    (lambda: ode.checkpointed_gradient(ode.lotka_volterra, X0, THETA, TIMES, 3, lambda X: X, 2),
     "loss"),
    (lambda: ode.mlp_field(X0, np.ones(8)), "theta"),
    (lambda: ode.mlp_field_init(2, 0, 0), "hidden"),
    (lambda: ode.mlp_field_init(2, 4, "seed"), "rng"),
])
def test_bad_input_raises_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_rk_step_t_time_dependent_field_has_order_four():
    """x' = t x, x(0) = 1 has x(1) = exp(1/2): the stage times c_i must be right for order 4."""
    errors = []
    for n in (8, 16, 32):
        x, h = np.array([1.0]), 1.0 / n
        for k in range(n):
            x = ode.rk_step_t(lambda t, z: t * z, k * h, x, h, "rk4")
        errors.append(abs(x[0] - np.exp(0.5)))
    assert errors[-1] < 1e-8
    assert 3.7 < np.log2(errors[0] / errors[1]) < 4.3 and 3.7 < np.log2(errors[1] / errors[2]) < 4.3
