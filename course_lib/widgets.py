"""Interactive figures that degrade gracefully.

``slider_figure`` first draws a *static* row of panels (what the website, GitHub and a PDF show),
then, when ipywidgets is available, a slider that redraws one panel live in Jupyter or Colab.
"""
from __future__ import annotations

from typing import Callable, Sequence

import matplotlib.pyplot as plt

from .plotting import subplots
from .utils import as_scalar, check_callable

__all__ = [
    "slider_figure",
    "static_panels",
]


def _values(values):
    if not hasattr(values, "__iter__") or isinstance(values, (str, bytes)):
        raise ValueError(f"values must be a sequence of values to draw, got {type(values).__name__}")
    values = list(values)
    if not values:
        raise ValueError("values must hold at least one value to draw")
    return values


def static_panels(draw: Callable, values: Sequence, fmt: str = "{}", width: float = 3.4,
                  height: float = 3.0, title: str | None = None):
    """Draw ``draw(ax, value)`` for each value side by side; returns the figure."""
    check_callable(draw, "draw")
    values = _values(values)
    if not isinstance(fmt, str):
        raise ValueError(f"fmt must be a format string such as '{{:.2f}}', got {fmt!r}")
    width = as_scalar(width, "width", positive=True)
    height = as_scalar(height, "height", positive=True)
    fig, axes = subplots(ncols=len(values), width=width, height=height, squeeze=False)
    for ax, v in zip(axes[0], values):
        draw(ax, v)
        if not ax.get_title():
            ax.set_title(fmt.format(v))
    if title:
        fig.suptitle(title)
    return fig


def slider_figure(draw: Callable, values: Sequence, description: str = "value",
                  static_values: Sequence | None = None, fmt: str = "{}", value=None,
                  title: str | None = None, interactive: bool = True):
    """Static panels for ``static_values`` (default: all ``values``), then a live slider.

    ``draw(ax, v)`` draws one panel for the value ``v``. Returns the slider widget (or ``None``
    when ipywidgets is missing or ``interactive`` is false).
    """
    check_callable(draw, "draw")
    values = _values(values)
    static_panels(draw, values if static_values is None else static_values, fmt=fmt, title=title)
    plt.show()
    if not interactive:
        return None
    try:
        import ipywidgets as w
        from IPython.display import display
    except ImportError:  # pragma: no cover - ipywidgets is a dependency, but Colab may lack it
        return None
    labels = [(fmt.format(v), v) for v in values]
    slider = w.SelectionSlider(options=labels, value=values[0] if value is None else value,
                               description=description, continuous_update=False,
                               layout=w.Layout(width="60%"), style={"description_width": "initial"})
    out = w.Output()

    def redraw(change=None):
        with out:
            out.clear_output(wait=True)
            f, ax = subplots(width=5.0, height=3.6)
            draw(ax, slider.value)
            if not ax.get_title():
                ax.set_title(f"{description} = {fmt.format(slider.value)}")
            display(f)
            plt.close(f)

    slider.observe(redraw, names="value")
    redraw()
    display(w.VBox([slider, out]))
    return slider
