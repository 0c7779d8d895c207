"""First-order methods for smooth optimization, written from scratch (Chapter 1).

One calling convention for every solver::

    x, iterates = solver(grad_f, x0, <hyper-parameters>, n_iter, callback=None)

* ``grad_f(x)`` returns the gradient at ``x`` (an array shaped like ``x``); a *stochastic*
  gradient is just a ``grad_f`` that draws its own noise, e.g. from a closed-over ``rng``.
  ``sgd`` alone takes a finite-sum oracle ``grad_fi(x, idx)`` and draws ``idx`` itself.
* ``x0`` is a 1-D array; it is never modified.
* ``iterates`` is an ``(n_iter + 1, n)`` float64 array holding ``x_0, x_1, ..., x_{n_iter}``, and
  ``x = iterates[-1]`` (a copy), so convergence plots are one line away:
  ``np.linalg.norm(iterates - x_star, axis=1)``.
* ``callback(k, x_k)``, if given, is called after each step, ``k = 1, ..., n_iter``.
* ``grad_f`` must return a real array shaped like ``x``: ``None``, complex values or a wrong shape
  raise ``ValueError`` naming it, and so does NaN or inf at ``x_0``.  If the iterates blow up later
  (a step too large: gradient descent needs ``step < 2/L``), the iterates are still returned and a
  ``utils.DivergenceWarning`` says so once, naming the step and its bound.

``momentum``, ``rmsprop`` and ``adam`` follow, operation for operation, the update rules of
``torch.optim.SGD(momentum=beta)``, ``torch.optim.RMSprop`` and ``torch.optim.Adam`` (with their
other options at their defaults); the tests check the iterates against PyTorch to ~1e-12.
"""
from __future__ import annotations

import math

import numpy as np

from course_lib.utils import (GrowthMonitor, as_array, as_rng, as_scalar, check_callable,
                              check_result, check_size)

__all__ = [
    "adam",
    "armijo_step",
    "contraction_factor",
    "gradient_descent",
    "gradient_descent_armijo",
    "heavy_ball",
    "heavy_ball_parameters",
    "momentum",
    "nesterov",
    "optimal_step",
    "polyak_average",
    "rmsprop",
    "sgd",
]


# ----------------------------------------------------------------------------- shared plumbing

def _start(grad_f, x0, n_iter, callback, grad_name="grad_f"):
    """Validate the arguments every solver shares; return ``x0`` as float64 and the empty history."""
    check_callable(grad_f, grad_name)
    if callback is not None:
        check_callable(callback, "callback")
    x = as_array(x0, "x0", ndim=1).copy()
    n_iter = as_scalar(n_iter, "n_iter", nonnegative=True, integer=True)
    check_size((n_iter + 1, x.size), "n_iter")
    iterates = np.empty((n_iter + 1, x.size))
    iterates[0] = x
    return x, n_iter, iterates


def _grad(grad_f, x, *args, name="grad_f", k=0):
    """``grad_f(x, *args)`` as float64, checked to be real and shaped like ``x``; at the first
    iterate (``k = 0``) also finite (later, NaN or inf is a divergence: see ``_monitor``)."""
    return check_result(grad_f(x, *args), name, shape=x.shape, finite=k == 0,
                        where="at x0" if k == 0 else f"at iteration {k}")


def _monitor(solver, step, bound="2/L", factor=2.0, advice=None):
    """Warns once if the gradients blow up (see ``utils.GrowthMonitor``)."""
    return GrowthMonitor(solver, "the gradient norm", step=step, bound=bound, factor=factor,
                         advice=advice)


_ADAPTIVE = ("step = {step:.4g} is too large for this problem (each coordinate moves by about "
             "step per iteration)")


def _beta(beta, name="beta"):
    beta = as_scalar(beta, name, nonnegative=True)
    if beta >= 1:
        raise ValueError(f"{name} must lie in [0, 1), got {beta!r}")
    return beta


def _L_mu(L, mu):
    L = as_scalar(L, "L", positive=True)
    mu = as_scalar(mu, "mu", nonnegative=True)
    if mu > L:
        raise ValueError(f"mu must be <= L, got mu={mu!r} > L={L!r}")
    return L, mu


# ----------------------------------------------------------------------------- gradient descent

