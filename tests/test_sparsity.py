"""Tests of course_lib.sparsity: coherence and RIP against brute force and frames with known values,
the statistical dimension against numerical integration, the Donoho-Tanner curve against the
statistical dimension, and the batched basis pursuit against scipy.optimize.linprog."""
import itertools
import math

import numpy as np
import pytest
import scipy.integrate
import scipy.optimize

from course_lib import sparsity as S


def test_mutual_coherence_brute_force_and_known_frames():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((6, 9))
    brute = max(abs(A[:, i] @ A[:, j]) / np.linalg.norm(A[:, i]) / np.linalg.norm(A[:, j])
                for i, j in itertools.combinations(range(9), 2))
    assert S.mutual_coherence(A) == pytest.approx(brute, rel=1e-12)
    assert S.mutual_coherence(np.eye(4)) == 0.0
    assert S.mutual_coherence(np.c_[A, 3 * A[:, 0]]) == pytest.approx(1.0)
    # the Mercedes-Benz frame is equiangular and tight: it attains the Welch bound 1/2
    angles = 2 * np.pi * np.arange(3) / 3
    mb = np.vstack([np.cos(angles), np.sin(angles)])
    assert S.mutual_coherence(mb) == pytest.approx(0.5) == S.welch_bound(2, 3)


def test_welch_bound_below_gaussian_coherence():
    rng = np.random.default_rng(1)
    for m, n in [(5, 20), (20, 50), (30, 31)]:
        assert S.mutual_coherence(rng.standard_normal((m, n))) >= S.welch_bound(m, n)
    assert S.welch_bound(10, 10) == 0.0


def exact_rip(A, s):
    best = 0.0
    for sup in itertools.combinations(range(A.shape[1]), s):
        sv = np.linalg.svd(A[:, list(sup)], compute_uv=False)
        best = max(best, sv[0] ** 2 - 1, 1 - sv[-1] ** 2)
    return best


def test_rip_estimate_is_a_lower_bound_and_exact_when_supports_are_few():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((6, 8)) / np.sqrt(6)
    for s in (1, 2, 3):
        est, exact = S.rip_constant_estimate(A, s, n_trials=300, rng=rng), exact_rip(A, s)
        assert est <= exact + 1e-12
        assert est >= 0.95 * exact            # 300 draws among <= 56 supports: (nearly) all seen
    assert S.rip_constant_estimate(A, 8, n_trials=1, rng=0) == pytest.approx(exact_rip(A, 8))
    Q, _ = np.linalg.qr(rng.standard_normal((10, 4)))
    assert S.rip_constant_estimate(Q, 3, n_trials=20, rng=0) < 1e-12


def test_statistical_dimension_against_quadrature():
    def reference(s, n):
        tail = lambda tau: math.sqrt(2 / math.pi) * scipy.integrate.quad(
            lambda u: (u - tau) ** 2 * math.exp(-u * u / 2), tau, np.inf, epsabs=1e-13)[0]
        res = scipy.optimize.minimize_scalar(lambda tau: s * (1 + tau ** 2) + (n - s) * tail(tau),
                                             bounds=(0, 10), method="bounded", options={"xatol": 1e-10})
        return res.fun
    for s, n in [(1, 10), (5, 100), (30, 100), (70, 100)]:
        assert S.statistical_dimension_l1(s, n) == pytest.approx(reference(s, n), rel=1e-8)
    assert S.statistical_dimension_l1(0, 50) == 0.0
    assert S.statistical_dimension_l1(50, 50) == 50.0
    d = S.statistical_dimension_l1(np.arange(0, 51), 50)
    assert np.all(np.diff(d) > 0) and np.all(d >= np.arange(0, 51))
    # the classical bound delta(D) <= 2 s log(n/s) + 5 s / 4 (Chandrasekaran et al. 2012)
    for s in (1, 3, 10):
        assert S.statistical_dimension_l1(s, 1000) <= 2 * s * math.log(1000 / s) + 1.25 * s


def test_donoho_tanner_equals_statistical_dimension_curve():
    deltas = np.array([0.05, 0.2, 0.5, 0.8, 0.95])
    rho = S.donoho_tanner(deltas)
    assert np.all(np.diff(rho) > 0) and np.all((rho > 0) & (rho < 1))
    n = 1e7
    for d, r in zip(deltas, rho):
        assert S.statistical_dimension_l1(r * d * n, n) / n == pytest.approx(d, abs=1e-7)
    # the maximiser is inside (0, 10): a brute-force maximisation over a fine grid agrees
    z = np.linspace(1e-4, 10, 200_001)
    J = S.gaussian_tail_moment(z)
    assert np.max((1 - 2 * J / 0.5) / (1 + z * z - 2 * J)) == pytest.approx(S.donoho_tanner(0.5), abs=1e-9)


