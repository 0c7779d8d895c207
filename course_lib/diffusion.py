"""Score-based diffusion and flow matching: noise data, learn to undo it (Chapter 7).

The forward process noises data ``x_0 ~ p_0`` into ``x_t = α(t) x_0 + σ(t) ε``, ``ε ~ N(0, Id)``,
``t ∈ [0, 1]``; it is the solution of the linear SDE ``dx = f(t) x dt + g(t) dW`` with
``f = (log α)'`` and ``g² = (σ²)' - 2 f σ²``. Sampling runs it backwards with the score
``s(x, t) = ∇ log p_t(x)``:

* reverse SDE (Anderson):      ``dx = [f x - g² s(x, t)] dt + g dW̄``   (``t`` from 1 down to 0);
* probability-flow ODE (Song): ``dx/dt = f x - ½ g² s(x, t)``         (same marginals ``p_t``).

Noise schedules (``t`` may be a float, a NumPy array or a torch tensor)

* ``vp_schedule(beta_min=0.1, beta_max=20.0)`` — variance preserving, ``β(t) = β_min + t (β_max - β_min)``:
  ``α = exp(-½ ∫_0^t β)``, ``σ² = 1 - α²``, ``f = -β/2``, ``g² = β`` (constant ``β``: Ornstein-Uhlenbeck).
* ``ve_schedule(sigma_min=0.01, sigma_max=10.0)`` — variance exploding: ``α = 1``,
  ``σ = σ_min (σ_max/σ_min)^t``, ``f = 0``, ``g² = 2 σ² log(σ_max/σ_min)``.
  Each is a ``NoiseSchedule``, with ``.alpha(t)``, ``.sigma(t)``, ``.drift(t)`` (``f``) and
  ``.diffusion2(t)`` (``g²``).

Gaussian mixtures ``p = Σ_k w_k N(m_k, C_k)``: everything in closed form (NumPy, float64)

* ``gmm_sample(n, weights, means, covs, rng=None)``, ``gmm_logpdf(x, ...)``,
  ``gmm_score(x, ...) = Σ_k r_k(x) C_k^{-1}(m_k - x)``, ``r_k(x) = w_k N(x; m_k, C_k) / p(x)``.
* ``gmm_noised(weights, means, covs, alpha, sigma)`` — the law of ``α x_0 + σ ε``:
  ``Σ_k w_k N(α m_k, α² C_k + σ² Id)``.
* ``gmm_marginal_score(weights, means, covs, schedule)`` — the exact score ``s(x, t)`` of ``p_t``.
* ``gmm_posterior_mean(x, weights, means, covs, alpha, sigma)`` — ``E[x_0 | α x_0 + σ ε = x]`` =
  ``Σ_k r_k(x) (m_k + α C_k (α² C_k + σ² Id)^{-1} (x - α m_k))`` (responsibilities of ``p_t``).
* ``gmm_flow_velocity(weights, means, covs)`` — the exact flow-matching field
  ``v(x, t) = E[x_1 - x_0 | (1 - t) x_0 + t x_1 = x]``, ``x_0 ~ N(0, Id)``, ``x_1 ~ p``.
* ``tweedie(x, t, score, schedule)`` — Tweedie's formula ``E[x_0 | x_t = x] = (x + σ² s(x, t)) / α``.

Samplers (NumPy; ``score(x, t)`` and ``velocity(x, t)`` map an ``(n, d)`` array and a float to an
``(n, d)`` array; uniform grids ``t_k`` from ``t_max`` down to ``t_min``, ``Δ = t_k - t_{k+1}``)

* ``reverse_sde_sample(score, x, schedule, n_steps, t_min=1e-3, t_max=1.0, rng=None, return_path=False)``
  — Euler-Maruyama: ``x ← x - Δ (f x - g² s) + g sqrt(Δ) z``.
* ``probability_flow_sample(score, x, schedule, n_steps, method="euler", t_min=1e-3, t_max=1.0,
  return_path=False)`` — Euler ``x ← x - Δ F(x, t_k)``, ``F = f x - ½ g² s``, or Heun (the average
  of the slopes at ``t_k`` and at the Euler point at ``t_{k+1}``).
* ``edm_sigmas(n_steps, sigma_min=0.002, sigma_max=80.0, rho=7.0)`` — Karras et al.'s noise levels
  ``σ_i = (σ_max^{1/ρ} + i/(N-1) (σ_min^{1/ρ} - σ_max^{1/ρ}))^ρ``, ``i < N``, and ``σ_N = 0``.
* ``edm_sample(score_sigma, x, sigmas, return_path=False)`` — Heun's method for the ODE
  ``dx/dσ = -σ ∇ log p_σ(x)`` of ``x_σ = x_0 + σ ε`` (Euler for the last step to ``σ = 0``).
* ``flow_matching_sample(velocity, x, n_steps, method="euler", return_path=False)`` —
  ``dx/dt = v(x, t)`` from ``t = 0`` (noise) to ``t = 1`` (data).
* ``straightness(path)`` — ``S = E ∫_0^1 ‖ẋ_s - (x_1 - x_0)‖² ds / E ‖x_1 - x_0‖²`` on a uniform
  grid of ``s`` (Liu et al.): 0 exactly for segments run at constant speed.
* ``path_length_ratio(path)`` — mean over the samples of (length of the path) / (distance between
  its ends): 1 for straight paths.

Learning (PyTorch)

* ``TimeMLP(dim, width=256, depth=3, n_freq=16, n_classes=None)`` — ``ε̂(x, t[, y])``: an MLP
  whose hidden layers ``h ← SiLU(W h + b + U φ(t, y))`` all receive the time features
  ``φ(t) = (sin(π j t), cos(π j t))_{j ≤ n_freq}`` (plus a learned class embedding, the row
  ``n_classes`` meaning "no label").
* ``dsm_loss(model, x0, schedule, t=None, eps=None, y=None, t_min=1e-3, generator=None)`` — denoising
  score matching in the noise parametrisation, ``mean_b ‖ε̂(α x_0 + σ ε, t) - ε‖²``, which is
  ``E σ² ‖s_θ(x_t, t) - ∇ log p(x_t | x_0)‖²`` for ``s_θ = -ε̂/σ``.
* ``fm_loss(model, x1, x0=None, t=None, y=None, generator=None, coupling="independent")`` —
  conditional flow matching, ``mean_b ‖v̂((1 - t) x_0 + t x_1, t) - (x_1 - x_0)‖²``, ``x_0 ~ N(0, Id)``;
  ``coupling="ot"`` first re-pairs the batch by ``ot_pairing`` (minibatch optimal transport).
* ``ot_pairing(x0, x1)`` — ``x1[σ]`` for the permutation minimising ``Σ_i ‖x0_i - x1_σ(i)‖²``
  (``course_lib.ot.emd``).
* ``train(model, X, n_steps, objective="dsm", schedule=None, y=None, p_uncond=0.1, batch_size=256,
  lr=1e-2, t_min=1e-3, seed=0, progress=True, desc="training", coupling="independent")`` — Adam
  with a learning rate decreasing linearly to 0; returns the minibatch losses.
* ``score_function(model, schedule, y=None, guidance=0.0)`` — the NumPy field
  ``s(x, t) = -ε̃(x, t)/σ(t)``, ``ε̃ = (1 + w) ε̂(x, t, y) - w ε̂(x, t, ∅)`` (classifier-free guidance
  with weight ``w``; ``y = None`` is the unconditional model).
* ``velocity_function(model, y=None, guidance=0.0)`` — the NumPy field of a velocity model.

Every function checks its input and raises ``ValueError`` naming the argument; a field (``score``,
``velocity``) that returns NaN, inf, ``None`` or a wrong shape raises ``ValueError`` naming it.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import ot
from course_lib.utils import (as_array, as_choice, as_count, as_rng, as_scalar, check_callable,
    check_result, check_size)

__all__ = [
    "NoiseSchedule",
    "TimeMLP",
    "dsm_loss",
    "edm_sample",
    "edm_sigmas",
    "flow_matching_sample",
    "fm_loss",
    "gmm_flow_velocity",
    "gmm_logpdf",
    "gmm_marginal_score",
    "gmm_noised",
    "gmm_posterior_mean",
    "gmm_sample",
    "gmm_score",
    "ot_pairing",
    "path_length_ratio",
    "probability_flow_sample",
    "reverse_sde_sample",
    "score_function",
    "straightness",
    "train",
    "tweedie",
    "ve_schedule",
    "velocity_function",
    "vp_schedule",
]


# ----------------------------------------------------------------------------- validation helpers


def _rng(rng) -> np.random.Generator:
    return as_rng(rng, "rng", allow_none=True)



def _field(f, name, x, t):
    """``f(x, t)`` as a finite float64 array shaped like ``x``, or ``ValueError`` naming ``f``."""
    return check_result(f(x, t), name, shape=x.shape, where=f"at t = {t:g}")


def _points(x, name="x", d=None):
    x = as_array(x, name, ndim=2)
    if x.shape[0] == 0 or (d is not None and x.shape[1] != d):
        want = "(n, d)" if d is None else f"(n, {d})"
        raise ValueError(f"{name} must have shape {want} with n >= 1, got {x.shape}")
    return x


def _xp(t):
    return torch if isinstance(t, torch.Tensor) else np


def _time(t, name="t"):
    if isinstance(t, torch.Tensor):
        if not torch.all(torch.isfinite(t)) or torch.any(t < 0) or torch.any(t > 1):
            raise ValueError(f"{name} must lie in [0, 1]")
        return t
    a = as_array(t, name)
    if np.any(a < 0) or np.any(a > 1):
        raise ValueError(f"{name} must lie in [0, 1], got {t!r}")
    return a if a.ndim else float(a)


def _scalar_time(t, name="t") -> float:
    """A single time in ``[0, 1]`` (a number, or a one-element tensor)."""
    if isinstance(t, torch.Tensor) and t.numel() == 1 and t.is_floating_point():
        t = t.item()
    return as_scalar(t, name, nonnegative=True, upper=1.0)


# ----------------------------------------------------------------------------- noise schedules

class NoiseSchedule:
    """The forward process ``x_t = α(t) x_0 + σ(t) ε`` of ``dx = f(t) x dt + g(t) dW``, ``t ∈ [0, 1]``.

    Build it with :func:`vp_schedule` or :func:`ve_schedule`. ``kind`` is ``"vp"`` or ``"ve"``,
    ``params`` the pair ``(beta_min, beta_max)`` or ``(sigma_min, sigma_max)``.
    """

    def __init__(self, kind: str, params):
        as_choice(kind, "kind", ("vp", "ve"))
        p = as_array(params, "params", shape=(2,))
        if np.any(p <= 0) or (p[1] < p[0] if kind == "vp" else p[1] <= p[0]):
            raise ValueError(f"params must be two positive numbers (min, max) with min "
                             f"{'<=' if kind == 'vp' else '<'} max, got {tuple(p)}")
        self.kind, self.params = kind, (float(p[0]), float(p[1]))

    def __repr__(self):
        names = ("beta_min", "beta_max") if self.kind == "vp" else ("sigma_min", "sigma_max")
        return f"{self.kind}_schedule({names[0]}={self.params[0]:g}, {names[1]}={self.params[1]:g})"

    def _B(self, t):  # ∫_0^t β, VP only
        b0, b1 = self.params
        return b0 * t + 0.5 * (b1 - b0) * t**2

    def beta(self, t):
        """``β(t)``, the rate of the VP process (``2 log(σ_max/σ_min)`` for VE has no such meaning)."""
        t = _time(t)
        b0, b1 = self.params
        return b0 + t * (b1 - b0)

    def alpha(self, t):
        """Signal coefficient ``α(t)``."""
        t = _time(t)
        if self.kind == "ve":
            return t * 0 + 1.0
        return _xp(t).exp(-0.5 * self._B(t))

    def sigma(self, t):
        """Noise standard deviation ``σ(t)``."""
        t = _time(t)
        xp = _xp(t)
        if self.kind == "vp":
            return xp.sqrt(-xp.expm1(-self._B(t)))
        s0, s1 = self.params
        return s0 * (s1 / s0) ** t

    def drift(self, t):
        """``f(t) = (log α)'(t)``: the drift of the forward SDE is ``f(t) x``."""
        t = _time(t)
        return -0.5 * self.beta(t) if self.kind == "vp" else t * 0 + 0.0

    def diffusion2(self, t):
        """``g(t)² = (σ²)' - 2 f σ²``."""
        t = _time(t)
        if self.kind == "vp":
            return self.beta(t)
        s0, s1 = self.params
        return 2 * self.sigma(t) ** 2 * math.log(s1 / s0)


