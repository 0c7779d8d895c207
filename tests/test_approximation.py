"""Tests of course_lib.approximation: ridge functions and random-feature fits against scikit-learn,
Barron's closed forms against SciPy's quad, Maurey's sampling, the names kept for older notebooks,
and bad input."""
import numpy as np
import pytest
import scipy.integrate
import scipy.special
import scipy.stats
from sklearn.linear_model import LinearRegression, Ridge

from course_lib import approximation as A
from course_lib import backprop, resnets, scalings

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



# ----------------------------------------------------------------------------- names kept stable

def test_moved_names_are_still_found():
    for module, names in ((backprop, backprop.__all__), (scalings, scalings.__all__),
                          (resnets, resnets.__all__)):
        for name in names:
            assert getattr(A, name) is getattr(module, name)
    with pytest.raises(AttributeError, match="no_such_name"):
        A.no_such_name  # noqa: B018


# ----------------------------------------------------------------------------- bad input

def test_bad_input_raises_value_error_naming_the_argument(rho):
    W, b = np.ones((3, 2)), np.zeros(3)
    x = np.zeros((4, 2))
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
    ]
    for call, name in bad:
        with pytest.raises(ValueError, match=name):
            call()
