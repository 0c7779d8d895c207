"""Tests of course_lib.sampling: Langevin and Metropolis-Hastings against closed forms, exact kernels on
finite state spaces (detailed balance, stationary law), Ising enumeration against brute force, Monte
Carlo error estimates against AR(1) formulas, bad input; and the notebook's stochastic claims for
several seeds."""
import itertools

import numpy as np
import pytest
import scipy.integrate
import scipy.linalg
import scipy.stats

from course_lib import sampling
from course_lib.utils import loglog_slope

SEEDS = range(5)


def gaussian_V(sigma2=1.0):
    return (lambda x: 0.5 * np.sum(x**2, axis=-1) / sigma2), (lambda x: x / sigma2)


# ----------------------------------------------------------------------------- Langevin

def test_ula_iterates_are_the_written_out_recursion():
    grad_V = lambda x: 2 * x - 1  # noqa: E731
    x0 = np.array([[0.3, -1.0], [2.0, 0.5]])
    path = sampling.ula(grad_V, x0, 0.1, 20, rng=np.random.default_rng(3), temperature=0.7)
    rng, x = np.random.default_rng(3), x0.copy()
    for k in range(20):
        x = x - 0.1 * grad_V(x) + np.sqrt(2 * 0.1 * 0.7) * rng.standard_normal(x.shape)
        assert np.array_equal(path[k + 1], x)
    thinned = sampling.ula(grad_V, x0, 0.1, 20, rng=np.random.default_rng(3), temperature=0.7,
                           keep_every=5)
    assert np.array_equal(thinned, path[::5])


def test_ula_stationary_covariance_solves_the_discrete_lyapunov_equation():
    """x' = A x + sqrt(2h) xi with A = Id - h Sigma^{-1}: S = A S A^T + 2h Id (scipy reference)."""
    Sigma = np.array([[1.0, 0.6], [0.6, 2.0]])
    P = np.linalg.inv(Sigma)
    h = 0.3
    S_exact = scipy.linalg.solve_discrete_lyapunov(np.eye(2) - h * P, 2 * h * np.eye(2))
    rng = np.random.default_rng(0)
    x = sampling.ula(lambda x: x @ P, rng.multivariate_normal([0, 0], Sigma, 4000), h, 600, rng,
                     keep_every=20)[5:]
    S_hat = np.einsum("kni,knj->ij", x, x) / (x.shape[0] * x.shape[1])
    assert np.allclose(S_hat, S_exact, atol=0.06)
    assert not np.allclose(S_exact, Sigma, atol=0.06)          # the bias is real


def test_mala_is_metropolis_hastings_with_the_langevin_proposal():
    V, grad_V = lambda x: np.sum(x**4 - x**2, -1), lambda x: 4 * x**3 - 2 * x  # noqa: E731
    h, x0 = 0.2, np.random.default_rng(0).standard_normal((6, 2))

    def propose(x, rng):
        return x - h * grad_V(x) + np.sqrt(2 * h) * rng.standard_normal(x.shape)

    def log_q(y, x):
        return sampling.mala_log_proposal(y, x, grad_V, h)

    a, acc_a = sampling.mala(V, grad_V, x0, h, 50, rng=np.random.default_rng(9))
    b, acc_b = sampling.metropolis_hastings(lambda x: -V(x), propose, log_q, x0, 50,
                                            rng=np.random.default_rng(9))
    assert np.allclose(a, b, atol=1e-12) and np.allclose(acc_a, acc_b)
    assert 0.2 < acc_a.mean() < 1