def gradient_descent(grad_f, x0, step, n_iter, callback=None):
    """Gradient descent with a constant step: ``x_{k+1} = x_k - step * grad_f(x_k)``.

    On an L-smooth, mu-strongly convex f, ``step = 1/L`` gives ``f(x_k) - f* = O((1 - mu/L)^k)``;
    on a quadratic ``||x_k - x*|| <= contraction_factor(step, L, mu)^k ||x_0 - x*||``.
    Returns ``(x, iterates)``.
    """
    x, n_iter, iterates = _start(grad_f, x0, n_iter, callback)
    step = as_scalar(step, "step", positive=True)
    monitor = _monitor("gradient_descent", step)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, n_iter + 1):
            g = _grad(grad_f, x, k=k - 1)
            monitor.update(k - 1, g, x)
            x = x - step * g
            iterates[k] = x
            if callback is not None:
                callback(k, x)
    return x, iterates


def armijo_step(f, x, g, step0=1.0, c=1e-4, shrink=0.5, max_backtracks=100):
    """Backtracking line search along ``-g``: the first ``t = step0 * shrink^j`` (j = 0, 1, ...)
    with the *sufficient decrease* (Armijo) condition

        f(x - t g) <= f(x) - c t ||g||^2 .

    Returns ``t`` (``step0`` when ``g = 0``).  Raises ``RuntimeError`` if no ``t`` passes within
    ``max_backtracks`` tries, or before ``x - t g`` rounds to ``x`` (then ``g`` is not a descent
    direction: is ``grad_f`` the gradient of ``f``?).  ``f`` must return a finite real number at
    ``x``; a NaN at a trial point fails the test and shrinks ``t``.
    """
    check_callable(f, "f")
    x = as_array(x, "x", ndim=1)
    g = as_array(g, "g", shape=x.shape)
    step0, c, shrink = _armijo_parameters(step0, c, shrink)
    max_backtracks = as_scalar(max_backtracks, "max_backtracks", nonnegative=True, integer=True)
    t = _armijo(f, x, g, step0, c, shrink, max_backtracks)
    if t is None:
        raise RuntimeError(f"Armijo line search found no step that decreases f along -g (within "
                           f"{max_backtracks} backtracks, before x - t g rounds to x): g is not a "
                           "descent direction; check that grad_f is the gradient of f")
    return t


def _armijo_parameters(step0, c, shrink):
    step0 = as_scalar(step0, "step0", positive=True)
    c, shrink = as_scalar(c, "c", positive=True), as_scalar(shrink, "shrink", positive=True)
    if c >= 1:
        raise ValueError(f"c must lie in (0, 1), got {c!r}")
    if shrink >= 1:
        raise ValueError(f"shrink must lie in (0, 1), got {shrink!r}")
    return step0, c, shrink


def _value(f, x, where, finite=True):
    return check_result(f(x), "f", scalar=True, finite=finite, where=where)


def _armijo(f, x, g, step0, c, shrink, max_backtracks, where="at x"):
    """The first ``t = step0 shrink^j`` that passes the Armijo test at a point ``x - t g != x``;
    ``None`` if there is none (``g`` is not a descent direction, or ``x`` is a minimiser to
    rounding precision: no step moves ``x`` and decreases ``f``)."""
    fx, gg = _value(f, x, where), float(g @ g)
    if gg == 0:
        return step0
    t = step0
    for _ in range(max_backtracks + 1):
        x_new = x - t * g
        if np.array_equal(x_new, x):             # the step no longer moves x
            return None
        if _value(f, x_new, "at a trial point", finite=False) <= fx - c * t * gg:  # NaN fails
            return t
        t *= shrink
    return None


