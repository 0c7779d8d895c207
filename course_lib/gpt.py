"""Language models as next-token predictors: n-gram baselines and a GPT built from ``nets`` (Chapter 8).

A language model gives ``p(x_t | x_{<t})``; by the chain rule it scores a whole text,
``log p(x_1..x_n) = Σ_t log p(x_t | x_{<t})``, and its *cross-entropy* on held-out tokens,

    H = -(1/n) Σ_t log p(x_t | x_{<t})   (nats per token),   perplexity = e^H,

is the quantity that training by maximum likelihood minimises. The GPT of this chapter is
``nets.TinyTransformer(..., causal=True)``: the transformer block of Chapter 4 with the causal mask.

Public API

* ``ngram_cross_entropy(train, test, order, vocab_size, k=1.0)`` — held-out cross-entropy of the
  add-``k`` n-gram model ``p(w | c) = (N(c, w) + k) / (N(c) + k V)``, ``c`` the previous
  ``order - 1`` tokens (unigram: ``order = 1``); the test text continues the training text.
* ``windows(ids, context)`` — non-overlapping training pairs ``X[i] = ids[i c : (i+1) c]`` and
  ``Y[i] = ids[i c + 1 : (i+1) c + 1]`` (int64 arrays).
* ``gpt(vocab_size, d_model, n_heads, n_layers, context, d_ff=None, positions="learned")`` — a
  causal ``nets.TinyTransformer``.
* ``cross_entropy(model, ids, context, batch_size=64)`` — held-out cross-entropy of a model, in
  nats per token, over non-overlapping windows (each window starts without context).
* ``parameter_count(vocab_size, d_model, n_layers, context, d_ff=None, positions="learned")`` —

      V d + [L_ctx d] + n_layers (4 d² + 4 d + 2 d d_ff + d_ff + d + 4 d) + 2 d + d V + V,

  the embedding, the learned positions, per block the four projections, the MLP and two layer
  norms, the final layer norm and the head.
* ``flops_per_token(vocab_size, d_model, n_layers, context, d_ff=None)`` — forward matrix-product
  FLOPs per token, ``2 n_layers (4 d² + 2 d d_ff) + 4 n_layers L_ctx d + 2 d V`` (twice the weights
  that multiply each token, plus the scores ``Q Kᵀ`` and the mixing ``A V``; ``× 3`` with backward).
* ``generate(model, prompt, n_new, temperature=1.0, seed=0, cache=True)`` → ``(tokens, logits)``:
  sample ``n_new`` tokens; with ``cache`` the keys and values of past tokens are kept (one new
  token per forward pass, ``O(t)`` work at step ``t``); without, the whole sequence is recomputed
  (``O(t²)`` attention work at step ``t``). Both give the same tokens and logits up to round-off.
"""
from __future__ import annotations

import numbers

import numpy as np
import torch

from course_lib import nets
from course_lib.utils import as_choice, as_scalar, check_size

__all__ = ["cross_entropy", "flops_per_token", "generate", "gpt", "ngram_cross_entropy",
           "parameter_count", "windows"]


def _positive_int(x, name, minimum=1):
    if isinstance(x, bool) or not isinstance(x, numbers.Integral) or x < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {x!r}")
    return int(x)


def _model(model):
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch.nn.Module (e.g. from gpt(...)), got {type(model).__name__}")
    return model


def _ids(ids, name, vocab_size=None, min_len=1):
    a = np.asarray(ids)
    if a.ndim != 1 or a.size < min_len or not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D sequence of at least {min_len} integer ids")
    if a.min() < 0 or (vocab_size is not None and a.max() >= vocab_size):
        raise ValueError(f"{name} must hold ids in [0, {vocab_size}), got {a.min()}..{a.max()}")
    return a.astype(np.int64)


# ----------------------------------------------------------------------------- n-gram baselines

def ngram_cross_entropy(train, test, order: int, vocab_size: int, k: float = 1.0) -> float:
    """Held-out cross-entropy (nats per token) of the add-``k`` smoothed n-gram model.

    Counts ``N(c, w)`` of each context ``c`` (the ``order - 1`` previous tokens) followed by ``w``
    in ``train``; ``p(w | c) = (N(c, w) + k) / (N(c) + k V)``, which is ``1/V`` for an unseen
    context. Every token of ``test`` is scored, its context read from the end of ``train`` when it
    starts inside the test text. Contexts are numbered in base ``V`` (int64: ``V^order < 2^63``).
    """
    V = _positive_int(vocab_size, "vocab_size", 2)
    n = _positive_int(order, "order")
    k = as_scalar(k, "k", positive=True)
    train, test = _ids(train, "train", V, n), _ids(test, "test", V)
    if n * np.log(V) >= 62 * np.log(2):
        raise ValueError(f"order is too large for vocab_size={V}: V**order must fit in int64")

    def keys(seq, start):           # (context, next) as one integer, for positions >= start
        key = np.zeros(seq.size - start, dtype=np.int64)
        for j in range(n - 1, -1, -1):
            key = key * V + seq[start - j: seq.size - j]
        return key

    pair_keys = np.sort(keys(train, n - 1))
    ctx_keys = pair_keys // V                  # context of each training pair, sorted as well
    stream = np.concatenate([train[train.size - (n - 1):] if n > 1 else train[:0], test])
    q = keys(stream, n - 1)
    n_pair = np.searchsorted(pair_keys, q, "right") - np.searchsorted(pair_keys, q, "left")
    c = q // V
    n_ctx = np.searchsorted(ctx_keys, c, "right") - np.searchsorted(ctx_keys, c, "left")
    return float(-np.mean(np.log((n_pair + k) / (n_ctx + k * V))))


