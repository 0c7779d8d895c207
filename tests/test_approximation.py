"""Tests of course_lib.approximation: against torch.autograd, scikit-learn, SciPy (quad, solve_ivp),
closed forms and brute force."""
import numpy as np
import pytest
import scipy.integrate
import scipy.special
import scipy.stats
import torch
from sklearn.linear_model import LinearRegression, Ridge

from course_lib import approximation as A

RNG = np.random.default_rng


# ----------------------------------------------------------------------------- ridge functions

@pytest.mark.parametrize("name", sorted(A.ACTIVATIONS))
def test_activation_derivatives_match_central_differences(name):
    sigma, dsigma = A.get_activation(name)
    t = np.linspace(-3, 3, 61) + 0.013            # avoid the kink of relu at 0
    h = 1e-6
    assert np.allclose(dsigma(t), (sigma(t + h) - sigma(t - h)) / (2 * h), atol=1e-7)


def test_sigmoid_is_the_logistic_function_without_overflow():
    sigma, _ = A.get_activation("sigmoid")
    t = np.array([-800.0, -3.0, 0.0, 2.0, 800.0])
    with np.errstate(over="raise"):
        assert np.allclose(sigma(t), scipy.special.expit(t), rtol=1e-14, atol=0)


def test_two_layer_is_a_sum_of_ridge_functions():
    rng = RNG(0)
    x, W, b, a = rng.standard_normal((7, 3)), rng.standard_normal((5, 3)), rng.standard_normal(5), rng.standard_normal(5)
    loop = [sum(a[j] * np.tanh(W[j] @ x[i] + b[j]) for j in range(5)) for i in range(7)]
    assert np.allclose(A.two_layer(x, W, b, a, "tanh"), loop, rtol=1e-14)
    # a ridge function is constant along directions orthogonal to w_j
    Phi = A.ridge_features(x, W, b, "relu")
    u = np.cross(W[0], rng.standard_normal(3))
    assert np.allclose(A.ridge_features(x + 5 * u, W[:1], b[:1])[:, 0], Phi[:, 0], atol=1e-12)


def test_one_dimensional_inputs_are_columns():
    W, b = A.random_ridge_weights(4, 1, 0)
    x = np.linspace(-1, 1, 9)
    assert np.array_equal(A.ridge_features(x, W, b), A.ridge_features(x[:, None], W, b))


def test_random_ridge_weights_cut_the_ball():
    W, b = A.random_ridge_weights(500, 3, RNG(1), scale=4.0, radius=0.5)
    assert W.shape == (500, 3) and b.shape == (500,)
    assert np.allclose(np.linalg.norm(W, axis=1), 4.0)
    offsets = -b / np.linalg.norm(W, axis=1)          # the hyperplane <u, x> = offset
    assert np.all(np.abs(offsets) <= 0.5) and offsets.min() < -0.45 and offsets.max() > 0.45


def test_fit_outer_weights_matches_scikit_learn():
    rng = RNG(2)
    x = rng.uniform(-1, 1, (60, 2))
    y = np.sin(3 * x[:, 0]) * x[:, 1]
    W, b = A.random_ridge_weights(20, 2, rng, scale=2.0)
    Phi = A.ridge_features(x, W, b, "tanh")
    a = A.fit_outer_weights(x, y, W, b, "tanh")
    ref = LinearRegression(fit_intercept=False).fit(Phi, y)
    assert np.allclose(Phi @ a, ref.predict(Phi), atol=1e-9)
    lam = 0.01
    a_ridge = A.fit_outer_weights(x, y, W, b, "tanh", lam=lam)
    ref = Ridge(alpha=lam * len(y), fit_intercept=False, solver="cholesky").fit(Phi, y)
    assert np.allclose(a_ridge, ref.coef_, atol=1e-10)


def test_polynomial_activation_spans_only_polynomials():
    """With sigma(t) = t^2 the best fit, at any width, is the best quadratic (np.polyfit)."""
    x = np.linspace(-1, 1, 200)
    y = np.abs(x) + np.sin(4 * x)
    quad = np.polyval(np.polyfit(x, y, 2), x)
    for p in (3, 10, 50):
        W, b = A.random_ridge_weights(p, 1, RNG(p))
        fit = A.two_layer(x, W, b, A.fit_outer_weights(x, y, W, b, "square"), "square")
        assert np.allclose(fit, quad, atol=1e-9)


# ----------------------------------------------------------------------------- Barron

