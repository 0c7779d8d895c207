"""Tests of course_lib.ot against POT (the reference library, used here only), SciPy, closed forms,
finite differences and bad input."""
import numpy as np
import ot as pot
import pytest
import scipy.spatial.distance
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import ot as O


def random_problem(rng, n, m, zeros=0):
    a, b = rng.random(n), rng.random(m)
    a[:zeros] = 0.0
    b[m - zeros:] = 0.0
    return a / a.sum(), b / b.sum(), rng.random((n, m))


def entropic_primal(P, a, b, C, eps):
    """<P, C> + eps KL(P | a b^T), computed from a plan (0 log 0 = 0)."""
    Q = np.outer(a, b)
    mask = P > 0
    kl = np.sum(P[mask] * np.log(P[mask] / Q[mask])) - P.sum() + Q.sum()
    return float((P * C).sum() + eps * kl)


# ----------------------------------------------------------------------------- exact OT

@pytest.mark.parametrize("n, m, zeros", [(1, 1, 0), (1, 6, 0), (7, 1, 0), (5, 5, 0), (12, 8, 0),
                                         (8, 12, 3), (30, 30, 0), (40, 25, 5)])
def test_emd_cost_equals_pot(n, m, zeros):
    rng = np.random.default_rng(n * 100 + m)
    a, b, C = random_problem(rng, n, m, zeros)
    P = O.emd(a, b, C)
    assert abs((P * C).sum() - pot.emd2(a, b, C)) <= 1e-9
    assert P.min() >= 0 and O.marginal_error(P, a, b) <= 1e-12


def test_emd_ties_and_duplicates():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 3, size=(20, 2)).astype(float)        # many equal points and costs
    y = rng.integers(0, 3, size=(15, 2)).astype(float)
    C = O.cost_matrix(x, y)
    for a, b in [(None, None), (rng.random(20), rng.random(15))]:
        a = np.full(20, 1 / 20) if a is None else a / a.sum()
        b = np.full(15, 1 / 15) if b is None else b / b.sum()
        P = O.emd(a, b, C)
        assert abs((P * C).sum() - pot.emd2(a, b, C)) <= 1e-9
        assert O.marginal_error(P, a, b) <= 1e-12
    C = np.ones((6, 6))                                        # every plan is optimal
    assert abs(O.emd_cost(None, None, C) - 1.0) <= 1e-12


def test_emd_uniform_square_is_a_permutation():
    rng = np.random.default_rng(2)
    C = rng.random((50, 50))
    P = O.emd(None, None, C)
    assert set(np.unique(P * 50).round(12)) == {0.0, 1.0}
    assert np.all(P.sum(0) * 50 == pytest.approx(1.0)) and np.all((P > 0).sum(1) == 1)
    assert abs((P * C).sum() - pot.emd2([], [], C)) <= 1e-9


@settings(max_examples=25)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_emd_integer_costs_hypothesis(n, m, seed):
    rng = np.random.default_rng(seed)
    C = rng.integers(0, 4, size=(n, m)).astype(float)
    a = rng.integers(0, 3, size=n).astype(float)
    b = rng.integers(0, 3, size=m).astype(float)
    a[0] += 1
    b[-1] += 1
    a, b = a / a.sum(), b / b.sum()
    assert abs(O.emd_cost(a, b, C) - pot.emd2(a, b, C)) <= 1e-9


def test_wasserstein_of_clouds_matches_pot():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((30, 3)), rng.standard_normal((20, 3)) + 1
    for p in (1, 2, 3):
        C = scipy.spatial.distance.cdist(x, y) ** p
        assert np.allclose(O.cost_matrix(x, y, p), C, atol=1e-10)
        assert abs(O.wasserstein(x, y, p) - pot.emd2([], [], C) ** (1 / p)) <= 1e-9


# ----------------------------------------------------------------------------- closed forms

@pytest.mark.parametrize("p", [1, 2, 3])
def test_wasserstein_1d_matches_pot(p):
    rng = np.random.default_rng(p)
    x, y = rng.standard_normal(60), 2 * rng.standard_normal(45) + 1
    a, b = rng.random(60), rng.random(45)
    want = pot.wasserstein_1d(x, y, a / a.sum(), b / b.sum(), p=p) ** (1 / p)
    assert abs(O.wasserstein_1d(x, y, p, a, b) - want) <= 1e-10
    want = pot.emd2([], [], np.abs(x[:, None] - y[None, :]) ** p) ** (1 / p)
    assert abs(O.wasserstein_1d(x, y, p) - want) <= 1e-9           # sorting = the LP
    if p == 1:
        assert abs(O.wasserstein_1d(x, y, 1, a, b)
                   - scipy.stats.wasserstein_distance(x, y, a, b)) <= 1e-10