# ----------------------------------------------------------------------------- GPT

def windows(ids, context: int):
    """Non-overlapping inputs ``X`` and next-token targets ``Y``, both ``(n_windows, context)``."""
    context = _positive_int(context, "context")
    ids = _ids(ids, "ids", min_len=context + 1)
    n = (ids.size - 1) // context
    X = ids[: n * context].reshape(n, context)
    Y = ids[1: n * context + 1].reshape(n, context)
    return X, Y


def gpt(vocab_size: int, d_model: int, n_heads: int, n_layers: int, context: int,
        d_ff: int | None = None, positions: str = "learned") -> torch.nn.Module:
    """A decoder-only transformer: ``nets.TinyTransformer`` with the causal mask."""
    context = _positive_int(context, "context")
    d = _positive_int(d_model, "d_model")
    check_size((d, 4 * d), "d_model", 4)
    check_size((context, d), "context", 4)
    return nets.TinyTransformer(vocab_size, d_model, n_heads, n_layers, max_len=context, d_ff=d_ff,
                                positions=positions, causal=True)


@torch.no_grad()
def cross_entropy(model, ids, context: int, batch_size: int = 64) -> float:
    """Mean ``-log p(x_t | x_{<t})`` (nats) of ``model`` over the windows of ``ids``."""
    model = _model(model)
    X, Y = windows(ids, context)
    batch_size = _positive_int(batch_size, "batch_size")
    p = next(model.parameters())
    total = 0.0
    model.eval()
    for i in range(0, len(X), batch_size):
        x = torch.as_tensor(X[i:i + batch_size], device=p.device)
        y = torch.as_tensor(Y[i:i + batch_size], device=p.device)
        logits = model(x)
        total += float(torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                         y.reshape(-1), reduction="sum"))
    return total / Y.size


def parameter_count(vocab_size: int, d_model: int, n_layers: int, context: int,
                    d_ff: int | None = None, positions: str = "learned") -> int:
    """The number of parameters of ``gpt(...)``, from the formula of the notes."""
    V, d, n = (_positive_int(v, name) for v, name in
               ((vocab_size, "vocab_size"), (d_model, "d_model"), (n_layers, "n_layers")))
    L = _positive_int(context, "context")
    f = 4 * d if d_ff is None else _positive_int(d_ff, "d_ff")
    positions = as_choice(positions, "positions", ("sinusoidal", "learned", "rope", None))
    block = (4 * d * d + 4 * d) + (2 * d * f + f + d) + 2 * (2 * d)
    return V * d + (L * d if positions == "learned" else 0) + n * block + 2 * d + d * V + V


def flops_per_token(vocab_size: int, d_model: int, n_layers: int, context: int,
                    d_ff: int | None = None) -> int:
    """Forward matrix-product FLOPs per token (a multiply-add counts 2) over a full window."""
    V, d, n = (_positive_int(v, name) for v, name in
               ((vocab_size, "vocab_size"), (d_model, "d_model"), (n_layers, "n_layers")))
    L = _positive_int(context, "context")
    f = 4 * d if d_ff is None else _positive_int(d_ff, "d_ff")
    return 2 * n * (4 * d * d + 2 * d * f) + 4 * n * L * d + 2 * d * V


@torch.no_grad()
def generate(model, prompt, n_new: int, temperature: float = 1.0, seed: int = 0, cache: bool = True):
    """Sample ``n_new`` tokens after ``prompt``; returns ``(tokens, logits)`` as tensors.

    ``tokens`` holds the prompt and the new tokens; ``logits[t]`` are the logits from which new
    token ``t`` was drawn (``softmax(logits / temperature)``, drawn with a generator seeded by
    ``seed``). The total length must stay ``<= model.max_len``.
    """
    model = _model(model)
    n_new = _positive_int(n_new, "n_new")
    temperature = as_scalar(temperature, "temperature", positive=True)
    seed = _positive_int(seed, "seed", minimum=0)
    p = next(model.parameters())
    vocab = model.embed.num_embeddings if hasattr(model, "embed") else None
    tokens = torch.as_tensor(_ids(prompt, "prompt", vocab), device=p.device)[None]
    if tokens.shape[1] + n_new > model.max_len:
        raise ValueError(f"n_new: prompt + n_new = {tokens.shape[1] + n_new} exceeds "
                         f"max_len={model.max_len}")
    gen = torch.Generator(device=p.device).manual_seed(int(seed))
    kv = [{} for _ in model.blocks] if cache else None
    model.eval()
    logits = model(tokens, cache=kv)[:, -1]
    out = []
    for t in range(n_new):
        out.append(logits[0])
        probs = torch.softmax(logits / temperature, dim=-1)
        nxt = torch.multinomial(probs, 1, generator=gen)
        tokens = torch.cat([tokens, nxt], dim=1)
        if t + 1 < n_new:
            logits = model(nxt, cache=kv)[:, -1] if cache else model(tokens)[:, -1]
    return tokens[0], torch.stack(out)
