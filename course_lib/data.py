"""Every dataset of the course, offline: generated here or bundled with scikit-learn.

Nothing in this module downloads anything.
"""
from __future__ import annotations

import numpy as np

from .utils import as_choice, as_rng, as_scalar, check_size

__all__ = [
    "diabetes",
    "digits",
    "gaussian_blobs",
    "photo",
    "random_quadratic",
    "two_moons",
]


def _rng(rng) -> np.random.Generator:
    return as_rng(rng, allow_none=True)


def diabetes(standardize: bool = True):
    """scikit-learn's bundled diabetes data: ``A`` (442, 10) and ``y`` (442,).

    With ``standardize`` the columns of ``A`` have mean 0 and variance 1 and ``y`` has mean 0.
    """
    from sklearn.datasets import load_diabetes
    A, y = load_diabetes(return_X_y=True, scaled=False)
    A, y = A.astype(np.float64), y.astype(np.float64)
    if standardize:
        A = (A - A.mean(0)) / A.std(0)
        y = y - y.mean()
    return A, y


def digits():
    """scikit-learn's bundled 8x8 digits: images ``X`` (1797, 8, 8) in [0, 1] and labels ``y``."""
    from sklearn.datasets import load_digits
    d = load_digits()
    return d.images.astype(np.float64) / 16.0, d.target.astype(np.int64)


def gaussian_blobs(n: int = 200, separation: float = 2.0, rng=None):
    """Two Gaussian clouds in the plane, labels in {0, 1}: ``X`` (n, 2), ``y`` (n,).

    Class ``c`` is drawn from N(±(separation/2) * (1, 1)/sqrt(2), I) with equal probability.
    """
    n = int(as_scalar(n, "n", positive=True, integer=True))
    separation = as_scalar(separation, "separation", nonnegative=True)
    rng = _rng(rng)
    check_size((n, 2), "n")
    y = rng.integers(0, 2, size=n)
    centre = separation / 2 * np.array([1.0, 1.0]) / np.sqrt(2)
    X = rng.standard_normal((n, 2)) + np.where(y[:, None] == 1, centre, -centre)
    return X, y


def two_moons(n: int = 200, noise: float = 0.1, rng=None):
    """Two interleaved half circles, labels in {0, 1}: ``X`` (n, 2), ``y`` (n,)."""
    n = int(as_scalar(n, "n", positive=True, integer=True))
    noise = as_scalar(noise, "noise", nonnegative=True)
    rng = _rng(rng)
    check_size((n, 2), "n")
    y = rng.integers(0, 2, size=n)
    t = rng.uniform(0, np.pi, size=n)
    X = np.where(y[:, None] == 0, np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    return X + noise * rng.standard_normal((n, 2)), y


def random_quadratic(n: int, kappa: float, rng=None, mu: float = 1.0):
    """A symmetric positive definite ``A`` (n, n) with eigenvalues spread log-uniformly in [mu, kappa*mu]
    (both ends included) in a random orthonormal basis, and a random ``b`` (n,)."""
    n = int(as_scalar(n, "n", positive=True, integer=True))
    kappa = as_scalar(kappa, "kappa", positive=True)
    if kappa < 1:
        raise ValueError(f"kappa must be >= 1, got {kappa}")
    mu = as_scalar(mu, "mu", positive=True)
    rng = _rng(rng)
    check_size((n, n), "n")
    if not np.isfinite(kappa * mu * n):
        raise ValueError(f"kappa * mu = {kappa * mu:.3g} is too large: the entries of A would "
                         "overflow (choose kappa * mu * n < 1e308)")
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    eig = mu * np.logspace(0, np.log10(kappa), n) if n > 1 else np.array([mu])
    A = (Q * eig) @ Q.T
    return (A + A.T) / 2, rng.standard_normal(n)


def photo(name: str = "china.jpg", top: int = 60, left: int = 80, size: int = 256, factor: int = 2):
    """A grey square crop of one of scikit-learn's two bundled photographs, in [0, 1].

    ``name`` is ``"china.jpg"`` (427 x 640, a pagoda; the default crop frames it) or
    ``"flower.jpg"``.  The crop ``[top:top+size, left:left+size]`` of the grey image (mean of the RGB
    channels) is averaged over ``factor x factor`` blocks: the result is ``(size // factor, size // factor)``.
    """
    from sklearn.datasets import load_sample_image
    as_choice(name, "name", ("china.jpg", "flower.jpg"))
    top = int(as_scalar(top, "top", nonnegative=True, integer=True))
    left = int(as_scalar(left, "left", nonnegative=True, integer=True))
    size = int(as_scalar(size, "size", positive=True, integer=True))
    factor = int(as_scalar(factor, "factor", positive=True, integer=True))
    img = load_sample_image(name).astype(np.float64).mean(axis=2) / 255.0
    if top + size > img.shape[0] or left + size > img.shape[1]:
        raise ValueError(f"the crop [{top}:{top + size}, {left}:{left + size}] (top, left, size) "
                         f"leaves the image {img.shape}")
    if size % factor:
        raise ValueError(f"size must be a multiple of factor, got size={size}, factor={factor}")
    crop = img[top:top + size, left:left + size]
    m = size // factor
    return crop.reshape(m, factor, m, factor).mean(axis=(1, 3))


def python_source(n_bytes: int = 300_000, skip: int = 0) -> str:
    """Text every Python installation has: the standard library's own ``.py`` files.

    The files directly under ``sysconfig.get_paths()["stdlib"]``, sorted by name, are concatenated;
    the bytes ``skip .. skip + n_bytes`` are returned, decoded as UTF-8 (a character cut at either
    end becomes U+FFFD). Deterministic for a given Python version; nothing is downloaded.
    """
    import sysconfig
    from pathlib import Path

    n_bytes = int(as_scalar(n_bytes, "n_bytes", integer=True, positive=True))
    skip = int(as_scalar(skip, "skip", integer=True, nonnegative=True))
    chunks, size = [], 0
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py")):
        chunks.append(path.read_bytes())
        size += len(chunks[-1])
        if size >= skip + n_bytes:
            break
    if size < skip + n_bytes:
        raise ValueError(f"n_bytes + skip must be <= {size}, the size of the standard library's "
                         f"top-level sources, got {skip + n_bytes}")
    return b"".join(chunks)[skip:skip + n_bytes].decode("utf-8", errors="replace")