@pytest.fixture(scope="module")
def rho():
    return A.relu_measure(w_mean=[[0.0, 0.0], [1.5, -1.0]], b_mean=[0.0, 0.5], b_std=[1.0, 0.5], sign=[1, -1])


def _quad_moments(x, rho):
    """E[a relu(z)] and E[a^2 relu(z)^2] by numerical integration over z ~ N(m, s^2)."""
    K = len(rho["sign"])
    first = second = 0.0
    for k in range(K):
        m = rho["w_mean"][k] @ x + rho["b_mean"][k]
        s = np.sqrt(x @ x + rho["b_std"][k] ** 2)
        pdf = scipy.stats.norm(m, s).pdf
        e1 = scipy.integrate.quad(lambda z: z * pdf(z), 0, np.inf, epsabs=1e-13)[0]
        e2 = scipy.integrate.quad(lambda z: z * z * pdf(z), 0, np.inf, epsabs=1e-13)[0]
        first += rho["sign"][k] * e1
        second += K * e2
    return first, second - first ** 2


def test_integral_network_and_variance_match_numerical_integration(rho):
    x = np.array([[0.0, 0.0], [0.3, -0.8], [-1.0, 1.0], [2.0, 0.5]])
    f, V = A.integral_network(x, rho), A.integral_network_variance(x, rho)
    for i in range(len(x)):
        f_ref, V_ref = _quad_moments(x[i], rho)
        assert f[i] == pytest.approx(f_ref, abs=1e-9) and V[i] == pytest.approx(V_ref, abs=1e-8)


def test_one_component_closed_form():
    """For w ~ N(0, I), b ~ N(0, 1): E relu(<w, x> + b) = sqrt(1 + |x|^2) / sqrt(2 pi)."""
    rho1 = A.relu_measure([[0.0, 0.0, 0.0]], [0.0], [1.0], [1])
    x = RNG(3).standard_normal((10, 3))
    r2 = np.sum(x ** 2, axis=1)
    assert np.allclose(A.integral_network(x, rho1), np.sqrt(1 + r2) / np.sqrt(2 * np.pi), rtol=1e-13)
    assert np.allclose(A.integral_network_variance(x, rho1), (1 + r2) * (0.5 - 1 / (2 * np.pi)), rtol=1e-12)


def test_maurey_sample_is_unbiased_with_the_predicted_variance(rho):
    x = np.array([[0.2, 0.1], [-0.5, 0.7]])
    W, b, a = A.sample_integral_network(200_000, rho, RNG(4))
    assert W.shape == (200_000, 2) and b.shape == a.shape == (200_000,)
    terms = a[None, :] * 200_000 * A.ridge_features(x, W, b)    # the i.i.d. terms a_theta relu(...)
    V = A.integral_network_variance(x, rho)
    se = np.sqrt(V / 200_000)
    assert np.all(np.abs(terms.mean(axis=1) - A.integral_network(x, rho)) < 5 * se)
    assert np.allclose(terms.var(axis=1), V, rtol=0.05)


def test_barron_errors(rho):
    g = np.linspace(-1, 1, 15)
    x = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    ps = [2, 8, 32]
    maurey, lsq = A.barron_errors(x, ps, rho, 60, RNG(5))
    assert maurey.shape == lsq.shape == (60, 3)
    assert np.all(lsq <= maurey + 1e-12)                    # the projection beats any point of the span
    # E ||f - f_p||^2 = mean Var / p exactly; 60 seeds estimate it to about 20 %
    V = A.integral_network_variance(x, rho).mean()
    assert np.allclose(np.mean(maurey ** 2, axis=0) * np.array(ps), V, rtol=0.3)


# ----------------------------------------------------------------------------- backpropagation

def _torch_mlp(params, x, activation):
    act = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
           "square": lambda t: t ** 2, "cube": lambda t: t ** 3, "identity": lambda t: t}[activation]
    tp = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)) for W, b in params]
    tx = torch.tensor(x, requires_grad=True)
    h = tx
    for k, (W, b) in enumerate(tp):
        h = h @ W.T + b
        if k < len(tp) - 1:
            h = act(h)
    return tp, tx, h


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "cube"])
def test_hand_backprop_equals_torch_autograd(activation):
    rng = RNG(6)
    params = A.mlp_init([3, 16, 8, 16, 2], rng, gain=1.2, activation=activation, bias_std=0.3)
    x, y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    out, cache = A.mlp_forward(params, x, activation)
    loss, grad_out = A.mse_loss(out, y)
    grads, grad_x = A.mlp_backward(params, cache, grad_out, activation)

    tp, tx, tout = _torch_mlp(params, x, activation)
    tloss = 0.5 * ((tout - torch.tensor(y)) ** 2).sum() / len(x)
    tloss.backward()
    assert _rel_err(out, tout) < 1e-13 and loss == pytest.approx(tloss.item(), rel=1e-13)
    for (dW, db), (W, b) in zip(grads, tp):
        assert _rel_err(dW, W.grad) < 1e-12 and _rel_err(db, b.grad) < 1e-12
    assert _rel_err(grad_x, tx.grad) < 1e-12


