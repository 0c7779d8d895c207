"""Tests of course_lib.resnets: RK4 against SciPy's solve_ivp, the O(1/T) convergence of smooth
ResNets to the ODE flow, Euler as a matrix power, the velocity formula, random ResNets' scalings,
quadratic variation, and bad input."""
import numpy as np
import pytest
import scipy.integrate

from course_lib import resnets as R

RNG = np.random.default_rng


@pytest.fixture(scope="module")
def field():
    P = R.smooth_velocity_params(2, 8, RNG(11), n_modes=3, scale=1.5)
    x0 = RNG(12).uniform(-1, 1, (6, 2))
    ref = scipy.integrate.solve_ivp(lambda t, z: R.velocity(P, t, z.reshape(6, 2)).ravel(), (0, 1), x0.ravel(),
                                    method="DOP853", rtol=1e-12, atol=1e-12)
    return P, x0, ref.y[:, -1].reshape(6, 2)


def test_rk4_matches_solve_ivp(field):
    P, x0, ref = field
    v = lambda t, x: R.velocity(P, t, x)  # noqa: E731
    assert np.max(np.abs(R.rk4(v, x0, 200) - ref)) < 1e-9
    e1, e2 = (np.max(np.abs(R.rk4(v, x0, n) - ref)) for n in (10, 20))
    assert 12 < e1 / e2 < 20                            # fourth order: halving h divides the error by 16


def test_smooth_resnet_converges_to_the_ode_flow_at_rate_one_over_T(field):
    P, x0, ref = field
    errors = [np.max(np.abs(R.smooth_resnet(P, x0, T) - ref)) for T in (100, 200, 400)]
    assert 1.8 < errors[0] / errors[1] < 2.2 and 1.8 < errors[1] / errors[2] < 2.2
    path = R.smooth_resnet(P, x0, 5, return_path=True)
    assert path.shape == (6, 6, 2) and np.array_equal(path[0], x0)
    assert np.allclose(path[-1], R.euler(lambda t, x: R.velocity(P, t, x), x0, 5), rtol=0, atol=0)


def test_euler_on_a_linear_ode_is_a_matrix_power():
    M = np.array([[0.0, 1.0], [-2.0, -0.3]])
    x0 = np.array([1.0, 0.5])
    T = 17
    xT = R.euler(lambda t, x: M @ x, x0, T, t1=2.0)
    assert np.allclose(xT, np.linalg.matrix_power(np.eye(2) + 2.0 / T * M, T) @ x0, rtol=1e-13)


def test_velocity_formula():
    P = R.smooth_velocity_params(3, 5, RNG(13), n_modes=2)
    x, t = RNG(14).standard_normal((4, 3)), 0.3
    W1 = P["W1"][0] + np.cos(np.pi * t) * P["W1"][1]
    b = P["b"][0] + np.cos(np.pi * t) * P["b"][1]
    W2 = P["W2"][0] + np.cos(np.pi * t) * P["W2"][1]
    assert np.allclose(R.velocity(P, t, x), np.tanh(x @ W1.T + b) @ W2.T, rtol=1e-14)
    assert R.velocity(P, t, x[0]).shape == (3,)


def test_random_resnet_shapes_and_scalings():
    x0 = np.array([[0.5, -0.3]])
    assert R.random_resnet(x0, 4, 8, RNG(15)).shape == (1, 2)
    path = R.random_resnet(x0, 4, 8, RNG(15), n_draws=3, return_path=True)
    assert path.shape == (5, 3, 1, 2) and np.all(path[0] == x0)
    # beta = 1: the output concentrates on the input (std ~ T^{-1/2}); beta = 1/2: it does not
    sd = {beta: R.random_resnet(x0, 400, 8, RNG(16), beta=beta, n_draws=200).std(axis=0).mean()
          for beta in (0.5, 1.0)}
    assert sd[1.0] < 0.1 < 0.5 < sd[0.5]


def test_quadratic_variation():
    path = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 2.0]])
    assert R.quadratic_variation(path) == pytest.approx(5.0)
    bm = np.cumsum(RNG(17).standard_normal((10_001, 50, 1)) / 100, axis=0)      # Brownian motion on [0, 1]
    assert np.mean(R.quadratic_variation(bm)) == pytest.approx(1.0, rel=0.02)



# ----------------------------------------------------------------------------- bad input

def test_bad_input_raises_value_error_naming_the_argument():
    x = np.zeros((4, 2))
    bad = [
        (lambda: R.euler("v", x, 4), "v"),
        (lambda: R.euler(lambda t, z: z[:1], x, 4), "v"),
        (lambda: R.euler(lambda t, z: z, x, 0), "T"),
        (lambda: R.rk4(lambda t, z: z, x, 10, t1=0), "t1"),
        (lambda: R.smooth_velocity_params(2, 0, 0), "hidden"),
        (lambda: R.velocity({"W1": 1}, 0.0, x), "params"),
        (lambda: R.velocity(R.smooth_velocity_params(2, 3, 0), 0.0, np.zeros((4, 3))), "x"),
        (lambda: R.random_resnet(x, 4, 3, 0, beta=0), "beta"),
        (lambda: R.random_resnet(x, 4, 3, 0, n_draws=0), "n_draws"),
    ]
    for call, name in bad:
        with pytest.raises(ValueError, match=name):
            call()
