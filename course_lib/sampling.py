"""Sampling from a Gibbs density ``π ∝ exp(-V/T)``: Langevin, Metropolis-Hastings, Gibbs (Chapter 7).

Continuous state space (``x`` of shape ``(d,)``, or ``(m, d)`` for ``m`` independent chains run
together; ``grad_V`` and ``V`` act on the last axis)

* ``ula(grad_V, x0, step, n_steps, rng=None, temperature=1.0, keep_every=1)`` — the unadjusted
  Langevin algorithm, the Euler-Maruyama scheme of ``dX = -∇V(X) dt + sqrt(2T) dW``:
  ``x_{k+1} = x_k - h ∇V(x_k) + sqrt(2 h T) ξ_k``, ``ξ_k ~ N(0, Id)``. Returns the kept states.
  Its stationary law is *not* ``π``: for ``V(x) = x²/(2σ²)`` it is ``N(0, σ²/(1 - h/(2σ²)))``.
* ``mala(V, grad_V, x0, step, n_steps, rng=None, temperature=1.0, keep_every=1)`` — the ULA move
  ``y = x - h ∇V(x) + sqrt(2hT) ξ`` used as a proposal and accepted with the Metropolis-Hastings
  probability below: ``π`` is stationary exactly. Returns ``(states, acceptance_rate)``.
* ``mala_log_proposal(y, x, grad_V, step, temperature=1.0)`` — ``log q(y | x)``,
  ``q(y | x) = N(y; x - h ∇V(x), 2hT Id)``.
* ``metropolis_hastings(log_pi, propose, log_q, x0, n_steps, rng=None)`` — the general sampler:
  from ``x`` propose ``y ~ q(· | x)`` and accept with probability
  ``a(x, y) = min(1, π(y) q(x | y) / (π(x) q(y | x)))``; ``log_q(y, x) = log q(y | x)``
  (``None`` for a symmetric proposal). Returns ``(states, acceptance_rate)``.
* ``mh_acceptance(log_pi_x, log_pi_y, log_q_y_given_x, log_q_x_given_y)`` — ``a(x, y)`` above.
* ``transition_times(grad_V, x0, step, n_steps, level, rng=None, temperature=1.0)`` — runs ULA in
  one dimension and returns ``(durations, censored)``: the durations between successive alternating
  hits of ``x ≤ -level`` and ``x ≥ level``, and the unfinished time of each chain at the end. The
  mean transition time is ``(Σ durations + Σ censored) / #durations``.
* ``mean_first_passage_time(V, a, b, temperature=1.0, lower=None, n_grid=20001)`` — the exact mean
  time for ``dX = -V'(X) dt + sqrt(2T) dW`` on the line to go from ``a`` to ``b > a``,
  ``τ(a → b) = (1/T) ∫_a^b e^{V(y)/T} ∫_{-∞}^y e^{-V(z)/T} dz dy`` (by quadrature).

Finite state spaces

* ``mh_transition_matrix(pi, Q)`` — the Metropolis-Hastings kernel of the proposal matrix ``Q``:
  ``P_ij = Q_ij min(1, π_j Q_ji / (π_i Q_ij))`` for ``i ≠ j``, ``P_ii = 1 - Σ_{j≠i} P_ij``;
  it satisfies detailed balance ``π_i P_ij = π_j P_ji``.
* ``stationary_distribution(P)`` — the probability vector ``π`` with ``π P = π``.

Boltzmann machines and the Ising model (spins ``s ∈ {-1, +1}^n``)

* ``boltzmann_energy(s, J, h)`` — ``E(s) = -½ sᵀ J s - hᵀ s`` (``J`` symmetric, zero diagonal);
  the law is ``p(s) = exp(-β E(s)) / Z``.
* ``ising_couplings(L, periodic=True)`` — ``J`` of the ``L x L`` lattice with nearest-neighbour
  couplings 1 (sites numbered row by row).
* ``gibbs_boltzmann(J, h, beta, s0, n_sweeps, rng=None)`` — systematic-scan Gibbs sampling: each
  site in turn is redrawn from its conditional law
  ``P(s_i = +1 | s_{-i}) = 1 / (1 + exp(-2β (Σ_j J_ij s_j + h_i)))``. Returns the states after
  each sweep, shape ``(n_sweeps + 1, *s0.shape)``.
* ``enumerate_boltzmann(J, h, beta)`` — all ``2^n`` states and their exact probabilities.

Monte Carlo error

* ``autocorrelation(x, max_lag=None)`` — the normalised autocorrelation ``ρ_k`` of one or several
  chains (axis 0 is time), averaged over chains.
* ``effective_sample_size(x)`` — ``m n / τ`` with the integrated autocorrelation time
  ``τ = 1 + 2 Σ_k ρ_k``, summed with Geyer's initial monotone sequence rule.
* ``mc_standard_error(x)`` — ``sd(x) / sqrt(ESS)``, the standard error of the mean of ``x``.

Every function checks its input and raises ``ValueError`` naming the argument; a user callable
(``V``, ``grad_V``, ``log_pi``, ...) that returns NaN, inf or ``None`` raises ``ValueError`` naming it.
"""
from __future__ import annotations