@pytest.mark.parametrize("kind", ["random walk", "MALA"])
def test_metropolis_hastings_kernel_is_reversible_on_a_finite_state_space(kind):
    """Exact transition matrix on a grid; detailed balance and pi P = pi."""
    grid = np.linspace(-2, 2, 9)
    V = lambda x: (x**2 - 1) ** 2 + 0.3 * x  # noqa: E731
    pi = np.exp(-V(grid))
    pi /= pi.sum()
    if kind == "MALA":
        grad_V = lambda x: 4 * x * (x**2 - 1) + 0.3  # noqa: E731
        logq = np.array([[float(sampling.mala_log_proposal(np.array([y]), np.array([x]), grad_V,
                                                           0.3)) for y in grid] for x in grid])
        Q = np.exp(logq)
    else:
        Q = np.exp(-((grid[:, None] - grid[None, :]) ** 2))
    Q /= Q.sum(1, keepdims=True)
    P = sampling.mh_transition_matrix(pi, Q)
    brute = np.zeros_like(Q)
    for i, j in itertools.product(range(9), range(9)):
        if i != j:
            brute[i, j] = Q[i, j] * min(1.0, pi[j] * Q[j, i] / (pi[i] * Q[i, j]))
    brute[np.diag_indices(9)] = 1 - brute.sum(1)
    assert np.allclose(P, brute, atol=1e-15)
    assert np.allclose(pi[:, None] * P, (pi[:, None] * P).T, atol=1e-15)
    assert np.allclose(pi @ P, pi, atol=1e-14)
    assert np.allclose(sampling.stationary_distribution(P), pi, atol=1e-10)


def test_metropolis_hastings_sampler_realises_the_exact_kernel():
    """One-step transition frequencies from a fixed state match the exact row of P."""
    grid = np.arange(5.0)
    pi = np.array([0.1, 0.2, 0.4, 0.2, 0.1])
    Q = np.full((5, 5), 0.2)
    P = sampling.mh_transition_matrix(pi, Q)
    log_pi = lambda x: np.log(pi[x[..., 0].astype(int)])  # noqa: E731
    propose = lambda x, rng: rng.integers(0, 5, size=x.shape).astype(float)  # noqa: E731
    start = np.full((40_000, 1), 1.0)
    states, _ = sampling.metropolis_hastings(log_pi, propose, None, start, 1,
                                             rng=np.random.default_rng(0))
    freq = np.bincount(states[1, :, 0].astype(int), minlength=5) / 40_000
    se = np.sqrt(P[1] * (1 - P[1]) / 40_000) + 1e-12
    assert np.all(np.abs(freq - P[1]) < 4 * se + 1e-9)
    assert grid.size == P.shape[0]


@pytest.mark.parametrize("seed", SEEDS)
def test_ula_variance_and_mala_unbiasedness_hold_for_several_seeds(seed):
    """The claims of the notebook's Section 1 (reduced sizes): ULA's variance matches s^2(h) and MALA's
    matches sigma^2, within 4 and 3 standard errors, and ULA's bias at h = 0.4 is far outside."""
    V, grad_V = gaussian_V()
    rng = np.random.default_rng(seed)
    for h in (0.1, 0.4):
        x2 = sampling.ula(grad_V, rng.standard_normal((1000, 1)), h, 1500, rng,
                          keep_every=3)[20:, :, 0] ** 2
        z = (x2.mean() - 1 / (1 - h / 2)) / sampling.mc_standard_error(x2)
        assert abs(z) < 4
    x, _ = sampling.mala(V, grad_V, rng.standard_normal((1000, 1)), 0.4, 1500, rng,
                         keep_every=3)
    x2 = x[20:, :, 0] ** 2
    se = sampling.mc_standard_error(x2)
    assert abs(x2.mean() - 1) / se < 3 and 0.25 / se > 20


@pytest.mark.parametrize("seed", SEEDS)
def test_ula_bias_slope_holds_for_several_seeds(seed):
    """Section 1's fitted bias slope, at the notebook's sizes (2000 chains, 4000 steps, every 4th
    state after 200 steps): within 0.1 of the closed form's own slope over the same steps."""
    _, grad_V = gaussian_V()
    rng, steps = np.random.default_rng(seed), np.array([0.05, 0.1, 0.2, 0.4])
    bias = [np.mean(sampling.ula(grad_V, rng.standard_normal((2000, 1)), h, 4000, rng,
                                 keep_every=4)[50:, :, 0] ** 2) - 1 for h in steps]
    exact = 1 / (1 - steps / 2) - 1
    assert abs(loglog_slope(steps, bias) - loglog_slope(steps, exact)) < 0.1


