"""Tests of course_lib.diffusion: schedules against their defining relations, the exact mixture score
against torch.autograd, Tweedie against Monte Carlo and the closed-form posterior mean, samplers on
Gaussian targets against closed forms (with their orders), the losses against Vincent's identity, the
training loop against a written-out one, bad input. The stochastic claims of the notebook (Sections 5
to 7) are checked for five seeds in tests/test_diffusion_claims.py."""
import numpy as np
import pytest
import scipy.stats
import torch

from course_lib import diffusion
from course_lib.utils import loglog_slope

W = np.array([0.5, 0.3, 0.2])
M = np.array([[-2.0, -1.0], [2.0, -1.0], [0.0, 2.5]])
C = np.array([[[0.3, 0.1], [0.1, 0.2]], [[0.2, -0.1], [-0.1, 0.4]], 0.15 * np.eye(2)])
VP = diffusion.vp_schedule()
VE = diffusion.ve_schedule(0.01, 10.0)


# ----------------------------------------------------------------------------- schedules

@pytest.mark.parametrize("schedule", [VP, VE, diffusion.vp_schedule(1.0, 1.0)], ids=repr)
def test_schedules_satisfy_their_defining_relations(schedule):
    t, h = np.linspace(0.05, 0.95, 7), 1e-6
    a, s = schedule.alpha(t), schedule.sigma(t)
    dlog_a = (np.log(schedule.alpha(t + h)) - np.log(schedule.alpha(t - h))) / (2 * h)
    ds2 = (schedule.sigma(t + h) ** 2 - schedule.sigma(t - h) ** 2) / (2 * h)
    assert np.allclose(schedule.drift(t), dlog_a, rtol=1e-6, atol=1e-8)
    assert np.allclose(schedule.diffusion2(t), ds2 - 2 * schedule.drift(t) * s**2, rtol=1e-5)
    if schedule.kind == "vp":
        assert np.allclose(a**2 + s**2, 1, atol=1e-14)
    tt = torch.tensor(t, dtype=torch.float64)
    assert np.allclose(schedule.alpha(tt).numpy(), a) and np.allclose(schedule.sigma(tt).numpy(), s)


def test_ornstein_uhlenbeck_is_the_constant_rate_vp_schedule():
    ou = diffusion.vp_schedule(2.0, 2.0)
    assert ou.alpha(0.7) == pytest.approx(np.exp(-0.7)) and ou.diffusion2(0.3) == 2.0


# ----------------------------------------------------------------------------- Gaussian mixtures

def torch_gmm_logpdf(x):
    comps = [torch.distributions.MultivariateNormal(torch.tensor(m), torch.tensor(c)) for m, c in zip(M, C)]
    logs = torch.stack([d.log_prob(x) for d in comps], -1) + torch.log(torch.tensor(W))
    return torch.logsumexp(logs, -1)


def test_gmm_score_matches_autograd_and_logpdf_matches_scipy():
    x = np.random.default_rng(0).standard_normal((50, 2)) * 3
    xt = torch.tensor(x, requires_grad=True)
    torch_gmm_logpdf(xt).sum().backward()
    assert np.allclose(diffusion.gmm_score(x, W, M, C), xt.grad.numpy(), atol=1e-12)
    ref = np.log(sum(w * scipy.stats.multivariate_normal(m, c).pdf(x) for w, m, c in zip(W, M, C)))
    assert np.allclose(diffusion.gmm_logpdf(x, W, M, C), ref, atol=1e-12)


def test_marginal_score_is_the_score_of_the_noised_mixture():
    x = np.random.default_rng(1).standard_normal((20, 2))
    for t in [0.0, 0.1, 0.6]:
        a, s = VP.alpha(t), VP.sigma(t)
        params = (W, a * M, a**2 * C + s**2 * np.eye(2))
        assert np.allclose(diffusion.gmm_marginal_score(W, M, C, VP)(x, t),
                           diffusion.gmm_score(x, *params), atol=1e-12)
        assert all(np.allclose(p, q) for p, q in zip(diffusion.gmm_noised(W, M, C, a, s), params))


