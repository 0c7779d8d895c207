"""One figure style for the whole course, and convergence plots with fitted slopes.

Topic modules compute; this module draws. Every plotting cell of a notebook ends with
``plt.show()`` so that no ``<Figure ...>`` text is stored.
"""
from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from .utils import (as_array, as_count, as_scalar, check_callable, check_result, check_size,
                    linear_rate, loglog_slope)

__all__ = [
    "STYLE",
    "convergence",
    "decision_boundary",
    "level_sets",
    "loglog_fit",
    "path",
    "semilogy_rate",
    "subplots",
    "use_style",
]

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


def _axes(ax):
    """``ValueError`` unless ``ax`` is a matplotlib ``Axes`` (e.g. from ``subplots``)."""
    if not isinstance(ax, mpl.axes.Axes):
        raise ValueError(f"ax must be a matplotlib Axes (from plotting.subplots), got "  # noqa: TRY004
                         f"{type(ax).__name__}")
    return ax


def _interval(lim, name):
    lim = as_array(lim, name, shape=(2,))
    if not lim[0] < lim[1]:
        raise ValueError(f"{name} must be an interval (low, high) with low < high, got {tuple(lim)}")
    return lim


def _grid_size(n_grid):
    n_grid = as_count(n_grid, "n_grid", minimum=2)
    check_size((n_grid, n_grid), "n_grid")
    return n_grid


def subplots(ncols: int = 1, nrows: int = 1, width: float = 4.2, height: float = 3.4, **kw):
    """``plt.subplots`` with a panel size in inches; returns ``(fig, axes)``."""
    ncols, nrows = as_count(ncols, "ncols"), as_count(nrows, "nrows")
    width = as_scalar(width, "width", positive=True)
    height = as_scalar(height, "height", positive=True)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                             constrained_layout=True, **kw)
    return fig, axes


def loglog_fit(ax, x, y, label: str = "", fit: slice | None = None, color=None,
               marker: str = "o", show_fit: bool = True) -> float:
    """Plot ``y`` against ``x`` on log-log axes with the least-squares slope on ``fit``.

    The fitted line is drawn dashed over the fitted range and the legend entry reads
    ``"label (slope -1.98)"``. Returns the slope.
    """
    _axes(ax)
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
    _axes(ax)
    e = as_array(errors, "errors", ndim=1)
    q = linear_rate(e)
    ax.semilogy(np.arange(e.size), e, color=color, label=f"{label} (q = {q:.3f})" if label else None)
    return q


def convergence(ax, errors, label: str = "", xlabel: str = "iteration $k$",
                ylabel: str = "error", loglog: bool = True, color=None, **kw):
    """Plot a convergence curve ``errors[k]``, k = 1, 2, ..., on log-log (default) or semilog axes."""
    _axes(ax)
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
    _axes(ax)
    check_callable(predict, "predict")
    X = as_array(X, "X", ndim=2)
    if X.shape[0] == 0 or X.shape[1] != 2:
        raise ValueError(f"X must be an (n, 2) array of n >= 1 points of the plane, got {X.shape}")
    y = as_array(y, "y", shape=(X.shape[0],))
    n_grid = _grid_size(n_grid)
    pad = as_scalar(pad, "pad", nonnegative=True)
    x0, x1 = X[:, 0].min() - pad, X[:, 0].max() + pad
    y0, y1 = X[:, 1].min() - pad, X[:, 1].max() + pad
    gx, gy = np.meshgrid(np.linspace(x0, x1, n_grid), np.linspace(y0, y1, n_grid))
    p = check_result(predict(np.c_[gx.ravel(), gy.ravel()]), "predict", where="on the grid")
    if p.size != gx.size:
        raise ValueError(f"predict must return one value per point of the (m, 2) grid, got shape "
                         f"{p.shape} for m = {gx.size}")
    p = p.reshape(gx.shape)
    ax.contourf(gx, gy, p, levels=20, cmap="RdBu_r", alpha=0.35, vmin=0, vmax=1)
    ax.contour(gx, gy, p, levels=list(levels), colors="k", linewidths=1.2)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", s=12, edgecolors="k", linewidths=0.3)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    return ax


def level_sets(ax, f, xlim, ylim, n_grid: int = 200, n_levels: int = 20, log: bool = True):
    """Draw level sets of a function of two variables (``f`` takes an (m, 2) array)."""
    _axes(ax)
    check_callable(f, "f")
    xlim, ylim = _interval(xlim, "xlim"), _interval(ylim, "ylim")
    n_grid = _grid_size(n_grid)
    n_levels = as_count(n_levels, "n_levels")
    gx, gy = np.meshgrid(np.linspace(*xlim, n_grid), np.linspace(*ylim, n_grid))
    z = check_result(f(np.c_[gx.ravel(), gy.ravel()]), "f", where="on the grid")
    if z.size != gx.size:
        raise ValueError(f"f must return one value per point of the (m, 2) grid, got shape "
                         f"{z.shape} for m = {gx.size}")
    z = z.reshape(gx.shape)
    if log:
        z = np.log10(z - z.min() + 1e-12)
    ax.contour(gx, gy, z, levels=n_levels, cmap="Greys", linewidths=0.7)
    ax.set_aspect("equal")
    return ax


def path(ax, iterates, label: str = "", color=None, marker: str = ".", **kw):
    """Draw an optimisation path in the plane from an (n_iter + 1, 2) array of iterates."""
    _axes(ax)
    P = as_array(iterates, "iterates", ndim=2)
    ax.plot(P[:, 0], P[:, 1], marker=marker, ms=4, color=color, label=label or None, **kw)
    return ax
