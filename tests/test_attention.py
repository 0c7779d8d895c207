"""Tests of course_lib.attention (flash attention and the online softmax against torch's SDPA and
scipy's softmax, float64) and of the rotary positions and KV cache that chapter 8 adds to nets."""
import math
import tracemalloc

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.special import softmax

from course_lib import attention, nets


def qkv(L, S, d=8, dv=5, batch=(2, 3), seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(batch + (L, d)), rng.standard_normal(batch + (S, d)),
            rng.standard_normal(batch + (S, dv)))


def sdpa(Q, K, V, causal):
    L, S = Q.shape[-2], K.shape[-2]
    mask = torch.ones(L, S, dtype=torch.bool).tril(S - L) if causal else None
    return F.scaled_dot_product_attention(*(torch.tensor(x) for x in (Q, K, V)), attn_mask=mask).numpy()


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("L, S, block", [(16, 16, 4), (37, 37, 8), (37, 37, 64), (33, 33, 5),
                                         (1, 1, 1), (7, 29, 3), (1, 50, 16), (50, 50, 1)])
def test_flash_attention_equals_sdpa(causal, L, S, block):
    Q, K, V = qkv(L, S)
    out = attention.flash_attention(Q, K, V, causal=causal, block_size=block)
    assert out.dtype == np.float64 and out.shape == (2, 3, L, 5)
    assert np.max(np.abs(out - sdpa(Q, K, V, causal))) < 1e-12
    assert np.max(np.abs(attention.naive_attention(Q, K, V, causal) - sdpa(Q, K, V, causal))) < 1e-12


def test_causal_equals_is_causal_when_square_and_differs_when_not():
    Q, K, V = qkv(12, 12)
    t = [torch.tensor(x) for x in (Q, K, V)]
    ref = F.scaled_dot_product_attention(*t, is_causal=True).numpy()
    assert np.max(np.abs(attention.flash_attention(Q, K, V, causal=True, block_size=5) - ref)) < 1e-12
    Q2 = Q[..., -4:, :]                      # 4 new queries against 12 keys: the decoding mask
    top_left = F.scaled_dot_product_attention(torch.tensor(Q2), t[1], t[2], is_causal=True).numpy()
    ours = attention.flash_attention(Q2, K, V, causal=True, block_size=5)
    assert np.max(np.abs(ours - sdpa(Q2, K, V, True))) < 1e-12
    assert np.max(np.abs(ours - top_left)) > 1e-3
    # and the decoding mask is what full causal attention gives for the last 4 rows
    assert np.max(np.abs(ours - attention.naive_attention(Q, K, V, True)[..., -4:, :])) < 1e-12


def test_large_scores_do_not_overflow():
    Q, K, V = qkv(20, 20)
    out = attention.flash_attention(300 * Q, K, V, block_size=3)
    assert np.all(np.isfinite(out)) and np.max(np.abs(out - sdpa(300 * Q, K, V, False))) < 1e-10


def test_torch_inputs_are_accepted():
    Q, K, V = (torch.tensor(x) for x in qkv(9, 9))
    out = attention.flash_attention(Q, K, V, causal=True, block_size=4)
    assert np.max(np.abs(out - F.scaled_dot_product_attention(Q, K, V, is_causal=True).numpy())) < 1e-12


@pytest.mark.parametrize("block", [1, 3, 7, 100])
def test_online_softmax_equals_softmax(block):
    x = np.random.default_rng(1).standard_normal((4, 3, 23)) * 30
    assert np.max(np.abs(attention.online_softmax(x, block) - softmax(x, axis=-1))) < 1e-15


def peak_bytes(f, *args, **kw):
    tracemalloc.start()
    f(*args, **kw)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_flash_attention_memory_is_linear():
    rng = np.random.default_rng(0)
    peak_bytes(attention.flash_attention, *qkv(8, 8, batch=()))    # warm-up
    sizes, flash, naive = [256, 512, 1024], [], []
    for N in sizes:
        Q, K, V = (rng.standard_normal((N, 32)) for _ in range(3))
        flash.append(peak_bytes(attention.flash_attention, Q, K, V, causal=True, block_size=16))
        naive.append(peak_bytes(attention.naive_attention, Q, K, V, causal=True))
    slope = lambda y: np.polyfit(np.log(sizes), np.log(y), 1)[0]  # noqa: E731
    assert 0.7 < slope(flash) < 1.1 and 1.8 < slope(naive) < 2.1
    assert naive[-1] > 8 * flash[-1]


