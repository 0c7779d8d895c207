"""Approximation by two-layer networks (Chapter 5): ridge functions, random features, Barron's rate.

* **Two-layer networks are sums of ridge functions**::

      f(x) = sum_j a_j sigma(<w_j, x> + b_j),          x in R^d,  j = 1..p

  ``ridge_features`` builds the matrix ``Phi[i, j] = sigma(<w_j, x_i> + b_j)``, ``two_layer``
  evaluates ``Phi @ a``, ``random_ridge_weights`` draws inner weights whose hyperplanes
  ``<w_j, x> + b_j = 0`` cut a ball, and ``fit_outer_weights`` solves the least-squares problem
  ``min_a 1/n ||Phi a - y||^2 + lam ||a||^2`` with the inner weights frozen (a *random-feature* fit).
  ``ACTIVATIONS`` / ``get_activation`` give each activation ``sigma`` with its derivative
  ``sigma'`` (also used by ``backprop`` and ``scalings``).
* **Barron's rate** for infinite-width targets ``f(x) = E_{theta ~ rho}[a_theta relu(<w, x> + b)]``
  whose law ``rho`` (a mixture of Gaussians, built by ``relu_measure``) gives closed forms:
  ``integral_network`` is ``f`` (``E max(z, 0) = m Phi(m/s) + s phi(m/s)`` for ``z ~ N(m, s^2)``),
  ``integral_network_variance`` is ``Var_theta`` pointwise, ``sample_integral_network`` draws
  Maurey's p-neuron average ``f_p``, with ``E ||f - f_p||^2 = (1/p) int Var``, and ``barron_errors``
  measures both Maurey's average and the least-squares fit with the same neurons.

The rest of the chapter's code: ``course_lib.backprop`` (backpropagation by hand in an MLP),
``course_lib.scalings`` (lazy vs mean-field training) and ``course_lib.resnets`` (ResNets as Euler
schemes of ODEs); their functions are still found here too (``approximation.mlp_forward`` is
``backprop.mlp_forward``), so that older notebooks keep working.
"""
from __future__ import annotations

import contextlib
import math

import numpy as np

from course_lib._shared import as_count, as_points, as_rng, moved_names
from course_lib.utils import as_array, as_scalar, check_size

__all__ = [
    "ACTIVATIONS",
    "barron_errors",
    "fit_outer_weights",
    "get_activation",
    "integral_network",
    "integral_network_variance",
    "random_ridge_weights",
    "relu_measure",
    "ridge_features",
    "sample_integral_network",
    "two_layer",
]

# names that moved to their own modules: still reachable as course_lib.approximation.<name>
__getattr__ = moved_names(__name__, {
    **dict.fromkeys(["gradient_norms_vs_depth", "mlp_backward", "mlp_forward", "mlp_init",
                     "mse_loss"], "backprop"),
    **dict.fromkeys(["relative_change", "train_two_layer", "two_layer_scaled"], "scalings"),
    **dict.fromkeys(["euler", "quadratic_variation", "random_resnet", "rk4", "smooth_resnet",
                     "smooth_velocity_params", "velocity"], "resnets"),
})


# ----------------------------------------------------------------------------- activations

def _sigmoid(t):
    return 0.5 * (1.0 + np.tanh(0.5 * t))  # = 1 / (1 + e^{-t}), without overflow


ACTIVATIONS = {
    "relu": (lambda t: np.maximum(t, 0.0), lambda t: (t > 0).astype(np.float64)),
    "tanh": (np.tanh, lambda t: 1.0 - np.tanh(t) ** 2),
    "sigmoid": (_sigmoid, lambda t: _sigmoid(t) * (1.0 - _sigmoid(t))),
    "square": (lambda t: t ** 2, lambda t: 2.0 * t),
    "cube": (lambda t: t ** 3, lambda t: 3.0 * t ** 2),
    "identity": (lambda t: t, lambda t: np.ones_like(t)),
}
"""Activation name -> ``(sigma, sigma_prime)``, both acting entrywise on arrays.

``square`` and ``cube`` are polynomials: two-layer networks built on them span only polynomials of
degree 2 and 3, whatever their width (they are *not* universal approximators)."""