def _rel_err(ours, theirs):
    theirs = theirs.detach().numpy()
    return np.max(np.abs(ours - theirs)) / max(1.0, np.max(np.abs(theirs)))


def test_backprop_of_a_linear_functional_is_a_vector_jacobian_product():
    """dl/dx for l = <v, F(x)> is J^T v, with J from torch.autograd.functional.jacobian."""
    rng = RNG(7)
    params = A.mlp_init([4, 6, 3], rng, activation="tanh", bias_std=0.5)
    x, v = rng.standard_normal((1, 4)), rng.standard_normal((1, 3))
    _, cache = A.mlp_forward(params, x, "tanh")
    _, grad_x = A.mlp_backward(params, cache, v, "tanh")
    J = torch.autograd.functional.jacobian(lambda z: _forward_torch(params, z), torch.tensor(x[0]))
    assert np.allclose(grad_x[0], J.numpy().T @ v[0], atol=1e-12)


def _forward_torch(params, z):
    h = z
    for k, (W, b) in enumerate(params):
        h = torch.tensor(W) @ h + torch.tensor(b)
        if k < len(params) - 1:
            h = torch.tanh(h)
    return h


def test_mlp_init_scales():
    rng = RNG(8)
    (W1, b1), (W2, _) = A.mlp_init([400, 300, 200], rng, gain=0.5, activation="relu")
    assert np.std(W1) == pytest.approx(0.5 * np.sqrt(2 / 400), rel=0.02) and np.all(b1 == 0)
    (W1, _), = A.mlp_init([400, 300], rng, activation="tanh")
    assert np.std(W1) == pytest.approx(np.sqrt(1 / 400), rel=0.02)


def test_gradient_norms_vs_depth_grow_like_gain_per_layer():
    depths = np.array([2, 8, 14, 20])
    rates = {}
    for g in (0.7, 1.4):
        N = A.gradient_norms_vs_depth(depths, 64, g, RNG(9), n=16, n_seeds=3)
        assert N.shape == (3, 4)
        rates[g] = np.exp(np.polyfit(depths, np.log(N).mean(axis=0), 1)[0])
    assert rates[0.7] == pytest.approx(0.7, rel=0.05) and rates[1.4] == pytest.approx(1.4, rel=0.05)


# ----------------------------------------------------------------------------- lazy vs mean field

@pytest.mark.parametrize("scaling, gamma", [("ntk", 0.5), ("mean_field", 1.0)])
def test_train_two_layer_steps_are_torch_gradient_steps(scaling, gamma):
    rng = RNG(10)
    m, n = 30, 12
    x, y = np.c_[rng.uniform(-1, 1, n), np.ones(n)], rng.standard_normal(n)
    W0, a0 = rng.standard_normal((m, 2)), rng.standard_normal(m)
    W, a, losses = A.train_two_layer(x, y, W0, a0, scaling, step=0.3, n_iter=3)
    tW, ta = torch.tensor(W0, requires_grad=True), torch.tensor(a0, requires_grad=True)
    lr = 0.3 * m ** (2 * gamma - 1)
    for k in range(3):
        f = torch.tanh(torch.tensor(x) @ tW.T) @ ta / m ** gamma
        loss = 0.5 * ((f - torch.tensor(y)) ** 2).mean()
        assert losses[k] == pytest.approx(loss.item(), rel=1e-13)
        tW.grad = ta.grad = None
        loss.backward()
        with torch.no_grad():
            tW -= lr * tW.grad
            ta -= lr * ta.grad
    assert np.allclose(W, tW.detach().numpy(), atol=1e-13) and np.allclose(a, ta.detach().numpy(), atol=1e-13)
    f_final = A.two_layer_scaled(x, W, a, scaling)
    assert losses[-1] == pytest.approx(0.5 * np.mean((f_final - y) ** 2), rel=1e-13)
    W0_copy = W0.copy()
    A.train_two_layer(x, y, W0, a0, scaling, 0.3, 2)
    assert np.array_equal(W0, W0_copy)                  # the initial weights are not modified


