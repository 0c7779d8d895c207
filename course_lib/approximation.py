"""Deep learning theory, numerically (Chapter 5): approximation, backpropagation, scalings, ResNets as ODEs.

Five groups of functions, NumPy float64 in and out:

* **Two-layer networks are sums of ridge functions**::

      f(x) = sum_j a_j sigma(<w_j, x> + b_j),          x in R^d,  j = 1..p

  ``ridge_features`` builds the matrix ``Phi[i, j] = sigma(<w_j, x_i> + b_j)``, ``two_layer``
  evaluates ``Phi @ a``, ``random_ridge_weights`` draws inner weights whose hyperplanes
  ``<w_j, x> + b_j = 0`` cut a ball, and ``fit_outer_weights`` solves the least-squares problem
  for ``a`` with the inner weights frozen (a *random-feature* fit).
* **Barron's rate** for infinite-width targets ``f(x) = E_{theta ~ rho}[a_theta relu(<w, x> + b)]``
  whose law ``rho`` (a mixture of Gaussians, built by ``relu_measure``) gives closed forms:
  ``integral_network`` is ``f``, ``integral_network_variance`` is ``Var_theta`` pointwise,
  ``sample_integral_network`` draws Maurey's p-neuron average, and ``barron_errors`` measures both
  Maurey's average and the least-squares fit with the same neurons.
* **Backpropagation by hand** for a multi-layer perceptron ``x_k = sigma(W_k x_{k-1} + b_k)``
  (last layer linear): ``mlp_init``, ``mlp_forward`` (which caches what the backward pass needs),
  ``mlp_backward`` (vector-Jacobian products, all parameter gradients), ``mse_loss`` and
  ``gradient_norms_vs_depth`` for vanishing / exploding gradients.
* **Lazy vs mean-field training** of ``f(x) = m^(-gamma) sum_j a_j sigma(<w_j, x>)`` with
  ``gamma = 1/2`` (NTK scaling) or ``gamma = 1`` (mean-field scaling): ``two_layer_scaled``,
  ``train_two_layer``, ``relative_change``.
* **ResNets are Euler schemes**: ``euler`` (a ResNet with blocks ``x + h v(t_k, x)``) and ``rk4`` (an
  accurate ODE solve) for any velocity ``v(t, x)``; the velocity ``v(t, x) = W2(t) tanh(W1(t) x + b(t))``
  with weights smooth in time (``smooth_velocity_params``, ``velocity``), ``smooth_resnet``,
  ``random_resnet`` (i.i.d. weights, step ``T^(-beta)``) and ``quadratic_variation``.
"""
from __future__ import annotations

import contextlib
import math

import numpy as np

from course_lib import ode
from course_lib.utils import as_array, as_scalar

__all__ = [
    "ACTIVATIONS",
    "barron_errors",
    "euler",
    "fit_outer_weights",
    "get_activation",
    "gradient_norms_vs_depth",
    "integral_network",
    "integral_network_variance",
    "mlp_backward",
    "mlp_forward",
    "mlp_init",
    "mse_loss",
    "quadratic_variation",
    "random_resnet",
    "random_ridge_weights",
    "relative_change",
    "relu_measure",
    "ridge_features",
    "rk4",
    "sample_integral_network",
    "smooth_resnet",
    "smooth_velocity_params",
    "train_two_layer",
    "two_layer",
    "two_layer_scaled",
    "velocity",
]


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
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


def _rng(rng, name: str = "rng") -> np.random.Generator:
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"{name} must be a numpy Generator or an int seed, got {type(rng).__name__}")
    return rng


def _count(n, name: str, minimum: int = 1) -> int:
    n = as_scalar(n, name, integer=True)
    if n < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {n!r}")
    return int(n)


