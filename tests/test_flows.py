"""course_lib.flows: coupling layers inverted exactly, log-determinants equal to torch.autograd's,
densities that integrate to one, maximum likelihood that recovers a density it can represent."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

from course_lib import flows, nets


def _random_flow(d=2, n_layers=4, seed=0):
    """A float64 RealNVP with non-trivial couplings (the default start is the identity)."""
    torch.manual_seed(seed)
    flow = flows.RealNVP(d, n_layers, hidden=16).double()
    with torch.no_grad():
        for layer in flow.layers:
            layer.net[-1].weight.normal_(0, 0.3)
            layer.net[-1].bias.normal_(0, 0.3)
            layer.scale.uniform_(0.3, 0.8)
    return flow


@pytest.mark.parametrize("d", [2, 3, 5])
def test_coupling_inverse_and_log_det_against_autograd(d):
    flow = _random_flow(d=d, seed=d)
    x = 1.5 * torch.randn(8, d, dtype=torch.float64)
    for layer in flow.layers:
        y, log_det = layer(x)
        assert torch.allclose(layer.inverse(y), x, rtol=0, atol=1e-12)
        assert torch.allclose(log_det, flows.jacobian_log_det(lambda v: layer(v)[0], x), rtol=0, atol=1e-10)
        # the kept coordinates pass unchanged
        kept = layer.mask.bool()
        assert torch.equal(y[:, kept], x[:, kept])
    z, log_det = flow.transform(x)
    assert torch.allclose(flow.inverse(z), x, rtol=0, atol=1e-12)
    assert torch.allclose(log_det, flows.jacobian_log_det(lambda v: flow.transform(v)[0], x), rtol=0, atol=1e-10)


def test_log_prob_is_the_change_of_variables_formula():
    flow = _random_flow(seed=1)
    x = torch.randn(6, 2, dtype=torch.float64)
    z = flow.transform(x)[0].detach().numpy()
    base = stats.multivariate_normal(np.zeros(2), np.eye(2)).logpdf(z)
    log_det = flows.jacobian_log_det(lambda v: flow.transform(v)[0], x).numpy()
    assert np.allclose(flow.log_prob(x).detach().numpy(), base + log_det, rtol=0, atol=1e-10)


def test_density_integrates_to_one_and_samples_follow_it():
    flow = _random_flow(seed=2)
    total = flows.grid_integral(flow.log_prob, (-12, 12), (-12, 12), n=600)
    assert abs(total - 1) < 1e-3
    # samples f⁻¹(z): their latent images are standard normal again
    torch.manual_seed(0)
    z = flow.transform(flow.sample(20000))[0]
    assert torch.allclose(z.mean(0), torch.zeros(2, dtype=torch.float64), atol=0.03)
    assert torch.allclose(torch.cov(z.T), torch.eye(2, dtype=torch.float64), atol=0.04)


def test_grid_integral_of_a_gaussian():
    log_p = lambda P: torch.tensor(stats.multivariate_normal([0.5, -0.3], [[1.0, 0.3], [0.3, 0.5]]).logpdf(P.numpy()))
    assert abs(flows.grid_integral(log_p, (-8, 8), (-8, 8), n=300) - 1) < 1e-10
    half = flows.grid_integral(log_p, (0.5, 10), (-10, 10), n=300)   # half the mass lies right of the mean
    assert abs(half - 0.5) < 1e-6


def test_maximum_likelihood_recovers_a_density_one_coupling_can_represent():
    """x1 ~ N(0, 1), x2 | x1 ~ N(x1²/2 - 1, 0.35²): one coupling (x2 moved given x1) is exact."""
    rng = np.random.default_rng(0)
    x1 = rng.standard_normal(6000)
    X = np.c_[x1, 0.5 * x1**2 - 1 + 0.35 * rng.standard_normal(6000)]
    log_p = stats.norm.logpdf(X[:, 0]) + stats.norm.logpdf(X[:, 1], 0.5 * X[:, 0] ** 2 - 1, 0.35)
    torch.manual_seed(0)
    flow = flows.RealNVP(2, n_layers=4, hidden=32)
    nets.train(flow, X[:2000], None, n_steps=400, batch_size=256, lr=1e-2, loss="mean", progress=False)
    nets.train(flow, X[:2000], None, n_steps=100, batch_size=256, lr=1e-3, loss="mean", progress=False)
    with torch.no_grad():
        fitted = flow.log_prob(torch.tensor(X[2000:], dtype=torch.float32)).numpy()
    gap = np.mean(log_p[2000:] - fitted)          # an estimate of KL(p || p_flow) >= 0, on held-out data
    assert -0.02 < gap < 0.05, gap


@pytest.mark.parametrize("call, match", [
    (lambda: flows.AffineCoupling([1, 1]), "mask"),
    (lambda: flows.AffineCoupling([1, 0.5]), "mask"),
    (lambda: flows.AffineCoupling([1]), "mask"),
    (lambda: flows.AffineCoupling([1, 0], hidden=0), "hidden"),
    (lambda: flows.RealNVP(1), "d"),
    (lambda: flows.RealNVP(2, n_layers=0), "n_layers"),
    (lambda: flows.RealNVP(2).log_prob(torch.zeros(3, 3)), "x"),
    (lambda: flows.RealNVP(2).inverse(torch.zeros(3)), "z"),
    (lambda: flows.RealNVP(2).log_prob(np.zeros((3, 2))), "x"),
    (lambda: flows.RealNVP(2).log_prob(torch.full((1, 2), math.nan)), "x"),
    (lambda: flows.jacobian_log_det("f", torch.zeros(2, 2)), "f"),
    (lambda: flows.jacobian_log_det(lambda v: v * math.nan, torch.ones(2, 2)), "f returned"),
    (lambda: flows.grid_integral(lambda P: P[:, 0], (1, 0), (0, 1)), "xlim"),
    (lambda: flows.grid_integral(lambda P: P[:, 0] * math.nan, (0, 1), (0, 1)), "log_density"),
    (lambda: flows.grid_integral(lambda P: P, (0, 1), (0, 1)), "log_density"),
])
def test_bad_input_raises_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