def test_relative_change():
    W0, a0 = np.ones((2, 2)), np.zeros(2)
    assert A.relative_change(W0, a0, W0, a0) == 0
    assert A.relative_change(W0, a0, 2 * W0, a0) == pytest.approx(1.0)


# ----------------------------------------------------------------------------- ResNets and ODEs

@pytest.fixture(scope="module")
def field():
    P = A.smooth_velocity_params(2, 8, RNG(11), n_modes=3, scale=1.5)
    x0 = RNG(12).uniform(-1, 1, (6, 2))
    ref = scipy.integrate.solve_ivp(lambda t, z: A.velocity(P, t, z.reshape(6, 2)).ravel(), (0, 1), x0.ravel(),
                                    method="DOP853", rtol=1e-12, atol=1e-12)
    return P, x0, ref.y[:, -1].reshape(6, 2)


def test_rk4_matches_solve_ivp(field):
    P, x0, ref = field
    v = lambda t, x: A.velocity(P, t, x)  # noqa: E731
    assert np.max(np.abs(A.rk4(v, x0, 200) - ref)) < 1e-9
    e1, e2 = (np.max(np.abs(A.rk4(v, x0, n) - ref)) for n in (10, 20))
    assert 12 < e1 / e2 < 20                            # fourth order: halving h divides the error by 16


def test_smooth_resnet_converges_to_the_ode_flow_at_rate_one_over_T(field):
    P, x0, ref = field
    errors = [np.max(np.abs(A.smooth_resnet(P, x0, T) - ref)) for T in (100, 200, 400)]
    assert 1.8 < errors[0] / errors[1] < 2.2 and 1.8 < errors[1] / errors[2] < 2.2
    path = A.smooth_resnet(P, x0, 5, return_path=True)
    assert path.shape == (6, 6, 2) and np.array_equal(path[0], x0)
    assert np.allclose(path[-1], A.euler(lambda t, x: A.velocity(P, t, x), x0, 5), rtol=0, atol=0)


def test_euler_on_a_linear_ode_is_a_matrix_power():
    M = np.array([[0.0, 1.0], [-2.0, -0.3]])
    x0 = np.array([1.0, 0.5])
    T = 17
    xT = A.euler(lambda t, x: M @ x, x0, T, t1=2.0)
    assert np.allclose(xT, np.linalg.matrix_power(np.eye(2) + 2.0 / T * M, T) @ x0, rtol=1e-13)


def test_velocity_formula():
    P = A.smooth_velocity_params(3, 5, RNG(13), n_modes=2)
    x, t = RNG(14).standard_normal((4, 3)), 0.3
    W1 = P["W1"][0] + np.cos(np.pi * t) * P["W1"][1]
    b = P["b"][0] + np.cos(np.pi * t) * P["b"][1]
    W2 = P["W2"][0] + np.cos(np.pi * t) * P["W2"][1]
    assert np.allclose(A.velocity(P, t, x), np.tanh(x @ W1.T + b) @ W2.T, rtol=1e-14)
    assert A.velocity(P, t, x[0]).shape == (3,)


def test_random_resnet_shapes_and_scalings():
    x0 = np.array([[0.5, -0.3]])
    assert A.random_resnet(x0, 4, 8, RNG(15)).shape == (1, 2)
    path = A.random_resnet(x0, 4, 8, RNG(15), n_draws=3, return_path=True)
    assert path.shape == (5, 3, 1, 2) and np.all(path[0] == x0)
    # beta = 1: the output concentrates on the input (std ~ T^{-1/2}); beta = 1/2: it does not
    sd = {beta: A.random_resnet(x0, 400, 8, RNG(16), beta=beta, n_draws=200).std(axis=0).mean()
          for beta in (0.5, 1.0)}
    assert sd[1.0] < 0.1 < 0.5 < sd[0.5]


def test_quadratic_variation():
    path = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 2.0]])
    assert A.quadratic_variation(path) == pytest.approx(5.0)
    bm = np.cumsum(RNG(17).standard_normal((10_001, 50, 1)) / 100, axis=0)      # Brownian motion on [0, 1]
    assert np.mean(A.quadratic_variation(bm)) == pytest.approx(1.0, rel=0.02)


# ----------------------------------------------------------------------------- bad input

