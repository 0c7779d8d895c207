"""Numbers that the lecture notes quote, stored in the notebook that computed them.

A notebook cell calls ``glue("w2_error", err)``; the notes then write
``{glue:text}`notebooks/10_optimal_transport.ipynb::w2_error:.2e``` and the website shows the
stored value, so a number in the text cannot drift from the output it comes from.

The protocol is MyST-NB's own (a ``display_data`` output with the ``application/papermill.record/``
MIME prefix and a ``scrapbook`` name), written here so that notebooks also run where MyST-NB is not
installed (Colab).
"""
from __future__ import annotations

import numbers
import re

import numpy as np

__all__ = ["glue"]

_PREFIX = "application/papermill.record/"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def glue(name: str, value, display: bool = False) -> None:
    """Store ``value`` under ``name`` in the cell's outputs (shown in the cell only if ``display``)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name must be an identifier (letters, digits, _), got {name!r}")
    if value is None:
        raise ValueError(f"value of {name!r} is None: glue the number itself")
    if isinstance(value, (numbers.Number, np.ndarray, np.generic)) and not isinstance(value, bool):
        v = np.asarray(value)
        if v.dtype.kind == "c" or (v.dtype.kind in "iuf" and not np.all(np.isfinite(v))):
            raise ValueError(f"value of {name!r} is {value!r}: a number quoted in the notes must be "
                             "finite and real")
    from IPython.core.formatters import format_display_data
    from IPython.display import display as ipy_display

    bundle, metadata = format_display_data(value)
    prefix = "" if display else _PREFIX
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    ipy_display({prefix + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)
