"""Tests of course_lib.autodiff.functions: the MLP and the softmax cross-entropy on every engine
against torch, their stability, and bad input."""
import numpy as np
import pytest
import torch

from course_lib import autodiff as ad
from tests._autodiff_helpers import float64_torch  # noqa: F401  (an autouse fixture)


# ----------------------------------------------------------------------------- MLP and loss

def test_mlp_softmax_cross_entropy_gradients_match_torch():
    rng = np.random.default_rng(10)
    params = ad.init_mlp([3, 8, 8, 4], rng)
    params = [(W, rng.standard_normal(b.shape)) for W, b in params]
    X, y = rng.standard_normal((20, 3)), rng.integers(0, 4, size=20)
    tparams = [(ad.Tensor(W), ad.Tensor(b)) for W, b in params]
    loss = ad.softmax_cross_entropy(ad.mlp(tparams, X), y)
    loss.backward()
    torch_params = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
                    for W, b in params]
    ref = torch.nn.functional.cross_entropy(ad.mlp(torch_params, torch.tensor(X)), torch.tensor(y))
    ref.backward()
    assert loss.value == pytest.approx(ref.item(), rel=1e-13)
    for (W, b), (tW, tb) in zip(tparams, torch_params):
        assert np.allclose(W.grad, tW.grad.numpy(), rtol=1e-10, atol=1e-14)
        assert np.allclose(b.grad, tb.grad.numpy(), rtol=1e-10, atol=1e-14)
    # the same loss on plain arrays, and its derivative along a direction by forward mode
    assert ad.softmax_cross_entropy(ad.mlp(params, X), y) == pytest.approx(ref.item(), rel=1e-13)
    V = rng.standard_normal(X.shape)
    tangent = ad.softmax_cross_entropy(ad.mlp(params, ad.Dual(X, V)), y).deriv
    Xt = ad.Tensor(X)
    ad.softmax_cross_entropy(ad.mlp(params, Xt), y).backward()
    assert tangent == pytest.approx(np.sum(Xt.grad * V), rel=1e-10)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    z = ad.Tensor(np.array([[1000.0, 0.0], [0.0, -1000.0]]))
    loss = ad.softmax_cross_entropy(z, np.array([0, 1]))
    loss.backward()
    assert loss.value == pytest.approx(500.0) and np.all(np.isfinite(z.grad))


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("make, match", [
    (lambda: ad.init_mlp([3]), "widths"),
    (lambda: ad.init_mlp([3, 0]), "widths"),
    (lambda: ad.mlp(ad.init_mlp([3, 2]), np.ones((4, 2))), "x"),
    (lambda: ad.mlp([], np.ones((4, 2))), "params"),
    (lambda: ad.softmax_cross_entropy(np.ones((3, 2)), np.array([0, 1, 2])), "labels"),
    (lambda: ad.softmax_cross_entropy(np.ones((3, 2)), np.array([0.0, 1.0, 1.0])), "labels"),
    (lambda: ad.softmax_cross_entropy(np.ones(3), np.array([0, 1, 1])), "logits"),
])
def test_bad_input_raises_value_error_naming_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()