def test_gmm_samples_have_the_mixture_moments():
    x, k = diffusion.gmm_sample(200_000, W, M, C, rng=0)
    mean = W @ M
    cov = sum(w * (c + np.outer(m - mean, m - mean)) for w, m, c in zip(W, M, C))
    assert np.allclose(x.mean(0), mean, atol=0.02) and np.allclose(np.cov(x.T), cov, atol=0.03)
    assert np.allclose(np.bincount(k) / len(k), W, atol=0.005)


@pytest.mark.parametrize("t", [0.15, 0.3, 0.7])
def test_tweedie_equals_the_posterior_mean_and_monte_carlo(t):
    x = np.array([[0.0, 0.0], [1.5, -1.0], [-2.0, 2.0]])
    score = diffusion.gmm_marginal_score(W, M, C, VP)
    tw = diffusion.tweedie(x, t, score, VP)
    exact = diffusion.gmm_posterior_mean(x, W, M, C, VP.alpha(t), VP.sigma(t))
    assert np.allclose(tw, exact, atol=1e-10)
    X0 = diffusion.gmm_sample(400_000, W, M, C, rng=1)[0]
    a, s = VP.alpha(t), VP.sigma(t)
    for xi, e in zip(x, exact):
        logw = -np.sum((xi - a * X0) ** 2, 1) / (2 * s**2)
        w = np.exp(logw - logw.max())
        w /= w.sum()
        mc = w @ X0
        se = np.sqrt(w**2 @ (X0 - mc) ** 2)
        assert np.all(np.abs(mc - e) < 5 * se + 1e-6)


def test_flow_velocity_branches_agree_and_match_monte_carlo():
    v = diffusion.gmm_flow_velocity(W, M, C)
    x = np.array([[0.3, -0.4], [1.0, 1.0]])
    assert np.allclose(v(x, 0.5), v(x, 0.5 + 1e-10), atol=1e-6)
    assert np.allclose(v(x, 0.0), W @ M - x, atol=1e-12)           # t = 0: head for the mean
    t = 0.4
    X1 = diffusion.gmm_sample(400_000, W, M, C, rng=2)[0]
    for xi, vi in zip(x, v(x, t)):                                  # E[x1 - x0 | x_t = x]
        logw = -np.sum((xi - t * X1) ** 2, 1) / (2 * (1 - t) ** 2)
        w = np.exp(logw - logw.max())
        w /= w.sum()
        x0 = (xi - t * X1) / (1 - t)
        mc = w @ (X1 - x0)
        assert np.allclose(mc, vi, atol=0.05)


# ----------------------------------------------------------------------------- samplers

def gaussian_case():
    mu, s = np.array([1.0, -0.5]), 0.5
    v = lambda t: VP.alpha(t) ** 2 * s**2 + VP.sigma(t) ** 2  # noqa: E731
    score = lambda x, t: -(x - VP.alpha(t) * mu) / v(t)  # noqa: E731
    x = np.random.default_rng(0).standard_normal((40, 2))
    exact = mu + s / np.sqrt(v(1.0)) * (x - VP.alpha(1.0) * mu)
    return mu, s, score, x, exact


@pytest.mark.parametrize("method, order", [("euler", 1), ("heun", 2)])
def test_probability_flow_converges_to_the_exact_map_at_its_order(method, order):
    mu, s, score, x, exact = gaussian_case()
    Ns = np.array([32, 64, 128, 256])
    err = [np.abs(diffusion.probability_flow_sample(score, x, VP, N, method, t_min=0.0) - exact).max()
           for N in Ns]
    assert loglog_slope(Ns, err) == pytest.approx(-order, abs=0.15)
    assert err[-1] < (1e-2 if order == 1 else 1e-4)


