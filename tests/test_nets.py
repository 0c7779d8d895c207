"""Tests of course_lib.nets: attention against torch's SDPA and nn.MultiheadAttention (float64),
convolution matrices against conv1d, Jacobians against autograd, training against least squares."""
import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import nets


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# ----------------------------------------------------------------------------- attention

MASKS = {
    "none": lambda L, S: None,
    "bool": lambda L, S: torch.rand(L, S, generator=torch.Generator().manual_seed(3)) > 0.3,
    "float": lambda L, S: randn(L, S, seed=4),
    "bool-batched": lambda L, S: torch.rand(2, 1, L, S, generator=torch.Generator().manual_seed(5)) > 0.3,
}


@pytest.mark.parametrize("mask_name", MASKS)
@pytest.mark.parametrize("L, S", [(5, 5), (4, 7)])
def test_attention_equals_torch_sdpa(mask_name, L, S):
    q, k, v = randn(2, 3, L, 8, seed=0), randn(2, 3, S, 8, seed=1), randn(2, 3, S, 6, seed=2)
    mask = MASKS[mask_name](L, S)
    if mask is not None and mask.dtype == torch.bool:
        mask[..., 0] = True                      # every query sees at least one key (no NaN rows)
    out, w = nets.attention(q, k, v, mask=mask)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert out.dtype == torch.float64
    assert torch.allclose(out, ref, rtol=0, atol=1e-13)
    assert torch.allclose(w.sum(-1), torch.ones((), dtype=torch.float64), atol=1e-14)


def test_causal_attention_equals_torch_sdpa():
    q, k, v = randn(3, 6, 4, seed=0), randn(3, 6, 4, seed=1), randn(3, 6, 5, seed=2)
    out, w = nets.attention(q, k, v, causal=True)
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert torch.allclose(out, ref, rtol=0, atol=1e-13)
    assert torch.all(w.triu(1) == 0)             # no weight on the future
    pad = torch.ones(6, 6, dtype=torch.bool)     # causal and a padding mask together
    pad[:, 4:] = False
    out2, _ = nets.attention(q, k, v, mask=pad, causal=True)
    ref2 = F.scaled_dot_product_attention(q, k, v, attn_mask=pad & torch.ones(6, 6, dtype=torch.bool).tril())
    assert torch.allclose(out2, ref2, rtol=0, atol=1e-13)


def test_attention_of_equal_keys_is_the_average_of_values():
    q, v = randn(4, 3, seed=0), randn(5, 2, seed=1)
    k = torch.ones(5, 3, dtype=torch.float64)
    out, w = nets.attention(q, k, v)
    assert torch.allclose(w, torch.full((4, 5), 0.2, dtype=torch.float64))
    assert torch.allclose(out, v.mean(0).expand(4, 2))


def copy_to_torch_mha(mha):
    ref = torch.nn.MultiheadAttention(mha.d_model, mha.n_heads, batch_first=True).double()
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([mha.q_proj.weight, mha.k_proj.weight, mha.v_proj.weight]))
        ref.in_proj_bias.copy_(torch.cat([mha.q_proj.bias, mha.k_proj.bias, mha.v_proj.bias]))
        ref.out_proj.weight.copy_(mha.out_proj.weight)
        ref.out_proj.bias.copy_(mha.out_proj.bias)
    return ref


@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_attention_equals_torch(causal):
    torch.manual_seed(0)
    mha = nets.MultiHeadAttention(12, 3).double()
    ref = copy_to_torch_mha(mha)
    x = randn(2, 7, 12, seed=1)
    out = mha(x, causal=causal)
    # torch's boolean attn_mask is the other way round: True = may NOT attend
    mask = torch.ones(7, 7, dtype=torch.bool).triu(1) if causal else None
    want, want_w = ref(x, x, x, attn_mask=mask, average_attn_weights=False)
    assert torch.allclose(out, want, rtol=0, atol=1e-13)
    assert mha.weights.shape == (2, 3, 7, 7) and torch.allclose(mha.weights, want_w, atol=1e-13)