def gradient_descent_armijo(f, grad_f, x0, n_iter, step0=1.0, c=1e-4, shrink=0.5, callback=None):
    """Gradient descent with backtracking: ``x_{k+1} = x_k - t_k grad_f(x_k)``, where
    ``t_k = armijo_step(f, x_k, grad_f(x_k), step0, c, shrink)`` (each search restarts at ``step0``).

    No knowledge of L is needed; on an L-smooth f the accepted step satisfies
    ``t_k >= min(step0, 2 shrink (1 - c) / L)``.  Returns ``(x, iterates)``; the steps taken are
    ``t_k = ||x_{k+1} - x_k|| / ||grad_f(x_k)||``.

    Floating point: the test compares values of f, known only to ~1e-16 |f|, so the iterates stall
    (no step moves x and passes the test: ``x_{k+1} = x_k``) once ``f(x_k) - f*`` is that small,
    i.e. at ``||x_k - x*|| ~ sqrt(1e-16 |f*| / mu)`` (about 1e-7 on a typical problem).  At the
    first iterate this is an error (``RuntimeError``): there ``-grad_f(x_0)`` is not a descent
    direction of ``f`` (is ``grad_f`` the gradient of ``f``?).
    """
    check_callable(f, "f")
    x, n_iter, iterates = _start(grad_f, x0, n_iter, callback)
    step0, c, shrink = _armijo_parameters(step0, c, shrink)
    for k in range(1, n_iter + 1):
        g = _grad(grad_f, x, k=k - 1)
        if not np.all(np.isfinite(g)):
            raise ValueError(f"grad_f returned NaN or inf at iteration {k - 1}, where f is finite")
        t = _armijo(f, x, g, step0, c, shrink, 100, where="at x0" if k == 1 else f"at x_{k - 1}")
        if t is None and k == 1:
            raise RuntimeError("no step along -grad_f(x0) decreases f (Armijo line search): "
                               "-grad_f(x0) is not a descent direction of f; check that grad_f is "
                               "the gradient of f (or x0 is a minimiser to rounding precision)")
        if t is not None:                        # None: stalled at rounding precision, x stays
            x = x - t * g
        iterates[k] = x
        if callback is not None:
            callback(k, x)
    return x, iterates


# ----------------------------------------------------------------------------- momentum methods

def nesterov(grad_f, x0, step, n_iter, mu=0.0, callback=None):
    """Nesterov's accelerated gradient::

        y_k     = x_k + beta_k (x_k - x_{k-1}),       x_{-1} = x_0
        x_{k+1} = y_k - step * grad_f(y_k)

    * ``mu = 0`` (convex f): ``beta_k = (k - 1) / (k + 2) = (t_k - 1) / t_{k+1}`` with
      ``t_k = (k + 1) / 2`` (the convention of ``book/notation.md``); with ``step = 1/L``,
      ``f(x_k) - f* <= 2 L ||x_0 - x*||^2 / (k + 1)^2``  (Su, Boyd & Candès 2016).
    * ``mu > 0`` (mu-strongly convex f): constant ``beta = (sqrt(kappa) - 1) / (sqrt(kappa) + 1)``
      with ``kappa = 1 / (step * mu)`` (= L/mu when step = 1/L); error ``O((1 - 1/sqrt(kappa))^k)``.

    Returns ``(x, iterates)`` with the iterates ``x_k`` (not the extrapolated points ``y_k``).
    """
    x, n_iter, iterates = _start(grad_f, x0, n_iter, callback)
    step = as_scalar(step, "step", positive=True)
    mu = as_scalar(mu, "mu", nonnegative=True)
    if step * mu > 1:
        raise ValueError(f"mu must satisfy step * mu <= 1 (mu <= L for step = 1/L), got {step * mu!r}")
    if mu > 0:
        q = math.sqrt(step * mu)  # = 1 / sqrt(kappa)
        beta_const = (1 - q) / (1 + q)
    x_prev = x
    monitor = _monitor("nesterov", step, bound="1/L", factor=1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(n_iter):
            beta = beta_const if mu > 0 else (k - 1) / (k + 2)  # beta_0 multiplies x_0 - x_{-1} = 0
            y = x + beta * (x - x_prev)
            g = _grad(grad_f, y, k=k)
            monitor.update(k, g, y)
            x, x_prev = y - step * g, x
            iterates[k + 1] = x
            if callback is not None:
                callback(k + 1, x)
    return x, iterates


def heavy_ball(grad_f, x0, step, beta, n_iter, callback=None):
    """Polyak's heavy ball: ``x_{k+1} = x_k - step * grad_f(x_k) + beta (x_k - x_{k-1})``, ``x_{-1} = x_0``.

    On a quadratic with spectrum in [mu, L], ``heavy_ball_parameters(L, mu)`` gives the rate
    ``(sqrt(L) - sqrt(mu)) / (sqrt(L) + sqrt(mu))`` (no such guarantee beyond quadratics).
    Returns ``(x, iterates)``.
    """
    x, n_iter, iterates = _start(grad_f, x0, n_iter, callback)
    step = as_scalar(step, "step", positive=True)
    beta = _beta(beta)
    x_prev = x
    monitor = _monitor("heavy_ball", step, bound="2(1 + beta)/L", factor=2 * (1 + beta))
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, n_iter + 1):
            g = _grad(grad_f, x, k=k - 1)
            monitor.update(k - 1, g, x)
            x, x_prev = x - step * g + beta * (x - x_prev), x
            iterates[k] = x
            if callback is not None:
                callback(k, x)
    return x, iterates


