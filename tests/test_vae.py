"""course_lib.vae against closed forms: the Gaussian KL (torch.distributions), the ELBO of a
linear-Gaussian model (exact, with log p(x) and the posterior known), probabilistic PCA
(scikit-learn's PCA.score), the IWAE bounds; and the bound ordering on digits for five seeds."""
import math

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from course_lib import data, mixtures, nets, vae


def _linear_data(n=400, d=5, q=2, seed=0):
    rng = np.random.default_rng(seed)
    W0 = rng.standard_normal((d, q)) * np.array([2.0, 1.0])[:q]
    return rng.standard_normal((n, q)) @ W0.T + 0.5 * rng.standard_normal((n, d)) + 1.0


def _random_linear_vae(d=5, q=2, seed=0):
    """A linear VAE with a random decoder and an encoder near, not at, the exact posterior."""
    torch.manual_seed(seed)
    m = vae.linear_vae(d, q).double()
    with torch.no_grad():
        W, b = m.decoder[0].weight, m.decoder[0].bias
        W.copy_(torch.randn(d, q, dtype=torch.float64))
        b.copy_(torch.randn(d, dtype=torch.float64))
        m.log_sigma.fill_(0.0)
        M = W.T @ W + torch.eye(q, dtype=torch.float64)
        A = torch.linalg.solve(M, W.T)                      # posterior mean A (x - b), covariance M⁻¹
        A_noisy = A + 0.2 * torch.randn_like(A)
        m.encoder[0].weight.copy_(torch.cat([A_noisy, torch.zeros_like(A)]))
        logvar = torch.log(torch.diagonal(torch.linalg.inv(M))) + 0.5
        m.encoder[0].bias.copy_(torch.cat([-A_noisy @ b, logvar]))
    return m


def _exact_elbo(m, x):
    """ELBO of a linear-Gaussian VAE in closed form: E_q |x - Wz - b|^2 = |x - W mu - b|^2 + tr(W S Wᵀ)."""
    W, b = m.decoder[0].weight, m.decoder[0].bias
    s2 = torch.exp(2 * m.log_sigma)
    mu, logvar = m.encode(x)
    sq = ((x - mu @ W.T - b) ** 2).sum(1) + (torch.exp(logvar) * (W**2).sum(0)).sum(1)
    d = x.shape[1]
    return -0.5 * (d * torch.log(2 * math.pi * s2) + sq / s2) - vae.gaussian_kl(mu, logvar).sum(1)


def test_reparametrize_and_its_derivatives():
    mu = torch.tensor([0.5, -1.0], dtype=torch.float64, requires_grad=True)
    logvar = torch.tensor([0.2, -0.7], dtype=torch.float64, requires_grad=True)
    eps = torch.tensor([1.3, -0.4], dtype=torch.float64)
    z = vae.reparametrize(mu, logvar, eps)
    assert torch.allclose(z, mu + torch.exp(logvar / 2) * eps)
    z.sum().backward()
    assert torch.allclose(mu.grad, torch.ones(2, dtype=torch.float64))
    assert torch.allclose(logvar.grad, 0.5 * torch.exp(logvar / 2) * eps)
    # the samples have the right law
    many = vae.reparametrize(mu.detach(), logvar.detach(), torch.randn(200000, 2, dtype=torch.float64))
    assert torch.allclose(many.mean(0), mu.detach(), atol=0.01)
    assert torch.allclose(many.var(0), torch.exp(logvar.detach()), rtol=0.02)


def test_gaussian_kl_against_torch_distributions_and_mixtures():
    torch.manual_seed(1)
    mu, logvar = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    q = torch.distributions.Normal(mu, torch.exp(logvar / 2))
    p = torch.distributions.Normal(torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64))
    assert torch.allclose(vae.gaussian_kl(mu, logvar), torch.distributions.kl_divergence(q, p), atol=1e-12)
    full = mixtures.gaussian_kl(mu[0].numpy(), np.diag(np.exp(logvar[0].numpy())), np.zeros(3), np.eye(3))
    assert abs(vae.gaussian_kl(mu, logvar)[0].sum().item() - full) < 1e-12