def test_gaussian_w2_matches_pot_and_samples():
    rng = np.random.default_rng(4)
    m1, m2 = rng.standard_normal(3), rng.standard_normal(3)
    A, B = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    S1, S2 = A @ A.T, B @ B.T
    want = pot.gaussian.bures_wasserstein_distance(m1, m2, S1, S2)
    assert abs(O.gaussian_w2(m1, S1, m2, S2) - want) <= 1e-9
    # 1-D: the quantile formula on 200 000 samples
    x, y = 1 + 2 * rng.standard_normal(200_000), -1 + 0.5 * rng.standard_normal(200_000)
    exact = O.gaussian_w2([1.0], [[4.0]], [-1.0], [[0.25]])
    assert abs(exact - np.sqrt(4 + 1.5 ** 2)) <= 1e-12
    assert abs(O.wasserstein_1d(x, y) - exact) <= 0.01 * exact
    # 2-D: exact OT between 1000 samples of each Gaussian
    m1, m2 = np.array([0.0, 0.0]), np.array([2.0, 1.0])
    S1, S2 = np.array([[1.0, 0.3], [0.3, 0.5]]), np.array([[0.4, -0.1], [-0.1, 1.5]])
    x = rng.multivariate_normal(m1, S1, size=1000)
    y = rng.multivariate_normal(m2, S2, size=1000)
    exact = O.gaussian_w2(m1, S1, m2, S2)
    assert abs(O.wasserstein(x, y) - exact) <= 0.05 * exact


def test_sliced_wasserstein_bounds():
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((200, 2)), rng.standard_normal((150, 2)) * [2.0, 0.5] + 1
    sw = O.sliced_wasserstein(x, y, n_proj=100)
    assert 0 < sw <= O.wasserstein(x, y)                     # projections are 1-Lipschitz
    assert abs(O.sliced_wasserstein(x[:, :1], y[:, :1]) - O.wasserstein_1d(x[:, 0], y[:, 0])) <= 1e-12


# ----------------------------------------------------------------------------- Sinkhorn

@pytest.mark.parametrize("eps", [1.0, 0.1, 0.03])
@pytest.mark.parametrize("n, m", [(10, 10), (25, 17), (7, 40)])
def test_sinkhorn_plan_equals_pot(n, m, eps):
    rng = np.random.default_rng(n + m)
    a, b, C = random_problem(rng, n, m)
    P = O.sinkhorn(a, b, C, eps, tol=1e-13)
    Q, log = pot.sinkhorn(a, b, C, eps, stopThr=1e-14, numItermax=100_000, log=True)
    assert log["niter"] < 99_999                              # POT converged
    assert np.abs(P - Q).max() <= 1e-8
    assert O.marginal_error(P, a, b) <= 1e-13


@pytest.mark.parametrize("eps", [1e-2, 3e-3, 1.5e-3])
def test_sinkhorn_small_eps_equals_pot_log(eps):
    rng = np.random.default_rng(7)
    x, y = rng.random((60, 2)), rng.random((50, 2))
    C = O.cost_matrix(x, y)
    C /= C.max()
    a, b = np.full(60, 1 / 60), np.full(50, 1 / 50)
    P = O.sinkhorn(a, b, C, eps, tol=1e-11)
    Q = pot.bregman.sinkhorn_log(a, b, C, eps, stopThr=1e-11, numItermax=200_000)
    assert np.all(np.isfinite(P)) and O.marginal_error(P, a, b) <= 1e-11
    assert np.abs(P - Q).max() <= 1e-8
    for scaling in (None, 0.3):                               # eps-scaling changes no result
        R = O.sinkhorn(a, b, C, eps, tol=1e-11, eps_scaling=scaling)
        assert np.abs(P - R).max() <= 1e-9


def test_sinkhorn_far_clouds_where_the_plain_kernel_underflows():
    """Two clouds of radius ~0.01 at distance 1, costs scaled to [0, 1], eps = 1e-3: every entry
    of exp(-C / eps) is 0 (C >= 0.9), so plain matrix scaling divides 0 by 0; the stabilised
    kernel does not care (the plan is invariant under C -> C - const)."""
    rng = np.random.default_rng(13)
    x = 0.01 * rng.standard_normal((30, 2))
    y = 0.01 * rng.standard_normal((30, 2)) + [1.0, 0.0]
    C = O.cost_matrix(x, y)
    C /= C.max()
    a = np.full(30, 1 / 30)
    K = np.exp(-C / 1e-3)
    assert np.all(K == 0)
    with np.errstate(all="ignore"):
        u = a / (K @ np.ones(30))
    assert np.all(np.isinf(u))                                # and then inf * 0 = NaN
    P = O.sinkhorn(a, a, C, 1e-3, tol=1e-12)
    Q = pot.bregman.sinkhorn_log(a, a, C, 1e-3, stopThr=1e-13, numItermax=100_000)
    assert np.all(np.isfinite(P)) and np.abs(P - Q).max() <= 1e-8