def test_reverse_sde_samples_the_gaussian_target():
    mu, s, score, _, _ = gaussian_case()
    rng = np.random.default_rng(0)
    x_T = VP.alpha(1.0) * mu + np.sqrt(VP.alpha(1.0) ** 2 * s**2 + VP.sigma(1.0) ** 2) * \
        rng.standard_normal((20_000, 2))
    out, path = diffusion.reverse_sde_sample(score, x_T, VP, 400, t_min=0.0, rng=rng,
                                             return_path=True)
    assert path.shape == (401, 20_000, 2) and np.array_equal(path[-1], out)
    assert np.allclose(out.mean(0), mu, atol=0.02) and np.allclose(out.std(0), s, atol=0.01)


def test_edm_sampler_on_a_gaussian_target_matches_the_ve_flow_map():
    mu, s = np.array([0.5, -1.0]), 0.7
    score_sigma = lambda x, sig: -(x - mu) / (s**2 + sig**2)  # noqa: E731
    x = np.random.default_rng(0).standard_normal((30, 2))
    sig0 = 20.0
    exact = mu + s / np.sqrt(s**2 + sig0**2) * (sig0 * x - mu)     # the flow map from sigma_0 to 0
    errs = [np.abs(diffusion.edm_sample(score_sigma, sig0 * x, diffusion.edm_sigmas(
        N, sigma_min=0.002, sigma_max=sig0)) - exact).max() for N in (16, 32, 64, 128)]
    assert errs[-1] < 1e-3 and loglog_slope([16, 32, 64, 128], errs) < -1.5
    sig = diffusion.edm_sigmas(5, 0.002, 80.0, 7.0)
    assert sig[0] == 80.0 and sig[-2] == pytest.approx(0.002) and sig[-1] == 0 and len(sig) == 6


def test_flow_matching_sampler_maps_noise_to_a_gaussian_target():
    mu, s = np.array([2.0, 0.0]), 0.3
    v = diffusion.gmm_flow_velocity([1.0], mu[None], s**2 * np.eye(2)[None])
    x0 = np.random.default_rng(0).standard_normal((30, 2))
    exact = mu + s * x0                                           # x_t = t mu + sqrt(t^2 s^2 + (1-t)^2) x0
    errs = [np.abs(diffusion.flow_matching_sample(v, x0, N, "heun") - exact).max() for N in (8, 16, 32)]
    assert errs[-1] < 1e-3 and loglog_slope([8, 16, 32], errs) == pytest.approx(-2, abs=0.3)
    _, path = diffusion.flow_matching_sample(v, x0, 50, return_path=True)
    assert diffusion.path_length_ratio(path) > 1 and diffusion.straightness(path) < 0.1


def test_straightness_of_segments_and_of_a_detour():
    s = np.linspace(0, 1, 11)[:, None, None]
    segment = s * np.array([[[1.0, 2.0]]])
    assert diffusion.straightness(segment) == pytest.approx(0, abs=1e-15)
    assert diffusion.path_length_ratio(segment) == pytest.approx(1)
    slow_start = s**2 * np.array([[[1.0, 0.0]]])                   # straight, but not constant speed
    assert diffusion.straightness(slow_start) == pytest.approx(1 / 3, rel=0.02)
    assert diffusion.path_length_ratio(slow_start) == pytest.approx(1)


# ----------------------------------------------------------------------------- losses and training

class ExactEps(torch.nn.Module):
    """eps(x, t) = -sigma_t * score(x, t) for a Gaussian N(0, s^2 Id), plus a perturbation c * x."""

    def __init__(self, s, c=0.0):
        super().__init__()
        self.s, self.c = s, c

    def forward(self, x, t):
        a, sig = VP.alpha(t), VP.sigma(t)
        return sig * x / (a**2 * self.s**2 + sig**2) + self.c * x