# ----------------------------------------------------------------------------- double well

def test_mean_first_passage_time_matches_closed_forms():
    # free diffusion with a reflecting wall at L: tau = ((b - L)^2 - (a - L)^2) / (2 T)
    tau = sampling.mean_first_passage_time(lambda z: 0 * z, 0.0, 1.0, temperature=0.5, lower=-2.0)
    assert tau == pytest.approx((3**2 - 2**2) / (2 * 0.5), rel=1e-6)
    # a double well: the double integral by scipy.integrate
    V, T = (lambda x: (x**2 - 1) ** 2), 0.4
    inner = lambda y: scipy.integrate.quad(lambda z: np.exp(-V(z) / T), -6, y)[0]  # noqa: E731
    ref = scipy.integrate.quad(lambda y: np.exp(V(y) / T) * inner(y), -1, 1)[0] / T
    assert sampling.mean_first_passage_time(V, -1, 1, T) == pytest.approx(ref, rel=1e-5)


@pytest.mark.parametrize("seed", SEEDS)
def test_double_well_histogram_passes_the_chi2_test_for_several_seeds(seed):
    """Section 2's histogram at the notebook's sizes (10 000 chains from -1, time 30 at T = 1/2,
    h = 0.005):
    chi^2 against the exact bin probabilities of e^{-V/T}/Z below its 0.1% critical value."""
    V, grad_V, T = (lambda x: (x**2 - 1) ** 2), (lambda x: 4 * x * (x**2 - 1)), 0.5
    x = sampling.ula(grad_V, -np.ones((10_000, 1)), 0.005, 6000, np.random.default_rng(seed),
                     temperature=T, keep_every=6000)[-1, :, 0]
    edges, z = np.linspace(-2.2, 2.2, 45), np.linspace(-3, 3, 20_001)
    density = np.exp(-V(z) / T)
    cdf = np.concatenate([[0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(z))])
    expected = len(x) * np.diff(np.interp(edges, z, cdf / cdf[-1]))
    chi2 = np.sum((np.histogram(x, edges)[0] - expected) ** 2 / expected)
    assert chi2 < scipy.stats.chi2.ppf(0.999, len(edges) - 2)


@pytest.mark.parametrize("seed", SEEDS)
def test_transition_times_match_the_exact_mean_for_several_seeds(seed):
    """Section 2's claim (reduced sizes): the estimated mean transition time of ULA in the double well
    is within 4 standard errors of the exact mean first passage time."""
    V, grad_V, T = (lambda x: (x**2 - 1) ** 2), (lambda x: 4 * x * (x**2 - 1)), 1 / 3
    tau = sampling.mean_first_passage_time(V, -1, 1, T)
    d, censored = sampling.transition_times(grad_V, -np.ones(300), 0.02, int(3 * tau / 0.02), 1.0,
                                            rng=np.random.default_rng(seed), temperature=T)
    est = (d.sum() + censored.sum()) / len(d)
    assert abs(est - tau) < 4 * est / np.sqrt(len(d))
    assert d.mean() < est                      # the naive mean is biased low, as documented


