"""One figure style for the whole course, and convergence plots with fitted slopes.

Topic modules compute; this module draws. Every plotting cell of a notebook ends with
``plt.show()`` so that no ``<Figure ...>`` text is stored.
"""
from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from .utils import as_array, linear_rate, loglog_slope

STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 120,
    "savefig.dpi": 120,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "image.cmap": "viridis",
    "axes.prop_cycle": mpl.cycler(color=["#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                         "#E69F00", "#56B4E9", "#000000", "#F0E442"]),
}


def use_style() -> None:
    """Apply the course's figure style (colour-blind safe palette, light grid).

    In a notebook, figures are stored as "retina" PNGs: twice the pixels of ``figure.dpi`` with the
    display size recorded beside them, so that a 6.4-inch figure is a ~1500-pixel image shown ~750
    pixels wide, crisp on the website and on high-density screens.
    """
    mpl.rcParams.update(STYLE)
    try:
        from IPython import get_ipython
        if get_ipython() is not None:
            from matplotlib_inline.backend_inline import set_matplotlib_formats
            set_matplotlib_formats("retina")
    except ImportError:  # pragma: no cover - plain Python, no inline backend
        pass


use_style()


def subplots(ncols: int = 1, nrows: int = 1, width: float = 4.2, height: float = 3.4, **kw):
    """``plt.subplots`` with a panel size in inches; returns ``(fig, axes)``."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                             constrained_layout=True, **kw)
    return fig, axes


def loglog_fit(ax, x, y, label: str = "", fit: slice | None = None, color=None,
               marker: str = "o", show_fit: bool = True) -> float:
    """Plot ``y`` against ``x`` on log-log axes with the least-squares slope on ``fit``.

    The fitted line is drawn dashed over the fitted range and the legend entry reads
    ``"label (slope -1.98)"``. Returns the slope.
    """
    x, y = as_array(x, "x", ndim=1), as_array(y, "y", ndim=1)
    sel = slice(None) if fit is None else fit
    slope = loglog_slope(x[sel], y[sel])
    line, = ax.loglog(x, y, marker=marker, ms=3, ls="-", color=color,
                      label=f"{label} (slope {slope:.2f})" if label else f"slope {slope:.2f}")
    if show_fit:
        xs = x[sel]
        c = np.exp(np.mean(np.log(y[sel]) - slope * np.log(xs)))
        ax.loglog(xs, c * xs**slope, ls="--", lw=1, color=line.get_color(), alpha=0.8)
    return slope


def semilogy_rate(ax, errors, label: str = "", color=None) -> float:
    """Plot ``errors[k]`` against ``k`` on a log scale; legend shows the fitted factor ``q``."""
    e = as_array(errors, "errors", ndim=1)
    q = linear_rate(e)
    ax.semilogy(np.arange(e.size), e, color=color, label=f"{label} (q = {q:.3f})" if label else None)
    return q


def convergence(ax, errors, label: str = "", xlabel: str = "iteration $k$",
                ylabel: str = "error", loglog: bool = True, color=None, **kw):
    """Plot a convergence curve ``errors[k]``, k = 1, 2, ..., on log-log (default) or semilog axes."""
    e = as_array(errors, "errors", ndim=1)
    k = np.arange(1, e.size + 1)
    if loglog:
        ax.loglog(k, e, label=label or None, color=color, **kw)
    else:
        ax.semilogy(k - 1, e, label=label or None, color=color, **kw)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def decision_boundary(ax, predict, X, y, n_grid: int = 200, levels=(0.5,), pad: float = 0.5):
    """Shade ``predict`` (a map R^2 -> [0, 1]) over the data's box and scatter the labelled points."""
    X = as_array(X, "X", ndim=2)
    x0, x1 = X[:, 0].min() - pad, X[:, 0].max() + pad
    y0, y1 = X[:, 1].min() - pad, X[:, 1].max() + pad
    gx, gy = np.meshgrid(np.linspace(x0, x1, n_grid), np.linspace(y0, y1, n_grid))
    p = np.asarray(predict(np.c_[gx.ravel(), gy.ravel()])).reshape(gx.shape)
    ax.contourf(gx, gy, p, levels=20, cmap="RdBu_r", alpha=0.35, vmin=0, vmax=1)
    ax.contour(gx, gy, p, levels=list(levels), colors="k", linewidths=1.2)
    ax.scatter(X[:, 0], X[:, 1], c=np.asarray(y), cmap="RdBu_r", s=12, edgecolors="k", linewidths=0.3)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    return ax


def level_sets(ax, f, xlim, ylim, n_grid: int = 200, n_levels: int = 20, log: bool = True):
    """Draw level sets of a function of two variables (``f`` takes an (m, 2) array)."""
    gx, gy = np.meshgrid(np.linspace(*xlim, n_grid), np.linspace(*ylim, n_grid))
    z = np.asarray(f(np.c_[gx.ravel(), gy.ravel()])).reshape(gx.shape)
    if log:
        z = np.log10(z - z.min() + 1e-12)
    ax.contour(gx, gy, z, levels=n_levels, cmap="Greys", linewidths=0.7)
    ax.set_aspect("equal")
    return ax


def path(ax, iterates, label: str = "", color=None, marker: str = ".", **kw):
    """Draw an optimisation path in the plane from an (n_iter + 1, 2) array of iterates."""
    P = as_array(iterates, "iterates", ndim=2)
    ax.plot(P[:, 0], P[:, 1], marker=marker, ms=4, color=color, label=label or None, **kw)
    return ax