def _one_blas_thread():
    """Run small dense least-squares problems on one BLAS thread (when threadpoolctl is installed).

    For matrices of a few hundred columns, extra BLAS threads only add synchronisation; on a machine
    shared with other jobs they make ``lstsq`` ten times slower."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _points(x, name: str = "x", d: int | None = None) -> np.ndarray:
    """Inputs as an (n, d) float64 array; a 1-D array is read as n points of R^1."""
    x = as_array(x, name)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"{name} must be an (n, d) array of n >= 1 points, got shape {x.shape}")
    if d is not None and x.shape[1] != d:
        raise ValueError(f"{name} must have {d} column(s) (the input dimension), got shape {x.shape}")
    return x


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
    x = _points(x)
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
    p, d = _count(p, "p"), _count(d, "d")
    rng = _rng(rng)
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
    w_mean = as_array(w_mean, "w_mean", ndim=2)
    K = w_mean.shape[0]
    if K == 0:
        raise ValueError("w_mean must hold at least one component (one row)")
    b_mean = as_array(b_mean, "b_mean", shape=(K,))
    b_std = as_array(b_std, "b_std", shape=(K,))
    if np.any(b_std <= 0):
        raise ValueError(f"b_std must be positive, got {b_std}")
    sign = as_array(sign, "sign", shape=(K,))
    if not np.all(np.isin(sign, (-1.0, 1.0))):
        raise ValueError(f"sign must hold +1 or -1, got {sign}")
    return {"w_mean": w_mean, "b_mean": b_mean, "b_std": b_std, "sign": sign}


def _check_measure(rho) -> dict:
    if not isinstance(rho, dict) or set(rho) != {"w_mean", "b_mean", "b_std", "sign"}:
        raise ValueError("rho must be a law of neurons built by relu_measure(w_mean, b_mean, b_std, sign)")
    return relu_measure(rho["w_mean"], rho["b_mean"], rho["b_std"], rho["sign"])


def _relu_gaussian_moments(x, rho):
    """For each point and component, ``z = <w, x> + b ~ N(m, s^2)``: return E relu(z), E relu(z)^2."""
    from scipy.special import ndtr  # standard normal CDF

    rho = _check_measure(rho)
    x = _points(x, "x", rho["w_mean"].shape[1])
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
    p = _count(p, "p")
    rho = _check_measure(rho)
    rng = _rng(rng)
    K, d = rho["w_mean"].shape
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
    x = _points(x)
    ps = as_array(ps, "ps", ndim=1)
    if ps.size == 0 or np.any(ps < 1) or np.any(ps != np.round(ps)):
        raise ValueError(f"ps must hold positive integers, got {ps}")
    n_seeds = _count(n_seeds, "n_seeds")
    rng = _rng(rng)
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


# ----------------------------------------------------------------------------- backpropagation

def _params(params, name: str = "params"):
    """A list of (W_k, b_k) with chained shapes: W_k is (n_k, n_{k-1}), b_k is (n_k,)."""
    if not isinstance(params, (list, tuple)) or len(params) == 0:
        raise ValueError(f"{name} must be a non-empty list of (W, b) pairs")
    out = []
    for k, layer in enumerate(params):
        if not isinstance(layer, (list, tuple)) or len(layer) != 2:
            raise ValueError(f"{name}[{k}] must be a pair (W, b)")
        W = as_array(layer[0], f"{name}[{k}][0] (W)", ndim=2)
        b = as_array(layer[1], f"{name}[{k}][1] (b)", shape=(W.shape[0],))
        if out and out[-1][0].shape[0] != W.shape[1]:
            raise ValueError(f"{name}[{k}] (W) has {W.shape[1]} columns but layer {k - 1} has "
                             f"{out[-1][0].shape[0]} outputs")
        out.append((W, b))
    return out


def mlp_init(widths, rng, gain: float = 1.0, activation: str = "relu", bias_std: float = 0.0):
    """Random parameters ``[(W_1, b_1), ..., (W_L, b_L)]`` of an MLP with layer widths ``widths``.

    ``W_k`` is ``(widths[k], widths[k-1])`` with i.i.d. ``N(0, gain^2 c / widths[k-1])`` entries, where
    ``c = 2`` for relu (He's initialization) and ``c = 1`` otherwise (Glorot / LeCun); ``b_k`` is
    ``N(0, bias_std^2)``. With ``gain = 1`` the squared norm of a backpropagated relu signal is
    preserved in expectation from layer to layer; ``gain = g`` multiplies it by ``g^2`` per layer.
    """
    if not isinstance(widths, (list, tuple, np.ndarray)) or len(widths) < 2:
        raise ValueError(f"widths must be a list of at least two layer widths, got {widths!r}")
    widths = [_count(w, "widths") for w in widths]
    rng = _rng(rng)
    gain = as_scalar(gain, "gain", positive=True)
    get_activation(activation)
    bias_std = as_scalar(bias_std, "bias_std", nonnegative=True)
    c = 2.0 if activation == "relu" else 1.0
    return [(gain * np.sqrt(c / n_in) * rng.standard_normal((n_out, n_in)),
             bias_std * rng.standard_normal(n_out))
            for n_in, n_out in zip(widths[:-1], widths[1:])]


def mlp_forward(params, x, activation: str = "tanh"):
    """Forward pass of the MLP ``h_0 = x``, ``z_k = h_{k-1} W_k^T + b_k``, ``h_k = sigma(z_k)`` (k < L),
    output ``z_L`` (the last layer is linear).

    ``x`` is ``(n, n_0)``, one input per row. Returns ``(out, cache)`` with ``out = z_L`` of shape
    ``(n, n_L)`` and ``cache = {"h": [h_0, ..., h_{L-1}], "z": [z_1, ..., z_L]}``: exactly what the
    backward pass needs (the inputs of each layer and the pre-activations).
    """
    sigma, _ = get_activation(activation)
    params = _params(params)
    h = _points(x, "x", params[0][0].shape[1])
    hs, zs = [], []
    for k, (W, b) in enumerate(params):
        hs.append(h)
        z = h @ W.T + b
        zs.append(z)
        h = sigma(z) if k < len(params) - 1 else z
    return h, {"h": hs, "z": zs, "activation": activation}


def mlp_backward(params, cache, grad_out, activation: str = "tanh"):
    """Backward pass: all parameter gradients of a scalar loss ``l(out)``, given ``grad_out = dl/d out``.

    Reverse-mode chain rule, one vector-Jacobian product per layer, with ``g_L = grad_out`` (n, n_L)::

        dl/dW_k = g_k^T h_{k-1},   dl/db_k = sum_i g_k[i],   dl/dh_{k-1} = g_k W_k,
        g_{k-1} = (dl/dh_{k-1}) * sigma'(z_{k-1})          (entrywise).

    Returns ``(grads, grad_x)``: ``grads = [(dW_1, db_1), ..., (dW_L, db_L)]`` (same shapes as
    ``params``) and ``grad_x = dl/dx`` of shape ``(n, n_0)``.
    """
    _, dsigma = get_activation(activation)
    params = _params(params)
    if not isinstance(cache, dict) or not {"h", "z"} <= set(cache) or len(cache["h"]) != len(params):
        raise ValueError("cache must be the cache returned by mlp_forward for these params")
    if cache.get("activation", activation) != activation:
        raise ValueError(f"activation {activation!r} differs from the forward pass's "
                         f"{cache['activation']!r}")
    n, n_out = cache["z"][-1].shape
    g = as_array(grad_out, "grad_out", shape=(n, n_out))
    grads = [None] * len(params)
    for k in range(len(params) - 1, -1, -1):
        W, _ = params[k]
        grads[k] = (g.T @ cache["h"][k], g.sum(axis=0))
        g_h = g @ W
        if k > 0:
            g = g_h * dsigma(cache["z"][k - 1])
    return grads, g_h


def mse_loss(out, y):
    """``l = 1/(2n) sum_i ||out_i - y_i||^2`` and its gradient ``(out - y)/n``; returns ``(l, grad)``."""
    out = as_array(out, "out")
    y = as_array(y, "y", shape=out.shape)
    if out.ndim == 0:
        raise ValueError("out must hold at least one prediction")
    n = out.shape[0]
    r = out - y
    return 0.5 * float(np.sum(r ** 2)) / n, r / n


def gradient_norms_vs_depth(depths, width, gain, rng, n: int = 32, n_seeds: int = 4,
                            activation: str = "relu"):
    """``||dl/dW_1||_F`` for MLPs of ``width`` x ``width`` layers and growing depth L (weight matrices).

    For each depth, ``mlp_init([width] * (L + 1), gain=gain)`` with zero biases, ``n`` inputs drawn
    uniformly on the unit sphere and ``l = 1/n sum_i <v_i, F(x_i)>`` with random unit cotangents
    ``v_i``: ``dl/dW_1`` is then a product of L - 1 layer Jacobians applied to the ``v_i``. For relu
    and He's initialization the norm is multiplied by about ``gain`` per layer: it vanishes
    (``gain < 1``) or explodes (``gain > 1``) geometrically with depth. Returns ``(n_seeds, len(depths))``.
    """
    depths = as_array(depths, "depths", ndim=1)
    if depths.size == 0 or np.any(depths < 1) or np.any(depths != np.round(depths)):
        raise ValueError(f"depths must hold positive integers, got {depths}")
    width, n, n_seeds = _count(width, "width"), _count(n, "n"), _count(n_seeds, "n_seeds")
    rng = _rng(rng)
    gain = as_scalar(gain, "gain", positive=True)
    out = np.empty((n_seeds, depths.size))
    for s in range(n_seeds):
        for i, L in enumerate(depths.astype(int)):
            params = mlp_init([width] * (L + 1), rng, gain=gain, activation=activation)
            x = rng.standard_normal((n, width))
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            v = rng.standard_normal((n, width))
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            _, cache = mlp_forward(params, x, activation)
            grads, _ = mlp_backward(params, cache, v / n, activation)
            out[s, i] = np.linalg.norm(grads[0][0])
    return out


# ----------------------------------------------------------------------------- lazy vs mean field

_GAMMA = {"ntk": 0.5, "mean_field": 1.0}


def _gamma(scaling) -> float:
    if scaling not in _GAMMA:
        raise ValueError(f"scaling must be 'ntk' or 'mean_field', got {scaling!r}")
    return _GAMMA[scaling]


def two_layer_scaled(x, W, a, scaling: str = "ntk", activation: str = "tanh") -> np.ndarray:
    """``f(x) = m^(-gamma) sum_j a_j sigma(<w_j, x>)`` with ``gamma = 1/2`` (``"ntk"``) or ``1``
    (``"mean_field"``); ``W`` is (m, d), ``a`` is (m,). Put a constant 1 in ``x`` for a bias."""
    gamma = _gamma(scaling)
    W = as_array(W, "W", ndim=2)
    x = _points(x, "x", W.shape[1])
    a = as_array(a, "a", shape=(W.shape[0],))
    sigma, _ = get_activation(activation)
    return sigma(x @ W.T) @ a / W.shape[0] ** gamma


def train_two_layer(x, y, W0, a0, scaling: str = "ntk", step: float = 1.0, n_iter: int = 100,
                    activation: str = "tanh"):
    """Full-batch gradient descent on ``L(W, a) = 1/(2n) sum_i (f(x_i) - y_i)^2``, ``f = two_layer_scaled``.

    The learning rate is ``step * m^(2 gamma - 1)``: ``step`` for the NTK scaling and ``step * m`` for the
    mean-field one, the rates for which the training dynamics of ``f`` have a limit as ``m -> infinity``
    (a kernel regression with the neural tangent kernel, respectively a mean-field PDE on the law of
    the neurons). Each parameter then moves by ``O(m^(-1/2))`` (NTK) or ``O(1)`` (mean field).
    Returns ``(W, a, losses)`` with ``losses`` of length ``n_iter + 1``; ``W0``, ``a0`` are not modified.
    """
    gamma = _gamma(scaling)
    sigma, dsigma = get_activation(activation)
    W = as_array(W0, "W0", ndim=2).copy()
    a = as_array(a0, "a0", shape=(W.shape[0],)).copy()
    x = _points(x, "x", W.shape[1])
    y = as_array(y, "y", shape=(x.shape[0],))
    step = as_scalar(step, "step", positive=True)
    n_iter = _count(n_iter, "n_iter", minimum=0)
    m, n = W.shape[0], x.shape[0]
    lr, c = step * m ** (2 * gamma - 1), m ** (-gamma)
    losses = np.empty(n_iter + 1)
    for k in range(n_iter + 1):
        Z = x @ W.T
        r = c * (sigma(Z) @ a) - y
        losses[k] = 0.5 * np.mean(r ** 2)
        if k == n_iter:
            break
        grad_a = c * sigma(Z).T @ r / n
        grad_W = c * ((r[:, None] * dsigma(Z)) * a).T @ x / n
        a -= lr * grad_a
        W -= lr * grad_W
    return W, a, losses


def relative_change(W0, a0, W, a) -> float:
    """``||theta - theta_0|| / ||theta_0||`` for ``theta = (W, a)`` (Frobenius / Euclidean norms)."""
    W0 = as_array(W0, "W0", ndim=2)
    a0 = as_array(a0, "a0", shape=(W0.shape[0],))
    W = as_array(W, "W", shape=W0.shape)
    a = as_array(a, "a", shape=a0.shape)
    den = math.sqrt(float(np.sum(W0 ** 2) + np.sum(a0 ** 2)))
    if den == 0:
        raise ValueError("W0 and a0 are zero: the relative change is undefined")
    return math.sqrt(float(np.sum((W - W0) ** 2) + np.sum((a - a0) ** 2))) / den


# ----------------------------------------------------------------------------- ResNets and ODEs

def _check_callable(f, name: str) -> None:
    if not callable(f):
        raise ValueError(f"{name} must be a callable, got {type(f).__name__}")  # noqa: TRY004


def _velocity_value(v, t, x):
    out = np.asarray(v(t, x), dtype=np.float64)
    if out.shape != x.shape:
        raise ValueError(f"v must return an array shaped like x {x.shape}, got {out.shape}")
    return out


def euler(v, x0, T, t1: float = 1.0, return_path: bool = False):
    """Explicit Euler with T steps of size ``h = t1/T`` for ``x'(t) = v(t, x)``, ``x(0) = x0``:

        x_{k+1} = x_k + h v(t_k, x_k),    t_k = k h,

    which is a ResNet of depth T whose k-th residual block is ``x -> x + h v(t_k, x)``. ``x0`` is
    any array (e.g. ``(n, d)``: n points) and ``v(t, x)`` returns an array of the same shape.
    Returns ``x_T`` (or the whole path ``(T + 1, *x0.shape)`` with ``return_path``).
    """
    _check_callable(v, "v")
    x = as_array(x0, "x0").copy()
    T = _count(T, "T")
    t1 = as_scalar(t1, "t1", positive=True)
    h = t1 / T
    field = lambda t, z: _velocity_value(v, t, z)  # noqa: E731
    path = [x]
    for k in range(T):
        x = ode.rk_step_t(field, k * h, x, h, "euler")
        path.append(x)
    return np.stack(path) if return_path else x


def rk4(v, x0, n_steps: int = 200, t1: float = 1.0, return_path: bool = False):
    """The classical fourth-order Runge-Kutta scheme for ``x'(t) = v(t, x)`` on ``[0, t1]``:

        k1 = v(t, x), k2 = v(t + h/2, x + h k1/2), k3 = v(t + h/2, x + h k2/2), k4 = v(t + h, x + h k3),
        x <- x + h (k1 + 2 k2 + 2 k3 + k4) / 6,

    with global error ``O(h^4)``: an accurate reference for the flow ``x(t1)``. Same conventions as
    ``euler``; returns ``x(t1)`` (or the path at the ``n_steps + 1`` grid times).
    """
    _check_callable(v, "v")
    x = as_array(x0, "x0").copy()
    n_steps = _count(n_steps, "n_steps")
    t1 = as_scalar(t1, "t1", positive=True)
    h = t1 / n_steps
    field = lambda t, z: _velocity_value(v, t, z)  # noqa: E731
    path = [x]
    for k in range(n_steps):
        x = ode.rk_step_t(field, k * h, x, h, "rk4")
        path.append(x)
    return np.stack(path) if return_path else x


def smooth_velocity_params(d, hidden, rng, n_modes: int = 3, scale: float = 1.0) -> dict:
    """Random weights of a velocity field ``v(t, x) = W2(t) tanh(W1(t) x + b(t))`` smooth in ``t``.

    Each weight is a cosine series ``W(t) = sum_{q < n_modes} C_q cos(q pi t)`` with independent
    Gaussian coefficients of standard deviation ``scale / (q + 1) / sqrt(fan_in)``. Returns a dict
    with ``"W1"`` (n_modes, hidden, d), ``"b"`` (n_modes, hidden) and ``"W2"`` (n_modes, d, hidden).
    """
    d, hidden, n_modes = _count(d, "d"), _count(hidden, "hidden"), _count(n_modes, "n_modes")
    rng = _rng(rng)
    scale = as_scalar(scale, "scale", positive=True)
    decay = scale / np.arange(1, n_modes + 1)
    return {"W1": decay[:, None, None] * rng.standard_normal((n_modes, hidden, d)) / np.sqrt(d),
            "b": decay[:, None] * rng.standard_normal((n_modes, hidden)),
            "W2": decay[:, None, None] * rng.standard_normal((n_modes, d, hidden)) / np.sqrt(hidden)}


def _velocity_params(params) -> dict:
    if not isinstance(params, dict) or not {"W1", "b", "W2"} <= set(params):
        raise ValueError("params must be a dict with keys 'W1', 'b', 'W2' (see smooth_velocity_params)")
    W1 = as_array(params["W1"], "params['W1']", ndim=3)
    q, hidden, d = W1.shape
    return {"W1": W1, "b": as_array(params["b"], "params['b']", shape=(q, hidden)),
            "W2": as_array(params["W2"], "params['W2']", shape=(q, d, hidden))}


def velocity(params, t, x) -> np.ndarray:
    """``v(t, x) = W2(t) tanh(W1(t) x + b(t))`` for points ``x`` of shape (n, d) (or (d,)), with the
    cosine-series weights of ``smooth_velocity_params`` evaluated at time ``t``."""
    P = _velocity_params(params)
    t = as_scalar(t, "t")
    d = P["W1"].shape[2]
    x = as_array(x, "x")
    if x.shape[-1:] != (d,) or x.ndim > 2:
        raise ValueError(f"x must have shape (n, {d}) or ({d},), got {x.shape}")
    c = np.cos(np.pi * t * np.arange(P["W1"].shape[0]))
    W1, b, W2 = (np.tensordot(c, P[key], axes=1) for key in ("W1", "b", "W2"))
    return np.tanh(x @ W1.T + b) @ W2.T


def smooth_resnet(params, x0, T, return_path: bool = False):
    """The depth-T ResNet ``x_{k+1} = x_k + (1/T) W2(t_k) tanh(W1(t_k) x_k + b(t_k))``, ``t_k = k/T``:
    ``euler`` on ``velocity(params, ., .)``. As ``T -> infinity`` its output converges to the flow of the
    ODE ``x' = v(t, x)`` at time 1, with error ``O(1/T)``."""
    _velocity_params(params)
    return euler(lambda t, x: velocity(params, t, x), x0, T, 1.0, return_path)


def random_resnet(x0, T, hidden, rng, beta: float = 0.5, n_draws: int | None = None,
                  return_path: bool = False):
    """A depth-T ResNet with i.i.d. Gaussian weights and residual scaling ``T^(-beta)``:

        x_{k+1} = x_k + T^(-beta) W2_k tanh(W1_k x_k + b_k),

    ``W1_k`` (hidden, d) with ``N(0, 1/d)`` entries, ``b_k`` ``N(0, 1)``, ``W2_k`` (d, hidden) with
    ``N(0, 1/hidden)`` entries, independent across blocks. For ``beta = 1`` the residuals average out
    (law of large numbers: ``x_T -> x_0``); for ``beta = 1/2`` they add up like a random walk and the
    ResNet is an Euler-Maruyama scheme of a stochastic differential equation: the limit is noisy.

    ``x0`` is ``(n, d)``. With ``n_draws = R``, R independent networks are run at once on the same
    inputs and the result has a leading axis R. Returns ``x_T`` (or the path, time first).
    """
    x0 = _points(x0, "x0")
    T, hidden = _count(T, "T"), _count(hidden, "hidden")
    rng = _rng(rng)
    beta = as_scalar(beta, "beta", positive=True)
    R = 1 if n_draws is None else _count(n_draws, "n_draws")
    n, d = x0.shape
    x = np.broadcast_to(x0, (R, n, d)).copy()
    path = [x]
    for _ in range(T):
        W1 = rng.standard_normal((R, hidden, d)) / np.sqrt(d)
        b = rng.standard_normal((R, 1, hidden))
        W2 = rng.standard_normal((R, d, hidden)) / np.sqrt(hidden)
        h = np.tanh(np.einsum("rnd,rhd->rnh", x, W1) + b)
        x = x + T ** (-beta) * np.einsum("rnh,rdh->rnd", h, W2)
        path.append(x)
    out = np.stack(path) if return_path else x
    if n_draws is None:
        out = out[:, 0] if return_path else out[0]
    return out


def quadratic_variation(path) -> np.ndarray:
    """``sum_k ||x_{k+1} - x_k||^2`` along a path ``(T + 1, ..., d)`` (time first, space last).

    ``O(1/T)`` for a smooth path sampled at T steps; ``O(1)`` for a Brownian-like path. Returns the
    value for each trajectory (the shape of ``path[0]`` without its last axis)."""
    path = as_array(path, "path")
    if path.ndim < 2 or path.shape[0] < 2:
        raise ValueError(f"path must have shape (T + 1, ..., d) with T >= 1, got {path.shape}")
    return np.sum(np.diff(path, axis=0) ** 2, axis=(0, path.ndim - 1))
