"""Tests of course_lib.kernels: against scikit-learn (KernelRidge, Ridge, pairwise kernels), closed forms
and Monte Carlo rates."""
import numpy as np
import pytest
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import Ridge
from sklearn.metrics.pairwise import laplacian_kernel, polynomial_kernel, rbf_kernel

from course_lib import kernels as Kn
from course_lib.utils import loglog_slope


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(60, 3))
    y = np.sin(3 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(60)
    X_new = rng.uniform(-1, 1, size=(25, 3))
    return X, y, X_new


# ----------------------------------------------------------------------------- kernels

def test_kernels_match_scikit_learn(data):
    X, _, Z = data
    assert np.allclose(Kn.gaussian_kernel(X, Z, sigma=0.7), rbf_kernel(X, Z, gamma=1 / (2 * 0.7**2)), atol=1e-14)
    assert np.allclose(Kn.laplace_kernel(X, Z, sigma=0.7), laplacian_kernel(X, Z, gamma=1 / 0.7), atol=1e-14)
    assert np.allclose(Kn.polynomial_kernel(X, Z, degree=3, c=0.5),
                       polynomial_kernel(X, Z, degree=3, gamma=1.0, coef0=0.5), rtol=1e-13)
    assert np.allclose(Kn.linear_kernel(X, Z), X @ Z.T)


def test_gram_matrices_are_symmetric_positive_semidefinite(data):
    X = data[0]
    for K in (Kn.gaussian_kernel(X), Kn.laplace_kernel(X), Kn.polynomial_kernel(X, degree=2), Kn.linear_kernel(X)):
        assert np.allclose(K, K.T)
        assert np.linalg.eigvalsh(K).min() > -1e-10 * np.abs(K).max()


def test_gaussian_kernel_brute_force():
    X = np.array([[0.0, 0.0], [1.0, 2.0]])
    Y = np.array([[1.0, 0.0]])
    want = np.exp(-np.array([[1.0], [4.0]]) / (2 * 1.5**2))
    assert np.allclose(Kn.gaussian_kernel(X, Y, sigma=1.5), want, rtol=1e-15)


# ----------------------------------------------------------------------------- ridge and kernel ridge

@pytest.mark.parametrize("name, kernel, sk", [
    ("gaussian", lambda X, Y=None: Kn.gaussian_kernel(X, Y, sigma=0.5), dict(kernel="rbf", gamma=2.0)),
    ("laplace", lambda X, Y=None: Kn.laplace_kernel(X, Y, sigma=2.0), dict(kernel="laplacian", gamma=0.5)),
    ("polynomial", lambda X, Y=None: Kn.polynomial_kernel(X, Y, degree=3, c=1.0),
     dict(kernel="polynomial", degree=3, gamma=1.0, coef0=1.0)),
    ("linear", Kn.linear_kernel, dict(kernel="linear")),
])
@pytest.mark.parametrize("lam", [1e-3, 0.1])
def test_kernel_ridge_matches_scikit_learn(data, name, kernel, sk, lam):
    X, y, X_new = data
    alpha = Kn.kernel_ridge(kernel(X), y, lam)
    ref = KernelRidge(alpha=len(X) * lam, **sk).fit(X, y)
    assert np.allclose(alpha, ref.dual_coef_, rtol=1e-8, atol=1e-10)
    assert np.allclose(Kn.kernel_ridge_predict(kernel(X_new, X), alpha), ref.predict(X_new), rtol=1e-8, atol=1e-10)


def test_kernel_ridge_solves_its_optimality_condition(data):
    X, y, _ = data
    K, lam, n = Kn.gaussian_kernel(X), 0.01, len(y)
    alpha = Kn.kernel_ridge(K, y, lam)
    # gradient of (1/2n)||K a - y||^2 + (lam/2) a^T K a vanishes: K ((K a - y)/n + lam a) = 0
    assert np.allclose(K @ ((K @ alpha - y) / n + lam * alpha), 0, atol=1e-12)


def test_kernel_ridge_with_several_outputs(data):
    X, y, _ = data
    K = Kn.gaussian_kernel(X)
    Y = np.c_[y, 2 * y + 1]
    A = Kn.kernel_ridge(K, Y, 0.05)
    assert A.shape == (len(y), 2)
    assert np.allclose(A[:, 1], Kn.kernel_ridge(K, 2 * y + 1, 0.05))


def test_ridge_primal_equals_dual_and_scikit_learn(data):
    X, y, X_new = data
    lam, n = 0.05, len(y)
    w = Kn.ridge(X, y, lam)
    ref = Ridge(alpha=n * lam, fit_intercept=False, solver="cholesky").fit(X, y)
    assert np.allclose(w, ref.coef_, rtol=1e-10)
    alpha = Kn.kernel_ridge(Kn.linear_kernel(X), y, lam)        # representer theorem: w = X^T alpha
    assert np.allclose(X.T @ alpha, w, rtol=1e-9)
    assert np.allclose(Kn.kernel_ridge_predict(Kn.linear_kernel(X_new, X), alpha), X_new @ w, rtol=1e-9)


# ----------------------------------------------------------------------------- random Fourier features

@pytest.mark.parametrize("kernel, exact", [("gaussian", Kn.gaussian_kernel), ("laplace", Kn.laplace_kernel)])
def test_random_fourier_features_approximate_the_kernel(kernel, exact):
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(8, 2))
    W, b = Kn.fourier_frequencies(2, 200_000, sigma=0.8, kernel=kernel, rng=rng)
    Phi = Kn.fourier_features(X, W, b)
    assert Phi.shape == (8, 200_000)
    assert np.max(np.abs(Phi @ Phi.T - exact(X, sigma=0.8))) < 0.02    # Monte Carlo error ~ 2/sqrt(D)