def test_bad_input():
    Q, K, V = qkv(5, 5)
    with pytest.raises(ValueError, match="Q and K"):
        attention.flash_attention(Q, K[..., :3], V)
    with pytest.raises(ValueError, match="K and V"):
        attention.flash_attention(Q, K, V[..., :4, :])
    with pytest.raises(ValueError, match="batch"):
        attention.flash_attention(Q, K[:1], V[:1])
    for b in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="block_size"):
            attention.flash_attention(Q, K, V, block_size=b)
    with pytest.raises(ValueError, match="keys"):
        attention.flash_attention(Q, K[..., :3, :], V[..., :3, :], causal=True)
    with pytest.raises(ValueError, match="Q"):
        attention.flash_attention(np.ones(3), K, V)
    with pytest.raises(ValueError, match="NaN"):
        attention.flash_attention(np.full_like(Q, np.nan), K, V)
    with pytest.raises(ValueError, match="block_size"):
        attention.online_softmax(np.ones(4), 0)


# ----------------------------------------------------------------------------- nets: RoPE and cache

def test_rope_is_complex_multiplication_and_relative():
    gen = torch.Generator().manual_seed(0)
    q, k = (torch.randn(5, 16, generator=gen, dtype=torch.float64) for _ in range(2))
    rq = nets.apply_rope(q, offset=7)
    theta = 10000.0 ** (-torch.arange(0, 16, 2, dtype=torch.float64) / 16)
    z = torch.view_as_complex(q.reshape(5, 8, 2).contiguous())
    m = torch.arange(7, 12, dtype=torch.float64)[:, None]
    want = torch.view_as_real(z * torch.exp(1j * m * theta)).reshape(5, 16)
    assert torch.allclose(rq, want, atol=1e-13)
    assert torch.allclose(rq.norm(dim=-1), q.norm(dim=-1), atol=1e-13)       # a rotation

    def score(m, n):
        return (nets.apply_rope(q[:1], m) * nets.apply_rope(k[:1], n)).sum().item()
    for shift in (-9, 0, 4, 31):
        values = [score(m + shift, m) for m in (10, 13, 60, 210)]
        assert max(values) - min(values) < 1e-12
    assert abs(score(10, 0) - score(11, 0)) > 1e-3


def test_rope_offset_and_bad_input():
    x = torch.randn(2, 3, 10, 8, dtype=torch.float64)
    assert torch.allclose(nets.apply_rope(x)[..., 4:, :], nets.apply_rope(x[..., 4:, :], offset=4))
    with pytest.raises(ValueError, match="even"):
        nets.apply_rope(torch.randn(4, 5))
    with pytest.raises(ValueError, match="offset"):
        nets.apply_rope(x, offset=-1)
    with pytest.raises(ValueError, match="head size"):
        nets.MultiHeadAttention(6, 2, rope=True)


@pytest.mark.parametrize("positions", ["learned", "sinusoidal", "rope"])
def test_kv_cache_gives_the_logits_of_the_full_pass(positions):
    torch.manual_seed(0)
    model = nets.TinyTransformer(30, 16, 4, 2, max_len=24, causal=True, positions=positions).double()
    tokens = torch.randint(0, 30, (3, 20), generator=torch.Generator().manual_seed(1))
    full = model(tokens)
    cache = [{} for _ in model.blocks]
    steps = [model(tokens[:, :7], cache=cache)] + [model(tokens[:, t:t + 1], cache=cache)
                                                   for t in range(7, 20)]
    assert torch.allclose(torch.cat(steps, dim=1), full, rtol=0, atol=1e-12)
    assert cache[0]["k"].shape == (3, 4, 20, 4)
    two = [{} for _ in model.blocks]                 # chunks of several tokens: bottom-right mask
    chunked = torch.cat([model(tokens[:, :5], cache=two), model(tokens[:, 5:12], cache=two),
                         model(tokens[:, 12:], cache=two)], dim=1)
    assert torch.allclose(chunked, full, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="max_len"):
        model(tokens[:, :5], cache=cache)
    with pytest.raises(ValueError, match="cache"):
        model(tokens, cache=[{}])


def test_rope_model_is_causal_and_trains_shapes():
    torch.manual_seed(0)
    model = nets.TinyTransformer(10, 16, 2, 1, max_len=8, causal=True, positions="rope").double()
    a = torch.tensor([[1, 2, 3, 4, 5, 6, 7, 8]]) % 10
    b = a.clone()
    b[0, 5:] = 0
    assert torch.allclose(model(a)[:, :5], model(b)[:, :5], atol=1e-13)
    assert math.isclose(nets.count_parameters(model),
                        nets.count_parameters(nets.TinyTransformer(10, 16, 2, 1, 8, positions=None)))