import itertools

import numpy as np

from course_lib.utils import (as_array, as_count, as_rng, as_scalar, check_callable, check_result,
    check_size)

__all__ = [
    "autocorrelation",
    "boltzmann_energy",
    "effective_sample_size",
    "enumerate_boltzmann",
    "gibbs_boltzmann",
    "ising_couplings",
    "mala",
    "mala_log_proposal",
    "mc_standard_error",
    "mean_first_passage_time",
    "metropolis_hastings",
    "mh_acceptance",
    "mh_transition_matrix",
    "stationary_distribution",
    "transition_times",
    "ula",
]


# ----------------------------------------------------------------------------- validation helpers

def _rng(rng) -> np.random.Generator:
    return as_rng(rng, "rng", allow_none=True)




def _call(f, name, *args, shape=None):
    """``f(*args)`` as a finite float64 array (of ``shape`` if given), or ``ValueError`` naming ``f``
    (``None``, complex values, NaN or inf, a wrong shape)."""
    return check_result(f(*args), name, shape=shape)


def _states(x0):
    x = as_array(x0, "x0")
    if x.ndim not in (1, 2) or x.size == 0:
        raise ValueError(f"x0 must have shape (d,) or (n_chains, d), got {x.shape}")
    return x


# ----------------------------------------------------------------------------- Langevin