def test_dsm_loss_satisfies_vincents_identity():
    """L(model) - L(exact) = E ||eps_model - eps_exact||^2 (Monte Carlo, common random numbers)."""
    g = torch.Generator().manual_seed(0)
    s = 0.8
    x0 = s * torch.randn(200_000, 2, generator=g, dtype=torch.float64)
    t = torch.full((200_000, 1), 0.3, dtype=torch.float64)
    eps = torch.randn(x0.shape, generator=g, dtype=torch.float64)
    exact, model = ExactEps(s), ExactEps(s, c=0.2)
    gap = diffusion.dsm_loss(model, x0, VP, t=t, eps=eps) - diffusion.dsm_loss(exact, x0, VP, t=t, eps=eps)
    x_t = VP.alpha(t) * x0 + VP.sigma(t) * eps
    assert gap.item() == pytest.approx(((0.2 * x_t) ** 2).sum(1).mean().item(), rel=0.02)


@pytest.mark.parametrize("t", [0.2, 0.7])
def test_fm_loss_gap_is_the_velocity_error(t):
    """L(v* + c) - L(v*) = ||c||^2 for the exact field v* (Monte Carlo, common random numbers)."""
    v_exact = diffusion.gmm_flow_velocity(W, M, C)

    class Field(torch.nn.Module):
        def __init__(self, shift):
            super().__init__()
            self.shift = shift

        def forward(self, x, t):
            return torch.tensor(v_exact(x.numpy(), float(t[0, 0]))) + self.shift

    g = torch.Generator().manual_seed(0)
    x1 = torch.tensor(diffusion.gmm_sample(200_000, W, M, C, rng=0)[0])
    x0 = torch.randn(x1.shape, generator=g, dtype=torch.float64)
    tt = torch.full((len(x1), 1), t, dtype=torch.float64)
    shift = torch.tensor([0.3, -0.2], dtype=torch.float64)
    gap = diffusion.fm_loss(Field(shift), x1, x0=x0, t=tt) - diffusion.fm_loss(
        Field(0 * shift), x1, x0=x0, t=tt)
    assert gap.item() == pytest.approx((shift**2).sum().item(), rel=0.05)


def test_ot_pairing_is_the_optimal_assignment():
    from scipy.optimize import linear_sum_assignment
    g = torch.Generator().manual_seed(0)
    x0, x1 = torch.randn(30, 2, generator=g), torch.randn(30, 2, generator=g) + 3
    paired = diffusion.ot_pairing(x0, x1)
    cost = ((x0[:, None] - x1[None]) ** 2).sum(-1).numpy()
    r, c = linear_sum_assignment(cost)
    assert ((x0 - paired) ** 2).sum().item() == pytest.approx(cost[r, c].sum(), rel=1e-6)
    assert sorted(map(tuple, paired.numpy())) == sorted(map(tuple, x1.numpy()))


def test_train_matches_a_written_out_loop_and_guidance_is_the_formula():
    X = diffusion.gmm_sample(500, W, M, C, rng=0)[0]
    y = np.arange(500) % 3
    torch.manual_seed(0)
    a = diffusion.TimeMLP(2, 16, 2, n_freq=4, n_classes=3)
    b = diffusion.TimeMLP(2, 16, 2, n_freq=4, n_classes=3)
    b.load_state_dict(a.state_dict())
    losses = diffusion.train(a, X, 4, schedule=VP, y=y, p_uncond=0.5, batch_size=32, lr=1e-2,
                             progress=False)
    gen, opt = torch.Generator().manual_seed(0), torch.optim.Adam(b.parameters(), lr=1e-2)
    Xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    for k in range(4):
        idx = torch.randint(500, (32,), generator=gen)
        yb = torch.where(torch.rand(32, generator=gen) < 0.5, 3, yt[idx])
        t = 1e-3 + (1 - 1e-3) * torch.rand(32, 1, generator=gen)
        eps = torch.randn(32, 2, generator=gen)
        loss = ((b(VP.alpha(t) * Xt[idx] + VP.sigma(t) * eps, t, yb) - eps) ** 2).sum(1).mean()
        opt.param_groups[0]["lr"] = 1e-2 * (1 - k / 4)
        opt.zero_grad()
        loss.backward()
        opt.step()
        assert loss.item() == pytest.approx(losses[k], rel=1e-6)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    x = np.random.default_rng(0).standard_normal((6, 2))
    labels = np.array([0, 1, 2, 0, 1, 2])
    with torch.no_grad():
        xt = torch.tensor(x, dtype=torch.float32)
        cond, uncond = a(xt, 0.4, torch.tensor(labels)), a(xt, 0.4)
    want = -((1 + 1.5) * cond - 1.5 * uncond).numpy() / VP.sigma(0.4)
    assert np.allclose(diffusion.score_function(a, VP, y=labels, guidance=1.5)(x, 0.4), want, atol=1e-5)