def test_self_attention_without_positions_is_permutation_equivariant():
    torch.manual_seed(0)
    block = nets.TransformerBlock(16, 4).double()
    x = randn(3, 9, 16, seed=2)
    perm = torch.randperm(9, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(block(x)[:, perm], block(x[:, perm]), atol=1e-13)
    assert torch.allclose(block.attn(x)[:, perm], block.attn(x[:, perm]), atol=1e-13)


def test_positions_break_permutation_equivariance():
    torch.manual_seed(0)
    tokens = torch.tensor([[1, 2, 3, 4, 5, 6]])
    perm = torch.tensor([5, 4, 3, 2, 1, 0])
    for positions, equivariant in [(None, True), ("sinusoidal", False), ("learned", False)]:
        model = nets.TinyTransformer(8, 16, 2, 2, max_len=6, positions=positions).double()
        same = torch.allclose(model(tokens)[:, perm], model(tokens[:, perm]), atol=1e-12)
        assert same == equivariant, positions


def test_sinusoidal_positions_closed_form_and_shifts():
    P = nets.sinusoidal_positions(50, 8).double()
    t, i = 17, 2
    w = 10000.0 ** (-2 * i / 8)
    assert math.isclose(P[t, 2 * i], math.sin(t * w), abs_tol=1e-6)
    assert math.isclose(P[t, 2 * i + 1], math.cos(t * w), abs_tol=1e-6)
    # P[t + s] = R_s P[t]: each (sin, cos) pair is rotated by the angle s * omega_i, whatever t
    s = 5
    omega = 10000.0 ** (-torch.arange(0, 8, 2, dtype=torch.float64) / 8)
    c, sn = torch.cos(s * omega), torch.sin(s * omega)
    sin_t, cos_t = P[:-s, 0::2], P[:-s, 1::2]
    assert torch.allclose(P[s:, 0::2], sin_t * c + cos_t * sn, atol=1e-6)
    assert torch.allclose(P[s:, 1::2], cos_t * c - sin_t * sn, atol=1e-6)


def test_tiny_transformer_shapes_and_attention_maps():
    torch.manual_seed(0)
    model = nets.TinyTransformer(10, 16, 4, 2, max_len=8, n_out=3)
    logits = model(torch.randint(0, 10, (5, 8)))
    assert logits.shape == (5, 8, 3)
    maps = model.attention_maps()
    assert len(maps) == 2 and maps[0].shape == (5, 4, 8, 8)
    assert torch.allclose(maps[1].sum(-1), torch.ones(5, 4, 8))


def test_causal_transformer_does_not_look_ahead():
    torch.manual_seed(0)
    model = nets.TinyTransformer(10, 16, 2, 2, max_len=8, causal=True).double()
    a = torch.tensor([[1, 2, 3, 4, 5, 6, 7, 8]])
    b = a.clone()
    b[0, 5:] = 0                                   # change the future only
    assert torch.allclose(model(a)[:, :5], model(b)[:, :5], atol=1e-13)
    assert not torch.allclose(model(a)[:, 5:], model(b)[:, 5:])


# ----------------------------------------------------------------------------- convolution

def torch_conv1d(x, w, padding, circular):
    x, w = torch.tensor(x)[None, None], torch.tensor(w)[None, None]
    if circular:
        return F.conv1d(F.pad(x, (padding, padding), mode="circular"), w)[0, 0].numpy()
    return F.conv1d(x, w, padding=padding)[0, 0].numpy()


@settings(max_examples=40, deadline=None)
@given(n=st.integers(3, 20), k=st.integers(1, 5), padding=st.integers(0, 3), circular=st.booleans(),
       seed=st.integers(0, 2**16))
def test_conv1d_matrix_equals_torch_conv1d(n, k, padding, circular, seed):
    rng = np.random.default_rng(seed)
    k = min(k, n + 2 * padding)
    x, w = rng.standard_normal(n), rng.standard_normal(k)
    M = nets.conv1d_matrix(w, n, padding=padding, circular=circular)
    assert M.shape == (n + 2 * padding - k + 1, n)
    assert np.allclose(M @ x, torch_conv1d(x, w, padding, circular), rtol=0, atol=1e-12)


def test_conv1d_matrix_is_toeplitz_and_circulant():
    w = np.array([1.0, -2.0, 3.0])
    M = nets.conv1d_matrix(w, 6)
    assert np.array_equal(M[0], [1, -2, 3, 0, 0, 0]) and np.array_equal(M[3], [0, 0, 0, 1, -2, 3])
    assert all(np.all(np.diag(M, d) == np.diag(M, d)[0]) for d in range(-M.shape[0] + 1, M.shape[1]))
    C = nets.conv1d_matrix(w, 6, padding=1, circular=True)
    assert C.shape == (6, 6) and np.allclose(C, np.roll(np.roll(C, 1, axis=0), 1, axis=1))


# ----------------------------------------------------------------------------- builders

def test_mlp_structure_and_parameter_count():
    net = nets.mlp([3, 5, 4, 2], activation="tanh")
    assert [type(m).__name__ for m in net] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert nets.count_parameters(net) == (3 * 5 + 5) + (5 * 4 + 4) + (4 * 2 + 2)
    square = nets.mlp([2, 3, 1], activation=lambda t: t**2).double()
    x = randn(4, 2)
    W1, b1, W2, b2 = square[0].weight, square[0].bias, square[2].weight, square[2].bias
    assert torch.allclose(square(x), ((x @ W1.T + b1) ** 2) @ W2.T + b2)


def test_plain_net_and_resnet_depths():
    assert nets.count_parameters(nets.plain_net(4, 8, 5, 3)) == (4 * 8 + 8) + 4 * (8 * 8 + 8) + (8 * 3 + 3)
    assert nets.count_parameters(nets.resnet(4, 8, 5, 3)) == (4 * 8 + 8) + 5 * 2 * (8 * 8 + 8) + (8 * 3 + 3)


def test_residual_block_jacobian_is_identity_plus_residual():
    torch.manual_seed(0)
    block = nets.ResidualBlock(5, scale=0.3, activation="tanh").double()
    x = randn(5, seed=1)
    J = torch.autograd.functional.jacobian(block, x)
    W1, b1, W2 = block.lin1.weight, block.lin1.bias, block.lin2.weight
    dv = W2 @ torch.diag(1 - torch.tanh(W1 @ x + b1) ** 2) @ W1
    assert torch.allclose(J, torch.eye(5, dtype=torch.float64) + 0.3 * dv, atol=1e-14)


def test_small_cnn_on_digit_shaped_input():
    torch.manual_seed(0)
    net = nets.small_cnn()
    assert net(torch.zeros(3, 1, 8, 8)).shape == (3, 10)
    assert net[0].weight.shape == (16, 1, 3, 3)
    assert nets.count_parameters(net) == (16 * 9 + 16) + (32 * 16 * 9 + 32) + (32 * 2 * 2 * 10 + 10)


# ----------------------------------------------------------------------------- training

def test_train_reaches_the_least_squares_solution():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((50, 3))
    y = A @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(50)
    torch.manual_seed(0)
    model = nets.mlp([3, 1], bias=False).double()
    losses = nets.train(model, A, y, n_steps=100, batch_size=50, lr=0.4, loss="mse", optimizer="sgd",
                        progress=False)
    w_star = np.linalg.lstsq(A, y, rcond=None)[0]
    assert np.allclose(model[0].weight.detach().numpy().ravel(), w_star, atol=1e-8)
    assert losses[-1] < losses[0]
    assert math.isclose(nets.evaluate(model, A, y, loss="mse"), np.mean((A @ w_star - y) ** 2), rel_tol=1e-8)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_train_has_the_iterates_of_torch_optim(optimizer):
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((30, 3)), rng.integers(0, 2, 30)
    torch.manual_seed(0)
    ours = nets.mlp([3, 6, 2], activation="tanh").double()
    theirs = copy.deepcopy(ours)
    nets.train(ours, X, y, n_steps=25, batch_size=30, lr=0.05, optimizer=optimizer, weight_decay=0.01,
               progress=False)
    make = torch.optim.Adam if optimizer == "adam" else torch.optim.SGD
    opt = make(theirs.parameters(), lr=0.05, weight_decay=0.01)
    for _ in range(25):                          # full batch: the order of the samples does not matter
        opt.zero_grad()
        F.cross_entropy(theirs(torch.tensor(X)), torch.tensor(y)).backward()
        opt.step()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert torch.allclose(p, q, rtol=0, atol=1e-12)


def test_train_is_seeded_and_accuracy_counts_argmax():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 2))
    y = (X[:, 0] > 0).astype(int)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = nets.mlp([2, 8, 2])
        runs.append(nets.train(model, X, y, n_steps=30, batch_size=16, lr=1e-2, seed=3, progress=False))
    assert np.array_equal(runs[0], runs[1])
    pred = model(torch.tensor(X, dtype=torch.float32)).argmax(1).numpy()
    assert nets.accuracy(model, X, y) == np.mean(pred == y)