def vp_schedule(beta_min=0.1, beta_max=20.0) -> NoiseSchedule:
    """Variance preserving: ``β(t) = β_min + t (β_max - β_min)``, ``α = e^{-½∫β}``, ``σ² = 1 - α²``."""
    b0 = as_scalar(beta_min, "beta_min", positive=True)
    b1 = as_scalar(beta_max, "beta_max", positive=True)
    if b1 < b0:
        raise ValueError(f"beta_max must be >= beta_min, got {b1} < {b0}")
    return NoiseSchedule("vp", (b0, b1))


def ve_schedule(sigma_min=0.01, sigma_max=10.0) -> NoiseSchedule:
    """Variance exploding: ``α = 1``, ``σ(t) = σ_min (σ_max/σ_min)^t``."""
    s0 = as_scalar(sigma_min, "sigma_min", positive=True)
    s1 = as_scalar(sigma_max, "sigma_max", positive=True)
    if s1 <= s0:
        raise ValueError(f"sigma_max must be > sigma_min, got {s1} <= {s0}")
    return NoiseSchedule("ve", (s0, s1))


def _schedule(schedule):
    if not isinstance(schedule, NoiseSchedule):
        raise ValueError(f"schedule must be a NoiseSchedule (vp_schedule or ve_schedule), "
                         f"got {type(schedule).__name__}")
    return schedule