def heavy_ball_parameters(L, mu):
    """Polyak's tuning for a quadratic with spectrum in [mu, L], mu > 0:
    ``step = 4 / (sqrt(L) + sqrt(mu))^2``, ``beta = ((sqrt(L) - sqrt(mu)) / (sqrt(L) + sqrt(mu)))^2``.
    Returns ``(step, beta)``."""
    L, mu = _L_mu(L, mu)
    if mu == 0:
        raise ValueError("mu must be > 0 for Polyak's heavy-ball tuning")
    sL, smu = math.sqrt(L), math.sqrt(mu)
    return 4 / (sL + smu) ** 2, ((sL - smu) / (sL + smu)) ** 2


# ----------------------------------------------------------------------------- stochastic gradient

def sgd(grad_fi, x0, n_samples, step, n_iter, rng, batch_size=1, average=False, callback=None):
    """Stochastic gradient descent on a finite sum ``f = 1/n sum_i f_i``::

        I_k ~ batch_size indices drawn uniformly *with replacement* from {0, ..., n_samples - 1}
        x_{k+1} = x_k - step_k * grad_fi(x_k, I_k)

    ``grad_fi(x, idx)`` returns the average gradient over the samples ``idx`` (an unbiased
    estimate of ``grad f(x)``).  ``step`` is a float, or a callable ``k -> step_k`` (k = 0, 1, ...)
    such as the Robbins–Monro ``lambda k: c / (k + k0)``.  ``rng`` is a ``numpy.random.Generator``
    or an integer seed.

    Returns ``(x, iterates)``; with ``average=True`` returns ``(x_bar, iterates, averages)`` where
    ``averages = polyak_average(iterates)`` are the Polyak–Ruppert averages
    ``xbar_k = (x_0 + ... + x_k) / (k + 1)`` and ``x_bar = averages[-1]``.
    """
    x, n_iter, iterates = _start(grad_fi, x0, n_iter, callback, grad_name="grad_fi")
    n_samples = as_scalar(n_samples, "n_samples", positive=True, integer=True)
    batch_size = as_scalar(batch_size, "batch_size", positive=True, integer=True)
    if not callable(step):
        step = as_scalar(step, "step", positive=True)
    check_size(batch_size, "batch_size")
    rng = as_rng(rng)
    if not isinstance(average, (bool, np.bool_)):
        raise ValueError(f"average must be True or False, got {average!r}")
    monitor = _monitor("sgd", None if callable(step) else step, bound="2/L",
                       advice=("the step schedule step(k) is too large: the method converges only "
                               "for step(k) < 2/L") if callable(step) else None)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(n_iter):
            step_k = _step_k(step, k) if callable(step) else step
            idx = rng.integers(0, n_samples, size=batch_size)
            g = _grad(grad_fi, x, idx, name="grad_fi", k=k)
            monitor.update(k, g, x)
            x = x - step_k * g
            iterates[k + 1] = x
            if callback is not None:
                callback(k + 1, x)
    if average:
        averages = polyak_average(iterates)
        return averages[-1].copy(), iterates, averages
    return x, iterates


def _step_k(step, k):
    return as_scalar(check_result(step(k), "step", scalar=True, where=f"at k = {k}"), f"step({k})",
                     positive=True)


def polyak_average(iterates):
    """Running means of the rows: ``xbar_k = (x_0 + ... + x_k) / (k + 1)``; same shape as ``iterates``."""
    iterates = as_array(iterates, "iterates", ndim=2)
    return np.cumsum(iterates, axis=0) / np.arange(1, iterates.shape[0] + 1)[:, None]


# ----------------------------------------------------------------------------- PyTorch's optimizers