def test_cosine_schedule_with_warmup_has_the_iterates_of_torch_lambda_lr():
    rng = np.random.default_rng(7)
    X, y = rng.standard_normal((30, 3)), rng.integers(0, 2, 30)
    torch.manual_seed(0)
    ours = nets.mlp([3, 6, 2], activation="tanh").double()
    theirs = copy.deepcopy(ours)
    n, warmup = 20, 5
    nets.train(ours, X, y, n_steps=n, batch_size=30, lr=0.05, schedule="cosine", warmup=warmup,
               progress=False)
    opt = torch.optim.Adam(theirs.parameters(), lr=0.05)
    factor = lambda t: min(1, (t + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * t / n))  # noqa: E731
    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    for _ in range(n):
        opt.zero_grad()
        F.cross_entropy(theirs(torch.tensor(X)), torch.tensor(y)).backward()
        opt.step()
        sched.step()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert torch.allclose(p, q, rtol=0, atol=1e-12)


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.9), (0.0, 0.99)])
def test_optimizer_object_has_the_iterates_of_torch_optim(betas):
    rng = np.random.default_rng(5)
    X, y = torch.tensor(rng.standard_normal((20, 3))), torch.tensor(rng.standard_normal(20))
    torch.manual_seed(0)
    ours = nets.mlp([3, 5, 1], activation="tanh").double()
    theirs = copy.deepcopy(ours)
    opt = nets.Optimizer(ours.parameters(), "adam", lr=0.03, weight_decay=0.01, betas=betas)
    ref = torch.optim.Adam(theirs.parameters(), lr=0.03, weight_decay=0.01, betas=betas)
    for _ in range(15):
        for model, o in ((ours, opt), (theirs, ref)):
            o.zero_grad()
            F.mse_loss(model(X)[:, 0], y).backward()
            o.step()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert torch.allclose(p, q, rtol=0, atol=1e-12)