# ----------------------------------------------------------------------------- bad input

def test_bad_input_raises_value_errors_naming_the_argument():
    score = diffusion.gmm_marginal_score(W, M, C, VP)
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match="weights"):
        diffusion.gmm_score(x, [0.5, 0.6, -0.1], M, C)
    with pytest.raises(ValueError, match="positive definite"):
        diffusion.gmm_score(x, W, M, np.array([np.eye(2), -np.eye(2), np.eye(2)]))
    with pytest.raises(ValueError, match="symmetric"):
        diffusion.gmm_score(x, W, M, np.array([[[1, 0.5], [0, 1]]] * 3))
    with pytest.raises(ValueError, match="means"):
        diffusion.gmm_score(x, W, M[:2], C)
    with pytest.raises(ValueError, match="n_steps"):
        diffusion.probability_flow_sample(score, x, VP, -3)
    with pytest.raises(ValueError, match="t_min"):
        diffusion.reverse_sde_sample(score, x, VP, 10, t_min=1.0)
    with pytest.raises(ValueError, match="method"):
        diffusion.probability_flow_sample(score, x, VP, 10, method="rk4")
    with pytest.raises(ValueError, match="score"):
        diffusion.probability_flow_sample(lambda x, t: np.full(x.shape, np.nan), x, VP, 5)
    with pytest.raises(ValueError, match="score"):
        diffusion.reverse_sde_sample(lambda x, t: None, x, VP, 5)
    with pytest.raises(ValueError, match="velocity"):
        diffusion.flow_matching_sample(lambda x, t: x[:, :1], x, 5)
    with pytest.raises(ValueError, match="sigma_max"):
        diffusion.ve_schedule(1.0, 0.5)
    with pytest.raises(ValueError, match="beta_min"):
        diffusion.vp_schedule(-1.0, 20.0)
    with pytest.raises(ValueError, match="sigmas"):
        diffusion.edm_sample(lambda x, s: -x, x, [1.0, 2.0])
    with pytest.raises(ValueError, match="t must lie"):
        VP.alpha(1.5)
    with pytest.raises(ValueError, match="schedule"):
        diffusion.tweedie(x, 0.5, score, "vp")
    with pytest.raises(ValueError, match="objective"):
        diffusion.train(diffusion.TimeMLP(2, 8, 1), x, 2, objective="gan")
    with pytest.raises(ValueError, match="coupling"):
        diffusion.fm_loss(diffusion.TimeMLP(2, 8, 1), torch.zeros(4, 2), coupling="sinkhorn")
    with pytest.raises(ValueError, match="labels y"):
        diffusion.train(diffusion.TimeMLP(2, 8, 1), x, 2, schedule=VP, y=[0, 1, 0, 1])
    with pytest.raises(ValueError, match="x0"):
        diffusion.dsm_loss(diffusion.TimeMLP(2, 8, 1), np.zeros((4, 2)), VP)
