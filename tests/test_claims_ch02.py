"""The measured claims of notebook 02 that depend on random draws, re-run for five other seeds: ridge
beats small lambda by cross-validation on the quadratic features, the rates of ISTA, FISTA and
restarted FISTA on the worst-case lasso, and the interior point's Newton count flat in kappa."""
import numpy as np
import pytest

from course_lib import data, lasso, linear_models
from course_lib.utils import linear_rate, loglog_slope

SEEDS = [1, 2, 3, 4, 5]


@pytest.mark.parametrize("seed", SEEDS)
def test_ridge_beats_small_lambda_on_quadratic_features(seed):
    A, y = data.diabetes()
    p = A.shape[1]
    i, j = np.triu_indices(p)
    keep = ~((i == 1) & (j == 1))
    A_quad = np.c_[A, A[:, i[keep]] * A[:, j[keep]]]
    A_quad = (A_quad - A_quad.mean(0)) / A_quad.std(0)
    lams = np.logspace(-2, 6, 80)
    m_raw = linear_models.kfold_errors(linear_models.ridge_path, A, y, lams, rng=seed).mean(0)
    m_q = linear_models.kfold_errors(linear_models.ridge_path, A_quad, y, lams, rng=seed).mean(0)
    b_raw, b_q = np.argmin(m_raw), np.argmin(m_q)
    assert 0 < b_q < len(lams) - 1 and m_q[b_q] < 0.9 * m_q[0] and m_q[b_q] < 0.6 * m_q[-1]
    assert m_raw[b_raw] > 0.99 * m_raw[0] and m_raw[b_raw] < m_q[b_q]


def worst_case_lasso(rng, N=400, M=200, lam=1.0):
    """Section 2 of the notebook: Gram eigenvalues j/N on the support, decoys, known x*."""
    Q, _ = np.linalg.qr(rng.standard_normal((N, N)))
    W, _ = np.linalg.qr(rng.standard_normal((N, N)))
    eig = np.arange(1, N + 1) / N
    A1 = (Q * np.sqrt(eig)) @ W.T
    r_star = lam * Q @ (W.T @ np.ones(N) / np.sqrt(eig))
    D = rng.standard_normal((N, M))
    D -= np.outer(r_star, r_star @ D) / (r_star @ r_star)
    D *= 0.5 / np.linalg.norm(D, axis=0)
    A, x_star = np.c_[A1, D], np.r_[np.ones(N), np.zeros(M)]
    e0 = W @ (1 / np.sqrt(eig))
    x0 = x_star - np.r_[0.5 * e0 / np.linalg.norm(e0), np.zeros(M)]
    return A, A @ x_star + r_star, lam, x_star, x0


@pytest.mark.parametrize("seed", SEEDS)
def test_ista_fista_and_restart_rates_on_the_worst_case_lasso(seed):
    A, y, lam, x_star, x0 = worst_case_lasso(np.random.default_rng(seed))
    F = lasso.lasso_objective(A, y, lam, x_star)
    L, R2, K = np.linalg.eigvalsh(A @ A.T)[-1], 0.25, 300
    k = np.arange(1, K + 1)
    fit = (k >= 5) & (k <= 50)
    g_i = lasso.ista(A, y, lam, K, x0=x0)[1]["objective"] - F
    h_f = lasso.fista(A, y, lam, K, x0=x0)[1]
    g_f = h_f["objective"] - F
    g_r = np.maximum(lasso.fista(A, y, lam, K, x0=x0, restart=True)[1]["objective"] - F,
                     1e-16 * F)
    assert abs(loglog_slope(k[fit], g_i[1:][fit]) + 1) < 0.1
    assert abs(loglog_slope(k[fit], g_f[1:][fit]) + 2) < 0.2
    assert np.all(g_i[1:] <= L * R2 / (2 * k)) and np.all(g_f[1:] <= 2 * L * R2 / (k + 1) ** 2)
    assert np.sum(np.diff(h_f["objective"]) > 1e-12 * F) > 0            # FISTA is not monotone
    q = linear_rate(g_r[(g_r > 1e-12 * F) & (g_r < 1e-3 * F)])
    assert q < 1 - 1 / np.sqrt(400), q


@pytest.mark.parametrize("seed", SEEDS)
def test_newton_count_is_flat_in_kappa_while_ista_stalls(seed):
    rng = np.random.default_rng(seed)
    n, p = 200, 50
    U, _ = np.linalg.qr(rng.standard_normal((n, p)))
    V, _ = np.linalg.qr(rng.standard_normal((p, p)))
    x0 = np.zeros(p)
    x0[rng.choice(p, 10, replace=False)] = rng.standard_normal(10)
    noise = 0.01 * rng.standard_normal(n)
    kappas = 10.0 ** np.arange(1, 8)
    newton, ista_gap = [], []
    for kappa in kappas:
        A = (U * np.logspace(0, -0.5 * np.log10(kappa), p)) @ V.T
        y = A @ x0 + noise
        lam = linear_models.lambda_max(A, y) / 100
        newton.append(len(linear_models.lasso_interior_point(A, y, lam, tol=1e-10)[1]) - 1)
        F = lasso.lasso_objective(A, y, lam, lasso.lasso(A, y, lam, tol=1e-15))
        ista_gap.append(lasso.ista(A, y, lam, 2000)[1]["gap"][-1] / F)
    newton, ista_gap = np.array(newton), np.array(ista_gap)
    assert newton.max() <= 1.5 * newton.min() and newton.max() <= 100, newton
    assert ista_gap[0] < 1e-12 and np.all(ista_gap[kappas >= 1e4] > 1e-6), ista_gap