def get_activation(name: str):
    """``(sigma, sigma_prime)`` for an activation name of ``ACTIVATIONS``."""
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"activation (name) must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


def _one_blas_thread():
    """Run small dense least-squares problems on one BLAS thread (when threadpoolctl is installed).

    For matrices of a few hundred columns, extra BLAS threads only add synchronisation; on a machine
    shared with other jobs they make ``lstsq`` ten times slower."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _inner(W, b, d: int | None = None):
    W = as_array(W, "W", ndim=2)
    if d is not None and W.shape[1] != d:
        raise ValueError(f"W must have shape (p, {d}) to match x, got {W.shape}")
    b = as_array(b, "b", shape=(W.shape[0],))
    return W, b


# ----------------------------------------------------------------------------- ridge functions

def ridge_features(x, W, b, activation: str = "relu") -> np.ndarray:
    """The feature matrix ``Phi[i, j] = sigma(<w_j, x_i> + b_j)`` of shape ``(n, p)``.

    Column ``j`` is the *ridge function* ``x -> sigma(<w_j, x> + b_j)``: it is constant on the
    hyperplanes orthogonal to ``w_j``. ``x`` is ``(n, d)`` (or ``(n,)`` for d = 1), ``W`` is
    ``(p, d)``, ``b`` is ``(p,)``.
    """
    sigma, _ = get_activation(activation)
    x = as_points(x)
    W, b = _inner(W, b, x.shape[1])
    return sigma(x @ W.T + b)


def two_layer(x, W, b, a, activation: str = "relu") -> np.ndarray:
    """A two-layer network ``f(x_i) = sum_j a_j sigma(<w_j, x_i> + b_j)``, returned as ``(n,)``."""
    Phi = ridge_features(x, W, b, activation)
    a = as_array(a, "a", shape=(Phi.shape[1],))
    return Phi @ a


def random_ridge_weights(p, d, rng, scale: float = 1.0, radius: float = 1.0):
    """``p`` random inner weights ``(W, b)`` whose hyperplanes cut the ball of radius ``radius``.

    ``w_j = scale * u_j`` with ``u_j`` uniform on the unit sphere of R^d and ``b_j = -scale * c_j`` with
    ``c_j`` uniform in ``[-radius, radius]``, so that ``sigma(<w_j, x> + b_j) = sigma(scale (<u_j, x> - c_j))``
    changes across the hyperplane ``<u_j, x> = c_j``. ``scale`` is the steepness (irrelevant for relu,
    which is positively homogeneous). Returns ``W`` (p, d) and ``b`` (p,).
    """
    p, d = as_count(p, "p"), as_count(d, "d")
    check_size((p, 1), "p")
    check_size((d, 1), "d")
    check_size((p, d), "p")
    rng = as_rng(rng)
    scale = as_scalar(scale, "scale", positive=True)
    radius = as_scalar(radius, "radius", positive=True)
    u = rng.standard_normal((p, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    c = rng.uniform(-radius, radius, size=p)
    return scale * u, -scale * c


def fit_outer_weights(x, y, W, b, activation: str = "relu", lam: float = 0.0) -> np.ndarray:
    """Least-squares outer weights with frozen inner weights (a random-feature fit):

        a = argmin_a  1/n ||Phi a - y||^2 + lam ||a||^2,    Phi = ridge_features(x, W, b).

    With ``lam = 0`` this is the minimum-norm least-squares solution (``np.linalg.lstsq``), so that
    ``Phi @ a`` is the orthogonal projection of ``y`` onto the span of the p ridge functions.
    """
    Phi = ridge_features(x, W, b, activation)
    y = as_array(y, "y", shape=(Phi.shape[0],))
    lam = as_scalar(lam, "lam", nonnegative=True)
    with _one_blas_thread():
        if lam == 0:
            return np.linalg.lstsq(Phi, y, rcond=None)[0]
        n, p = Phi.shape
        return np.linalg.solve(Phi.T @ Phi / n + lam * np.eye(p), Phi.T @ y / n)


# ----------------------------------------------------------------------------- Barron's rate

def relu_measure(w_mean, b_mean, b_std, sign) -> dict:
    """A law ``rho`` of neurons ``theta = (a, w, b)``: a mixture of K Gaussian components.

    Component ``k`` (chosen with probability 1/K) has ``w ~ N(w_mean[k], I_d)``,
    ``b ~ N(b_mean[k], b_std[k]^2)`` and outer weight ``a = K * sign[k]``. ``w_mean`` is (K, d),
    the others (K,); ``sign`` holds +1 or -1. The infinite-width network of this law is
    ``integral_network(x, rho) = E_rho[a relu(<w, x> + b)] = sum_k sign[k] E_k[relu(<w, x> + b)]``.
    """
    return _measure(w_mean, b_mean, b_std, sign, "{}")


def _measure(w_mean, b_mean, b_std, sign, label):
    """The checks of ``relu_measure``; ``label`` formats the names (``"rho['{}']"`` for a dict)."""
    w_mean = as_array(w_mean, label.format("w_mean"), ndim=2)
    K = w_mean.shape[0]
    if K == 0:
        raise ValueError(f"{label.format('w_mean')} must hold at least one component (one row)")
    b_mean = as_array(b_mean, label.format("b_mean"), shape=(K,))
    b_std = as_array(b_std, label.format("b_std"), shape=(K,))
    if np.any(b_std <= 0):
        raise ValueError(f"{label.format('b_std')} must be positive, got {b_std}")
    sign = as_array(sign, label.format("sign"), shape=(K,))
    if not np.all(np.isin(sign, (-1.0, 1.0))):
        raise ValueError(f"{label.format('sign')} must hold +1 or -1, got {sign}")
    return {"w_mean": w_mean, "b_mean": b_mean, "b_std": b_std, "sign": sign}


def _check_measure(rho) -> dict:
    if not isinstance(rho, dict) or set(rho) != {"w_mean", "b_mean", "b_std", "sign"}:
        raise ValueError("rho must be a law of neurons built by relu_measure(w_mean, b_mean, b_std, sign)")
    return _measure(rho["w_mean"], rho["b_mean"], rho["b_std"], rho["sign"], "rho['{}']")


def _relu_gaussian_moments(x, rho):
    """For each point and component, ``z = <w, x> + b ~ N(m, s^2)``: return E relu(z), E relu(z)^2."""
    from scipy.special import ndtr  # standard normal CDF

    rho = _check_measure(rho)
    x = as_points(x, "x", rho["w_mean"].shape[1])
    m = x @ rho["w_mean"].T + rho["b_mean"]                              # (n, K)
    s = np.sqrt(np.sum(x ** 2, axis=1, keepdims=True) + rho["b_std"] ** 2)
    r = m / s
    cdf, pdf = ndtr(r), np.exp(-0.5 * r ** 2) / math.sqrt(2 * math.pi)
    first = m * cdf + s * pdf                                            # E max(z, 0)
    second = (m ** 2 + s ** 2) * cdf + m * s * pdf                       # E max(z, 0)^2
    return first, second, rho


def integral_network(x, rho) -> np.ndarray:
    """The infinite-width network ``f(x) = E_{theta ~ rho}[a relu(<w, x> + b)]``, in closed form.

    For one Gaussian component, ``z = <w, x> + b ~ N(m, s^2)`` with ``m = <w_mean, x> + b_mean`` and
    ``s^2 = ||x||^2 + b_std^2``, and ``E max(z, 0) = m Phi(m/s) + s phi(m/s)`` (``Phi``, ``phi``: the
    standard normal CDF and density). Returns ``(n,)``; ``f`` is smooth (even analytic) in ``x``.
    """
    first, _, rho = _relu_gaussian_moments(x, rho)
    return first @ rho["sign"]


def integral_network_variance(x, rho) -> np.ndarray:
    """``Var_{theta ~ rho}[a relu(<w, x> + b)]`` at each point, in closed form, shape ``(n,)``.

    ``E[a^2 relu(z)^2] = K sum_k E_k[relu(z)^2]`` with ``E max(z, 0)^2 = (m^2 + s^2) Phi(m/s) + m s phi(m/s)``.
    By Maurey's argument, the average ``f_p`` of p i.i.d. neurons has
    ``E ||f - f_p||^2_{L2(mu)} = (1/p) int Var dmu`` exactly.
    """
    first, second, rho = _relu_gaussian_moments(x, rho)
    K = rho["sign"].size
    return K * second.sum(axis=1) - (first @ rho["sign"]) ** 2


def sample_integral_network(p, rho, rng):
    """Maurey's p-neuron approximation of ``integral_network(., rho)``: p i.i.d. neurons from ``rho``.

    Returns ``(W, b, a)`` with ``W`` (p, d), ``b`` (p,) and outer weights ``a_j = a_{theta_j} / p``,
    so that ``two_layer(x, W, b, a) = (1/p) sum_j a_{theta_j} relu(<w_j, x> + b_j)``, an unbiased
    estimate of ``f(x)``.
    """
    p = as_count(p, "p")
    rho = _check_measure(rho)
    rng = as_rng(rng)
    K, d = rho["w_mean"].shape
    check_size((p, d + 3), "p")
    k = rng.integers(0, K, size=p)
    W = rho["w_mean"][k] + rng.standard_normal((p, d))
    b = rho["b_mean"][k] + rho["b_std"][k] * rng.standard_normal(p)
    return W, b, K * rho["sign"][k] / p


def barron_errors(x, ps, rho, n_seeds, rng):
    """Errors of p-neuron approximations of ``f = integral_network(., rho)``, in ``L2(mu_x)``.

    ``mu_x`` is the uniform measure on the points ``x`` (e.g. a fine grid of the domain) and
    ``||g||_{L2(mu_x)} = sqrt(mean_i g(x_i)^2)``. For each ``p`` in ``ps`` and each of ``n_seeds``
    independent draws of p neurons from ``rho``:

    * ``maurey[s, i]``: error of Maurey's average ``sample_integral_network(p, rho)`` (nothing fitted);
    * ``least_squares[s, i]``: error of the best outer weights for the *same* inner weights, i.e. the
      projection of ``f`` onto the span of the p ridge functions in ``L2(mu_x)``.

    Since Maurey's average lies in that span, ``least_squares <= maurey`` entry by entry.
    Returns ``(maurey, least_squares)``, two ``(n_seeds, len(ps))`` arrays.
    """
    x = as_points(x)
    ps = as_array(ps, "ps", ndim=1)
    if ps.size == 0 or np.any(ps < 1) or np.any(ps != np.round(ps)):
        raise ValueError(f"ps must hold positive integers, got {ps}")
    check_size((x.shape[0], int(ps.max())), "ps")
    n_seeds = as_count(n_seeds, "n_seeds")
    check_size((n_seeds, ps.size), "n_seeds")
    rng = as_rng(rng)
    f = integral_network(x, rho)
    maurey, lsq = np.empty((n_seeds, ps.size)), np.empty((n_seeds, ps.size))
    with _one_blas_thread():
        for s in range(n_seeds):
            for i, p in enumerate(ps.astype(int)):
                W, b, a = sample_integral_network(p, rho, rng)
                Phi = ridge_features(x, W, b, "relu")
                maurey[s, i] = np.sqrt(np.mean((Phi @ a - f) ** 2))
                coef = np.linalg.lstsq(Phi, f, rcond=None)[0]
                lsq[s, i] = np.sqrt(np.mean((Phi @ coef - f) ** 2))
    return maurey, lsq


