"""course_lib.mixtures against SciPy (Gaussian densities, KL by quadrature) and scikit-learn's
GaussianMixture (same start, same iterates, same log-likelihood, fixed point at its optimum)."""
import warnings

import numpy as np
import pytest
from scipy import integrate, stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from course_lib import mixtures as mx


def _three_blobs(n=400, seed=0):
    rng = np.random.default_rng(seed)
    covs = np.array([np.eye(2), [[1.0, 0.6], [0.6, 0.8]], 0.3 * np.eye(2)])
    return mx.gmm_sample(n, [0.3, 0.5, 0.2], [[0, 0], [3, 1], [-2, 3]], covs, rng)[0]


def _sklearn(X, start, **kw):
    w, m, c = start
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GaussianMixture(len(w), weights_init=w, means_init=m, precisions_init=np.linalg.inv(c),
                               **kw).fit(X)


def test_gaussian_logpdf_and_mle_against_scipy():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((3, 3))
    cov, mean = A @ A.T + 0.5 * np.eye(3), rng.standard_normal(3)
    X = rng.multivariate_normal(mean, cov, size=50)
    assert np.allclose(mx.gaussian_logpdf(X, mean, cov), stats.multivariate_normal(mean, cov).logpdf(X),
                       rtol=0, atol=1e-12)
    m_hat, S_hat = mx.gaussian_mle(X)
    assert np.allclose(m_hat, X.mean(0)) and np.allclose(S_hat, np.cov(X.T, bias=True))
    # the MLE maximises the likelihood: perturbing it lowers the average log-likelihood
    best = mx.gaussian_logpdf(X, m_hat, S_hat).mean()
    for _ in range(5):
        D = 0.05 * rng.standard_normal((3, 3))
        assert mx.gaussian_logpdf(X, m_hat + 0.05 * rng.standard_normal(3), S_hat + D @ D.T).mean() < best


def test_gaussian_kl_against_quadrature_and_identities():
    # 1-D: against numerical integration of p log(p/q)
    p, q = stats.norm(0.3, 0.7), stats.norm(-1.0, 1.6)
    ref = integrate.quad(lambda x: p.pdf(x) * (p.logpdf(x) - q.logpdf(x)), -15, 15)[0]
    assert abs(mx.gaussian_kl([0.3], [[0.49]], [-1.0], [[2.56]]) - ref) < 1e-10
    # d-D: zero on itself, positive otherwise, additive over independent blocks
    rng = np.random.default_rng(2)
    A, B = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    S1, S2 = A @ A.T + np.eye(3), B @ B.T + np.eye(3)
    m1, m2 = rng.standard_normal(3), rng.standard_normal(3)
    assert abs(mx.gaussian_kl(m1, S1, m1, S1)) < 1e-12 and mx.gaussian_kl(m1, S1, m2, S2) > 0
    blocks = mx.gaussian_kl([0.0], [[2.0]], [1.0], [[1.0]]) + mx.gaussian_kl([1.0], [[0.5]], [0.0], [[3.0]])
    joint = mx.gaussian_kl([0.0, 1.0], np.diag([2.0, 0.5]), [1.0, 0.0], np.diag([1.0, 3.0]))
    assert abs(blocks - joint) < 1e-12