def test_ppca_is_sklearns_probabilistic_pca():
    X = _linear_data()
    n = len(X)
    W, b, s2, ll = vae.ppca(X, 2)
    pca = PCA(n_components=2).fit(X)
    # scikit-learn estimates the covariance with 1/(n-1); the maximum-likelihood one has 1/n
    assert abs(s2 - pca.noise_variance_ * (n - 1) / n) < 1e-12
    assert np.allclose(W @ W.T, (pca.get_covariance() - pca.noise_variance_ * np.eye(5)) * (n - 1) / n,
                       atol=1e-10)
    assert abs(vae.ppca_log_likelihood(X, W, b, s2) - ll) < 1e-10
    # our log-likelihood evaluates scikit-learn's model as its own score does, and ours is the maximum
    W_sk = pca.components_.T * np.sqrt(pca.explained_variance_ - pca.noise_variance_)
    sk = vae.ppca_log_likelihood(X, W_sk, pca.mean_, pca.noise_variance_)
    assert abs(sk - pca.score(X)) < 1e-10 and ll > sk


def test_elbo_is_below_log_p_and_equals_it_minus_the_posterior_kl():
    X = torch.tensor(_linear_data(n=20))
    m = _random_linear_vae()
    W, b = m.decoder[0].weight.detach(), m.decoder[0].bias.detach()
    s2 = float(torch.exp(2 * m.log_sigma.detach()))
    with torch.no_grad():
        exact = _exact_elbo(m, X)
        mc = m.elbo(X, n_samples=20000)
        log_p = torch.tensor(mixtures.gaussian_logpdf(X.numpy(), b.numpy(), (W @ W.T).numpy() + s2 * np.eye(5)))
        mu, logvar = m.encode(X)
    assert torch.all(exact < log_p - 0.1), "ELBO <= log p(x), with a visible gap for a random encoder"
    # the Monte Carlo estimate is unbiased for the closed form: within 4 standard errors
    with torch.no_grad():
        z = vae.reparametrize(mu, logvar, torch.randn(20000, *mu.shape, dtype=torch.float64))
        se = m.log_px_given_z(X, z).std(0) / math.sqrt(20000)
    assert torch.all((mc - exact).abs() < 4 * se + 1e-12)
    # ELBO = log p(x) - KL(q(z|x) || p(z|x)), the posterior N(M⁻¹Wᵀ(x - b), s2 M⁻¹), M = WᵀW + s2 Id
    M = (W.T @ W).numpy() + s2 * np.eye(2)
    for i in range(3):
        post_mean = np.linalg.solve(M, W.numpy().T @ (X[i] - b).numpy())
        gap = mixtures.gaussian_kl(mu[i].numpy(), np.diag(np.exp(logvar[i].numpy())), post_mean,
                                   s2 * np.linalg.inv(M))
        assert abs(exact[i].item() - (log_p[i].item() - gap)) < 1e-10


def test_the_linear_vae_at_the_ppca_solution_has_a_tight_elbo():
    X = _linear_data()
    W, b, s2, ll = vae.ppca(X, 2)
    m = vae.linear_vae(5, 2).double()
    M = W.T @ W + s2 * np.eye(2)                    # diagonal: the columns of W are orthogonal
    assert np.allclose(M, np.diag(np.diag(M)), atol=1e-10)
    with torch.no_grad():
        m.decoder[0].weight.copy_(torch.tensor(W))
        m.decoder[0].bias.copy_(torch.tensor(b))
        m.log_sigma.fill_(0.5 * math.log(s2))
        A = np.linalg.solve(M, W.T)                 # the posterior mean is A (x - b)
        m.encoder[0].weight.copy_(torch.tensor(np.vstack([A, np.zeros((2, 5))])))
        m.encoder[0].bias.copy_(torch.tensor(np.r_[-A @ b, np.log(s2 / np.diag(M))]))
        elbo = _exact_elbo(m, torch.tensor(X)).mean().item()
        iwae_1 = m.iwae(torch.tensor(X), 1).mean().item()
    assert abs(elbo - ll) < 1e-10
    assert abs(iwae_1 - ll) < 1e-10      # log p(x, z) - log q(z|x) = log p(x) for every z: no Monte Carlo error


