"""Generative adversarial networks, Wasserstein GANs, and the variational bounds behind them
(Chapter 9).

A critic ``T`` (a discriminator, a potential) turns a divergence between the data ``P`` and the
model ``Q`` into a supremum of expectations, which samples can estimate and a network maximise:

    KL(P ‖ Q) = sup_T E_P[T] - E_Q[exp(T - 1)]                (Nguyen-Wainwright-Jordan),
    JS(P, Q)  = log 2 + ½ sup_D (E_P[log D] + E_Q[log(1 - D)])  (optimum D = p/(p+q)),
    W1(P, Q)  = sup_{Lip(f) <= 1} E_P[f] - E_Q[f]               (Kantorovich-Rubinstein).

A GAN plays the JS game against a generator ``x = G(z)``, ``z ~ N(0, Id)``; a Wasserstein GAN
plays the W1 game, the Lipschitz constraint enforced by weight clipping or a gradient penalty.

Public API (torch in, torch out)

Bounds (``t_p``, ``t_q``: the critic's values, or logits, at samples of ``P`` and of ``Q``)

* ``kl_lower_bound(t_p, t_q)`` → ``mean(t_p) - mean(exp(t_q - 1))`` (<= KL, equality at
  ``T = 1 + log p/q``).
* ``js_lower_bound(logit_p, logit_q)`` →
  ``log 2 + ½ mean(log σ(logit_p)) + ½ mean(log(1 - σ(logit_q)))`` (<= JS, equality at the
  optimal discriminator).
* ``optimal_discriminator(p, q)`` → ``p / (p + q)`` for density values at the same points.

Losses

* ``discriminator_loss(logit_real, logit_fake)`` → ``-mean log D(x) - mean log(1 - D(G(z)))``
  ``= 2 log 2 - 2 js_lower_bound``: the cross-entropy of real against fake.
* ``generator_loss(logit_fake, saturating=False)`` → ``-mean log D(G(z))`` (the non-saturating
  loss of Goodfellow et al.), or ``mean log(1 - D(G(z)))`` (the minimax one).
* ``critic_gap(f_real, f_fake)`` → ``mean f(x) - mean f(G(z))``: a lower bound of W1 when ``f``
  is 1-Lipschitz.
* ``gradient_penalty(critic, x_real, x_fake, t=None)`` → ``mean (‖∇f(x̂)‖ - 1)²`` at
  ``x̂ = t x + (1 - t) y``, ``t ~ U[0, 1]`` per pair (Gulrajani et al.); differentiable in the
  critic.
* ``clip_weights(critic, c)`` — clamps every parameter to ``[-c, c]`` (Arjovsky et al.).
* ``w1_estimate(critic, x_real, x_fake)`` → ``critic_gap / L̂`` with ``L̂ = max ‖∇f‖`` over the
  samples and their midpoints: the gap of the rescaled critic ``f / L̂``, 1-Lipschitz along the
  data as far as these points can tell. (The penalised optimum is steeper than 1: for a
  translation by ``δ`` the penalty ``λ (s - 1)²`` leaves the slope ``s = 1 + |δ| / (2λ)``, and
  the raw gap overestimates W1 by that factor.)

Training (``generator``: ``(B, z_dim) → (B, d)``; ``critic``: ``(B, d) → (B, 1)``; optimisers
are ``nets.Optimizer`` objects)

* ``gan_step(generator, critic, x_real, opt_g, opt_c, loss="gan", n_critic=1, gp_weight=1.0,
  clip=0.01, z=None)`` → ``(critic_loss, generator_loss)``: ``n_critic`` critic steps on the
  ``n_critic`` equal chunks of ``x_real``, each against fresh fakes, then one generator step;
  ``loss`` is ``"gan"`` (non-saturating), ``"wgan-gp"`` or ``"wgan-clip"``; ``z`` of shape
  ``(n_critic + 1, m, z_dim)`` fixes the latent draws.
* ``train_gan(generator, critic, X, n_steps, loss="gan", n_critic=1, batch_size=128, lr=1e-3,
  lr_critic=None, betas=(0.5, 0.999), gp_weight=1.0, clip=0.01, seed=0, progress=True,
  desc=...)`` → the critic loss of each step: ``nets.train`` with ``gan_step`` as its step
  (batches of ``n_critic * batch_size``); ``lr`` is the generator's step, ``lr_critic`` (default
  ``lr``) the critic's.
* ``train_critic(critic, x_real, sample_fake, n_steps, ...)`` → the critic alone, against a
  fixed sampler: maximises ``critic_gap - gp_weight * gradient_penalty``; returns the gaps.
* ``modes_covered(samples, centres, min_fraction=0.25, radius=None)`` →
  ``(n_covered, counts)``: each sample goes to its nearest centre (if within ``radius``, when
  given); a centre is covered when it receives at least ``min_fraction`` of its fair share
  ``n / K``.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import nets
from course_lib.utils import as_array, as_count, as_scalar, check_size

__all__ = [
    "clip_weights",
    "critic_gap",
    "discriminator_loss",
    "gan_step",
    "generator_loss",
    "gradient_penalty",
    "js_lower_bound",
    "kl_lower_bound",
    "modes_covered",
    "optimal_discriminator",
    "train_critic",
    "train_gan",
    "w1_estimate",
]

_LOSSES = ("gan", "wgan-gp", "wgan-clip")


def _t(x, name):
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point torch.Tensor, got {type(x).__name__}")
    if x.numel() == 0:
        raise ValueError(f"{name} must not be empty")
    if not torch.all(torch.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def _samples(X, name) -> int:
    """The number of samples of ``X``, a non-empty ``(n, d)`` batch of finite reals (array or
    tensor), checked here so that a message names ``name`` before ``nets.train`` sees ``X``."""
    if isinstance(X, torch.Tensor):
        if not X.is_floating_point() or X.ndim != 2:
            raise ValueError(f"{name} must be a real (n, d) tensor, got dtype {X.dtype} and "
                             f"shape {tuple(X.shape)}")
        if not torch.all(torch.isfinite(X)):
            raise ValueError(f"{name} contains NaN or infinite values")
        n = X.shape[0]
    else:
        n = as_array(X, name, ndim=2).shape[0]
    if n == 0:
        raise ValueError(f"{name} must hold at least one sample (row)")
    return n



def _module(m, name):
    if not isinstance(m, nn.Module):
        raise ValueError(f"{name} must be a torch.nn.Module, got {type(m).__name__}")
    return m


# ----------------------------------------------------------------------------- bounds

def kl_lower_bound(t_p, t_q):
    """``E_P[T] - E_Q[exp(T - 1)]`` from the critic's values on samples of ``P`` and ``Q``."""
    return _t(t_p, "t_p").mean() - torch.exp(_t(t_q, "t_q") - 1).mean()