def test_em_has_the_iterates_of_sklearn_from_the_same_start():
    X = _three_blobs()
    start = mx.init_params(X, 3, rng=0)
    ours = mx.em(X, *start, n_iter=30, tol=0, reg_covar=1e-6)
    ref = _sklearn(X, start, max_iter=30, tol=0, reg_covar=1e-6)
    assert ours.n_iter == ref.n_iter_ == 30
    assert np.allclose(ours.weights, ref.weights_, rtol=0, atol=1e-12)
    assert np.allclose(ours.means, ref.means_, rtol=0, atol=1e-12)
    assert np.allclose(ours.covs, ref.covariances_, rtol=0, atol=1e-12)
    assert abs(ours.log_likelihoods[-1] - ref.score(X)) < 1e-12
    assert np.allclose(mx.gmm_logpdf(X, ours.weights, ours.means, ours.covs), ref.score_samples(X), atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_log_likelihood_never_decreases_and_reaches_sklearns(seed):
    X = _three_blobs(n=300, seed=seed)
    start = mx.init_params(X, 3, rng=seed)
    fit = mx.em(X, *start, n_iter=500, tol=1e-12, reg_covar=1e-6)
    assert np.all(np.diff(fit.log_likelihoods) >= -1e-12), "EM decreased the log-likelihood"
    ref = _sklearn(X, start, max_iter=500, tol=1e-12, reg_covar=1e-6)
    assert fit.converged and ref.converged_
    assert abs(fit.log_likelihoods[-1] - ref.score(X)) < 1e-8


def test_sklearns_converged_parameters_are_a_fixed_point_of_our_em_step():
    X = _three_blobs(seed=3)
    ref = _sklearn(X, mx.init_params(X, 3, rng=3), max_iter=2000, tol=1e-14, reg_covar=1e-6)
    resp, _ = mx.e_step(X, ref.weights_, ref.means_, ref.covariances_)
    w, m, c = mx.m_step(X, resp, reg_covar=1e-6)
    assert np.allclose(w, ref.weights_, atol=1e-7) and np.allclose(m, ref.means_, atol=1e-6)
    assert np.allclose(c, ref.covariances_, atol=1e-6)
    # and sklearn's responsibilities are ours
    assert np.allclose(resp, ref.predict_proba(X), atol=1e-12)


def test_e_step_is_stable_far_from_every_component():
    # a point 40 standard deviations away: the densities underflow, the log-space E-step does not
    X = np.array([[40.0, 0.0], [0.0, 0.0]])
    resp, ll = mx.e_step(X, [0.5, 0.5], [[0.0, 0.0], [1.0, 0.0]], np.repeat(np.eye(2)[None], 2, 0))
    assert np.all(np.isfinite(resp)) and np.isfinite(ll) and np.allclose(resp.sum(1), 1)
    assert resp[0, 1] > 1 - 1e-12            # the far point belongs to the nearer component


def test_sampling_matches_the_mixture():
    rng = np.random.default_rng(4)
    w, means = np.array([0.2, 0.8]), np.array([[-3.0, 0.0], [2.0, 1.0]])
    covs = np.array([np.eye(2), [[0.5, 0.2], [0.2, 0.3]]])
    X, labels = mx.gmm_sample(40000, w, means, covs, rng)
    assert abs(np.mean(labels == 0) - 0.2) < 0.01
    assert np.allclose(np.cov(X[labels == 1].T), covs[1], atol=0.02)


@pytest.mark.parametrize("call, match", [
    (lambda: mx.e_step(np.zeros((3, 2)), [0.5, 0.6], np.zeros((2, 2)), np.repeat(np.eye(2)[None], 2, 0)), "weights"),
    (lambda: mx.e_step(np.zeros((3, 2)), [1.2, -0.2], np.zeros((2, 2)), np.repeat(np.eye(2)[None], 2, 0)), "weights"),
    (lambda: mx.e_step(np.zeros((3, 2)), [1.0], np.zeros((1, 2)), -np.eye(2)[None]), "covs"),
    (lambda: mx.e_step(np.zeros((3, 2)), [1.0], np.zeros((1, 2)), np.array([[[1.0, 2.0], [0.0, 1.0]]])), "covs"),
    (lambda: mx.e_step(np.zeros((3, 2)), [1.0], np.zeros((1, 3)), np.eye(3)[None]), "means"),
    (lambda: mx.e_step(np.zeros((3, 2)), [1.0], np.zeros((1, 2)), np.eye(3)[None]), "covs"),
    (lambda: mx.e_step(np.zeros((3, 2)), [], np.zeros((0, 2)), np.zeros((0, 2, 2))), "k >= 1"),
    (lambda: mx.init_params(np.zeros((5, 2)), 0), "k"),
    (lambda: mx.init_params(np.zeros((5, 2)), 6), "k"),
    (lambda: mx.em(np.zeros((3, 2)), [1.0], np.zeros((1, 2)), np.eye(2)[None], n_iter=0), "n_iter"),
    (lambda: mx.m_step(np.zeros((3, 2)), np.ones((3, 2))), "resp"),
    (lambda: mx.m_step(np.zeros((3, 2)), np.ones((4, 1))), "resp"),
    (lambda: mx.m_step(np.zeros((3, 2)), np.ones((3, 1)), reg_covar=-1), "reg_covar"),
    (lambda: mx.gaussian_logpdf(np.zeros((3, 2)), np.zeros(3), np.eye(3)), "mean"),
    (lambda: mx.gaussian_logpdf([[np.nan, 0.0]], np.zeros(2), np.eye(2)), "X"),
    (lambda: mx.gaussian_kl([0.0, 0.0], np.eye(2), [0.0], np.eye(1)), "m2"),
    (lambda: mx.gaussian_kl([0.0], [[0.0]], [0.0], [[1.0]]), "S1"),
    (lambda: mx.gmm_sample(0, [1.0], [[0.0]], [[[1.0]]]), "n"),
])
def test_bad_input_raises_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