def linprog_bp(A, y):
    n = A.shape[1]
    r = scipy.optimize.linprog(np.ones(2 * n), A_eq=np.hstack([A, -A]), b_eq=y, bounds=(0, None),
                               method="highs")
    return r.x[:n] - r.x[n:]


def test_batched_basis_pursuit_against_linprog():
    rng = np.random.default_rng(3)
    T, m, n = 12, 15, 30
    A = rng.standard_normal((T, m, n))
    X0 = np.stack([S.sparse_vector(n, k, rng) for k in [2, 3, 4, 9, 11, 13] * 2])
    Y = np.einsum("tmn,tn->tm", A, X0)
    X = S._batched_basis_pursuit(A, Y, 5000)
    for t in range(T):
        x_lp = linprog_bp(A[t], Y[t])
        # the same l1 norm (failures converge slowly: 1e-5), feasible; exact recovery where linprog's is
        assert np.abs(X[t]).sum() == pytest.approx(np.abs(x_lp).sum(), rel=1e-5)
        assert np.linalg.norm(A[t] @ X[t] - Y[t]) <= 1e-3 * np.linalg.norm(Y[t])
        if np.linalg.norm(x_lp - X0[t]) <= 1e-8 * np.linalg.norm(X0[t]):
            np.testing.assert_allclose(X[t], X0[t], atol=1e-9)


def test_phase_transition_extremes_and_agreement_with_linprog():
    prob = S.phase_transition(30, [6, 24, 30], [1, 3, 12, 20, 28], n_trials=4, rng=0, n_iter=1500)
    assert prob.shape == (5, 3)
    assert prob[0, 1] == 1.0 and prob[0, 2] == 1.0         # k = 1 from 24 or 30 measurements
    assert prob[4, 0] == 0.0 and prob[3, 0] == 0.0          # k > m: counted as failures
    assert np.all(prob[:, 2] == 1.0)                         # m = n: A is invertible
    # linprog on the same kind of problems: k = 3, m = 24 succeeds, k = 20, m = 24 fails
    rng = np.random.default_rng(4)
    for k, want in [(3, True), (20, False)]:
        A = rng.standard_normal((24, 30))
        x0 = S.sparse_vector(30, k, rng)
        got = np.linalg.norm(linprog_bp(A, A @ x0) - x0) <= 1e-4 * np.linalg.norm(x0)
        assert got == want


def test_sparse_vector():
    x = S.sparse_vector(20, 5, rng=0)
    assert x.shape == (20,) and np.count_nonzero(x) == 5
    np.testing.assert_array_equal(x, S.sparse_vector(20, 5, rng=0))


@pytest.mark.parametrize("call, name", [
    (lambda: S.mutual_coherence(np.ones(3)), "A"),
    (lambda: S.mutual_coherence(np.c_[np.ones(3), np.zeros(3)]), "A"),
    (lambda: S.mutual_coherence([[1.0, np.nan], [0.0, 1.0]]), "A"),
    (lambda: S.welch_bound(0, 5), "m"),
    (lambda: S.welch_bound(3, 1), "n"),
    (lambda: S.rip_constant_estimate(np.eye(3), 4), "s"),
    (lambda: S.rip_constant_estimate(np.eye(3), 2, n_trials=0), "n_trials"),
    (lambda: S.rip_constant_estimate(np.eye(3), 2, rng="seed"), "rng"),
    (lambda: S.statistical_dimension_l1(11, 10), "s"),
    (lambda: S.statistical_dimension_l1(-1, 10), "s"),
    (lambda: S.donoho_tanner(0.0), "delta"),
    (lambda: S.donoho_tanner(1.5), "delta"),
    (lambda: S.sparse_vector(5, 6), "k"),
    (lambda: S.phase_transition(10, [11], [1]), "ms"),
    (lambda: S.phase_transition(10, [5], [-1]), "ks"),
    (lambda: S.phase_transition(10, [5], [1], n_trials=0), "n_trials"),
])
def test_bad_input_raises_value_error_naming_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