@pytest.mark.parametrize("seed", SEEDS)
def test_arrhenius_slope_holds_for_several_seeds(seed):
    """Section 2's fitted slope of log(tau) against the barrier (2 to 5), reduced sizes: within 0.1 of 1."""
    V, grad_V = (lambda x: (x**2 - 1) ** 2), (lambda x: 4 * x * (x**2 - 1))
    rng, barriers, est = np.random.default_rng(seed), np.array([2.0, 3.0, 4.0, 5.0]), []
    for b in barriers:
        tau = sampling.mean_first_passage_time(V, -1, 1, 1 / b)
        d, c = sampling.transition_times(grad_V, -np.ones(300), 0.02, int(2 * tau / 0.02), 1.0,
                                         rng, temperature=1 / b)
        est.append((d.sum() + c.sum()) / len(d))
    assert abs(np.polyfit(barriers, np.log(est), 1)[0] - 1) < 0.1


# ----------------------------------------------------------------------------- Ising / Boltzmann

def brute_force(J, h, beta):
    n = J.shape[0]
    states, weights = [], []
    for s in itertools.product([-1.0, 1.0], repeat=n):
        E = -0.5 * sum(J[i, j] * s[i] * s[j] for i in range(n) for j in range(n))
        E -= sum(h[i] * s[i] for i in range(n))
        states.append(s)
        weights.append(np.exp(-beta * E))
    return np.array(states), np.array(weights) / sum(weights)


def test_ising_couplings_of_a_small_lattice():
    J = sampling.ising_couplings(3)
    assert np.all(J.sum(1) == 4) and np.allclose(J, J.T) and np.all(np.diag(J) == 0)
    J_open = sampling.ising_couplings(3, periodic=False)
    assert J_open.sum() / 2 == 12 and J_open[0, 1] == 1 and J_open[0, 3] == 1 and J_open[0, 4] == 0
    assert np.all(sampling.ising_couplings(2).sum(1) == 4)      # neighbours coincide: double bonds


def test_enumeration_matches_brute_force_on_2x2():
    J, h = sampling.ising_couplings(2), np.array([0.1, -0.2, 0.0, 0.3])
    states, p = sampling.enumerate_boltzmann(J, h, 0.7)
    ref_states, ref_p = brute_force(J, h, 0.7)
    order = [next(i for i, r in enumerate(ref_states) if np.array_equal(r, s)) for s in states]
    assert np.allclose(p, ref_p[order], atol=1e-14) and len(states) == 16
    E = sampling.boltzmann_energy(states, J, h)
    assert np.allclose(np.exp(-0.7 * E) / np.exp(-0.7 * E).sum(), p)


@pytest.mark.parametrize("seed", SEEDS)
def test_gibbs_samples_the_boltzmann_law_of_three_spins(seed):
    J = np.array([[0.0, 1.0, -0.5], [1.0, 0.0, 0.8], [-0.5, 0.8, 0.0]])
    h = np.array([0.2, -0.1, 0.0])
    states, p = sampling.enumerate_boltzmann(J, h, 0.9)
    rng = np.random.default_rng(seed)
    chain = sampling.gibbs_boltzmann(J, h, 0.9, rng.choice([-1.0, 1.0], (2000, 3)), 30, rng)
    last = chain[-1]                                     # 2000 independent chains after 30 sweeps
    idx = ((last + 1) / 2 @ (2 ** np.arange(2, -1, -1))).astype(int)
    freq = np.bincount(idx, minlength=8) / len(idx)
    assert np.all(np.abs(freq - p) < 4 * np.sqrt(p * (1 - p) / len(idx)))
    assert np.array_equal(states[5], [1.0, -1.0, 1.0])      # row k is the binary expansion of k


@pytest.mark.parametrize("seed", SEEDS)
def test_gibbs_ising_4x4_matches_enumeration_for_several_seeds(seed):
    """Section 3's claim (reduced sizes): magnetisation and correlations within 4 standard errors."""
    J, h, beta = sampling.ising_couplings(4), 0.1 * np.ones(16), 0.3
    states, p = sampling.enumerate_boltzmann(J, h, beta)
    obs = lambda s: np.stack([s.mean(-1), s[..., 0] * s[..., 1], s[..., 0] * s[..., 5]], -1)  # noqa
    exact = p @ obs(states)
    rng = np.random.default_rng(seed)
    chain = sampling.gibbs_boltzmann(J, h, beta, rng.choice([-1.0, 1.0], (200, 16)), 250, rng)
    o = obs(chain[50:])
    z = [(o[..., j].mean() - exact[j]) / sampling.mc_standard_error(o[..., j]) for j in range(3)]
    assert np.all(np.abs(z) < 4)


