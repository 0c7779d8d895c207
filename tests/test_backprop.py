"""Tests of course_lib.backprop: the hand-written backward pass against torch.autograd, the
initialization scales, vanishing / exploding gradients, and bad input."""
import numpy as np
import pytest
import torch

from course_lib import backprop as B

RNG = np.random.default_rng


def _torch_mlp(params, x, activation):
    act = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
           "square": lambda t: t ** 2, "cube": lambda t: t ** 3, "identity": lambda t: t}[activation]
    tp = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)) for W, b in params]
    tx = torch.tensor(x, requires_grad=True)
    h = tx
    for k, (W, b) in enumerate(tp):
        h = h @ W.T + b
        if k < len(tp) - 1:
            h = act(h)
    return tp, tx, h


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "cube"])
def test_hand_backprop_equals_torch_autograd(activation):
    rng = RNG(6)
    params = B.mlp_init([3, 16, 8, 16, 2], rng, gain=1.2, activation=activation, bias_std=0.3)
    x, y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    out, cache = B.mlp_forward(params, x, activation)
    loss, grad_out = B.mse_loss(out, y)
    grads, grad_x = B.mlp_backward(params, cache, grad_out, activation)

    tp, tx, tout = _torch_mlp(params, x, activation)
    tloss = 0.5 * ((tout - torch.tensor(y)) ** 2).sum() / len(x)
    tloss.backward()
    assert _rel_err(out, tout) < 1e-13 and loss == pytest.approx(tloss.item(), rel=1e-13)
    for (dW, db), (W, b) in zip(grads, tp):
        assert _rel_err(dW, W.grad) < 1e-12 and _rel_err(db, b.grad) < 1e-12
    assert _rel_err(grad_x, tx.grad) < 1e-12


def _rel_err(ours, theirs):
    theirs = theirs.detach().numpy()
    return np.max(np.abs(ours - theirs)) / max(1.0, np.max(np.abs(theirs)))


def test_backprop_of_a_linear_functional_is_a_vector_jacobian_product():
    """dl/dx for l = <v, F(x)> is J^T v, with J from torch.autograd.functional.jacobian."""
    rng = RNG(7)
    params = B.mlp_init([4, 6, 3], rng, activation="tanh", bias_std=0.5)
    x, v = rng.standard_normal((1, 4)), rng.standard_normal((1, 3))
    _, cache = B.mlp_forward(params, x, "tanh")
    _, grad_x = B.mlp_backward(params, cache, v, "tanh")
    J = torch.autograd.functional.jacobian(lambda z: _forward_torch(params, z), torch.tensor(x[0]))
    assert np.allclose(grad_x[0], J.numpy().T @ v[0], atol=1e-12)


def _forward_torch(params, z):
    h = z
    for k, (W, b) in enumerate(params):
        h = torch.tensor(W) @ h + torch.tensor(b)
        if k < len(params) - 1:
            h = torch.tanh(h)
    return h


def test_mlp_init_scales():
    rng = RNG(8)
    (W1, b1), (W2, _) = B.mlp_init([400, 300, 200], rng, gain=0.5, activation="relu")
    assert np.std(W1) == pytest.approx(0.5 * np.sqrt(2 / 400), rel=0.02) and np.all(b1 == 0)
    (W1, _), = B.mlp_init([400, 300], rng, activation="tanh")
    assert np.std(W1) == pytest.approx(np.sqrt(1 / 400), rel=0.02)


def test_gradient_norms_vs_depth_grow_like_gain_per_layer():
    depths = np.array([2, 8, 14, 20])
    rates = {}
    for g in (0.7, 1.4):
        N = B.gradient_norms_vs_depth(depths, 64, g, RNG(9), n=16, n_seeds=3)
        assert N.shape == (3, 4)
        rates[g] = np.exp(np.polyfit(depths, np.log(N).mean(axis=0), 1)[0])
    assert rates[0.7] == pytest.approx(0.7, rel=0.05) and rates[1.4] == pytest.approx(1.4, rel=0.05)



# ----------------------------------------------------------------------------- bad input

def test_bad_input_raises_value_error_naming_the_argument():
    x = np.zeros((4, 2))
    params = B.mlp_init([2, 3, 1], 0)
    bad = [
        (lambda: B.mlp_init([3], 0), "widths"),
        (lambda: B.mlp_init([3, 2], 0, gain=0), "gain"),
        (lambda: B.mlp_forward(params, np.zeros((4, 5))), "x"),
        (lambda: B.mlp_forward([(np.ones((3, 2)), np.zeros(3)), (np.ones((1, 4)), np.zeros(1))], x), "params"),
        (lambda: B.mlp_forward([(np.ones((3, 2)), np.zeros(2))], x), "params"),
        (lambda: B.mlp_backward(params, {}, np.zeros((4, 1))), "cache"),
        (lambda: B.mlp_backward(params, B.mlp_forward(params, x)[1], np.zeros((4, 2))), "grad_out"),
        (lambda: B.mlp_backward(params, B.mlp_forward(params, x, "relu")[1], np.zeros((4, 1)), "tanh"),
         "activation"),
        (lambda: B.mse_loss(np.zeros(3), np.zeros(4)), "y"),
        (lambda: B.gradient_norms_vs_depth([0, 2], 8, 1.0, 0), "depths"),
        (lambda: B.gradient_norms_vs_depth([2], 8, 1.0, 0, n_seeds=0), "n_seeds"),
    ]
    for call, name in bad:
        with pytest.raises(ValueError, match=name):
            call()