def test_sinkhorn_zero_weights_and_potentials():
    rng = np.random.default_rng(7)
    a, b, C = random_problem(rng, 9, 12, zeros=2)
    eps = 0.05
    f, g, info = O.sinkhorn_potentials(a, b, C, eps, tol=1e-13, return_info=True)
    P = info["plan"]
    assert np.abs(P - np.outer(a, b) * np.exp((f[:, None] + g[None, :] - C) / eps)).max() <= 1e-14
    assert np.all(P[a == 0] == 0) and np.all(P[:, b == 0] == 0)
    r, c = a > 0, b > 0                                       # POT divides by the weights
    Q = np.zeros_like(P)
    Q[np.ix_(r, c)] = pot.sinkhorn(a[r], b[c], C[np.ix_(r, c)], eps, stopThr=1e-15,
                                   numItermax=100_000)
    assert np.abs(P - Q).max() <= 1e-8
    # f is the soft c-transform of g (also where a_i = 0), and <a,f> + <b,g> is the primal value
    lb = np.log(np.where(b > 0, b, 1.0)) + np.where(b > 0, 0.0, -np.inf)
    soft = -eps * np.log(np.sum(np.exp(lb[None, :] + (g[None, :] - C) / eps), axis=1))
    assert np.abs(f - soft).max() <= 1e-9
    assert abs(O.entropic_cost(a, b, C, eps, tol=1e-13) - entropic_primal(Q, a, b, C, eps)) <= 1e-9


def test_sinkhorn_tol_and_warning():
    rng = np.random.default_rng(8)
    a, b, C = random_problem(rng, 30, 30)
    for tol in (1e-3, 1e-6, 1e-10):
        assert O.marginal_error(O.sinkhorn(a, b, C, 0.01, tol=tol), a, b) <= tol
    with pytest.warns(RuntimeWarning, match="did not reach"):
        O.sinkhorn(a, b, C, 1e-3, n_iter=3, tol=1e-12, eps_scaling=None)


def test_sinkhorn_tends_to_emd():
    rng = np.random.default_rng(9)
    a, b, C = random_problem(rng, 20, 15)
    exact = O.emd_cost(a, b, C)
    costs = [float((O.sinkhorn(a, b, C, eps, tol=1e-12) * C).sum()) for eps in (1e-1, 1e-2, 1e-3)]
    gaps = np.array(costs) - exact
    assert np.all(gaps >= -1e-12) and gaps[0] > gaps[1] > gaps[2] and gaps[2] <= 1e-3


# ----------------------------------------------------------------------------- Sinkhorn divergence

def test_sinkhorn_divergence_against_pot_plans():
    rng = np.random.default_rng(10)
    x, y = rng.standard_normal((40, 2)), rng.standard_normal((30, 2)) + [1.0, 0.0]
    a, b = np.full(40, 1 / 40), np.full(30, 1 / 30)
    eps = 0.5

    def ot_eps(p, q, w1, w2):
        C = scipy.spatial.distance.cdist(p, q, "sqeuclidean")
        P = pot.sinkhorn(w1, w2, C, eps, stopThr=1e-14, numItermax=100_000)
        return entropic_primal(P, w1, w2, C, eps)

    want = ot_eps(x, y, a, b) - 0.5 * (ot_eps(x, x, a, a) + ot_eps(y, y, b, b))
    assert abs(O.sinkhorn_divergence(x, y, eps, tol=1e-13) - want) <= 1e-8
    assert abs(O.sinkhorn_divergence(x, x, eps)) <= 1e-8
    assert O.sinkhorn_divergence(x, y, eps) > 0


def test_sinkhorn_divergence_gradient_finite_differences():
    rng = np.random.default_rng(11)
    x, y = rng.standard_normal((15, 2)), rng.standard_normal((12, 2)) + 0.5
    eps, h = 0.3, 1e-5
    S, G = O.sinkhorn_divergence(x, y, eps, tol=1e-14, return_grad=True)
    fd = np.zeros_like(x)
    for i in range(x.shape[0]):
        for k in range(2):
            e = np.zeros_like(x)
            e[i, k] = h
            fd[i, k] = (O.sinkhorn_divergence(x + e, y, eps, tol=1e-14)
                        - O.sinkhorn_divergence(x - e, y, eps, tol=1e-14)) / (2 * h)
    assert np.abs(G - fd).max() <= 1e-6 * max(1.0, np.abs(fd).max())