# ----------------------------------------------------------------------------- Monte Carlo error

def ar1(rho, n, m, seed):
    rng = np.random.default_rng(seed)
    x = np.zeros((n, m))
    x[0] = rng.standard_normal(m)
    for k in range(1, n):
        x[k] = rho * x[k - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(m)
    return x


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_effective_sample_size_of_an_ar1_chain(rho):
    """tau = (1 + rho) / (1 - rho) for an AR(1) chain; its autocorrelation is rho^k."""
    x = ar1(rho, 20_000, 4, seed=1)
    ess = sampling.effective_sample_size(x)
    assert ess == pytest.approx(x.size * (1 - rho) / (1 + rho), rel=0.12)
    assert np.allclose(sampling.autocorrelation(x, 5), rho ** np.arange(6), atol=0.03)
    assert sampling.mc_standard_error(x) == pytest.approx(x.std() / np.sqrt(ess))


# ----------------------------------------------------------------------------- bad input

def test_bad_input_raises_value_errors_naming_the_argument():
    V, grad_V = gaussian_V()
    x0 = np.zeros((3, 1))
    with pytest.raises(ValueError, match="step"):
        sampling.ula(grad_V, x0, -0.1, 10)
    with pytest.raises(ValueError, match="n_steps"):
        sampling.ula(grad_V, x0, 0.1, 0)
    with pytest.raises(ValueError, match="x0"):
        sampling.ula(grad_V, np.array([[np.nan]]), 0.1, 5)
    with pytest.raises(ValueError, match="grad_V"):
        sampling.ula(lambda x: np.full(x.shape, np.nan), x0, 0.1, 5)
    with pytest.raises(ValueError, match="grad_V"):
        sampling.ula(lambda x: None, x0, 0.1, 5)
    with pytest.raises(ValueError, match="temperature"):
        sampling.mala(V, grad_V, x0, 0.1, 5, temperature=0)
    with pytest.raises(ValueError, match="V returned"):
        sampling.mala(lambda x: np.full(x.shape[:-1], np.inf), grad_V, x0, 0.1, 5)
    with pytest.raises(ValueError, match="log_pi"):
        sampling.metropolis_hastings(lambda x: None, lambda x, r: x, None, x0, 5)
    with pytest.raises(ValueError, match="pi"):
        sampling.mh_transition_matrix([0.5, 0.6], np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match="Q"):
        sampling.mh_transition_matrix([0.5, 0.5], [[1.0, 0.5], [0.5, 0.5]])
    with pytest.raises(ValueError, match="J"):
        sampling.gibbs_boltzmann(np.array([[0, 1], [0, 0]]), None, 1.0, [1, 1], 5)
    with pytest.raises(ValueError, match="s0"):
        sampling.gibbs_boltzmann(sampling.ising_couplings(2), None, 1.0, np.zeros(4), 5)
    with pytest.raises(ValueError, match="beta"):
        sampling.enumerate_boltzmann(sampling.ising_couplings(2), None, -1.0)
    with pytest.raises(ValueError, match="b must be > a"):
        sampling.mean_first_passage_time(lambda z: z**2, 1.0, 0.0)
    with pytest.raises(ValueError, match="x0"):
        sampling.transition_times(grad_V, np.zeros(3), 0.1, 10, 1.0)
    with pytest.raises(ValueError, match="rng"):
        sampling.ula(grad_V, x0, 0.1, 5, rng="seed")
    with pytest.raises(ValueError, match="x"):
        sampling.effective_sample_size(np.ones(3))