def momentum(grad_f, x0, step, beta, n_iter, callback=None):
    """SGD with momentum exactly as ``torch.optim.SGD(lr=step, momentum=beta)`` (dampening 0)::

        b_{k+1} = beta b_k + grad_f(x_k),   b_0 = 0
        x_{k+1} = x_k - step * b_{k+1}

    This is the heavy ball in disguise: the same iterates as ``heavy_ball(grad_f, x0, step, beta)``.
    Returns ``(x, iterates)``.
    """
    x, n_iter, iterates = _start(grad_f, x0, n_iter, callback)
    step = as_scalar(step, "step", positive=True)
    beta = _beta(beta)
    b = np.zeros_like(x)
    monitor = _monitor("momentum", step, bound="2(1 + beta)/L", factor=2 * (1 + beta))
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, n_iter + 1):
            g = _grad(grad_f, x, k=k - 1)
            monitor.update(k - 1, g, x)
            b = beta * b + g
            x = x - step * b
            iterates[k] = x
            if callback is not None:
                callback(k, x)
    return x, iterates


def rmsprop(grad_f, x0, step, n_iter, alpha=0.99, eps=1e-8, callback=None):
    """RMSProp exactly as ``torch.optim.RMSprop(lr=step, alpha=alpha, eps=eps)`` (no momentum,
    not centred)::

        g_k     = grad_f(x_k)
        v_{k+1} = alpha v_k + (1 - alpha) g_k^2,   v_0 = 0        (entrywise)
        x_{k+1} = x_k - step * g_k / (sqrt(v_{k+1}) + eps)        (eps added after the sqrt)

    Returns ``(x, iterates)``.
    """
    x, n_iter, iterates = _start(grad_f, x0, n_iter, callback)
    step = as_scalar(step, "step", positive=True)
    alpha = _beta(alpha, "alpha")
    eps = as_scalar(eps, "eps", positive=True)
    v = np.zeros_like(x)
    monitor = _monitor("rmsprop", step, advice=_ADAPTIVE.format(step=step))
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, n_iter + 1):
            g = _grad(grad_f, x, k=k - 1)
            monitor.update(k - 1, g, x)
            v = alpha * v + (1 - alpha) * g * g
            x = x - step * g / (np.sqrt(v) + eps)
            iterates[k] = x
            if callback is not None:
                callback(k, x)
    return x, iterates


def adam(grad_f, x0, step, n_iter, betas=(0.9, 0.999), eps=1e-8, callback=None):
    """Adam exactly as ``torch.optim.Adam(lr=step, betas=betas, eps=eps)``::

        g_k     = grad_f(x_k)
        m_{k+1} = beta1 m_k + (1 - beta1) g_k,       m_0 = 0
        v_{k+1} = beta2 v_k + (1 - beta2) g_k^2,     v_0 = 0         (entrywise)
        m_hat   = m_{k+1} / (1 - beta1^{k+1}),   v_hat = v_{k+1} / (1 - beta2^{k+1})
        x_{k+1} = x_k - step * m_hat / (sqrt(v_hat) + eps)           (eps after the sqrt and
                                                                       after the bias correction)
    Returns ``(x, iterates)``.
    """
    x, n_iter, iterates = _start(grad_f, x0, n_iter, callback)
    step = as_scalar(step, "step", positive=True)
    if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    beta1, beta2 = betas
    beta1, beta2 = _beta(beta1, "betas[0]"), _beta(beta2, "betas[1]")
    eps = as_scalar(eps, "eps", positive=True)
    m, v = np.zeros_like(x), np.zeros_like(x)
    monitor = _monitor("adam", step, advice=_ADAPTIVE.format(step=step))
    for k in range(1, n_iter + 1):
        g = _grad(grad_f, x, k=k - 1)
        monitor.update(k - 1, g, x)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        step_k = step / (1 - beta1**k)                      # bias corrections, as torch does
        x = x - step_k * m / (np.sqrt(v) / math.sqrt(1 - beta2**k) + eps)
        iterates[k] = x
        if callback is not None:
            callback(k, x)
    return x, iterates


# ----------------------------------------------------------------------------- theory

def contraction_factor(step, L, mu):
    """Contraction factor of gradient descent on a quadratic with spectrum in [mu, L]:
    ``q = max(|1 - step mu|, |1 - step L|)``, so ``||x_k - x*|| <= q^k ||x_0 - x*||``
    (GD converges for every start iff q < 1, i.e. 0 < step < 2/L when mu > 0)."""
    step = as_scalar(step, "step", positive=True)
    L, mu = _L_mu(L, mu)
    return max(abs(1 - step * mu), abs(1 - step * L))


def optimal_step(L, mu):
    """The step minimising ``contraction_factor``: ``2 / (L + mu)``, giving
    ``q = (L - mu) / (L + mu) = (kappa - 1) / (kappa + 1)``."""
    L, mu = _L_mu(L, mu)
    return 2 / (L + mu)