def test_random_fourier_features_error_decays_like_inverse_square_root():
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, size=(30, 2))
    K = Kn.gaussian_kernel(X, sigma=0.5)

    def error(D):
        Phi = Kn.fourier_features(X, *Kn.fourier_frequencies(2, D, 0.5, rng=rng))
        return np.linalg.norm(Phi @ Phi.T - K)

    Ds = np.array([16, 64, 256, 1024, 4096])
    err = [np.mean([error(D) for _ in range(10)]) for D in Ds]
    assert abs(loglog_slope(Ds, err) + 0.5) < 0.1


def test_fourier_frequencies_are_seeded():
    W1, b1 = Kn.fourier_frequencies(3, 10, rng=5)
    W2, b2 = Kn.fourier_frequencies(3, 10, rng=np.random.default_rng(5))
    assert np.array_equal(W1, W2) and np.array_equal(b1, b2)
    assert W1.shape == (3, 10) and np.all((0 <= b1) & (b1 < 2 * np.pi))


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("call, match", [
    (lambda: Kn.gaussian_kernel(np.ones(3)), "X"),
    (lambda: Kn.gaussian_kernel(np.ones((3, 2)), np.ones((3, 3))), "Y"),
    (lambda: Kn.gaussian_kernel(np.ones((3, 2)), sigma=0.0), "sigma"),
    (lambda: Kn.laplace_kernel(np.ones((3, 2)), sigma=-1), "sigma"),
    (lambda: Kn.polynomial_kernel(np.ones((3, 2)), degree=1.5), "degree"),
    (lambda: Kn.polynomial_kernel([[np.nan, 1.0]]), "X"),
    (lambda: Kn.ridge(np.ones((4, 2)), np.ones(3), 0.1), "y"),
    (lambda: Kn.ridge(np.ones((4, 2)), np.ones(4), 0.0), "lam"),
    (lambda: Kn.kernel_ridge(np.ones((3, 4)), np.ones(3), 0.1), "K"),
    (lambda: Kn.kernel_ridge(np.array([[1.0, 0.5], [0.0, 1.0]]), np.ones(2), 0.1), "K"),
    (lambda: Kn.kernel_ridge(np.eye(3), np.ones(4), 0.1), "y"),
    (lambda: Kn.kernel_ridge(np.eye(3), np.ones(3), -1.0), "lam"),
    (lambda: Kn.kernel_ridge_predict(np.ones((2, 3)), np.ones(4)), "alpha"),
    (lambda: Kn.fourier_frequencies(2, 0), "n_features"),
    (lambda: Kn.fourier_frequencies(2, 10, kernel="cosine"), "kernel"),
    (lambda: Kn.fourier_frequencies(2, 10, rng="seed"), "rng"),
    (lambda: Kn.fourier_features(np.ones((3, 2)), np.ones((3, 5)), np.ones(5)), "X"),
    (lambda: Kn.fourier_features(np.ones((3, 2)), np.ones((2, 5)), np.ones(4)), "b"),
])
def test_bad_input_raises_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