def test_iwae_increases_with_k_towards_log_p():
    X = torch.tensor(_linear_data(n=50))
    m = _random_linear_vae(seed=2)
    W, b = m.decoder[0].weight.detach().numpy(), m.decoder[0].bias.detach().numpy()
    log_p = vae.ppca_log_likelihood(X.numpy(), W, b, float(torch.exp(2 * m.log_sigma.detach())))
    torch.manual_seed(0)
    with torch.no_grad():
        iwae_1 = torch.stack([m.iwae(X, 1) for _ in range(200)])          # (200, 50) draws
        bounds = [np.mean([m.iwae(X, k).mean().item() for _ in range(4)]) for k in (10, 100, 2000)]
        elbo = _exact_elbo(m, X).mean().item()
    se = iwae_1.mean(1).std().item() / math.sqrt(200)
    assert abs(iwae_1.mean().item() - elbo) < 4 * se                    # IWAE_1 is the ELBO
    assert elbo < bounds[0] < bounds[1] < bounds[2] <= log_p + 0.05
    assert log_p - bounds[2] < 0.05 * (log_p - elbo)                     # IWAE_k -> log p(x)


def _digits(seed):
    X = (data.digits()[0].reshape(-1, 64) > 0.5).astype(np.float32)
    perm = np.random.default_rng(seed).permutation(len(X))
    return torch.tensor(X[perm[:1500]]), torch.tensor(X[perm[1500:]])


@pytest.mark.parametrize("seed", range(5))
def test_bounds_ordering_and_idle_coordinates_on_held_out_digits_for_five_seeds(seed):
    """The notebook's claims, same sizes: ELBO < IWAE_5 < IWAE_50 on held-out digits, and at
    least one of the 16 latent coordinates carries less than 0.05 nats (posterior collapse)."""
    X_train, X_test = _digits(seed)
    torch.manual_seed(seed)
    m = vae.mlp_vae(64, 16, hidden=128)
    nets.train(m, X_train, None, n_steps=1000, batch_size=100, lr=3e-3, loss="mean", seed=seed,
               progress=False)
    with torch.no_grad():
        elbo = m.elbo(X_test, n_samples=50).mean().item()
        iw5, iw50 = m.iwae(X_test, 5).mean().item(), m.iwae(X_test, 50).mean().item()
        kl = m.kl_per_dim(X_test)
    assert elbo < iw5 < iw50, (elbo, iw5, iw50)
    assert torch.sum(kl < 0.05) >= 1, kl


@pytest.mark.parametrize("call, match", [
    (lambda: vae.VAE(torch.nn.Linear(4, 4), torch.nn.Linear(2, 4), 2, likelihood="poisson"), "likelihood"),
    (lambda: vae.VAE("enc", torch.nn.Linear(2, 4), 2), "encoder"),
    (lambda: vae.mlp_vae(4, 2).iwae(torch.zeros(3, 4), 0), "k"),
    (lambda: vae.mlp_vae(4, 2).elbo(torch.zeros(3, 5)), "x"),
    (lambda: vae.mlp_vae(4, 2).elbo(torch.zeros(3, 4), n_samples=0), "n_samples"),
    (lambda: vae.mlp_vae(4, 2).elbo(np.zeros((3, 4))), "x"),
    (lambda: vae.mlp_vae(4, 0), "q"),
    (lambda: vae.linear_vae(2, 3), "q"),
    (lambda: vae.reparametrize(torch.zeros(3), torch.zeros(2), torch.zeros(3)), "mu and logvar"),
    (lambda: vae.reparametrize(torch.zeros(3), torch.zeros(3), torch.zeros(2)), "eps"),
    (lambda: vae.gaussian_kl(torch.tensor([float("nan")]), torch.zeros(1)), "mu"),
    (lambda: vae.ppca(np.zeros((10, 3)), 3), "q"),
    (lambda: vae.ppca(np.zeros((10, 3)), 1), "rank"),
    (lambda: vae.ppca_log_likelihood(np.zeros((10, 3)), np.zeros((2, 1)), np.zeros(3), 1.0), "W"),
    (lambda: vae.ppca_log_likelihood(np.zeros((10, 3)), np.zeros((3, 1)), np.zeros(3), 0.0), "s2"),
])
def test_bad_input_raises_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