def test_he_init_has_variance_two_over_fan_in_and_keeps_the_signal():
    model = nets.he_init(nets.plain_net(1000, 1000, 3, 10), seed=1)
    for layer in model:
        if isinstance(layer, torch.nn.Linear):
            w = layer.weight.detach().double()
            assert abs(w.var().item() * w.shape[1] / 2 - 1) < 0.03 and not layer.bias.any()
    # E||relu(W x)||^2 = ||x||^2 for W ~ N(0, 2/n) (Chapter 4, signal propagation), one layer
    x = torch.randn(256, 1000, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        ratio = (model[:2](x) ** 2).sum(1).mean() / (x ** 2).sum(1).mean()
        default = (nets.plain_net(1000, 1000, 3, 10)[:2](x) ** 2).sum(1).mean() / (x ** 2).sum(1).mean()
    assert abs(ratio.item() - 1) < 0.1 and abs(6 * default.item() - 1) < 0.1   # PyTorch's: 1/6


# The claim of Section 7 of notebooks/04_kernels_to_transformers.ipynb, for other seeds: one block,
# the same sizes, data, step and schedule as the notebook.
@pytest.mark.parametrize("seed", range(5))
def test_a_tiny_transformer_learns_to_sort_for_every_seed(seed):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, 10, size=(9000, 8))
    targets = np.sort(tokens, axis=1)
    torch.manual_seed(seed)
    model = nets.TinyTransformer(10, d_model=64, n_heads=4, n_layers=1, max_len=8, d_ff=128)
    nets.train(model, tokens[:8000], targets[:8000], n_steps=150, batch_size=256, lr=1e-2,
               schedule="cosine", warmup=10, seed=seed, progress=False)
    with torch.no_grad():
        pred = model(torch.tensor(tokens[8000:])).argmax(-1).numpy()
    token_acc = np.mean(pred == targets[8000:])
    seq_acc = np.mean(np.all(pred == targets[8000:], axis=1))
    assert token_acc >= 0.99 and seq_acc >= 0.95, (seed, token_acc, seq_acc)