# ----------------------------------------------------------------------------- Gaussian mixtures

def _gmm(weights, means, covs):
    w = as_array(weights, "weights", ndim=1)
    if w.size == 0 or np.any(w < 0) or abs(w.sum() - 1) > 1e-9:
        raise ValueError("weights must lie on the simplex (entries >= 0 summing to 1)")
    m = as_array(means, "means", ndim=2)
    if m.shape[0] != w.size:
        raise ValueError(f"means must have one row per weight, got shape {m.shape} for {w.size} weights")
    C = as_array(covs, "covs", shape=(w.size, m.shape[1], m.shape[1]))
    if not np.allclose(C, np.swapaxes(C, 1, 2)):
        raise ValueError("covs must be symmetric matrices")
    try:
        L = np.linalg.cholesky(C)
    except np.linalg.LinAlgError:
        raise ValueError("covs must be positive definite") from None
    return w, m, C, L


def _component_logpdf(x, m, L):
    """``log N(x; m_k, L_k L_kᵀ)`` for every row of ``x`` and component ``k``: shape ``(n, K)``."""
    d = x.shape[1]
    out = np.empty((x.shape[0], m.shape[0]))
    for k, (m_k, L_k) in enumerate(zip(m, L)):
        z = (x - m_k) @ np.linalg.inv(L_k).T                        # L_k^{-1} (x - m_k), row by row
        out[:, k] = -0.5 * np.sum(z**2, axis=1) - np.sum(np.log(np.diag(L_k)))
    return out - 0.5 * d * np.log(2 * np.pi)


def _responsibilities(x, w, m, L):
    with np.errstate(divide="ignore"):
        logp = _component_logpdf(x, m, L) + np.log(w)
    top = logp.max(axis=1, keepdims=True)
    r = np.exp(logp - top)
    return r / r.sum(1, keepdims=True), top[:, 0] + np.log(r.sum(1))


