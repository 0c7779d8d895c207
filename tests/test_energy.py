"""course_lib.energy: the RBM's free energy, partition function and likelihood against brute-force
enumeration of all (v, h); contrastive-divergence gradients against autograd; CD learning on
binarised digits increases the exact log-likelihood for five seeds."""
import itertools

import numpy as np
import pytest
import torch

from course_lib import data, energy, nets


def _rbm(n_v, n_h, seed=0, scale=1.0):
    torch.manual_seed(seed)
    rbm = energy.RBM(n_v, n_h).double()
    with torch.no_grad():
        rbm.W.normal_(0, scale)
        rbm.b.normal_(0, 0.5)
        rbm.c.normal_(0, 0.5)
    return rbm


def _brute_force(rbm):
    """log of the unnormalised p(v, h) for every (v, h), as a (2^n_v, 2^n_h) array."""
    W, b, c = (t.detach().numpy() for t in (rbm.W, rbm.b, rbm.c))
    V = np.array(list(itertools.product([0, 1], repeat=rbm.n_visible)), dtype=float)
    H = np.array(list(itertools.product([0, 1], repeat=rbm.n_hidden)), dtype=float)
    return V, H, (V @ b)[:, None] + (H @ c)[None, :] + V @ W @ H.T     # -E(v, h)


@pytest.mark.parametrize("n_v, n_h", [(5, 3), (3, 6), (4, 4)])
def test_free_energy_partition_function_and_likelihood_by_enumeration(n_v, n_h):
    rbm = _rbm(n_v, n_h, seed=n_v + n_h)
    V, H, neg_E = _brute_force(rbm)
    log_Z = np.logaddexp.reduce(neg_E.ravel())
    assert abs(rbm.log_partition() - log_Z) < 1e-10              # both branches (smaller layer)
    Vt = torch.tensor(V)
    F_brute = -np.logaddexp.reduce(neg_E, axis=1)
    assert np.allclose(rbm.free_energy(Vt).detach().numpy(), F_brute, atol=1e-10)
    assert np.allclose(rbm.log_likelihood(Vt).numpy(), -F_brute - log_Z, atol=1e-10)
    assert abs(torch.logsumexp(rbm.log_likelihood(Vt), 0).item()) < 1e-10   # p sums to one
    # energy(v, h) and the conditionals
    Ht = torch.tensor(H)
    i, j = np.meshgrid(np.arange(len(V)), np.arange(len(H)), indexing="ij")
    E = rbm.energy(Vt[i.ravel()], Ht[j.ravel()]).detach().numpy().reshape(len(V), len(H))
    assert np.allclose(-E, neg_E, atol=1e-12)
    p_h = np.exp(neg_E - np.logaddexp.reduce(neg_E, axis=1, keepdims=True))   # p(h | v)
    assert np.allclose(rbm.p_h_given_v(Vt).detach().numpy(), p_h @ H, atol=1e-12)
    p_v = np.exp(neg_E - np.logaddexp.reduce(neg_E, axis=0, keepdims=True))   # p(v | h)
    assert np.allclose(rbm.p_v_given_h(Ht).detach().numpy(), p_v.T @ V, atol=1e-12)


def test_cd_gradients_are_minus_the_gradient_of_the_free_energy_gap():
    rbm = _rbm(6, 4, seed=1)
    v = torch.bernoulli(torch.full((20, 6), 0.4, dtype=torch.float64))
    torch.manual_seed(3)
    v_k = rbm.gibbs(v, 1)
    dW, db, dc = rbm.cd_gradients(v, v_k)
    rbm.zero_grad()
    (rbm.free_energy(v) - rbm.free_energy(v_k)).mean().backward()
    assert torch.allclose(dW, -rbm.W.grad, atol=1e-12)
    assert torch.allclose(db, -rbm.b.grad, atol=1e-12) and torch.allclose(dc, -rbm.c.grad, atol=1e-12)


def test_with_exact_model_statistics_the_gradient_is_that_of_the_log_likelihood():
    """Replacing the chain's end by the exact model average gives ∇ mean log p(v) (autograd)."""
    rbm = _rbm(5, 3, seed=2)
    v = torch.bernoulli(torch.full((15, 5), 0.5, dtype=torch.float64))
    V = energy.all_binary(5)
    with torch.no_grad():
        p_model = torch.exp(rbm.log_likelihood(V))
        ph_data, ph_model = rbm.p_h_given_v(v), rbm.p_h_given_v(V)
    dW = v.T @ ph_data / len(v) - (V * p_model[:, None]).T @ ph_model
    rbm.zero_grad()
    log_Z = torch.logsumexp(-rbm.free_energy(V), 0)            # differentiable log Z
    (-rbm.free_energy(v) - log_Z).mean().backward()
    assert torch.allclose(dW, rbm.W.grad, atol=1e-12)


def test_gibbs_chain_samples_the_model():
    rbm = _rbm(4, 3, seed=4, scale=0.8)
    torch.manual_seed(0)
    samples = rbm.sample(20000, n_steps=50)
    V = energy.all_binary(4)
    idx = (samples @ (2.0 ** torch.arange(3, -1, -1, dtype=torch.float64))).long()
    freq = torch.bincount(idx, minlength=16).double() / len(samples)
    assert torch.allclose(freq, torch.exp(rbm.log_likelihood(V)), atol=0.015)


def _binary_digits():
    return torch.tensor((data.digits()[0].reshape(-1, 64) > 0.5).astype(np.float32))


@pytest.mark.parametrize("seed", range(5))
def test_cd1_increases_the_exact_log_likelihood_of_digits_for_five_seeds(seed):
    """The notebook's claim at a reduced budget: exact log-likelihood, evaluated every 100 CD-1
    steps, increases at each evaluation, and by more than 2 nats in all."""
    V = _binary_digits()
    torch.manual_seed(seed)
    rbm = energy.RBM(64, 12)
    with torch.no_grad():
        rbm.b.copy_(torch.logit(V.mean(0).clamp(0.01, 0.99)))
    lls = [rbm.log_likelihood(V).mean().item()]
    for epoch in range(5):
        nets.train(rbm, V, None, n_steps=100, batch_size=64, lr=0.1, loss="mean", optimizer="sgd",
                   seed=10 * seed + epoch, progress=False)
        lls.append(rbm.log_likelihood(V).mean().item())
    assert np.all(np.diff(lls) > 0), lls
    assert lls[-1] - lls[0] > 2, lls


@pytest.mark.parametrize("call, match", [
    (lambda: energy.RBM(0, 3), "n_visible"),
    (lambda: energy.RBM(3, 2, k=0), "k"),
    (lambda: energy.RBM(3, 2).free_energy(torch.zeros(2, 4)), "v"),
    (lambda: energy.RBM(3, 2).free_energy(torch.full((2, 3), 0.5)), "binary"),
    (lambda: energy.RBM(3, 2).free_energy(np.zeros((2, 3))), "v"),
    (lambda: energy.RBM(3, 2).energy(torch.zeros(2, 3), torch.zeros(3, 2)), "v and h"),
    (lambda: energy.RBM(3, 2).gibbs(torch.zeros(2, 3), 0), "n_steps"),
    (lambda: energy.RBM(30, 30).log_partition(), "too many"),
    (lambda: energy.all_binary(0), "n"),
])
def test_bad_input_raises_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