# The claim of Section 5 of notebooks/04_kernels_to_transformers.ipynb, for other seeds (of the
# data split and of the initialisation): at depth 32 and width 32, with 50 Adam steps, the default
# plain network does not train, He's initialisation lets it train partly, the ResNet trains.
@pytest.mark.parametrize("seed", range(5))
def test_depth_32_default_plain_he_plain_and_resnet_for_every_seed(seed):
    from course_lib import data
    images, labels = data.digits()
    idx = np.random.default_rng(seed).permutation(len(images))[:1200]
    X, y = images[idx].reshape(1200, -1), labels[idx]
    builders = {"plain": lambda: nets.plain_net(64, 32, 32, 10),
                "he": lambda: nets.he_init(nets.plain_net(64, 32, 32, 10), seed=seed),
                "resnet": lambda: nets.resnet(64, 32, 32, 10)}
    grad, loss = {}, {}
    for name, build in builders.items():
        torch.manual_seed(seed)
        model = build()
        F.cross_entropy(model(torch.tensor(X, dtype=torch.float32)), torch.tensor(y)).backward()
        grad[name] = model[0].weight.grad.norm().item()
        nets.train(model, X, y, n_steps=50, batch_size=256, lr=4e-3, seed=seed, progress=False)
        loss[name] = nets.evaluate(model, X, y)
    assert grad["plain"] < 1e-8 * grad["resnet"] and grad["he"] > 1e-3, grad
    assert loss["plain"] > 2.2 and loss["he"] < 2.0 and loss["resnet"] < 0.15, loss
    assert loss["he"] > 5 * loss["resnet"], loss


def test_train_with_betas_has_the_iterates_of_torch_adam():
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((30, 3)), rng.integers(0, 2, 30)
    torch.manual_seed(0)
    ours = nets.mlp([3, 6, 2]).double()
    theirs = copy.deepcopy(ours)
    nets.train(ours, X, y, n_steps=20, batch_size=30, lr=0.05, betas=(0.5, 0.9), progress=False)
    opt = torch.optim.Adam(theirs.parameters(), lr=0.05, betas=(0.5, 0.9))
    for _ in range(20):
        opt.zero_grad()
        F.cross_entropy(theirs(torch.tensor(X)), torch.tensor(y)).backward()
        opt.step()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert torch.allclose(p, q, rtol=0, atol=1e-12)


class _SquaredDistance(torch.nn.Module):
    """A per-sample loss ``|x - m|^2``: its mean is minimised at the mean of the data."""

    def __init__(self, d):
        super().__init__()
        self.m = torch.nn.Parameter(torch.zeros(d, dtype=torch.float64))

    def forward(self, x):
        return ((x - self.m) ** 2).sum(1)


def test_unsupervised_training_minimises_the_mean_of_the_output():
    X = np.random.default_rng(7).standard_normal((40, 2)) + [3.0, -1.0]
    model = _SquaredDistance(2)
    losses = nets.train(model, X, None, n_steps=200, batch_size=40, lr=0.1, loss="mean",
                        optimizer="sgd", progress=False)
    assert np.allclose(model.m.detach().numpy(), X.mean(0), atol=1e-10)
    assert losses[-1] < losses[0]
    same = _SquaredDistance(2)
    nets.train(same, X, None, n_steps=200, batch_size=40, lr=0.1, loss=lambda out: out.mean(),
               optimizer="sgd", progress=False)
    assert torch.equal(same.m, model.m)