def gmm_sample(n, weights, means, covs, rng=None):
    """``n`` samples of ``Σ_k w_k N(m_k, C_k)``: returns ``(x, k)``, the points and their components."""
    n = as_count(n, "n")
    w, m, _, L = _gmm(weights, means, covs)
    check_size((2, n, m.shape[1]), "n")
    rng = _rng(rng)
    k = rng.choice(w.size, size=n, p=w / w.sum())
    z = rng.standard_normal((n, m.shape[1]))
    return m[k] + np.einsum("nij,nj->ni", L[k], z), k


def gmm_logpdf(x, weights, means, covs) -> np.ndarray:
    """``log p(x)`` for each row of ``x``, ``p = Σ_k w_k N(m_k, C_k)``."""
    w, m, _, L = _gmm(weights, means, covs)
    return _responsibilities(_points(x, d=m.shape[1]), w, m, L)[1]


def _score(x, w, m, C):
    r, _ = _responsibilities(x, w, m, np.linalg.cholesky(C))
    return sum(r[:, [k]] * ((m[k] - x) @ np.linalg.inv(C[k])) for k in range(w.size))


def _noised(w, m, C, a, s):
    return w, a * m, a**2 * C + s**2 * np.eye(m.shape[1])[None]


def _posterior_mean(x, w, m, C, a, s):
    wt, mt, Ct = _noised(w, m, C, a, s)
    r, _ = _responsibilities(x, wt, mt, np.linalg.cholesky(Ct))
    return sum(r[:, [k]] * (m[k] + a * (x - mt[k]) @ np.linalg.inv(Ct[k]) @ C[k])
               for k in range(w.size))


def gmm_score(x, weights, means, covs) -> np.ndarray:
    """``∇ log p(x) = Σ_k r_k(x) C_k^{-1} (m_k - x)`` for each row of ``x``."""
    w, m, C, _ = _gmm(weights, means, covs)
    return _score(_points(x, d=m.shape[1]), w, m, C)


def gmm_noised(weights, means, covs, alpha, sigma):
    """Parameters ``(w, α m, α² C + σ² Id)`` of the law of ``α x_0 + σ ε``, ``x_0 ~ Σ_k w_k N(m_k, C_k)``."""
    w, m, C, _ = _gmm(weights, means, covs)
    a = as_scalar(alpha, "alpha", nonnegative=True)
    s = as_scalar(sigma, "sigma", nonnegative=True)
    if a == 0 and s == 0:
        raise ValueError("alpha and sigma cannot both be 0")
    return _noised(w, m, C, a, s)


def gmm_marginal_score(weights, means, covs, schedule):
    """The exact score ``s(x, t) = ∇ log p_t(x)`` of the noised mixture ``p_t``, as a function."""
    w, m, C, _ = _gmm(weights, means, covs)
    schedule = _schedule(schedule)

    def score(x, t):
        t = _scalar_time(t)
        x = _points(x, d=m.shape[1])
        return _score(x, *_noised(w, m, C, float(schedule.alpha(t)), float(schedule.sigma(t))))

    return score


def gmm_posterior_mean(x, weights, means, covs, alpha, sigma) -> np.ndarray:
    """``E[x_0 | α x_0 + σ ε = x]`` for ``x_0 ~ Σ_k w_k N(m_k, C_k)``, ``ε ~ N(0, Id)``, in closed form:
    ``Σ_k r_k(x) (m_k + α C_k (α² C_k + σ² Id)^{-1} (x - α m_k))``, ``r_k`` the responsibilities
    of the noised mixture."""
    w, m, C, _ = _gmm(weights, means, covs)
    a = as_scalar(alpha, "alpha", nonnegative=True)
    s = as_scalar(sigma, "sigma", positive=True)
    return _posterior_mean(_points(x, d=m.shape[1]), w, m, C, a, s)


def gmm_flow_velocity(weights, means, covs):
    """The exact field ``v(x, t) = E[x_1 - x_0 | (1-t) x_0 + t x_1 = x]`` (``x_0 ~ N(0, Id)``,
    ``x_1`` from the mixture), as a function. With ``E_1 = E[x_1 | x]`` and the score ``s`` of the
    law of ``x_t``: ``v = (E_1 - x)/(1 - t)`` (used for ``t ≤ ½``) ``= (x + (1 - t) s)/t`` (``t > ½``)."""
    w, m, C, _ = _gmm(weights, means, covs)

    def velocity(x, t):
        t = _scalar_time(t)
        x = _points(x, d=m.shape[1])
        if t <= 0.5:
            return (_posterior_mean(x, w, m, C, t, 1 - t) - x) / (1 - t)
        return (x + (1 - t) * _score(x, *_noised(w, m, C, t, 1 - t))) / t

    return velocity


def tweedie(x, t, score, schedule) -> np.ndarray:
    """Tweedie's formula ``E[x_0 | x_t = x] = (x + σ(t)² s(x, t)) / α(t)``."""
    check_callable(score, "score")
    schedule = _schedule(schedule)
    x = _points(x)
    t = _scalar_time(t)
    a, s = float(schedule.alpha(t)), float(schedule.sigma(t))
    if a == 0:
        raise ValueError("t is so large that alpha(t) = 0: nothing is left of x_0")
    return (x + s**2 * _field(score, "score", x, t)) / a