def test_sinkhorn_divergence_tends_to_w2_squared():
    rng = np.random.default_rng(12)
    x, y = rng.random((40, 2)), rng.random((40, 2)) + [0.5, 0.0]
    w2sq = O.wasserstein(x, y) ** 2
    a = np.full(40, 1 / 40)
    C = O.cost_matrix(x, y)
    for eps in (0.1, 0.03, 0.01):                # debiasing: S_eps is 5x closer than OT_eps
        err_S = abs(O.sinkhorn_divergence(x, y, eps) - w2sq)
        err_ot = abs(O.entropic_cost(a, a, C, eps) - w2sq)
        assert err_S <= 0.2 * err_ot
    assert err_S <= 0.03 * w2sq


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("fn", [lambda a, b, C: O.emd(a, b, C),
                                lambda a, b, C: O.sinkhorn(a, b, C, 0.1)])
def test_bad_problems(fn):
    a, b, C = np.full(3, 1 / 3), np.full(4, 1 / 4), np.ones((3, 4))
    with pytest.raises(ValueError, match="a must be non-negative"):
        fn(np.array([0.5, 0.6, -0.1]), b, C)
    with pytest.raises(ValueError, match="b must be non-negative"):
        fn(a, np.array([0.5, 0.6, -0.1, 0.0]), C)
    with pytest.raises(ValueError, match="same mass"):
        fn(a, 2 * b, C)
    with pytest.raises(ValueError, match="a has length 3 but C has 2 rows"):
        fn(a, b, np.ones((2, 4)))
    with pytest.raises(ValueError, match="b has length 4 but C has 5 columns"):
        fn(a, b, np.ones((3, 5)))
    with pytest.raises(ValueError, match="C contains NaN or infinite"):
        fn(a, b, np.where(np.eye(3, 4) > 0, np.inf, 1.0))
    with pytest.raises(ValueError, match="C must have 2 dimension"):
        fn(a, b, np.ones(12))
    with pytest.raises(ValueError, match="a must have positive mass"):
        fn(np.zeros(3), b, C)
    with pytest.raises(ValueError, match="a must be real"):
        fn(a + 0j, b, C)


def test_bad_scalars_and_shapes():
    a, b, C = np.full(3, 1 / 3), np.full(3, 1 / 3), np.ones((3, 3))
    for eps in (0, -1.0, np.nan, np.inf, "x"):
        with pytest.raises(ValueError, match="eps"):
            O.sinkhorn(a, b, C, eps)
    with pytest.raises(ValueError, match="eps"):
        O.sinkhorn_divergence(np.ones((3, 2)), np.ones((3, 2)), 0.0)
    with pytest.raises(ValueError, match="eps_scaling"):
        O.sinkhorn(a, b, C, 0.1, eps_scaling=1.5)
    with pytest.raises(ValueError, match="tol"):
        O.sinkhorn(a, b, C, 0.1, tol=-1)
    with pytest.raises(ValueError, match="n_iter"):
        O.sinkhorn(a, b, C, 0.1, n_iter=0)
    with pytest.raises(ValueError, match="x and y must have the same dimension"):
        O.cost_matrix(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="p must be > 0"):
        O.wasserstein_1d([0.0, 1.0], [1.0], p=0)
    with pytest.raises(ValueError, match="a must have length 2"):
        O.wasserstein_1d([0.0, 1.0], [1.0], a=[1.0])
    with pytest.raises(ValueError, match="y contains NaN"):
        O.wasserstein_1d([0.0, 1.0], [np.nan])
    with pytest.raises(ValueError, match="S2 must be positive semi-definite"):
        O.gaussian_w2([0, 0], np.eye(2), [0, 0], -np.eye(2))
    with pytest.raises(ValueError, match="S1 must be symmetric"):
        O.gaussian_w2([0, 0], [[1, 1], [0, 1]], [0, 0], np.eye(2))
    with pytest.raises(ValueError, match="S1 must have shape"):
        O.gaussian_w2([0, 0], np.eye(3), [0, 0], np.eye(2))
    with pytest.raises(ValueError, match="m1 and m2"):
        O.gaussian_w2([0, 0], np.eye(2), [0, 0, 0], np.eye(2))
    with pytest.raises(ValueError, match="n_proj"):
        O.sliced_wasserstein(np.ones((3, 2)), np.ones((3, 2)), n_proj=0)