def test_shuffle_false_visits_the_samples_in_order_and_step_replaces_the_update():
    X = np.arange(10.0)[:, None]
    seen = []
    losses = nets.train(_SquaredDistance(1), X, None, n_steps=4, batch_size=4, shuffle=False,
                        progress=False, step=lambda xb, yb: seen.append(xb[:, 0].tolist()) or 1.5)
    assert seen == [[0, 1, 2, 3], [4, 5, 6, 7], [0, 1, 2, 3], [4, 5, 6, 7]]
    assert np.array_equal(losses, np.full(4, 1.5))


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("call, match", [
    (lambda: nets.mlp([3]), "widths"),
    (lambda: nets.mlp([3, 0, 2]), "widths"),
    (lambda: nets.mlp([3, 2], activation="swish"), "activation"),
    (lambda: nets.small_cnn(channels=(8,)), "channels"),
    (lambda: nets.plain_net(2, 8, 0, 1), "depth"),
    (lambda: nets.resnet(2, 8, 3, 1, scale="big"), "scale"),
    (lambda: nets.attention(randn(2, 3), randn(2, 4), randn(2, 4)), "q and k"),
    (lambda: nets.attention(randn(2, 3), randn(4, 3), randn(5, 3)), "k and v"),
    (lambda: nets.attention(np.ones((2, 3)), randn(2, 3), randn(2, 3)), "q"),
    (lambda: nets.attention(randn(2, 3), randn(2, 3), randn(2, 3), mask=torch.ones(3, 3)), "mask"),
    (lambda: nets.attention(randn(2, 3), randn(2, 3), randn(2, 3), mask=np.ones((2, 2))), "mask"),
    (lambda: nets.MultiHeadAttention(10, 3), "n_heads"),
    (lambda: nets.MultiHeadAttention(12, 3)(torch.zeros(2, 5, 8)), "x"),
    (lambda: nets.sinusoidal_positions(10, 7), "d_model"),
    (lambda: nets.TinyTransformer(10, 16, 2, 1, 8, positions="rotary"), "positions"),
    (lambda: nets.TinyTransformer(10, 16, 2, 1, 4)(torch.zeros(1, 6, dtype=torch.long)), "max_len"),
    (lambda: nets.TinyTransformer(10, 16, 2, 1, 4)(torch.zeros(1, 3)), "tokens"),
    (lambda: nets.conv1d_matrix([1.0, 2.0], 0), "n"),
    (lambda: nets.conv1d_matrix([[1.0, 2.0]], 5), "w"),
    (lambda: nets.conv1d_matrix([1.0] * 7, 5), "w"),
    (lambda: nets.conv1d_matrix([1.0, 2.0], 5, padding=-1), "padding"),
    (lambda: nets.train(nets.mlp([2, 2]), np.ones((4, 2)), np.zeros(3), n_steps=1), "X and y"),
    (lambda: nets.train(nets.mlp([2, 2]), np.ones((4, 2)), np.zeros(4), n_steps=0), "n_steps"),
    (lambda: nets.train(nets.mlp([2, 2]), np.ones((4, 2)), np.zeros(4), n_steps=1, lr=-1), "lr"),
    (lambda: nets.train(nets.mlp([2, 2]), np.ones((4, 2)), np.zeros(4), n_steps=1, optimizer="lbfgs"), "optimizer"),
    (lambda: nets.train(nets.mlp([2, 2]), np.ones((4, 2)), np.zeros(4), n_steps=1, loss="hinge"), "loss"),
    (lambda: nets.train(nets.mlp([2, 2]), np.full((4, 2), np.nan), np.zeros(4), n_steps=1), "X"),
    (lambda: nets.train("model", np.ones((4, 2)), np.zeros(4), n_steps=1), "model"),
    (lambda: nets.train(nets.mlp([2, 2]), np.ones((4, 2)), np.zeros(4), n_steps=1, seed=-1), "seed"),
    (lambda: nets.train(nets.mlp([2, 2]), np.ones((4, 2)), np.zeros(4), n_steps=1,
                        schedule="linear"), "schedule"),
    (lambda: nets.train(nets.mlp([2, 2]), np.ones((4, 2)), np.zeros(4), n_steps=1, warmup=-1),
     "warmup"),
    (lambda: nets.he_init("model"), "model"),
    (lambda: nets.he_init(nets.mlp([2, 2]), seed=-1), "seed"),
    (lambda: nets.train(nets.mlp([2, 2]), np.ones((4, 2)), None, n_steps=1), "loss"),
    (lambda: nets.train(nets.mlp([2, 2]), np.ones((4, 2)), np.zeros(4), n_steps=1, betas=(0.9, 1.0)), "betas"),
    (lambda: nets.train(nets.mlp([2, 2]), np.ones((4, 2)), np.zeros(4), n_steps=1, betas=0.9), "betas"),
    (lambda: nets.train(nets.mlp([2, 2]), np.ones((4, 2)), None, n_steps=1, step="adam"), "step"),
    (lambda: nets.train(nets.mlp([2, 2]), np.ones((4, 2)), None, n_steps=1, step=lambda x, y: None), "step"),
    (lambda: nets.Optimizer(nets.mlp([2, 2]).parameters(), "rmsprop"), "name"),
    (lambda: nets.Optimizer(torch.zeros(3), "sgd"), "params"),
    (lambda: nets.Optimizer(nets.mlp([2, 2]).parameters(), "sgd", lr=0), "lr"),
    (lambda: nets.train(nets.mlp([2, 2]), np.ones((4, 2)), None, n_steps=1,
                        loss=lambda out: out.sum() * float("nan"), progress=False), "nan at the first step"),
    (lambda: nets.train(nets.mlp([2, 2]), np.ones((4, 2)), None, n_steps=1,
                        loss=lambda out: out, progress=False), "scalar"),
])
def test_bad_input_raises_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