# ----------------------------------------------------------------------------- samplers

def _grid(n_steps, t_min, t_max):
    n_steps = as_count(n_steps, "n_steps")
    check_size((n_steps + 1,), "n_steps")
    t_min, t_max = _scalar_time(t_min, "t_min"), _scalar_time(t_max, "t_max")
    if t_min >= t_max:
        raise ValueError(f"t_min must be < t_max, got t_min={t_min}, t_max={t_max}")
    return np.linspace(t_max, t_min, n_steps + 1)


def reverse_sde_sample(score, x, schedule, n_steps, t_min=1e-3, t_max=1.0, rng=None,
                       return_path=False):
    """Euler-Maruyama for the reverse SDE ``dx = [f x - g² s(x, t)] dt + g dW̄`` from ``t_max``
    to ``t_min``: ``x ← x - Δ (f(t_k) x - g²(t_k) s(x, t_k)) + g(t_k) sqrt(Δ) z_k``, with
    ``z_k = rng.standard_normal(x.shape)``. Returns the final points (and the path if asked)."""
    check_callable(score, "score")
    schedule = _schedule(schedule)
    x = _points(x).copy()
    ts = _grid(n_steps, t_min, t_max)
    rng = _rng(rng)
    path = [x.copy()]
    for t, t_next in zip(ts[:-1], ts[1:]):
        dt = t - t_next
        f, g2 = float(schedule.drift(t)), float(schedule.diffusion2(t))
        x = x - dt * (f * x - g2 * _field(score, "score", x, t)) \
            + math.sqrt(g2 * dt) * rng.standard_normal(x.shape)
        path.append(x.copy())
    return (x, np.stack(path)) if return_path else x


def probability_flow_sample(score, x, schedule, n_steps, method="euler", t_min=1e-3, t_max=1.0,
                            return_path=False):
    """Solve the probability-flow ODE ``dx/dt = F(x, t) = f x - ½ g² s(x, t)`` from ``t_max`` down
    to ``t_min`` with ``n_steps`` steps of Euler (``n_steps`` score evaluations) or Heun (``2 n_steps``)."""
    check_callable(score, "score")
    schedule = _schedule(schedule)
    if method not in ("euler", "heun"):
        raise ValueError(f"method must be 'euler' or 'heun', got {method!r}")
    x = _points(x).copy()
    ts = _grid(n_steps, t_min, t_max)

    def F(x, t):
        return float(schedule.drift(t)) * x - 0.5 * float(schedule.diffusion2(t)) * _field(
            score, "score", x, t)

    path = [x.copy()]
    for t, t_next in zip(ts[:-1], ts[1:]):
        dt = t - t_next
        k1 = F(x, t)
        x_euler = x - dt * k1
        x = x_euler if method == "euler" else x - dt * 0.5 * (k1 + F(x_euler, t_next))
        path.append(x.copy())
    return (x, np.stack(path)) if return_path else x


def edm_sigmas(n_steps, sigma_min=0.002, sigma_max=80.0, rho=7.0) -> np.ndarray:
    """Karras et al. (2022): ``σ_i = (σ_max^{1/ρ} + i/(N-1) (σ_min^{1/ρ} - σ_max^{1/ρ}))^ρ``,
    ``i = 0..N-1``, then ``σ_N = 0``: ``N + 1`` levels, dense near ``σ_min`` for large ``ρ``."""
    n_steps = as_count(n_steps, "n_steps", minimum=2)
    check_size((2, n_steps + 1), "n_steps")
    s0 = as_scalar(sigma_min, "sigma_min", positive=True)
    s1 = as_scalar(sigma_max, "sigma_max", positive=True)
    rho = as_scalar(rho, "rho", positive=True)
    if s1 <= s0:
        raise ValueError(f"sigma_max must be > sigma_min, got {s1} <= {s0}")
    i = np.arange(n_steps) / (n_steps - 1)
    return np.append((s1 ** (1 / rho) + i * (s0 ** (1 / rho) - s1 ** (1 / rho))) ** rho, 0.0)


def edm_sample(score_sigma, x, sigmas, return_path=False):
    """Heun's method for ``dx/dσ = -σ s(x, σ)``, ``s(·, σ) = ∇ log p_σ`` the score of ``x_0 + σ ε``,
    on the decreasing levels ``sigmas`` (e.g. :func:`edm_sigmas`); the step to ``σ = 0`` is Euler.
    ``x`` should be drawn from ``N(0, σ_0² Id)``. Uses ``2 (len(sigmas) - 1) - 1`` score evaluations
    when the last level is 0."""
    check_callable(score_sigma, "score_sigma")
    x = _points(x).copy()
    s = as_array(sigmas, "sigmas", ndim=1)
    if s.size < 2 or np.any(np.diff(s) >= 0) or s[-1] < 0:
        raise ValueError("sigmas must be a decreasing sequence of levels >= 0 (at least two)")

    def slope(x, sig):
        return -sig * _field(score_sigma, "score_sigma", x, sig)

    path = [x.copy()]
    for sig, sig_next in zip(s[:-1], s[1:]):
        d = slope(x, sig)
        x_euler = x + (sig_next - sig) * d
        x = x_euler if sig_next == 0 else x + (sig_next - sig) * 0.5 * (d + slope(x_euler, sig_next))
        path.append(x.copy())
    return (x, np.stack(path)) if return_path else x