def test_bad_input_raises_value_error_naming_the_argument(rho):
    W, b = np.ones((3, 2)), np.zeros(3)
    x = np.zeros((4, 2))
    params = A.mlp_init([2, 3, 1], 0)
    bad = [
        (lambda: A.get_activation("gelu"), "activation"),
        (lambda: A.ridge_features(x, W, b, "softmax"), "activation"),
        (lambda: A.ridge_features(np.zeros((4, 3)), W, b), "W"),
        (lambda: A.ridge_features(x, W, np.zeros(2)), "b"),
        (lambda: A.ridge_features([[np.nan, 0]], W, b), "x"),
        (lambda: A.two_layer(x, W, b, np.ones(2)), "a"),
        (lambda: A.random_ridge_weights(0, 2, 0), "p"),
        (lambda: A.random_ridge_weights(3, 2, "seed"), "rng"),
        (lambda: A.random_ridge_weights(3, 2, 0, scale=-1), "scale"),
        (lambda: A.fit_outer_weights(x, np.ones(3), W, b), "y"),
        (lambda: A.fit_outer_weights(x, np.ones(4), W, b, lam=-1), "lam"),
        (lambda: A.relu_measure([[0, 0]], [0], [0.0], [1]), "b_std"),
        (lambda: A.relu_measure([[0, 0]], [0], [1.0], [2]), "sign"),
        (lambda: A.relu_measure([[0, 0]], [0, 1], [1.0], [1]), "b_mean"),
        (lambda: A.integral_network(x, {"w": 1}), "rho"),
        (lambda: A.integral_network(np.zeros((2, 3)), rho), "x"),
        (lambda: A.sample_integral_network(2.5, rho, 0), "p"),
        (lambda: A.barron_errors(x, [0, 4], rho, 2, 0), "ps"),
        (lambda: A.barron_errors(x, [4], rho, 0, 0), "n_seeds"),
        (lambda: A.mlp_init([3], 0), "widths"),
        (lambda: A.mlp_init([3, 2], 0, gain=0), "gain"),
        (lambda: A.mlp_forward(params, np.zeros((4, 5))), "x"),
        (lambda: A.mlp_forward([(np.ones((3, 2)), np.zeros(3)), (np.ones((1, 4)), np.zeros(1))], x), "params"),
        (lambda: A.mlp_forward([(np.ones((3, 2)), np.zeros(2))], x), "params"),
        (lambda: A.mlp_backward(params, {}, np.zeros((4, 1))), "cache"),
        (lambda: A.mlp_backward(params, A.mlp_forward(params, x)[1], np.zeros((4, 2))), "grad_out"),
        (lambda: A.mlp_backward(params, A.mlp_forward(params, x, "relu")[1], np.zeros((4, 1)), "tanh"),
         "activation"),
        (lambda: A.mse_loss(np.zeros(3), np.zeros(4)), "y"),
        (lambda: A.gradient_norms_vs_depth([0, 2], 8, 1.0, 0), "depths"),
        (lambda: A.gradient_norms_vs_depth([2], 8, 1.0, 0, n_seeds=0), "n_seeds"),
        (lambda: A.two_layer_scaled(x, W, np.ones(3), "lazy"), "scaling"),
        (lambda: A.train_two_layer(x, np.ones(4), W, np.ones(3), step=0), "step"),
        (lambda: A.train_two_layer(x, np.ones(4), W, np.ones(2)), "a0"),
        (lambda: A.train_two_layer(x, np.ones(4), W, np.ones(3), n_iter=-1), "n_iter"),
        (lambda: A.relative_change(np.zeros((2, 2)), np.zeros(2), np.zeros((2, 2)), np.zeros(2)), "W0"),
        (lambda: A.euler("v", x, 4), "v"),
        (lambda: A.euler(lambda t, z: z[:1], x, 4), "v"),
        (lambda: A.euler(lambda t, z: z, x, 0), "T"),
        (lambda: A.rk4(lambda t, z: z, x, 10, t1=0), "t1"),
        (lambda: A.smooth_velocity_params(2, 0, 0), "hidden"),
        (lambda: A.velocity({"W1": 1}, 0.0, x), "params"),
        (lambda: A.velocity(A.smooth_velocity_params(2, 3, 0), 0.0, np.zeros((4, 3))), "x"),
        (lambda: A.random_resnet(x, 4, 3, 0, beta=0), "beta"),
        (lambda: A.random_resnet(x, 4, 3, 0, n_draws=0), "n_draws"),
        (lambda: A.quadratic_variation(np.zeros((1, 2))), "path"),
    ]
    for call, name in bad:
        with pytest.raises(ValueError, match=name):
            call()