def _langevin_args(x0, step, n_steps, temperature, keep_every, rng):
    """The checked arguments shared by ``ula`` and ``mala`` (the states copied)."""
    x = _states(x0).copy()
    h = as_scalar(step, "step", positive=True)
    n_steps = as_count(n_steps, "n_steps")
    T = as_scalar(temperature, "temperature", positive=True)
    keep_every = as_count(keep_every, "keep_every")
    check_size((n_steps // keep_every + 1, *x.shape), "n_steps")
    return x, h, n_steps, T, keep_every, _rng(rng)


def ula(grad_V, x0, step, n_steps, rng=None, temperature=1.0, keep_every=1) -> np.ndarray:
    """Unadjusted Langevin algorithm ``x_{k+1} = x_k - h ∇V(x_k) + sqrt(2 h T) ξ_k``.

    ``x0`` has shape ``(d,)`` or ``(m, d)`` (``m`` independent chains, one row each); ``grad_V``
    maps such an array to one of the same shape. Returns the states ``x_0, x_k, x_2k, ...``
    (``k = keep_every``), shape ``(n_steps // k + 1, *x0.shape)``. The noise of step ``k`` is
    ``rng.standard_normal(x0.shape)``, drawn in that order.
    """
    check_callable(grad_V, "grad_V")
    x, h, n_steps, T, keep_every, rng = _langevin_args(x0, step, n_steps, temperature,
                                                       keep_every, rng)
    noise = np.sqrt(2 * h * T)
    out = [x.copy()]
    for k in range(1, n_steps + 1):
        x = x - h * _call(grad_V, "grad_V", x, shape=x.shape) + noise * rng.standard_normal(x.shape)
        if k % keep_every == 0:
            out.append(x.copy())
    return np.stack(out)


def mala_log_proposal(y, x, grad_V, step, temperature=1.0) -> np.ndarray:
    """``log q(y | x)`` for the MALA proposal ``q(· | x) = N(x - h ∇V(x), 2 h T Id)`` (last axis)."""
    check_callable(grad_V, "grad_V")
    y, x = as_array(y, "y"), as_array(x, "x")
    if y.shape != x.shape or x.ndim == 0:
        raise ValueError(f"y and x must have the same shape (..., d), got {y.shape} and {x.shape}")
    h = as_scalar(step, "step", positive=True)
    T = as_scalar(temperature, "temperature", positive=True)
    r = y - x + h * _call(grad_V, "grad_V", x, shape=x.shape)
    d = x.shape[-1]
    return -np.sum(r**2, axis=-1) / (4 * h * T) - 0.5 * d * np.log(4 * np.pi * h * T)


def mh_acceptance(log_pi_x, log_pi_y, log_q_y_given_x, log_q_x_given_y) -> np.ndarray:
    """``a(x, y) = min(1, π(y) q(x | y) / (π(x) q(y | x)))``, from the logarithms (entrywise)."""
    args = [as_array(a, n) for a, n in ((log_pi_x, "log_pi_x"), (log_pi_y, "log_pi_y"),
                                         (log_q_y_given_x, "log_q_y_given_x"),
                                         (log_q_x_given_y, "log_q_x_given_y"))]
    log_ratio = args[1] - args[0] + args[3] - args[2]
    return np.exp(np.minimum(log_ratio, 0.0))


def metropolis_hastings(log_pi, propose, log_q, x0, n_steps, rng=None):
    """Metropolis-Hastings: from ``x`` propose ``y = propose(x, rng)`` and accept with ``a(x, y)``.

    ``log_pi(x)`` is ``log π`` up to a constant, one value per chain (last axis of ``x`` = the
    coordinates); ``log_q(y, x) = log q(y | x)``, or ``None`` for a symmetric proposal. ``x0`` has
    shape ``(d,)`` or ``(m, d)``. Per step, the proposal is drawn first, then one uniform number per
    chain. Returns ``(states, acceptance_rate)``: all ``n_steps + 1`` states and the fraction of
    accepted proposals (per chain when ``m`` chains are run).
    """
    for f, name in ((log_pi, "log_pi"), (propose, "propose")):
        check_callable(f, name)
    if log_q is not None:
        check_callable(log_q, "log_q")
    x = _states(x0).copy()
    n_steps = as_count(n_steps, "n_steps")
    check_size((n_steps + 1, *x.shape), "n_steps")
    rng = _rng(rng)
    batch = x.shape[:-1]
    lp_x = _call(log_pi, "log_pi", x, shape=batch)
    out, accepted = [x.copy()], np.zeros(batch)
    for _ in range(n_steps):
        y = _call(propose, "propose", x, rng, shape=x.shape)
        lp_y = _call(log_pi, "log_pi", y, shape=batch)
        if log_q is None:
            a = np.exp(np.minimum(lp_y - lp_x, 0.0))
        else:
            a = mh_acceptance(lp_x, lp_y, _call(log_q, "log_q", y, x, shape=batch),
                              _call(log_q, "log_q", x, y, shape=batch))
        accept = rng.random(batch) < a
        x = np.where(accept[..., None], y, x)
        lp_x = np.where(accept, lp_y, lp_x)
        accepted += accept
        out.append(x.copy())
    return np.stack(out), accepted / n_steps


def mala(V, grad_V, x0, step, n_steps, rng=None, temperature=1.0, keep_every=1):
    """Metropolis-adjusted Langevin: ULA proposals ``y = x - h ∇V(x) + sqrt(2hT) ξ`` accepted with
    ``a(x, y) = min(1, e^{-(V(y) - V(x))/T} q(x | y) / q(y | x))``.

    Same shapes and random stream as :func:`ula` (``ξ``), then one uniform number per chain and step.
    Returns ``(states, acceptance_rate)``, the states kept every ``keep_every`` steps.
    """
    check_callable(V, "V")
    check_callable(grad_V, "grad_V")
    x, h, n_steps, T, keep_every, rng = _langevin_args(x0, step, n_steps, temperature,
                                                       keep_every, rng)
    batch = x.shape[:-1]
    V_x, g_x = _call(V, "V", x, shape=batch), _call(grad_V, "grad_V", x, shape=x.shape)
    out, accepted = [x.copy()], np.zeros(batch)
    for k in range(1, n_steps + 1):
        y = x - h * g_x + np.sqrt(2 * h * T) * rng.standard_normal(x.shape)
        V_y, g_y = _call(V, "V", y, shape=batch), _call(grad_V, "grad_V", y, shape=x.shape)
        log_q_yx = -np.sum((y - x + h * g_x) ** 2, axis=-1) / (4 * h * T)
        log_q_xy = -np.sum((x - y + h * g_y) ** 2, axis=-1) / (4 * h * T)
        accept = rng.random(batch) < mh_acceptance(-V_x / T, -V_y / T, log_q_yx, log_q_xy)
        x = np.where(accept[..., None], y, x)
        V_x, g_x = np.where(accept, V_y, V_x), np.where(accept[..., None], g_y, g_x)
        accepted += accept
        if k % keep_every == 0:
            out.append(x.copy())
    return np.stack(out), accepted / n_steps


def transition_times(grad_V, x0, step, n_steps, level, rng=None, temperature=1.0):
    """Transitions between ``x ≤ -level`` and ``x ≥ level`` along ULA chains in one dimension.

    ``x0`` has shape ``(m,)`` or ``(m, 1)``: ``m`` chains, each starting on one side
    (``|x0| ≥ level``). A *transition* is the first hit of the other side; its duration is measured
    from the previous transition (or from time 0). Returns ``(durations, censored)``: the durations
    of all completed transitions, and for each chain the time elapsed since its last transition
    when the run stops (time = number of steps times ``step``). The mean transition time is
    estimated by ``(durations.sum() + censored.sum()) / len(durations)`` (total time over number
    of transitions): the mean of ``durations`` alone is biased low, since the long transitions are
    the ones that the end of the run cuts off.
    """
    check_callable(grad_V, "grad_V")
    x = as_array(x0, "x0")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != 1 or x.shape[0] == 0:
        raise ValueError(f"x0 must have shape (m,) or (m, 1), got {np.shape(x0)}")
    h = as_scalar(step, "step", positive=True)
    n_steps = as_count(n_steps, "n_steps")
    level = as_scalar(level, "level", positive=True)
    T = as_scalar(temperature, "temperature", positive=True)
    rng = _rng(rng)
    if np.any(np.abs(x[:, 0]) < level):
        raise ValueError("x0 must start every chain on one side: |x0| >= level")
    side = np.sign(x[:, 0])
    last, durations, noise = np.zeros(len(x)), [], np.sqrt(2 * h * T)
    for k in range(1, n_steps + 1):
        x = x - h * _call(grad_V, "grad_V", x, shape=x.shape) + noise * rng.standard_normal(x.shape)
        hit = side * x[:, 0] <= -level
        if np.any(hit):
            durations.append(k * h - last[hit])
            last[hit], side[hit] = k * h, -side[hit]
    durations = np.concatenate(durations) if durations else np.zeros(0)
    return durations, n_steps * h - last


def mean_first_passage_time(V, a, b, temperature=1.0, lower=None, n_grid=20001) -> float:
    """Exact mean time for ``dX = -V'(X) dt + sqrt(2T) dW`` to reach ``b`` from ``a < b``:

        τ(a → b) = (1/T) ∫_a^b e^{V(y)/T} ( ∫_{lower}^y e^{-V(z)/T} dz ) dy,

    with ``lower`` a point far enough to the left that ``e^{-V/T}`` is negligible there (default:
    ``a - 4 (b - a)``, fine for a confining ``V``). Trapezoidal rule on ``n_grid`` points (``a`` is one
    of them), computed with the exponents shifted to avoid overflow.
    """
    check_callable(V, "V")
    a, b = as_scalar(a, "a"), as_scalar(b, "b")
    if b <= a:
        raise ValueError(f"b must be > a, got a={a}, b={b}")
    T = as_scalar(temperature, "temperature", positive=True)
    lower = a - 4 * (b - a) if lower is None else as_scalar(lower, "lower")
    if lower >= a:
        raise ValueError(f"lower must be < a, got {lower}")
    n_grid = as_count(n_grid, "n_grid", minimum=5)
    check_size((4, n_grid), "n_grid")
    n_left = min(max(int(round((a - lower) / (b - lower) * (n_grid - 1))), 2), n_grid - 3)
    z = np.concatenate([np.linspace(lower, a, n_left + 1)[:-1], np.linspace(a, b, n_grid - n_left)])
    U = _call(V, "V", z, shape=z.shape) / T
    w = np.exp(-(U - U.min()))                       # e^{-V/T} up to e^{U.min}
    inner = np.concatenate([[0.0], np.cumsum((w[1:] + w[:-1]) / 2 * np.diff(z))])
    sel = z >= a
    outer = np.exp(U[sel] - U.min()) * inner[sel]    # the two shifts cancel
    return float(np.trapezoid(outer, z[sel]) / T)


# ----------------------------------------------------------------------------- finite state spaces

def _probability_vector(pi, name="pi"):
    p = as_array(pi, name, ndim=1)
    if p.size == 0 or np.any(p < 0) or abs(p.sum() - 1) > 1e-9:
        raise ValueError(f"{name} must be a probability vector (entries >= 0 summing to 1)")
    return p


def mh_transition_matrix(pi, Q) -> np.ndarray:
    """The Metropolis-Hastings kernel ``P_ij = Q_ij min(1, π_j Q_ji / (π_i Q_ij))`` (``i ≠ j``),
    ``P_ii = 1 - Σ_{j≠i} P_ij``, for a target ``π > 0`` and a stochastic proposal matrix ``Q``."""
    pi = _probability_vector(pi)
    if np.any(pi <= 0):
        raise ValueError("pi must be positive on every state")
    Q = as_array(Q, "Q", shape=(pi.size, pi.size))
    if np.any(Q < 0) or np.max(np.abs(Q.sum(1) - 1)) > 1e-9:
        raise ValueError("Q must be a stochastic matrix (entries >= 0, rows summing to 1)")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(Q > 0, (pi[None, :] * Q.T) / (pi[:, None] * Q), 0.0)
    P = Q * np.minimum(1.0, ratio)
    np.fill_diagonal(P, 0.0)
    np.fill_diagonal(P, 1.0 - P.sum(1))
    return P


def stationary_distribution(P) -> np.ndarray:
    """The probability vector ``π`` with ``π P = π`` (left eigenvector for the eigenvalue 1)."""
    P = as_array(P, "P", ndim=2)
    if P.shape[0] != P.shape[1] or np.any(P < 0) or np.max(np.abs(P.sum(1) - 1)) > 1e-9:
        raise ValueError("P must be a square stochastic matrix")
    vals, vecs = np.linalg.eig(P.T)
    v = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
    return v / v.sum()


# ----------------------------------------------------------------------------- Boltzmann / Ising

def _couplings(J, h):
    J = as_array(J, "J", ndim=2)
    n = J.shape[0]
    if J.shape != (n, n) or n == 0:
        raise ValueError(f"J must be a square matrix, got shape {J.shape}")
    if not np.allclose(J, J.T) or np.any(np.diag(J) != 0):
        raise ValueError("J must be symmetric with a zero diagonal")
    h = np.zeros(n) if h is None else as_array(h, "h", shape=(n,))
    return J, h


def _spins(s, n, name="s"):
    s = as_array(s, name)
    if s.ndim == 0 or s.shape[-1] != n or not np.all(np.abs(s) == 1):
        raise ValueError(f"{name} must hold spins ±1 with last axis of size {n}")
    return s


def boltzmann_energy(s, J, h=None) -> np.ndarray:
    """``E(s) = -½ sᵀ J s - hᵀ s`` for spins ``s`` of shape ``(..., n)``."""
    J, h = _couplings(J, h)
    s = _spins(s, J.shape[0])
    return -0.5 * np.einsum("...i,ij,...j->...", s, J, s) - s @ h


def ising_couplings(L, periodic=True) -> np.ndarray:
    """Nearest-neighbour couplings ``J_ij = 1`` of the ``L x L`` square lattice, site ``i = r L + c``.

    With ``periodic`` the lattice is a torus (for ``L = 2`` the two neighbours of a site along an
    axis coincide and the coupling counts twice).
    """
    L = as_count(L, "L", minimum=2)
    check_size((L * L, L * L), "L")
    J = np.zeros((L * L, L * L))
    for r, c in itertools.product(range(L), range(L)):
        for dr, dc in ((0, 1), (1, 0)):
            r2, c2 = r + dr, c + dc
            if periodic:
                r2, c2 = r2 % L, c2 % L
            elif r2 >= L or c2 >= L:
                continue
            J[r * L + c, r2 * L + c2] += 1.0
            J[r2 * L + c2, r * L + c] += 1.0
    return J


def gibbs_boltzmann(J, h, beta, s0, n_sweeps, rng=None) -> np.ndarray:
    """Systematic-scan Gibbs sampler for ``p(s) ∝ exp(-β E(s))``, ``E(s) = -½ sᵀJs - hᵀs``.

    One sweep visits the sites ``i = 0, ..., n-1`` in order and redraws ``s_i`` from
    ``P(s_i = +1 | s_{-i}) = σ(2β (Σ_j J_ij s_j + h_i))``, ``σ(u) = 1/(1 + e^{-u})``, using one
    uniform number per site (``rng.random(s0.shape)`` per sweep). ``s0`` has shape ``(n,)`` or
    ``(m, n)`` (``m`` chains). Returns the states after each sweep, ``(n_sweeps + 1, *s0.shape)``.
    """
    J, h = _couplings(J, h)
    beta = as_scalar(beta, "beta", nonnegative=True)
    s = _spins(s0, J.shape[0], "s0").copy()
    if s.ndim > 2:
        raise ValueError(f"s0 must have shape (n,) or (m, n), got {s.shape}")
    n_sweeps = as_count(n_sweeps, "n_sweeps")
    check_size((n_sweeps + 1, *s.shape), "n_sweeps")
    rng = _rng(rng)
    out = [s.copy()]
    for _ in range(n_sweeps):
        u = rng.random(s.shape)
        for i in range(J.shape[0]):
            field = s @ J[i] + h[i]
            p_up = 1.0 / (1.0 + np.exp(-2.0 * beta * field))
            s[..., i] = np.where(u[..., i] < p_up, 1.0, -1.0)
        out.append(s.copy())
    return np.stack(out)


def enumerate_boltzmann(J, h, beta):
    """All ``2^n`` spin states (rows, ``n ≤ 20``) and their probabilities ``exp(-βE(s)) / Z``."""
    J, h = _couplings(J, h)
    beta = as_scalar(beta, "beta", nonnegative=True)
    n = J.shape[0]
    if n > 20:
        raise ValueError(f"J has n={n} sites: enumerating 2^n states is only done for n <= 20")
    bits = (np.arange(2**n)[:, None] >> np.arange(n - 1, -1, -1)) & 1
    states = 2.0 * bits - 1.0
    logw = -beta * boltzmann_energy(states, J, h)
    p = np.exp(logw - logw.max())
    return states, p / p.sum()


# ----------------------------------------------------------------------------- Monte Carlo error

def _chains(x):
    x = as_array(x, "x")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] < 4:
        raise ValueError(f"x must have shape (n_steps,) or (n_steps, n_chains) with n_steps >= 4, "
                         f"got {x.shape}")
    return x


def autocorrelation(x, max_lag=None) -> np.ndarray:
    """Autocorrelation ``ρ_k``, ``k = 0..max_lag``, of chains ``x`` (axis 0 = time), averaged over
    the chains: the autocovariances of the chains (centred at the overall mean, computed by FFT)
    are averaged, then divided by the lag-0 value."""
    x = _chains(x)
    n = x.shape[0]
    max_lag = n - 1 if max_lag is None else as_count(max_lag, "max_lag", minimum=0)
    max_lag = min(max_lag, n - 1)
    y = x - x.mean()
    f = np.fft.rfft(y, n=2 * n, axis=0)
    acov = np.fft.irfft(f * np.conj(f), axis=0)[: max_lag + 1].mean(axis=1) / n
    if acov[0] <= 0:
        raise ValueError("x is constant: its autocorrelation is undefined")
    return acov / acov[0]


def effective_sample_size(x) -> float:
    """``ESS = m n / τ``, ``τ = -1 + 2 Σ_{k≥0} (ρ_{2k} + ρ_{2k+1})`` summed while the pair sums are
    positive and made non-increasing (Geyer's initial monotone sequence estimator)."""
    x = _chains(x)
    n, m = x.shape
    rho = autocorrelation(x)
    pairs = rho[: 2 * (len(rho) // 2)].reshape(-1, 2).sum(1)
    stop = np.argmax(pairs <= 0) if np.any(pairs <= 0) else len(pairs)
    pairs = np.minimum.accumulate(pairs[:stop])
    tau = max(-1.0 + 2.0 * pairs.sum(), 1.0 / np.log10(max(n * m, 10)))
    return float(n * m / tau)


def mc_standard_error(x) -> float:
    """Standard error of the mean of the chains ``x``: ``sd(x) / sqrt(ESS)``."""
    x = _chains(x)
    return float(x.std() / np.sqrt(effective_sample_size(x)))