def flow_matching_sample(velocity, x, n_steps, method="euler", return_path=False):
    """Solve ``dx/dt = v(x, t)`` from ``t = 0`` to ``1`` with ``n_steps`` Euler or Heun steps."""
    check_callable(velocity, "velocity")
    if method not in ("euler", "heun"):
        raise ValueError(f"method must be 'euler' or 'heun', got {method!r}")
    x = _points(x).copy()
    n_steps = as_count(n_steps, "n_steps")
    check_size((n_steps + 1,), "n_steps")
    ts = np.linspace(0.0, 1.0, n_steps + 1)
    path = [x.copy()]
    for t, t_next in zip(ts[:-1], ts[1:]):
        dt = t_next - t
        k1 = _field(velocity, "velocity", x, t)
        x_euler = x + dt * k1
        x = x_euler if method == "euler" else x + dt * 0.5 * (k1 + _field(velocity, "velocity",
                                                                           x_euler, t_next))
        path.append(x.copy())
    return (x, np.stack(path)) if return_path else x


def straightness(path) -> float:
    """Liu et al.'s straightness of paths ``x_0, ..., x_K`` (shape ``(K+1, n, d)``) on a uniform grid
    of ``s ∈ [0, 1]``: ``S = E ∫_0^1 ‖ẋ_s - (x_1 - x_0)‖² ds / E ‖x_1 - x_0‖²`` with finite
    differences for ``ẋ``. ``S = 0`` exactly when every path is a segment run at constant speed
    (then one Euler step is exact)."""
    p = as_array(path, "path", ndim=3)
    if p.shape[0] < 2:
        raise ValueError(f"path must hold at least two time points, got shape {p.shape}")
    K = p.shape[0] - 1
    chord = p[-1] - p[0]
    denom = np.mean(np.sum(chord**2, axis=-1))
    if denom == 0:
        raise ValueError("path does not move: the straightness is undefined")
    deviation = np.sum((K * np.diff(p, axis=0) - chord) ** 2, axis=-1).mean(axis=0)   # per sample
    return float(np.mean(deviation) / denom)


def path_length_ratio(path) -> float:
    """Mean over samples of ``Σ_k ‖x_{k+1} - x_k‖ / ‖x_K - x_0‖`` for a path of shape ``(K+1, n, d)``."""
    p = as_array(path, "path", ndim=3)
    if p.shape[0] < 2:
        raise ValueError(f"path must hold at least two time points, got shape {p.shape}")
    length = np.linalg.norm(np.diff(p, axis=0), axis=-1).sum(0)
    chord = np.linalg.norm(p[-1] - p[0], axis=-1)
    if np.any(chord == 0):
        raise ValueError("path has a sample that ends where it starts: the ratio is undefined")
    return float(np.mean(length / chord))


# ----------------------------------------------------------------------------- networks and losses

class TimeMLP(nn.Module):
    """``(x, t[, y]) ↦ out``: ``h_0 = x``, ``h_{l+1} = SiLU(W_l h_l + b_l + U_l e)``, ``out = W h_L + b``,
    with ``e = φ(t) + E[y]``, ``φ(t) = (sin(π j t), cos(π j t))_{j=1..n_freq}`` and a learned class
    embedding ``E`` (``n_classes + 1`` rows, the last one for "no label"; absent if ``n_classes``
    is None). ``x``: ``(B, dim)``; ``t``: a number or a tensor of ``B`` times in ``[0, 1]``."""

    def __init__(self, dim: int, width: int = 256, depth: int = 3, n_freq: int = 16,
                 n_classes: int | None = None):
        super().__init__()
        dim, width = as_count(dim, "dim"), as_count(width, "width")
        depth, n_freq = as_count(depth, "depth"), as_count(n_freq, "n_freq")
        self.dim, self.n_classes = dim, None if n_classes is None else as_count(n_classes, "n_classes")
        for shape, name in (((width, width), "width"), ((dim, width), "dim"),
                            ((depth, width, width), "depth"), ((depth, 2 * n_freq, width), "n_freq"),
                            ((1 + (self.n_classes or 0), 2 * n_freq), "n_classes")):
            check_size(shape, name, itemsize=4)
        self.register_buffer("freq", math.pi * torch.arange(1, n_freq + 1, dtype=torch.float32))
        self.layers = nn.ModuleList([nn.Linear(dim if i == 0 else width, width) for i in range(depth)])
        self.time = nn.ModuleList([nn.Linear(2 * n_freq, width) for _ in range(depth)])
        self.out = nn.Linear(width, dim)
        self.label = None if n_classes is None else nn.Embedding(self.n_classes + 1, 2 * n_freq)

    def embed(self, t, y, batch):
        t = torch.as_tensor(t, dtype=self.freq.dtype, device=self.freq.device).reshape(-1, 1)
        e = torch.cat([torch.sin(t * self.freq), torch.cos(t * self.freq)], dim=1).expand(batch, -1)
        if self.label is not None:
            if y is None:
                y = torch.full((batch,), self.n_classes, dtype=torch.long, device=e.device)
            e = e + self.label(torch.as_tensor(y, device=e.device).long())
        elif y is not None:
            raise ValueError("y was given to a TimeMLP built without n_classes")
        return e

    def forward(self, x, t, y=None):
        x = _torch_batch(x, "x")
        if x.shape[1] != self.dim:
            raise ValueError(f"x must have {self.dim} columns (dim), got shape {tuple(x.shape)}")
        if isinstance(t, torch.Tensor) and t.numel() > 1:
            if not t.is_floating_point() or t.numel() != x.shape[0]:
                raise ValueError(f"t must be a time or a float tensor of {x.shape[0]} times")
            _time(t)
        else:
            _scalar_time(t)
        e = self.embed(t, y, x.shape[0])
        h = x
        for layer, time in zip(self.layers, self.time):
            h = F.silu(layer(h) + time(e))
        return self.out(h)


