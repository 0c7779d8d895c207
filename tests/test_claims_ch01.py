"""The measured claims of notebook 01, re-run for five other seeds (a claim that holds for one seed
only is not a claim): SGD's plateau and O(1/k) slopes, the plateau of RMSProp and Adam against the
step, and the linear rates of heavy ball and constant-momentum Nesterov on a quadratic."""
import numpy as np
import pytest

from course_lib import data, derivatives, optim
from course_lib.utils import linear_rate, loglog_slope

SEEDS = [1, 2, 3, 4, 5]


def sgd_slopes(seed, R=100, n=500, p=5, n_iter=10_000):
    """Section 6 of the notebook: (plateau vs step, Robbins-Monro, averaging) fitted slopes."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, p))
    y = A @ rng.standard_normal(p) + 4 * rng.standard_normal(n)
    H = A.T @ A / n
    L, mu = derivatives.smoothness_constants(H)
    x_star = np.linalg.lstsq(A, y, rcond=None)[0]

    def grad_runs(x, idx):
        X, a = x.reshape(R, p), A[idx]
        return (a * (np.sum(a * X, axis=1) - y[idx])[:, None]).ravel()

    def gap_runs(iterates):
        E = iterates.reshape(len(iterates), R, p) - x_star
        return 0.5 * np.einsum("krj,jl,krl->k", E, H, E) / R

    steps = np.array([0.0025, 0.005, 0.01, 0.02])
    start = np.tile(x_star, R)
    plateau = [gap_runs(optim.sgd(grad_runs, start, n, t, 3000, rng, batch_size=R)[1][1000:]).mean()
               for t in steps]
    rm = gap_runs(optim.sgd(grad_runs, np.zeros(R * p), n, lambda k: 2 / (mu * (k + 20 * L / mu)),
                            n_iter, rng, batch_size=R)[1])
    avg = gap_runs(optim.sgd(grad_runs, np.zeros(R * p), n, lambda k: 0.2 / (L * np.sqrt(k + 1)),
                             n_iter, rng, batch_size=R, average=True)[2])
    k = np.arange(1, n_iter + 1)
    fit = k >= 1000
    return (loglog_slope(steps, np.array(plateau)), loglog_slope(k[fit], rm[1:][fit]),
            loglog_slope(k[fit], avg[1:][fit]))


@pytest.mark.parametrize("seed", SEEDS)
def test_sgd_slopes_hold_for_other_seeds(seed):
    s_plateau, s_rm, s_avg = sgd_slopes(seed)
    assert abs(s_plateau - 1) < 0.15, s_plateau
    assert abs(s_rm + 1) < 0.2, s_rm
    assert abs(s_avg + 1) < 0.2, s_avg


def ill_conditioned(seed):
    A, b = data.random_quadratic(100, 1000, np.random.default_rng(seed))
    L, mu = derivatives.smoothness_constants(A)
    return (lambda x: A @ x - b), np.linalg.solve(A, b), L, mu


@pytest.mark.parametrize("seed", SEEDS)
def test_rmsprop_and_adam_plateau_is_proportional_to_the_step(seed):
    grad, x_star, _, _ = ill_conditioned(seed)
    for solver, taus in [(optim.rmsprop, np.array([2.5e-3, 5e-3, 1e-2])),
                         (optim.adam, np.array([5e-3, 1e-2, 2e-2]))]:
        levels = [np.mean(np.linalg.norm(solver(grad, np.zeros(100), t, 4000)[1][-1500:] - x_star,
                                         axis=1)) for t in taus]
        slope = loglog_slope(taus, np.array(levels))
        assert abs(slope - 1) < 0.15, (solver.__name__, slope)


@pytest.mark.parametrize("seed", SEEDS)
def test_heavy_ball_and_nesterov_contract_at_their_own_rates(seed):
    grad, x_star, L, mu = ill_conditioned(seed)
    kappa, K = L / mu, 1500
    k = np.arange(K + 1)
    step, beta = optim.heavy_ball_parameters(L, mu)
    runs = {(np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1): optim.heavy_ball(grad, np.zeros(100), step,
                                                                           beta, K)[1],
            1 - 1 / np.sqrt(kappa): optim.nesterov(grad, np.zeros(100), 1 / L, K, mu=mu)[1]}
    for q_theory, it in runs.items():
        e = np.linalg.norm(it - x_star, axis=1) / np.linalg.norm(x_star)
        sel = (e > 1e-11) & (e < 1e-3)
        q = linear_rate(e[sel] / (k[sel] + 1))          # a double root: e_k ~ (k + 1) q^k
        assert abs(q - q_theory) <= 0.06 * (1 - q_theory), (q, q_theory)