def js_lower_bound(logit_p, logit_q):
    """``log 2 + ½ E_P[log D] + ½ E_Q[log(1 - D)]`` with ``D = σ(logit)`` (stable in the logits)."""
    return _js(_t(logit_p, "logit_p"), _t(logit_q, "logit_q"))


def _js(lp, lq):
    return math.log(2) - 0.5 * F.softplus(-lp).mean() - 0.5 * F.softplus(lq).mean()


def optimal_discriminator(p, q):
    """``D*(x) = p(x) / (p(x) + q(x))`` from density values (arrays or tensors, ``p + q > 0``)."""
    p, q = as_array(p, "p"), as_array(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {p.shape} and {q.shape}")
    if np.any(p < 0) or np.any(q < 0) or np.any(p + q <= 0):
        raise ValueError("p and q must be densities: >= 0 with p + q > 0")
    return p / (p + q)


# ----------------------------------------------------------------------------- losses

def discriminator_loss(logit_real, logit_fake):
    """``-E log σ(logit_real) - E log(1 - σ(logit_fake))`` (binary cross-entropy)."""
    return 2 * (math.log(2) - _js(_t(logit_real, "logit_real"), _t(logit_fake, "logit_fake")))


def generator_loss(logit_fake, saturating: bool = False):
    """Non-saturating ``-E log D(G(z))`` (default) or minimax ``E log(1 - D(G(z)))``."""
    lf = _t(logit_fake, "logit_fake")
    return -F.softplus(lf).mean() if saturating else F.softplus(-lf).mean()


def critic_gap(f_real, f_fake):
    """``E f(x) - E f(G(z))``: the critic's estimate of W1 when ``f`` is 1-Lipschitz."""
    return _t(f_real, "f_real").mean() - _t(f_fake, "f_fake").mean()


def gradient_penalty(critic, x_real, x_fake, t=None):
    """``E (‖∇_x f(x̂)‖ - 1)²`` at ``x̂ = t x_real + (1 - t) x_fake`` (``t ~ U[0, 1]`` unless
    given)."""
    critic = _module(critic, "critic")
    x_real, x_fake = _t(x_real, "x_real"), _t(x_fake, "x_fake")
    if x_real.shape != x_fake.shape or x_real.ndim != 2:
        raise ValueError(f"x_real and x_fake must have the same shape (B, d), "
                         f"got {tuple(x_real.shape)} and {tuple(x_fake.shape)}")
    if t is None:
        t = torch.rand(x_real.shape[0], 1, dtype=x_real.dtype, device=x_real.device)
    t = _t(t, "t").reshape(-1, 1)
    if t.shape[0] != x_real.shape[0]:
        raise ValueError(f"t must hold one number per pair ({x_real.shape[0]}), got {t.shape[0]}")
    with torch.enable_grad():         # the penalty needs ∇_x f even when called under no_grad
        x_hat = (t * x_real + (1 - t) * x_fake.detach()).requires_grad_(True)
        grad, = torch.autograd.grad(critic(x_hat).sum(), x_hat,
                                    create_graph=torch.is_grad_enabled())
        return ((grad.norm(dim=1) - 1) ** 2).mean()


@torch.no_grad()
def clip_weights(critic, c: float) -> None:
    """Clamp every parameter of ``critic`` to ``[-c, c]`` (the original WGAN's Lipschitz device)."""
    c = as_scalar(c, "c", positive=True)
    for p in _module(critic, "critic").parameters():
        p.clamp_(-c, c)


def w1_estimate(critic, x_real, x_fake) -> float:
    """The critic's estimate of W1: ``(mean f(x_real) - mean f(x_fake)) / L̂``, ``L̂`` the largest
    gradient norm of ``f`` at the samples and at the midpoints of the pairs
    ``(x_real_i, x_fake_i)``."""
    critic = _module(critic, "critic")
    x_real, x_fake = _t(x_real, "x_real"), _t(x_fake, "x_fake")
    if x_real.shape != x_fake.shape or x_real.ndim != 2:
        raise ValueError(f"x_real and x_fake must have the same shape (B, d), "
                         f"got {tuple(x_real.shape)} and {tuple(x_fake.shape)}")
    points = torch.cat([x_real, x_fake, 0.5 * (x_real + x_fake)]).detach().requires_grad_(True)
    with torch.enable_grad():
        values = critic(points)[:, 0]
        grad, = torch.autograd.grad(values.sum(), points)
    n = x_real.shape[0]
    gap = values[:n].mean() - values[n:2 * n].mean()
    return (gap / grad.norm(dim=1).max()).item()


# ----------------------------------------------------------------------------- training

def _z_dim(generator):
    first = next((m for m in generator.modules() if isinstance(m, nn.Linear)), None)
    if first is None:
        raise ValueError("generator must contain an nn.Linear layer (its first one reads z)")
    return first.in_features


def _critic_loss(critic, x, y, loss, gp_weight):
    if loss == "gan":
        return discriminator_loss(critic(x), critic(y))
    value = -critic_gap(critic(x), critic(y))
    if loss == "wgan-gp":
        value = value + gp_weight * gradient_penalty(critic, x, y)
    return value


def gan_step(generator, critic, x_real, opt_g, opt_c, loss: str = "gan", n_critic: int = 1,
             gp_weight: float = 1.0, clip: float = 0.01, z=None):
    """One round of the game: ``n_critic`` critic steps, then one generator step.

    Returns ``(critic_loss, generator_loss)`` of the last critic step and of the generator step.
    The generator loss is ``generator_loss`` for ``"gan"`` and ``-E f(G(z))`` for the WGANs.
    """
    generator, critic = _module(generator, "generator"), _module(critic, "critic")
    if loss not in _LOSSES:
        raise ValueError(f"loss must be one of {_LOSSES}, got {loss!r}")
    if not isinstance(opt_g, nets.Optimizer) or not isinstance(opt_c, nets.Optimizer):
        raise ValueError("opt_g and opt_c must be course_lib.nets.Optimizer instances")
    n_critic = as_count(n_critic, "n_critic")
    x_real = _t(x_real, "x_real")
    if x_real.ndim != 2 or x_real.shape[0] % n_critic:
        raise ValueError(f"x_real must have shape (B, d) with B a multiple of n_critic={n_critic}, "
                         f"got {tuple(x_real.shape)}")
    m = x_real.shape[0] // n_critic
    if z is None:
        z = torch.randn(n_critic + 1, m, _z_dim(generator), dtype=x_real.dtype,
                        device=x_real.device)
    elif not isinstance(z, torch.Tensor) or z.ndim != 3 or z.shape[:2] != (n_critic + 1, m):
        raise ValueError(f"z must be a tensor of shape ({n_critic + 1}, {m}, z_dim)")
    for i, x in enumerate(x_real.split(m)):
        with torch.no_grad():
            y = generator(z[i])
        opt_c.zero_grad()
        lc = _critic_loss(critic, x, y, loss, gp_weight)
        lc.backward()
        opt_c.step()
        if loss == "wgan-clip":
            clip_weights(critic, clip)
    opt_g.zero_grad()
    out = critic(generator(z[-1]))
    lg = generator_loss(out) if loss == "gan" else -out.mean()
    lg.backward()
    opt_g.step()
    opt_c.zero_grad()                     # the generator step also filled the critic's gradients
    return lc.item(), lg.item()


def train_gan(generator, critic, X, n_steps: int, loss: str = "gan", n_critic: int = 1,
              batch_size: int = 128, lr: float = 1e-3, lr_critic=None, betas=(0.5, 0.999),
              gp_weight: float = 1.0, clip: float = 0.01, seed: int = 0, progress: bool = True,
              desc: str = "GAN") -> np.ndarray:
    """Train ``generator`` and ``critic`` by ``n_steps`` calls of ``gan_step`` (Adam for both
    players, written out in ``nets``); the batches, the seed and the progress bar are those of
    ``nets.train``. Returns the critic loss of each step."""
    generator, critic = _module(generator, "generator"), _module(critic, "critic")
    batch_size, n_critic = as_count(batch_size, "batch_size"), as_count(n_critic, "n_critic")
    if loss not in _LOSSES:
        raise ValueError(f"loss must be one of {_LOSSES}, got {loss!r}")
    opt_g = nets.Optimizer(generator.parameters(), "adam", lr, betas=betas)
    lr_c = lr if lr_critic is None else lr_critic
    opt_c = nets.Optimizer(critic.parameters(), "adam", lr_c, betas=betas)

    def step(x, _):
        return gan_step(generator, critic, x, opt_g, opt_c, loss, n_critic, gp_weight, clip)[0]

    n = _samples(X, "X")
    if n < n_critic * batch_size:
        raise ValueError(f"X must hold at least n_critic * batch_size = {n_critic * batch_size} "
                         f"samples, got {n}")
    both = nn.ModuleDict({"generator": generator, "critic": critic})
    return nets.train(both, X, None, n_steps, batch_size=n_critic * batch_size, seed=seed,
                      progress=progress, desc=desc, step=step)


def train_critic(critic, x_real, sample_fake, n_steps: int, batch_size: int = 256, lr: float = 1e-3,
                 betas=(0.5, 0.9), gp_weight: float = 1.0, seed: int = 0, progress: bool = True,
                 desc: str = "critic") -> np.ndarray:
    """Fit a WGAN-GP critic between the samples ``x_real`` and a fixed sampler ``sample_fake(m)``
    (a frozen generator): maximise ``critic_gap - gp_weight * gradient_penalty``. Returns the
    gaps."""
    critic = _module(critic, "critic")
    if not callable(sample_fake):
        raise ValueError("sample_fake must be a callable m -> (m, d) tensor")
    _samples(x_real, "x_real")
    opt = nets.Optimizer(critic.parameters(), "adam", lr, betas=betas)

    def step(x, _):
        with torch.no_grad():
            y = sample_fake(x.shape[0])
        bad = not isinstance(y, torch.Tensor) or y.shape != x.shape
        if bad or not torch.all(torch.isfinite(y)):
            raise ValueError(f"sample_fake must return a finite tensor of shape {tuple(x.shape)}")
        opt.zero_grad()
        gap = critic_gap(critic(x), critic(y))
        (-gap + gp_weight * gradient_penalty(critic, x, y)).backward()
        opt.step()
        return gap.item()

    return nets.train(critic, x_real, None, n_steps, batch_size=batch_size, seed=seed,
                      progress=progress, desc=desc, step=step)


def modes_covered(samples, centres, min_fraction: float = 0.25, radius=None):
    """Number of centres that receive at least ``min_fraction * n / K`` of the ``n`` samples, each
    sample counted at its nearest centre (only if closer than ``radius``, when given)."""
    Y = as_array(samples, "samples", ndim=2)
    C = as_array(centres, "centres", ndim=2)
    if C.shape[1] != Y.shape[1]:
        raise ValueError(f"centres must have the dimension of samples ({Y.shape[1]}), "
                         f"got {C.shape[1]}")
    if len(Y) == 0 or len(C) == 0:
        raise ValueError(f"samples and centres must not be empty, got {len(Y)} samples and "
                         f"{len(C)} centres")
    min_fraction = as_scalar(min_fraction, "min_fraction", positive=True)
    check_size(Y.shape + (len(C),), "samples")
    dist = np.linalg.norm(Y[:, None, :] - C[None], axis=2)
    nearest = dist.argmin(1)
    if radius is not None:
        nearest = nearest[dist.min(1) < as_scalar(radius, "radius", positive=True)]
    counts = np.bincount(nearest, minlength=len(C))
    return int(np.sum(counts >= min_fraction * len(Y) / len(C))), counts