def _torch_batch(x, name, model=None):
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 2 or x.shape[0] == 0 or not x.is_floating_point():
        raise ValueError(f"{name} must be a float tensor of shape (B, d), got {tuple(x.shape)}")
    if not torch.all(torch.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def _model(model):
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _call_model(model, x, t, y):
    return model(x, t) if y is None else model(x, t, y)


def _draw_t(t, batch, x, t_min, generator, name="t"):
    if t is None:
        return t_min + (1 - t_min) * torch.rand(batch, 1, generator=generator).to(x)
    t = torch.as_tensor(t).to(x).reshape(-1, 1)
    if t.shape[0] not in (1, batch):
        raise ValueError(f"{name} must hold one time or one per sample, got {t.shape[0]}")
    return _time(t, name)


def dsm_loss(model, x0, schedule, t=None, eps=None, y=None, t_min=1e-3, generator=None):
    """Denoising score matching, noise parametrisation: ``mean_b ‖ε̂(x_t, t[, y]) - ε‖²`` with
    ``x_t = α(t) x_0 + σ(t) ε``. When not given, ``t ~ U[t_min, 1]`` (shape ``(B, 1)``) then
    ``ε ~ N(0, Id)`` are drawn from ``generator``, in that order."""
    model = _model(model)
    x0 = _torch_batch(x0, "x0")
    schedule = _schedule(schedule)
    t_min = as_scalar(t_min, "t_min", nonnegative=True, upper=0.5)
    t = _draw_t(t, x0.shape[0], x0, t_min, generator)
    if eps is None:
        eps = torch.randn(x0.shape, generator=generator).to(x0)
    elif _torch_batch(eps, "eps").shape != x0.shape:
        raise ValueError(f"eps must be a tensor shaped like x0 {tuple(x0.shape)}")
    x_t = schedule.alpha(t) * x0 + schedule.sigma(t) * eps
    return ((_call_model(model, x_t, t, y) - eps) ** 2).sum(1).mean()


def ot_pairing(x0, x1):
    """The permutation ``σ`` minimising ``Σ_i ‖x0_i - x1_σ(i)‖²`` (an optimal transport plan between
    two equal-size clouds with uniform weights, from :func:`course_lib.ot.emd`); returns ``x1[σ]``."""
    x0 = _torch_batch(x0, "x0")
    x1 = _torch_batch(x1, "x1")
    if x0.shape != x1.shape:
        raise ValueError(f"x0 and x1 must have the same shape, got {tuple(x0.shape)} and "
                         f"{tuple(x1.shape)}")
    a, b = x0.detach().double().cpu().numpy(), x1.detach().double().cpu().numpy()
    C = np.sum(a**2, 1)[:, None] + np.sum(b**2, 1)[None, :] - 2 * a @ b.T
    plan = ot.emd(None, None, C - C.min())
    return x1[torch.as_tensor(plan.argmax(axis=1), device=x1.device)]


def fm_loss(model, x1, x0=None, t=None, y=None, generator=None, coupling="independent"):
    """Conditional flow matching: ``mean_b ‖v̂((1-t) x_0 + t x_1, t[, y]) - (x_1 - x_0)‖²``. When not
    given, ``t ~ U[0, 1]`` (shape ``(B, 1)``) then ``x_0 ~ N(0, Id)`` are drawn from ``generator``.
    With ``coupling="ot"`` the pairs are first re-matched by :func:`ot_pairing` (minibatch optimal
    transport: the lines from noise to data no longer cross within the batch)."""
    model = _model(model)
    x1 = _torch_batch(x1, "x1")
    as_choice(coupling, "coupling", ("independent", "ot"))
    t = _draw_t(t, x1.shape[0], x1, 0.0, generator)
    if x0 is None:
        x0 = torch.randn(x1.shape, generator=generator).to(x1)
    elif _torch_batch(x0, "x0").shape != x1.shape:
        raise ValueError(f"x0 must be a tensor shaped like x1 {tuple(x1.shape)}")
    if coupling == "ot":
        if y is not None:
            raise ValueError("coupling='ot' re-pairs the points, so it does not take labels y")
        x1 = ot_pairing(x0, x1)
    x_t = (1 - t) * x0 + t * x1
    return ((_call_model(model, x_t, t, y) - (x1 - x0)) ** 2).sum(1).mean()


def train(model, X, n_steps, objective="dsm", schedule=None, y=None, p_uncond=0.1,
          batch_size=256, lr=1e-2, t_min=1e-3, seed=0, progress=True, desc="training",
          coupling="independent"):
    """Train ``model`` on the rows of ``X`` with ``objective`` ``"dsm"`` (needs ``schedule``) or ``"fm"``
    (with ``coupling`` ``"independent"`` or ``"ot"``, see :func:`fm_loss`).

    Each step draws, from one ``torch.Generator`` seeded with ``seed`` and in this order: the batch
    indices (``torch.randint``, with replacement), then, when labels ``y`` are given, which labels are
    dropped (replaced by the "no label" class ``model.n_classes``, with probability ``p_uncond``, for
    classifier-free guidance), then the ``t`` and the noise of the loss. Adam (PyTorch's defaults)
    with learning rate ``lr (1 - k/n_steps)`` at step ``k = 0..n_steps-1``. The model is left in
    ``eval`` mode. Returns the ``n_steps`` minibatch losses.
    """
    p = next(_model(model).parameters(), None)
    if p is None:
        raise ValueError("model has no parameters to train")
    X = as_array(X, "X", ndim=2)
    if X.shape[0] == 0:
        raise ValueError(f"X must hold at least one row, got shape {X.shape}")
    X = torch.as_tensor(X).to(p)
    n_steps, batch_size = as_count(n_steps, "n_steps"), as_count(batch_size, "batch_size")
    check_size((n_steps,), "n_steps")
    check_size((4, batch_size, X.shape[1]), "batch_size")
    lr = as_scalar(lr, "lr", positive=True)
    as_choice(objective, "objective", ("dsm", "fm"))
    as_choice(coupling, "coupling", ("independent", "ot"))
    t_min = as_scalar(t_min, "t_min", nonnegative=True, upper=0.5)
    if objective == "dsm":
        schedule = _schedule(schedule)
    if y is not None:
        if getattr(model, "n_classes", None) is None:
            raise ValueError("labels y need a model with n_classes (a class-conditional TimeMLP)")
        y = _labels(y, model.n_classes, p.device)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must hold one label in 0..{model.n_classes - 1} per row of X")
    p_uncond = as_scalar(p_uncond, "p_uncond", nonnegative=True, upper=1.0)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    from tqdm.auto import tqdm

    gen = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = np.empty(n_steps)
    model.train()
    for k in tqdm(range(n_steps), desc=desc, disable=not progress, leave=False):
        idx = torch.randint(X.shape[0], (batch_size,), generator=gen)
        yb = None
        if y is not None:
            drop = (torch.rand(batch_size, generator=gen) < p_uncond).to(p.device)
            yb = torch.where(drop, model.n_classes, y[idx.to(p.device)])
        for group in opt.param_groups:
            group["lr"] = lr * (1 - k / n_steps)
        if objective == "dsm":
            loss = dsm_loss(model, X[idx.to(p.device)], schedule, y=yb, t_min=t_min, generator=gen)
        else:
            loss = fm_loss(model, X[idx.to(p.device)], y=yb, generator=gen, coupling=coupling)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses[k] = loss.item()
    model.eval()
    return losses


def _labels(y, n_classes, device):
    """Class labels: integers in ``0..n_classes-1`` (one, or one per sample), as a long tensor."""
    a = as_array(y, "y")
    if a.ndim > 1 or a.size == 0 or np.any(a != np.round(a)) or np.any(a < 0) \
            or np.any(a >= n_classes):
        raise ValueError(f"y must hold integer labels in 0..{n_classes - 1}, got {y!r:.60}")
    return torch.as_tensor(a).long().to(device)


def _guided(model, y, guidance):
    """``(x, t) ↦ (1 + w) m(x, t, y) - w m(x, t, ∅)`` on torch tensors (plain ``m(x, t)`` if no ``y``)."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    w = as_scalar(guidance, "guidance", nonnegative=True)
    p = next(model.parameters())
    if y is None:
        if w != 0:
            raise ValueError("guidance needs labels y")
        return lambda x, t: model(x, t), p
    if getattr(model, "n_classes", None) is None:
        raise ValueError("labels y need a model with n_classes")
    y = _labels(y, model.n_classes, p.device)
    null = torch.full_like(y, model.n_classes)
    if w == 0:
        return lambda x, t: model(x, t, y), p
    return lambda x, t: (1 + w) * model(x, t, y) - w * model(x, t, null), p


def score_function(model, schedule, y=None, guidance=0.0):
    """The NumPy field ``s(x, t) = -ε̃(x, t)/σ(t)`` of a noise model ``ε̂`` (e.g. a :class:`TimeMLP`
    trained with :func:`dsm_loss`), ``ε̃ = (1 + w) ε̂(x, t, y) - w ε̂(x, t, ∅)`` with ``w = guidance``."""
    schedule = _schedule(schedule)
    eps, p = _guided(model, y, guidance)

    @torch.no_grad()
    def score(x, t):
        t = _scalar_time(t)
        sigma = float(schedule.sigma(t))
        if sigma == 0:
            raise ValueError("t must be > 0: the score of the data (sigma(t) = 0) is not learned")
        xt = torch.as_tensor(_points(x)).to(p)
        return (-eps(xt, t) / sigma).double().cpu().numpy()

    return score


def velocity_function(model, y=None, guidance=0.0):
    """The NumPy field ``v(x, t)`` of a velocity model trained with :func:`fm_loss` (guided as above)."""
    vel, p = _guided(model, y, guidance)

    @torch.no_grad()
    def velocity(x, t):
        t = _scalar_time(t)
        return vel(torch.as_tensor(_points(x)).to(p), t).double().cpu().numpy()

    return velocity
